"""Stock accounting: AGB totals with intervals, BGB, carbon, CO2e and value, for the area and per polygon.

Totals use each pixel's true area (``carbonscope.geo.areas``). The interval of AGB comes from the
model-assisted difference estimator over held-out residuals of the samples in the zone (or of all
samples when a zone holds fewer than ``MIN_ZONE_SAMPLES``, which the result says); BGB, carbon and
CO2e scale with it (the root-to-shoot ratio and carbon fraction are taken as exact).
"""

from __future__ import annotations

import numpy as np

from carbonscope.biomass.uncertainty import model_assisted_total
from carbonscope.ipcc import CO2_PER_C

MIN_ZONE_SAMPLES = 10


def account(
    sums: dict[str, dict],
    residuals: dict[str, np.ndarray] | None,
    *,
    carbon_fraction: float,
    root_shoot_label: str,
    level: float = 0.9,
    bootstrap: int = 0,
    price: float | None = None,
    currency: str = "USD",
    seed: int = 0,
) -> dict:
    """Per zone (``__domain__`` is the whole mapped area): areas, tonnes and value with intervals.

    Without residuals (a biomass map from elsewhere) the totals come without intervals.
    """
    out = {}
    for zone, s in sums.items():
        if s["area_ha"] <= 0:
            continue
        if residuals is None:
            out[zone] = _without_interval(s, carbon_fraction, root_shoot_label, price, currency)
            continue
        res = residuals.get(zone)
        note = None
        if res is None or len(res) < MIN_ZONE_SAMPLES:
            res = residuals["__domain__"]
            if zone != "__domain__":
                note = f"fewer than {MIN_ZONE_SAMPLES} samples in this zone: the interval uses the residuals of all samples"
        est = model_assisted_total(s["agb_mg"], s["area_ha"], res, level=level, bootstrap=bootstrap, seed=seed)
        bgb_factor = s["bgb_mg"] / s["agb_mg"] if s["agb_mg"] else 0.0
        to_co2 = (1 + bgb_factor) * carbon_fraction * CO2_PER_C

        def trio(v, est=est):
            return {"estimate": v * est.total, "lower": v * est.lower, "upper": v * est.upper}

        z = {
            "area_ha": s["area_ha"],
            "pixels": s["pixels"],
            "agb_map_total_mg": s["agb_mg"],
            "agb_mg": trio(1.0),
            "agb_mean_mg_ha": est.total / s["area_ha"],
            "bgb_mg": trio(bgb_factor),
            "carbon_t": trio((1 + bgb_factor) * carbon_fraction),
            "co2e_t": trio(to_co2),
            "estimator": {**est.to_dict(), "residuals_n": int(len(res))},
            "area_outside_aoa_ha": s["area_ha"] - s["aoa_area_ha"],
            "share_outside_aoa": 1 - s["aoa_area_ha"] / s["area_ha"],
            "root_shoot": root_shoot_label,
            "carbon_fraction": carbon_fraction,
        }
        if price is not None:
            z["value"] = {
                "currency": currency,
                "price_per_tco2e": price,
                **{k: v * price for k, v in trio(to_co2).items()},
            }
        if note:
            z["note"] = note
        out[zone] = z
    return out


def _without_interval(s: dict, carbon_fraction: float, root_shoot_label: str, price, currency: str) -> dict:
    bgb_factor = s["bgb_mg"] / s["agb_mg"] if s["agb_mg"] else 0.0
    to_co2 = (1 + bgb_factor) * carbon_fraction * CO2_PER_C
    z = {
        "area_ha": s["area_ha"],
        "pixels": s["pixels"],
        "agb_map_total_mg": s["agb_mg"],
        "agb_mg": {"estimate": s["agb_mg"]},
        "agb_mean_mg_ha": s["agb_mg"] / s["area_ha"],
        "bgb_mg": {"estimate": s["bgb_mg"]},
        "carbon_t": {"estimate": s["agb_mg"] * (1 + bgb_factor) * carbon_fraction},
        "co2e_t": {"estimate": s["agb_mg"] * to_co2},
        "root_shoot": root_shoot_label,
        "carbon_fraction": carbon_fraction,
        "note": "no held-out residuals given (--model): totals without an interval",
    }
    if price is not None:
        z["value"] = {"currency": currency, "price_per_tco2e": price, "estimate": s["agb_mg"] * to_co2 * price}
    return z
