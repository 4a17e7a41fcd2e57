"""The run's ``report.html``: one self-contained file (figures inline), readable offline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from carbonscope.biomass import figures
from carbonscope.biomass.in_short import in_short
from carbonscope.run_report import environment

if TYPE_CHECKING:
    from carbonscope.biomass.config import RunConfig
    from carbonscope.biomass.predict import MapResult
    from carbonscope.biomass.run import Validated

_ENV = environment("carbonscope.biomass")


def write(
    out: Path,
    cfg: RunConfig,
    metrics: dict,
    totals: dict,
    samples: pd.DataFrame,
    validated: Validated,
    mapped: MapResult,
) -> Path:
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    main = validated.results[validated.main]
    figs = {
        "obs_pred": figures.observed_vs_predicted(main, fig_dir / "observed_vs_predicted.png"),
        "map": figures.agb_map(mapped.agb_path, mapped.aoa_path, fig_dir / "agb_map.png"),
    }
    cal = validated.main_result(validated.calibration_scheme)
    figs["residuals"] = figures.residual_map(
        samples.x.to_numpy()[cal.index],
        samples.y.to_numpy()[cal.index],
        cal.observed - cal.predicted,
        mapped.agb_path,
        fig_dir / "residual_map.png",
    )
    if cal.importance:
        figs["importance"] = figures.importance(cal.importance, fig_dir / "importance.png")
    html = _ENV.get_template("report.html").render(
        cfg=cfg,
        m=metrics,
        totals=totals,
        figs=figs,
        validated=validated,
        cal_scheme=validated.calibration_scheme,
        short=in_short(metrics, totals, cfg.predict.level),
        folder=out,
    )
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
