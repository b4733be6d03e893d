"""gunicorn settings: its own logs as JSON lines too, like everything else."""

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        # The app writes its own access log with request ids; gunicorn's would repeat it.
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}
