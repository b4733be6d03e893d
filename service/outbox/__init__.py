"""Delivery that survives crashes: outbox rows, publishing, the relay, retries, dead letters."""
