"""Celery workers: delivery to districts, clocks and reports."""
