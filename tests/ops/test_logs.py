"""Request IDs on every response and in JSON log lines."""

from __future__ import annotations

import json
import logging

from fastapi.testclient import TestClient

from carbonscope.ops.logs import JsonFormatter, request_id
from tests.web.conftest import app_settings


def test_every_response_names_its_request_and_a_hostile_id_is_replaced(tmp_path):
    from carbonscope.web.app import create_app

    with TestClient(create_app(app_settings(f"sqlite:///{tmp_path / 'l.db'}", tmp_path))) as c:
        mine = c.get("/healthz").headers["x-request-id"]
        assert len(mine) == 32 and int(mine, 16) >= 0
        assert c.get("/healthz", headers={"X-Request-ID": "abc-123-DEF.9"}).headers["x-request-id"] == "abc-123-DEF.9"
        hostile = c.get("/healthz", headers={"X-Request-ID": "x\\r\\nSet-Cookie: a=b"}).headers["x-request-id"]
        assert len(hostile) == 32 and "Set-Cookie" not in hostile


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("carbonscope.web", logging.WARNING, __file__, 1, "slow page %s", ("/projects",), None)
    token = request_id.set("abc-123-def")
    try:
        doc = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert doc["level"] == "warning" and doc["message"] == "slow page /projects" and doc["request_id"] == "abc-123-def"
    assert "request_id" not in json.loads(JsonFormatter().format(record))  # outside a request
