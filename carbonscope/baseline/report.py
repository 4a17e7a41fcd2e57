"""The run's ``report.html``: one self-contained file (figures and CSV tables inline), offline."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

from carbonscope.baseline.in_short import baseline_sentences
from carbonscope.run_report import environment

if TYPE_CHECKING:
    from carbonscope.baseline.run import Run

_ENV = environment("carbonscope.baseline")


def _csv_links(r) -> dict[str, str]:
    return {name: base64.b64encode(df.to_csv(index=False).encode()).decode("ascii") for name, df in r.tables.items()}


def write(out: Path, r: Run, figs: dict[str, str]) -> Path:
    res = r.results
    html = _ENV.get_template("report.html").render(
        r=res,
        cfg=r.cfg,
        figs=figs,
        csv=_csv_links(r),
        chosen=r.chosen.method,
        short=baseline_sentences(res),
        folder=out,
    )
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
