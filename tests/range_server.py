"""Serve a folder with HTTP range requests on 127.0.0.1 in a process of its own:
``python -m tests.range_server FOLDER`` prints the port, then serves until killed.

A server thread inside the test process deadlocks with GDAL: ``rasterio.open`` holds the GIL while
GDAL's HTTP client waits for the answer that thread cannot write."""

from __future__ import annotations

import sys
from functools import partial
from http.server import ThreadingHTTPServer

from tests.biomass.conftest import RangeHandler


def main() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=sys.argv[1]))
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
