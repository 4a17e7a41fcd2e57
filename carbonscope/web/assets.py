"""Front-end libraries installed at setup from npm (``carbonscope/web/frontend``) and served by the app.

``scripts/setup.sh`` runs ``npm ci`` there and copies the files below into ``static/vendor``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

FRONTEND = Path(__file__).parent / "frontend"
VENDOR = Path(__file__).parent / "static" / "vendor"
FILES = {
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
    "topojson-client.min.js": "topojson-client/dist/topojson-client.min.js",
    "countries-50m.json": "world-atlas/countries-50m.json",
    "countries-110m.json": "world-atlas/countries-110m.json",
    "leaflet.draw.js": "leaflet-draw/dist/leaflet.draw.js",
    "leaflet.draw.css": "leaflet-draw/dist/leaflet.draw.css",
    "images/spritesheet.svg": "leaflet-draw/dist/images/spritesheet.svg",
    "images/spritesheet.png": "leaflet-draw/dist/images/spritesheet.png",
    "images/spritesheet-2x.png": "leaflet-draw/dist/images/spritesheet-2x.png",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}


def install_vendor(node_modules: Path = FRONTEND / "node_modules") -> list[Path]:
    """Copy the needed files out of node_modules (run by scripts/setup.sh after ``npm ci``)."""
    VENDOR.mkdir(parents=True, exist_ok=True)
    out = []
    for name, rel in FILES.items():
        src = node_modules / rel
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing: run `npm ci --prefix {FRONTEND}` first")
        (VENDOR / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, VENDOR / name)
        out.append(VENDOR / name)
    return out


def missing_vendor() -> list[str]:
    return [name for name in FILES if not (VENDOR / name).exists()]


if __name__ == "__main__":
    for p in install_vendor():
        print(p)
