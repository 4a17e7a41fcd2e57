"""The answer first for a baseline run: forest lost, the reference level and why, the credits a
project could earn, their value with its price and currency, and the caveats (for the top of the
baseline report and of an analysis's page)."""

from __future__ import annotations


def number(v: float | None, unit: str = "", digits: int = 0) -> str:
    if v is None:
        return "unknown"
    return f"{v:,.{digits}f}{(' ' + unit) if unit else ''}"


def with_interval(d: dict | None, unit: str) -> str:
    if not d or d.get("estimate", d.get("mean")) is None:
        return "unknown"
    mid = d.get("estimate", d.get("mean"))
    if d.get("lower") is None:
        return number(mid, unit)
    return f"{number(mid, unit)} (90% interval {number(d['lower'])} to {number(d['upper'])})"


def _pct(v: float | None) -> str:
    return "an unknown rate" if v is None else f"{v:.1f}%"


def _prices(years: list[dict], currency: str) -> str:
    prices = sorted({y["price"] for y in years if y.get("price") is not None})
    if not prices:
        return ""
    if len(prices) == 1:
        return f", at a price of {number(prices[0], '', 2)} {currency} per credit (set for the run)"
    return f", at prices from {number(prices[0], '', 2)} to {number(prices[-1], '', 2)} {currency} per credit (set for the run)"


def baseline_sentences(results: dict, where: str = "in the mapped area") -> list[str]:
    """Sentences, headline first, from a baseline run's results."""
    out: list[str] = []
    crediting = results.get("crediting") or {}
    totals = crediting.get("totals") or {}
    periods = results.get("periods") or []
    if periods:
        lost = ", ".join(f"{number(p['deforestation_ha'], 'ha')} in {p['start']}-{p['end']}" for p in periods)
        out.append(f"Forest lost {where}: {lost}.")
    choice = results.get("baseline_choice") or {}
    if choice.get("method"):
        out.append(
            f"The reference level (what would be lost without a project) follows the {choice['method']} method "
            f"of VMD0007, chosen because: {choice.get('rule', 'it was set')}."
        )
    if totals:
        years = crediting.get("years") or []
        per_year = (totals.get("creditable_tco2e") or 0) / max(1, len(years))
        iv = (crediting.get("intervals") or {}).get("creditable_tco2e") or {}
        # the run's own total (as the cards and tables show it), with the Monte Carlo interval
        credits = {"estimate": totals.get("creditable_tco2e"), "lower": iv.get("lower"), "upper": iv.get("upper")}
        out.append(
            f"Over {len(years)} years from {years[0]['year'] if years else '?'}, the project could earn "
            f"{with_interval(credits, 'credits')} "
            f"(about {number(per_year)} a year), after leakage and the buffer set aside for reversals."
        )
        if totals.get("npv") is not None:
            currency = crediting.get("currency", "USD")
            out.append(
                f"Their net present value is {number(totals['npv'])} {currency}, discounted at "
                f"{_pct(crediting.get('discount_rate_percent'))} a year{_prices(years, currency)}; the range "
                "of the credits does not include the uncertainty of the method choice (see every method's "
                "projection in the chart)."
            )
        if crediting.get("mode"):
            out.append(f"Assumption: {crediting['mode']}.")
    for note in results.get("baseline_notes") or []:
        if "degrees of freedom" in note or "fewer" in note:
            out.append(f"Caveat: {note}.")
    invest = results.get("invest") or {}
    if invest.get("value") is not None:
        currency = invest.get("currency", "USD")
        change = "lost" if invest["delta_tc"] < 0 else "gained"
        out.append(
            f"Between {invest['start_year']} and {invest['end_year']} the {invest['zone']} {change} "
            f"{number(abs(invest['delta_tc']))} tonnes of carbon; valued by InVEST's method at "
            f"{number(invest['price_per_tc'], '', 2)} {currency} per tonne of carbon (not CO2), discounted at "
            f"{_pct(invest['discount_rate_percent'])} a year, that change is worth {number(invest['value'])} {currency}."
        )
    return out
