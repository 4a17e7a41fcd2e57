"""From a projected baseline to creditable tonnes and their value, with Monte Carlo intervals.

Per crediting year y: baseline emissions ``B_y = AD_base,y x EF``; project emissions ``P_y = AD_proj,y x EF``
(monitored deforestation, or ex ante the baseline less the assumed effectiveness); gross reductions
``B_y - P_y``; leakage deducted as a share of gross reductions; the non-permanence buffer as a share of
the net; what is left is creditable (never below zero). Area (activity data) and emission factors
are drawn from normal distributions around their estimates (seeded), so every total has an interval.
Quantities derived from one another share their draw: ex ante, project deforestation is a fraction
of the baseline, so it moves with the baseline's area draw (drawn apart it would widen the interval of
creditable tonnes about twofold); monitored project deforestation is a measurement of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbonscope.baseline.value import npv


@dataclass
class CreditInputs:
    years: list[int]
    baseline_ha: np.ndarray  # project-area baseline deforestation per year (ha/yr)
    project_ha: np.ndarray  # project-area deforestation per year (monitored or assumed)
    ef: float  # tCO2e per ha deforested
    leakage: float  # fraction
    buffer: float  # fraction
    prices: np.ndarray  # per tCO2e, per year
    discount: float  # fraction per year
    project_from_baseline: bool = False  # ex ante: project_ha is derived from baseline_ha (one draw for both)


def table(
    inp: CreditInputs,
    area_mult: np.ndarray | float = 1.0,
    project_mult: np.ndarray | float = 1.0,
    ef_mult: np.ndarray | float = 1.0,
) -> dict[str, np.ndarray]:
    """Yearly figures; the multipliers may be arrays of draws (shape (draws, 1))."""
    base = np.asarray(inp.baseline_ha) * area_mult * inp.ef * ef_mult
    proj = np.asarray(inp.project_ha) * project_mult * inp.ef * ef_mult
    gross = base - proj
    leak = np.maximum(gross, 0) * inp.leakage
    net = gross - leak
    buffer = np.maximum(net, 0) * inp.buffer
    credits = np.maximum(net - buffer, 0)
    return {
        "baseline_tco2e": base,
        "project_tco2e": proj,
        "gross_reductions_tco2e": gross,
        "leakage_tco2e": leak,
        "net_reductions_tco2e": net,
        "buffer_tco2e": buffer,
        "creditable_tco2e": credits,
    }


def summarize(inp: CreditInputs) -> dict:
    t = table(inp)
    rows = [
        {
            "year": y,
            "baseline_deforestation_ha": float(inp.baseline_ha[k]),
            "project_deforestation_ha": float(inp.project_ha[k]),
            **{name: float(v[k]) for name, v in t.items()},
            "price": float(inp.prices[k]),
            "value": float(t["creditable_tco2e"][k] * inp.prices[k]),
        }
        for k, y in enumerate(inp.years)
    ]
    totals = {name: float(v.sum()) for name, v in t.items()}
    totals["value_undiscounted"] = float((t["creditable_tco2e"] * inp.prices).sum())
    totals["npv"] = npv(t["creditable_tco2e"], inp.prices, inp.discount)
    return {"years": rows, "totals": totals}


def monte_carlo(
    inp: CreditInputs, area_rel_se: float, project_rel_se: float, ef_rel_se: float, draws: int, seed: int, level: float
) -> dict:
    """Intervals of the crediting totals. Baseline area and the emission factor are drawn
    independently; project area has a draw of its own when monitored, the baseline's ex ante."""
    rng = np.random.default_rng(seed)
    a = np.clip(rng.normal(1.0, area_rel_se, (draws, 1)), 0, None)
    p = a if inp.project_from_baseline else np.clip(rng.normal(1.0, project_rel_se, (draws, 1)), 0, None)
    e = np.clip(rng.normal(1.0, ef_rel_se, (draws, 1)), 0, None)
    t = table(inp, a, p, e)
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    out = {}
    for name in ("baseline_tco2e", "gross_reductions_tco2e", "net_reductions_tco2e", "creditable_tco2e"):
        tot = t[name].sum(axis=1)
        out[name] = {
            "mean": float(tot.mean()),
            "lower": float(np.percentile(tot, lo)),
            "upper": float(np.percentile(tot, hi)),
        }
    return out


def emissions_interval(
    ad_ha: float, ef: float, area_rel_se: float, ef_rel_se: float, draws: int, seed: int, level: float
) -> dict:
    rng = np.random.default_rng(seed)
    e = (
        ad_ha
        * np.clip(rng.normal(1, area_rel_se, draws), 0, None)
        * ef
        * np.clip(rng.normal(1, ef_rel_se, draws), 0, None)
    )
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {"lower": float(np.percentile(e, lo)), "upper": float(np.percentile(e, hi))}
