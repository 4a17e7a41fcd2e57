"""Optional JSON logs (``CARBONSCOPE_LOG_JSON=true``): one JSON object per line with the time, level,
logger, message and the request's ID, which every response carries as ``X-Request-ID`` (the
client's own, when it sent a plausible one), so a log line and a user's report can be matched."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str | None] = ContextVar("carbonscope_request_id", default=None)
PLAUSIBLE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # a client's ID is echoed only if it cannot inject


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            doc["request_id"] = rid
        if record.exc_info:
            doc["error"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def use_json_logs(level: int = logging.INFO) -> None:
    """Every log record of the process as JSON on standard error."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class RequestIds:
    """Pure ASGI middleware: a request ID per request, in the logs' context and the response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if PLAUSIBLE.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            request_id.reset(token)
