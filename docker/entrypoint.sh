#!/usr/bin/env bash
# The container's entrypoint; CI also runs it directly, so it must work outside Docker too.
#   api | worker [celery args] | beat | migrate | seed-demo | <any command>
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
cmd=${1:-api}
[ $# -gt 0 ] && shift
case "$cmd" in
  api)
    exec "$PYTHON" -m gunicorn 'service.app:create_app()' \
      --bind "${TONGBAN_BIND:-0.0.0.0:8000}" --workers "${WEB_CONCURRENCY:-2}" \
      --graceful-timeout 10 --config python:service.gunicorn_conf --no-control-socket "$@" ;;
  worker)
    # Without --queues a worker consumes every district queue; pass --queues district.530102
    # to run a worker for one district.
    exec "$PYTHON" -m celery -A workers.celery_app worker \
      --concurrency "${TONGBAN_WORKER_CONCURRENCY:-2}" "$@" ;;
  beat)
    exec "$PYTHON" -m celery -A workers.celery_app beat \
      --schedule "${TONGBAN_VAR_DIR:-/tmp}/celerybeat-schedule" "$@" ;;
  migrate)
    exec "$PYTHON" -m service migrate ;;
  seed-demo)
    exec "$PYTHON" -m service seed-demo ;;
  *)
    exec "$cmd" "$@" ;;
esac
