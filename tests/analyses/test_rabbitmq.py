"""The same job on RabbitMQ (CARBONSCOPE_QUEUE_URL=amqp://...): queued by the site, run by a worker."""

from __future__ import annotations

import pytest

from tests.analyses.conftest import make_lab, rabbitmq_up


@pytest.mark.skipif(not rabbitmq_up(), reason="RabbitMQ is not running on 127.0.0.1:5672")
def test_a_job_runs_through_rabbitmq(tmp_path):
    with make_lab(tmp_path, "sqlite", "rabbitmq") as lab:
        r = lab.baseline()
        assert r.status_code == 202, r.text
        doc = lab.wait(r.json()["id"])
        assert doc["status"] == "succeeded", doc["error"]
        assert doc["results"]["crediting"]["totals"]["creditable_tco2e"] > 0
