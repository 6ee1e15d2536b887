"""The ceiling the service is measured against: a Flask hop that does the least a stateful USSD
hop can do (parse the Africa's Talking form, one Redis GET, one Redis SET, a short ``CON`` text),
and a bare "hello". Served by gunicorn exactly as the service is, so the ratio is the service's
own cost, not the server's.

    gunicorn -w 2 --pythonpath bench/loadtest 'minimal:create_app()'  # MINIMAL_REDIS_URL=redis://...
"""

from __future__ import annotations

import os

import redis
from flask import Flask, Response, request


def create_app() -> Flask:
    app = Flask(__name__)
    client = redis.Redis.from_url(os.environ.get("MINIMAL_REDIS_URL", "redis://127.0.0.1:6379/0"))

    @app.get("/hello")
    def hello() -> str:
        return "hello"

    @app.post("/ussd/africastalking")
    def hop() -> Response:
        form = request.form
        key = "minimal:" + form["sessionId"]
        previous = client.get(key)
        client.set(key, form.get("text", ""), ex=300)
        text = "CON Welcome back" if previous is not None else "CON Welcome"
        return Response(text, mimetype="text/plain")

    return app
