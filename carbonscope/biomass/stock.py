"""Stock accounting: AGB totals with intervals, BGB, carbon, CO2e and value, for the area and per polygon.

Totals use each pixel's true area (``carbonscope.geo.areas``). The interval of AGB comes from the
model-assisted difference estimator over held-out residuals of the samples in the zone (or of all
samples when a zone holds fewer than ``MIN_ZONE_SAMPLES``, which the result says); BGB, carbon and
CO2e scale with it (the root-to-shoot ratio and carbon fraction are taken as exact).

Inside and outside the area of applicability (AOA, Meyer and Pebesma 2021) are reported apart: the
model has seen predictor values like those inside it only, so the headline figures (``headline``)
are the ones inside, with their interval; outside, the map's sum is given as an extrapolation
without an interval, and a warning says how much of the area it is when more than
``WARN_OUTSIDE_SHARE``. (A real run reported 601,538 ha and $3.78 bn where 99.5% lay outside.)
"""

from __future__ import annotations

import numpy as np

from carbonscope.biomass.uncertainty import model_assisted_total
from carbonscope.ipcc import CO2_PER_C

MIN_ZONE_SAMPLES = 10
WARN_OUTSIDE_SHARE = 0.2


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
        z |= _by_applicability(s, res, carbon_fraction, price, currency, level, bootstrap, seed)
        if note:
            z["note"] = note
        out[zone] = z
    return out


def _by_applicability(
    s: dict,
    res: np.ndarray,
    carbon_fraction: float,
    price: float | None,
    currency: str,
    level: float,
    bootstrap: int,
    seed: int,
) -> dict:
    """The totals inside the area of applicability (with their interval) and the map's sum outside."""
    inside_ha = s.get("aoa_area_ha", s["area_ha"])
    agb_in = s.get("agb_mg_in_aoa", s["agb_mg"])
    bgb_in = s.get("bgb_mg_in_aoa", s["bgb_mg"] * (agb_in / s["agb_mg"] if s["agb_mg"] else 0.0))
    share_out = 1 - inside_ha / s["area_ha"]
    out: dict = {"headline": "inside_aoa"}
    if inside_ha > 0:
        est = model_assisted_total(agb_in, inside_ha, res, level=level, bootstrap=bootstrap, seed=seed)
        bgb_factor = bgb_in / agb_in if agb_in else 0.0
        to_co2 = (1 + bgb_factor) * carbon_fraction * CO2_PER_C
        inside = {
            "area_ha": inside_ha,
            "agb_mg": {"estimate": est.total, "lower": est.lower, "upper": est.upper},
            "carbon_t": {k: v * (1 + bgb_factor) * carbon_fraction for k, v in _trio(est).items()},
            "co2e_t": {k: v * to_co2 for k, v in _trio(est).items()},
        }
        if price is not None:
            inside["value"] = {"currency": currency, "price_per_tco2e": price} | {
                k: v * to_co2 * price for k, v in _trio(est).items()
            }
        out["inside_aoa"] = inside
    agb_out, bgb_out = s["agb_mg"] - agb_in, s["bgb_mg"] - bgb_in
    outside = {
        "area_ha": s["area_ha"] - inside_ha,
        "share": share_out,
        "agb_map_mg": agb_out,
        "co2e_map_t": (agb_out + bgb_out) * carbon_fraction * CO2_PER_C,
        "note": "the model extrapolates here: the map's sum, without an interval",
    }
    if price is not None:
        outside["value_map"] = outside["co2e_map_t"] * price
    out["outside_aoa"] = outside
    if share_out > WARN_OUTSIDE_SHARE:
        out["warning"] = (
            f"{share_out:.1%} of the area lies outside the area of applicability: the model has not seen "
            "predictor values like those there, so the totals shown are those inside it"
        )
    return out


def _trio(est) -> dict[str, float]:
    return {"estimate": est.total, "lower": est.lower, "upper": est.upper}


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
