"""The baseline for intake: a bare Flask JSON endpoint, served by the same gunicorn settings.

It parses the posted JSON and answers 201 with a small JSON body, so the difference to intake
is everything Tongban does (auth, validation, routing, the transaction, the publish).
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    """Answer the body's size and keys: parsing and serialising, nothing else."""
    body = request.get_json()
    return jsonify(received=len(request.data), keys=sorted(body)), 201


@app.get("/")
def index():
    return jsonify(status="ok")
