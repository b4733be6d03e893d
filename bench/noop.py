"""Names shared by the no-op baseline task (bench/celery_noop.py) and whoever counts its runs,
kept apart because importing the Celery app needs the service's environment."""

NOOP = "bench.noop"
DONE_KEY = "bench:noop:done"
