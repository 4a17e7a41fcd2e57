"""Real rasters, plots and GEDI granules from ../shared/data/biomass, and one shared Juupajoki run."""

from __future__ import annotations

import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from carbonscope.biomass import config
from tests.conftest import ROOT, SHARED

JUUPAJOKI = SHARED / "biomass" / "juupajoki"
HH = JUUPAJOKI / "PALSAR-2_HH_Juupajoki.tif"
HV = JUUPAJOKI / "PALSAR-2_HV_Juupajoki.tif"
LC = JUUPAJOKI / "PALSAR-2_LC_Juupajoki.tif"
PLOTS = JUUPAJOKI / "Juupajoki_field_data.csv"
GEDI = SHARED / "biomass" / "gedi"
GEDI_2020 = GEDI / "GEDI04_A_2020036151358_O06515_02_T00198_02_002_01_V002.zip"
GEDI_2021 = GEDI / "GEDI04_A_2021150031254_O13948_03_T06447_02_002_01_V002.zip"
EXAMPLE = ROOT / "examples" / "juupajoki.toml"


def example_config(out: Path, **updates) -> config.RunConfig:
    """The shipped Juupajoki example, writing to ``out``, with top-level fields replaced."""
    cfg = config.load(EXAMPLE)
    return cfg.model_copy(update={"output": out, **updates})


@pytest.fixture(scope="session")
def juupajoki_run(tmp_path_factory):
    """The example run, once per session (its folder, metrics and totals are read by several tests)."""
    from carbonscope.biomass.run import run

    out = tmp_path_factory.mktemp("juupajoki-run")
    return run(example_config(out), EXAMPLE)


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files with HTTP range requests, as GDAL reads COGs."""

    def log_message(self, *a):
        pass

    def send_head(self):
        rng = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not rng or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        start, _, end = rng.split("=", 1)[1].partition("-")
        start, end = int(start), min(int(end) if end else size - 1, size - 1)
        f = open(path, "rb")  # noqa: SIM115 - closed by copyfile's caller
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._remaining = end - start + 1
        return f

    def copyfile(self, source, outputfile):
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            return super().copyfile(source, outputfile)
        outputfile.write(source.read(remaining))
        self._remaining = None


@pytest.fixture
def static_server():
    """Serve a folder on 127.0.0.1; yields a function folder -> base URL."""
    servers = []

    def serve(folder: Path) -> str:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(folder)))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield serve
    for s in servers:
        s.shutdown()
        s.server_close()


def copy_plots(tmp_path: Path, edit=None) -> Path:
    """A copy of the plot CSV, optionally edited line by line (for bad-input tests)."""
    dst = tmp_path / "plots.csv"
    if edit is None:
        shutil.copyfile(PLOTS, dst)
    else:
        lines = PLOTS.read_text().splitlines()
        dst.write_text("\n".join(edit(lines)) + "\n")
    return dst
