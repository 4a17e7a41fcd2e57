"""A results.json in plain words: the few sentences a finance analyst reads first, with the
caveats a scientist would insist on (change of support, map errors, random vs spatial validation)."""

from __future__ import annotations

from carbonscope.baseline.in_short import baseline_sentences
from carbonscope.baseline.in_short import number as _n
from carbonscope.baseline.in_short import with_interval as _interval


def summary(results: dict) -> list[str]:
    """Sentences for the results page and report, headline first."""
    out: list[str] = []
    stock = results.get("stock") or {}
    if stock.get("tco2e"):
        out.append(
            f"The forest in the area ({_n(stock.get('area_ha'), 'ha')} mapped) holds about "
            f"{_interval(stock.get('tco2e'), 'tonnes of CO2 equivalent')} in its trees above and below ground."
        )
        value = stock.get("value") or {}
        if value.get("estimate") is not None:
            out.append(
                f"At {_n(value.get('price_per_tco2e'), '', 2)} {value.get('currency', 'USD')} per tonne, that stock "
                f"would be worth {_n(value['estimate'])} {value.get('currency', 'USD')}; this is the value of "
                "the carbon held, not of credits: credits pay only for emissions avoided or removals added."
            )
        if stock.get("warning"):
            out.append(stock["warning"])
        out.append(
            "The map is a model's estimate from field plots and satellite data: single pixels can be far off, "
            "and only totals over many hectares carry the interval shown. Plots measure small circles while the "
            "map's pixels and the area are larger (a change of support), so the interval leans on the plots being "
            "like the rest of the area."
        )
        v = results.get("validation") or {}
        for note in v.get("notes") or []:
            if "change of support" in str(note):
                out.append(f"Caveat: {note}")
        tests = (v.get("validation") or {}).get(v.get("main_model") or "", {})
        rand, spatial = tests.get("kfold") or {}, tests.get("spatial") or {}
        if rand.get("rmse") is not None and spatial.get("rmse") is not None:
            out.append(
                f"Tested on plots it had not seen, the model was off by {_n(rand['rmse'], 't/ha')} per plot "
                f"(random cross-validation); on plots far from those it learnt from, by {_n(spatial['rmse'], 't/ha')}: "
                "the second is the fairer test for a new place."
            )
            r2 = spatial.get("r2")
            if r2 is not None and r2 < 0.3:
                out.append(
                    f"Warning: the model explains little of the differences between plots (R² {r2:.2f} in the "
                    "spatial test): the total is close to the plots' average times the area, and the map's "
                    "patterns should not be read plot by plot."
                )
    out += baseline_sentences(results, where="inside the area")
    density = results.get("carbon_density") or {}
    if density.get("source"):
        out.append(f"Carbon per hectare of forest comes from the {density['source']}.")
    return out


# Every recipe parameter in words: (label, what an unset value means)
PARAMETERS: dict[str, tuple[str, str]] = {
    "dates": ("Dates of the forest map's bands", "from the data source"),
    "reference": ("Reference region", "the jurisdiction when given, else a buffer around the area"),
    "reference_buffer_km": ("Width of the buffer reference region (km)", ""),
    "mapping": ("Land-cover legend", "not needed (a forest map)"),
    "agb_t_ha": ("Forest biomass above ground (t/ha)", "measured or mapped instead"),
    "agb_rel_se": ("Relative error of that biomass", ""),
    "ipcc_forest": ("IPCC default biomass for the forest's zone", "not used"),
    "imagery_dates": ("Dates of the satellite imagery combined", "not needed (no catalog layers)"),
    "root_shoot": ("Roots per unit of above-ground biomass", ""),
    "method": ("Reference-level method", ""),
    "allocation": ("How the region's baseline is shared out to the area", ""),
    "start": ("First crediting year", "the year after the last date"),
    "years": ("Crediting period (years)", ""),
    "effectiveness_percent": ("Share of deforestation the project avoids (%)", ""),
    "leakage_percent": ("Leakage (%)", ""),
    "buffer_percent": ("Buffer withheld for reversals (%)", ""),
    "price": ("Price per tonne of CO2 (USD)", ""),
    "discount_rate_percent": ("Discount rate (% a year)", ""),
    "area_rel_se": ("Relative error of mapped areas", ""),
    "draws": ("Monte Carlo draws for the intervals", ""),
    "seed": ("Random seed (for repeatable results)", ""),
    "model": ("Model", ""),
    "texture": ("Radar texture features", ""),
    "plot_radius": ("Plot radius (m)", "from the plots' source"),
    "spatial_block_m": ("Block size of the spatial test (m)", ""),
    "carbon_fraction": ("Carbon fraction of dry biomass", ""),
    "level": ("Coverage of the intervals", ""),
    "plots_x": ("Plots: x column", "from the plots' source"),
    "plots_y": ("Plots: y column", "from the plots' source"),
    "plots_crs": ("Plots: coordinate system", "from the plots' source"),
    "plots_value": ("Plots: value column", "from the plots' source"),
    "plots_kind": ("Plots: what the value is", "from the plots' source"),
    "plots_id": ("Plots: ID column", "from the plots' source"),
}

VALUES = {
    "auto": "chosen by the VMD0007 rule",
    "risk_map": "by deforestation risk (a risk map)",
    "historical_share": "by the area's share of past deforestation",
    "vt0007": "by Verra's VT0007 risk map (its benchmark, or the alternative when that tests better)",
    "gee": "random forest (Earth Engine's settings)",
    "published-knn": "k nearest neighbours",
    "lgbm-default": "gradient boosting (LightGBM)",
    "average": "historical average",
    True: "yes",
    False: "no",
}


def parameters(params: dict) -> list[tuple[str, str, bool]]:
    """(label, value in words, given by the person) for each parameter of a results.json."""
    out = []
    for key, p in params.items():
        label, unset = PARAMETERS.get(key, (key.replace("_", " ").capitalize(), ""))
        v = p.get("value")
        if v is None:
            words = unset or "not used"
        elif isinstance(v, bool) or (isinstance(v, str) and v in VALUES):
            words = VALUES[v]
        elif isinstance(v, float):
            words = f"{v:,.4g}"
        else:
            words = str(v).replace("ipcc2006:", "IPCC 2006, ").replace(":", ", ").replace("_", " ")
        out.append((label, words, bool(p.get("given"))))
    return out
