"""The answer first: a biomass run's stock, its value and the model's skill in words, for the top of
the report (a finance analyst reads this; the tables below it are for the scientist who checks it)."""

from __future__ import annotations

# R² on spatially held-out plots, in words (the fair test for mapping places without plots)
SKILL = ((0.6, "good skill"), (0.3, "moderate skill"), (0.1, "weak skill"))
WARN_BELOW = 0.3


def skill_in_words(r2: float | None) -> str:
    if r2 is None:
        return "not measured"
    for floor, words in SKILL:
        if r2 >= floor:
            return words
    return "no real skill"


def _n(v: float | None, digits: int = 0) -> str:
    return "unknown" if v is None else f"{v:,.{digits}f}"


def _interval(d: dict | None, pct: int) -> str:
    if not d or d.get("lower") is None:
        return ""
    return f" ({pct}% interval {_n(d['lower'])} to {_n(d['upper'])})"


def fair_test(metrics: dict) -> tuple[str, dict]:
    """The validation that holds out whole places (spatial blocks) when the run made one, else the
    calibration scheme's."""
    tests = (metrics.get("validation") or {}).get(metrics.get("main_model") or "", {})
    for scheme in ("spatial", "buffered", "kfold", "split"):
        if scheme in tests:
            return scheme, tests[scheme]
    return "", {}


def in_short(metrics: dict, totals: dict, level: float) -> dict:
    """``sentences`` (the answer, then the skill) and ``warning`` (when the model shows little skill)."""
    zone: dict = totals.get("__domain__") or next(iter(totals.values()), {})
    inside = zone.get("inside_aoa") or {}
    pct = round(level * 100)
    out = []
    if inside.get("co2e_t"):
        co2e = inside["co2e_t"]
        out.append(
            f"Inside the area the model can speak for ({_n(inside.get('area_ha'))} of {_n(zone.get('area_ha'))} ha "
            f"mapped), the trees hold about {_n(inside['agb_mg']['estimate'])} tonnes of biomass above ground: "
            f"{_n(co2e['estimate'])} tonnes of CO2 equivalent with their roots{_interval(co2e, pct)}."
        )
    else:
        out.append("No part of the mapped area is inside the model's area of applicability: no stock is stated.")
    value = inside.get("value") or {}
    if value.get("estimate") is not None:
        out.append(
            f"At {_n(value.get('price_per_tco2e'), 2)} {value.get('currency')} per tonne of CO2e (the price set "
            f"for this run), that stock is valued at {_n(value['estimate'])} {value.get('currency')}"
            f"{_interval(value, pct)}. This is the value of the carbon held, not of credits: credits pay only for "
            "emissions avoided or removals added."
        )
    else:
        out.append("No carbon price was set for this run, so the stock is not valued.")
    outside = zone.get("outside_aoa") or {}
    if (outside.get("share") or 0) >= 0.05:
        out.append(
            f"{outside['share'] * 100:.0f}% of the area ({_n(outside.get('area_ha'))} ha) is unlike every plot the "
            f"model learnt from; the map's {_n(outside.get('co2e_map_t'))} t CO2e there are an extrapolation, "
            "shown apart and without an interval."
        )
    scheme, test = fair_test(metrics)
    r2 = test.get("r2")
    if test:
        out.append(
            f"Tested on plots it had not seen ({test.get('description', scheme)}), the model “{metrics.get('main_model')}” "
            f"is off by {_n(test.get('rmse'))} t/ha per plot ({_n(test.get('rrmse'))}% of the mean) and "
            f"explains {max(0.0, r2 or 0.0) * 100:.0f}% of the differences between plots: {skill_in_words(r2)}."
        )
    warning = None
    if r2 is not None and r2 < WARN_BELOW:
        warning = (
            f"The model shows {skill_in_words(r2)} where it has no plots (R² {r2:.2f} in "
            f"{test.get('description', scheme)}). Its map should not be read pixel by pixel or patch by patch, "
            "and the total is close to the plots' average biomass times the area: the interval above describes "
            "that average, not a good map. More or better-matched predictors, or more plots, are needed before "
            "the map is used for decisions."
        )
    return {"sentences": out, "warning": warning, "skill": skill_in_words(r2), "test": scheme}
