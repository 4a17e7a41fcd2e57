"""The run's ``report.html``: one self-contained file (figures and CSV tables inline), offline."""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2

from carbonscope.biomass.report import _fmt

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("carbonscope.baseline", "templates"), autoescape=True)
_ENV.filters["num"] = _fmt


def _csv_links(r) -> dict[str, str]:
    return {name: base64.b64encode(df.to_csv(index=False).encode()).decode("ascii") for name, df in r.tables.items()}


def write(out: Path, r, figs: dict[str, str]) -> Path:
    res = r.results
    html = _ENV.get_template("report.html").render(r=res, cfg=r.cfg, figs=figs, csv=_csv_links(r), chosen=r._chosen.method)
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
