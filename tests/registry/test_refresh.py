"""`carbonscope refresh` against a local HTTP server serving the real exports, and against failing ones."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from carbonscope.db.schema import credit_events, projects
from carbonscope.errors import DownloadError
from carbonscope.jobs import refresh_registries as refresh
from carbonscope.registry.download import PoliteClient
from carbonscope.registry.exports import EXPORTS
from carbonscope.settings import Settings
from tests.conftest import NATIVE
from tests.ingest.helpers import dump

FOLDERS = {"verra": "verra", "acr": "american-carbon-registry", "car": "climate-action-reserve", "art": "art-trees"}


class RegistryServer:
    """Serves ``/<reg>/<export path>`` from ../shared/data; ``faults`` makes chosen requests fail."""

    def __init__(self):
        self.requests: list[tuple[str, str, dict]] = []
        self.faults: dict[str, list[str]] = {}  # kind -> queue of fault names, consumed per request
        self.bodies: dict[str, bytes] = {}  # "<reg>:<kind>" -> what to serve instead of the real file
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                server.handle(self)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def file_for(self, path: str):
        parts = urlsplit(path)
        reg, rest = parts.path.strip("/").split("/", 1)
        registry = EXPORTS[FOLDERS[reg]]
        wanted = "/" + rest + (f"?{parts.query}" if parts.query else "")
        for export in registry.exports:
            if export.path == wanted:
                return export.kind, NATIVE / FOLDERS[reg] / f"{export.kind}.csv"
        return None, None

    def handle(self, h: BaseHTTPRequestHandler):
        self.requests.append((h.command, h.path, {k.title(): v for k, v in h.headers.items()}))
        kind, path = self.file_for(h.path)
        if path is None:
            h.send_response(404)
            h.end_headers()
            return
        key = f"{urlsplit(h.path).path.split('/')[1]}:{kind}"
        body = self.bodies.get(key) or path.read_bytes()
        fault = self.faults.get(key, [None]).pop(0) if self.faults.get(key) else None
        if fault == "wrong-kind":  # a moved report id: the registry answers with another report
            body = path.with_name("retirements.csv").read_bytes()
        if fault == "500":
            h.send_response(500)
            h.end_headers()
            return
        if fault == "slow":
            time.sleep(1.5)
        start = 0
        rng = h.headers.get("Range")
        if rng and fault != "no-range":
            start = int(rng.split("=")[1].split("-")[0])
            h.send_response(206)
            h.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            h.send_response(200)
        h.send_header("Content-Type", "text/csv")
        h.send_header("Content-Length", str(len(body) - start))
        h.end_headers()
        if fault == "truncate":
            h.wfile.write(body[start : start + (len(body) - start) // 2])
            h.wfile.flush()
            time.sleep(0.2)  # let the first half arrive before the connection drops
            h.close_connection = True
            return
        try:
            h.wfile.write(body[start:])
        except (BrokenPipeError, ConnectionResetError):
            pass

    def settings(self, tmp_path, **overrides) -> Settings:
        values = dict(
            data_dir=tmp_path / "data",
            verra_base_url=f"{self.base}/verra",
            acr_base_url=f"{self.base}/acr",
            car_base_url=f"{self.base}/car",
            art_base_url=f"{self.base}/art",
            http_min_interval=0,
            http_backoff=0.01,
            http_timeout=1.0,
            http_retries=2,
        )
        return Settings(**{**values, **overrides})

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = RegistryServer()
    yield s
    s.close()


def test_refresh_downloads_archives_and_ingests(server, engine, tmp_path):
    settings = server.settings(tmp_path)
    report = refresh(settings, engine)
    assert set(report.downloaded) == {"verra", "american-carbon-registry", "climate-action-reserve", "art-trees"}
    assert "gold-standard" in report.skipped and "forbid automated" in report.skipped["gold-standard"]
    assert report.failed == {}
    # archived by date, byte for byte what the registry served
    archived = report.downloaded["art-trees"][0]
    assert archived.parent.parent.name == "art-trees" and archived.parent.parent.parent == settings.raw_dir
    assert archived.read_bytes() == (NATIVE / "art-trees/projects.csv").read_bytes()
    # polite: our User-Agent on every request, Verra's search asked with POST
    assert all(hdrs.get("User-Agent", "").startswith("CarbonScope/") for _, _, hdrs in server.requests)
    assert [m for m, p, _ in server.requests if p.startswith("/verra")] == ["POST", "POST"]
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(credit_events)).scalar_one() == 252 + 269 + 300 + 30
        )  # Verra: 152 issuances (88 dates + 64 vintage remainders) + 100 retirements
        assert conn.execute(select(projects.c.registry).where(projects.c.id == "ART102")).scalar_one() == "ART"
    # A second refresh of the same exports changes nothing
    again = refresh(settings, engine)
    assert again.ingest.unchanged


def test_retries_after_server_errors_and_resumes_truncated_bodies(server, engine, tmp_path):
    server.faults = {"art:issuances": ["500", "500"], "art:retirements": ["truncate"]}
    report = refresh(server.settings(tmp_path), engine, ["art"])
    assert report.failed == {} and len(report.downloaded["art-trees"]) == 4
    ranged = [h for m, p, h in server.requests if "r=206" in p and "Range" in h]
    assert ranged and ranged[0]["Range"].startswith("bytes=")
    assert report.downloaded["art-trees"][2].read_bytes() == (NATIVE / "art-trees/retirements.csv").read_bytes()


def test_failing_server_leaves_the_database_untouched(server, engine, tmp_path):
    from carbonscope.ingest import ingest

    ingest([NATIVE / "gold-standard"], engine)
    before = dump(engine)
    server.faults = {"acr:retirements": ["500"] * 10, "car:projects": ["slow"] * 10, "art:issuances": ["truncate"] * 10}
    report = refresh(server.settings(tmp_path, http_retries=1), engine, ["acr", "car", "art"])
    assert set(report.failed) == {"american-carbon-registry", "climate-action-reserve", "art-trees"}
    assert "HTTP 500" in report.failed["american-carbon-registry"]
    assert (
        "Timeout" in report.failed["climate-action-reserve"] or "timed out" in report.failed["climate-action-reserve"]
    )
    assert report.ingest is None
    assert dump(engine) == before
    # nothing half-written is left in the archive
    assert not list((tmp_path / "data" / "raw").rglob("*.part"))


def test_a_download_whose_headers_are_another_report_is_refused(server, engine, tmp_path):
    from carbonscope.registry.exports import APX_REPORTS

    assert APX_REPORTS == {"projects": 111, "issuances": 112, "retirements": 206, "cancellations": 308}
    before = dump(engine)
    server.faults = {"art:cancellations": ["wrong-kind"] * 5}
    report = refresh(server.settings(tmp_path), engine, ["art"])
    assert set(report.failed) == {"art-trees"} and report.ingest is None
    assert "expected a ART TREES cancellations export, got ART TREES retirements report" in report.failed["art-trees"]
    assert dump(engine) == before


def test_one_registry_failing_does_not_block_the_others(server, engine, tmp_path):
    server.faults = {"acr:projects": ["500"] * 10}
    report = refresh(server.settings(tmp_path, http_retries=0), engine, ["acr", "art"])
    assert set(report.failed) == {"american-carbon-registry"} and set(report.downloaded) == {"art-trees"}
    with engine.connect() as conn:
        regs = set(conn.execute(select(projects.c.registry).distinct()).scalars())
    assert regs == {"ART"}


def test_a_page_that_is_not_the_expected_export_is_refused(server, tmp_path):
    settings = server.settings(tmp_path)
    with PoliteClient(settings) as client, pytest.raises(DownloadError, match="HTTP 404"):
        client.fetch(f"{server.base}/art/nothing-here", tmp_path / "x.csv")


def test_minimum_interval_between_requests_to_one_host(server, tmp_path):
    settings = server.settings(tmp_path, http_min_interval=0.3)
    url = f"{server.base}/art/myModule/rpt/myrpt.asp?r=111"
    with PoliteClient(settings) as client:
        t0 = time.monotonic()
        client.fetch(url, tmp_path / "a.csv")
        client.fetch(url, tmp_path / "b.csv")
        assert time.monotonic() - t0 >= 0.3
