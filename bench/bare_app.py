"""The baselines for intake: bare Flask JSON endpoints, served by the same gunicorn settings.

`/echo` parses the posted JSON and answers 201 with a small JSON body, so the difference to
intake is everything Tongban does (auth, validation, routing, the transaction, the publish).
`/write` also inserts the body as one row and commits, on a connection kept per process: the
least any endpoint pays that must not lose what it answered 201 for.
"""

import json
import os
import threading

import psycopg
from flask import Flask, jsonify, request

app = Flask(__name__)
_local = threading.local()


# Made by the bench before this app starts (two workers creating it at once would collide).
TABLE_DDL = "CREATE TABLE IF NOT EXISTS bench_writes (id bigserial PRIMARY KEY, body jsonb)"


def _connection() -> psycopg.Connection:
    if getattr(_local, "conn", None) is None:
        _local.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _local.conn


@app.post("/echo")
def echo():
    """Answer the body's size and keys: parsing and serialising, nothing else."""
    body = request.get_json()
    return jsonify(received=len(request.data), keys=sorted(body)), 201


@app.post("/write")
def write():
    """Store the body in one row and commit before answering."""
    body = request.get_json()
    conn = _connection()
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO bench_writes (body) VALUES (%s) RETURNING id", (json.dumps(body),)
        ).fetchone()
    return jsonify(id=row[0], keys=sorted(body)), 201


@app.get("/")
def index():
    return jsonify(status="ok")
