# Tongban's production image: one image, the role chosen by the command (api, worker, beat,
# migrate). Run migrations as a separate step before starting new api containers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TONGBAN_ENV=production \
    TONGBAN_VAR_DIR=/var/lib/tongban

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY catalog ./catalog
COPY service ./service
COPY workers ./workers
COPY docker ./docker

RUN useradd --system --home-dir /var/lib/tongban --create-home tongban \
    && install -d -o tongban /var/lib/tongban/files /var/lib/tongban/checkpoints
USER tongban

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
ENTRYPOINT ["docker/entrypoint.sh"]
CMD ["api"]
