"""The whole baseline chain as one call: change, zones, carbon, reference level, allocation,
accuracy, crediting, value, uncertainty; then the run folder (config copy, tables, rasters,
figures, ``results.json``, ``report.html``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from carbonscope.baseline import accuracy, allocate, carbon, credits, fit, landcover, zones
from carbonscope.baseline.change import Change
from carbonscope.baseline.config import RunConfig
from carbonscope.baseline.tabulate import AgbMap, Tally, tabulate
from carbonscope.baseline.value import invest_constant
from carbonscope.errors import InputError
from carbonscope.geo import rasterpath
from carbonscope.geo.grid import Grid
from carbonscope.ipcc import CO2_PER_C, RootShoot
from carbonscope.progress import NullProgress, Progress
from carbonscope.recipe import RunFolder

Zone = tuple[str | None, int]  # (zone set, zone number); (None, 0) is the whole raster


@dataclass(frozen=True)
class Reference:
    """The reference-level step's result: the fits, the one chosen, what they describe."""

    fits: dict[str, fit.Fit]
    chosen: fit.Fit
    kind: str  # "stock" (a level over time) or "rate" (deforestation per year)
    zone: Zone  # the jurisdiction or zone the series describes
    ef: float  # its emission factor in the last period (tCO2e/ha; nan without carbon)


@dataclass(frozen=True)
class Allocation:
    """The allocation step's result: the project's zone and its share of the jurisdiction's baseline."""

    project: Zone
    share: float
    risk: allocate.RiskMap | None = None


@dataclass
class Run:
    """A finished run: inputs, the typed results of the steps, and what the run folder holds
    (``results`` becomes results.json, ``tables`` the CSV/Parquet tables)."""

    cfg: RunConfig
    tally: Tally
    change: Change
    grid: Grid
    reference: Reference
    allocation: Allocation
    results: dict = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    folder: Path | None = None  # the run folder, once written

    @property
    def fits(self) -> dict[str, fit.Fit]:
        return self.reference.fits

    @property
    def chosen(self) -> fit.Fit:
        return self.reference.chosen

    @property
    def risk(self) -> allocate.RiskMap | None:
        return self.allocation.risk


@dataclass
class _Steps:
    """What every step reads (the configuration, the tally and its change) and where each records
    its part of the run folder. What one step hands the next is a typed return value instead."""

    cfg: RunConfig
    tally: Tally
    change: Change
    results: dict = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _find_zone(change: Change, name: str) -> tuple[str, int]:
    """(set name, zone number) of a zone named ``name`` (a zone, or a set with one zone)."""
    hits = [(s, i) for s, n, i in change.zones() if n == name]
    sets = [s for s in change.t.sets if s.name == name and len(s.names) == 1]
    if hits:
        return hits[0]
    if sets:
        return sets[0].name, 1
    known = ", ".join(dict.fromkeys(n for _, n, _ in change.zones()))
    raise InputError(f"no zone named {name!r}; zones: {known or 'none (add [[zones]])'}")


def _zone_key(change: Change) -> dict[str, tuple[str, int]]:
    """Result names of zones: the zone's name, or 'set/name' where names repeat across sets."""
    names = [n for _, n, _ in change.zones()]
    return {(n if names.count(n) == 1 else f"{s}/{n}"): (s, i) for s, n, i in change.zones()}


def _series(
    cfg: RunConfig, change: Change, src, key, zone
) -> tuple[np.ndarray, np.ndarray, str, str, np.ndarray | None]:
    """(t, y, kind, unit, weights) of the fitted historical series; a rate series' weights are the
    years of each period (its historical average is then total loss over total years)."""
    years = np.array(change.years)
    if cfg.baseline.series == "deforestation":
        rows = change.periods(key, zone)
        t = np.array([(landcover.decimal_year(r["start"]) + landcover.decimal_year(r["end"])) / 2 for r in rows])
        rates = np.array([r["annual_deforestation_ha"] for r in rows])
        return t, rates, "rate", "ha/yr", np.array([float(r["years"]) for r in rows])
    if cfg.baseline.series == "forest_area":
        return years, np.array(change.forest_area(key, zone)), "stock", "ha", None
    stocks = np.array([src.stock(key, zone, d) for d in range(len(years))])
    ok = np.isfinite(stocks)
    return years[ok], stocks[ok], "stock", "tCO2e", None


def _projection_years(cfg: RunConfig, t: np.ndarray) -> list[int]:
    """The years every method is projected over: the crediting period, else the ten after the data."""
    c = cfg.crediting
    if c is not None:
        return list(range(c.start, c.start + c.years))
    last = int(np.floor(t.max()))
    return list(range(last + 1, last + 11))


def _annual_baseline(f: fit.Fit, kind: str, years: list[int], ef: float, series: str) -> np.ndarray:
    """Baseline deforestation (ha/yr) in each crediting year from a fitted series."""
    y = np.asarray(years, float)
    if kind == "rate":
        ad = f.predict(y - 0.5)
    else:
        loss = f.predict(y - 1) - f.predict(y)
        ad = loss / ef if series == "forest_carbon" else loss
    return np.maximum(np.nan_to_num(ad, nan=0.0), 0.0)


def run(cfg: RunConfig, progress: Progress | None = None) -> Run:
    """Every step in order, in memory; :func:`write` (or the recipe) makes the run folder."""
    progress = progress or NullProgress()
    t_start = time.perf_counter()
    lc = cfg.landcover
    product = landcover.open_product(lc)
    try:
        grid, forest = product.grid, product.forest
        sets = [zones.load(z, grid) for z in cfg.zones]
        maps = [AgbMap(m.date, str(m.path), m.band, m.se_band) for m in (cfg.carbon.maps if cfg.carbon else [])]
        for m in maps:
            if not rasterpath.exists(m.path):
                raise InputError("no such AGB map", file=m.path)
        rs: RootShoot | float = 0.0
        if cfg.carbon is not None:
            rs = (
                RootShoot.parse(cfg.carbon.root_shoot, cfg.carbon.root_shoot_table)
                if isinstance(cfg.carbon.root_shoot, str)
                else float(cfg.carbon.root_shoot)
            )
        tally = tabulate(
            lc,
            sets,
            maps,
            workers=cfg.workers,
            root_shoot=rs,
            carbon_fraction=cfg.carbon.carbon_fraction if cfg.carbon else 0.47,
            progress=progress,
        )
        change = Change(tally, forest)
        r = _Steps(cfg, tally, change)
        seconds = {"tabulate": tally.seconds}
        _areas(r)
        r.results["inputs"]["notes"] = list(product.notes)
        srcs = carbon.sources(change, cfg.carbon)
        main_src = carbon.primary(srcs, cfg.carbon)
        _carbon(r, srcs)
        _accuracy(r, product)
        area_se = _area_rel_se(r)
        reference = _baseline(r, srcs, main_src, area_se)
        allocation = _allocation(r, product, reference)
        _crediting(r, main_src, reference, allocation, area_se)
        _invest(r, main_src, allocation)
    finally:
        product.close()
    seconds["total"] = time.perf_counter() - t_start
    r.results["timing_s"] = seconds
    return Run(cfg, tally, change, grid, reference, allocation, r.results, r.tables, seconds)


def _areas(r: _Steps) -> None:
    ch, t = r.change, r.tally
    g = t.sets
    res = r.results
    res |= {
        "name": r.cfg.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "dates": t.dates,
        "categories": [c for c in (t.categories[k] for k in ch.keep)],
        "forest_categories": [t.categories[k] for k in ch.forest],
        "pixels": t.pixels,
        "areas_ha": ch.areas(),
        "transitions_ha": ch.transitions(),
        "deforestation_ha": ch.deforestation(),
        "periods": ch.periods(),
        "zones": {},
    }
    rows_a: list[dict] = []
    rows_t: list[dict] = []
    rows_p: list[dict] = []

    def collect(zone_name, key, zone):
        for d, by in ch.areas(key, zone).items():
            rows_a.extend({"zone": zone_name, "date": d, "category": c, "ha": v} for c, v in by.items())
        for per, m in ch.transitions(key, zone).items():
            rows_t.extend(
                {"zone": zone_name, "period": per, "from": a, "to": b, "ha": v}
                for a, row in m.items()
                for b, v in row.items()
            )
        rows_p.extend({"zone": zone_name, **p} for p in ch.periods(key, zone))

    collect("(whole raster)", None, 0)
    for name, (s, i) in _zone_key(ch).items():
        res["zones"][name] = {
            "set": s,
            "areas_ha": ch.areas(s, i),
            "deforestation_ha": ch.deforestation(s, i),
            "periods": ch.periods(s, i),
            "transitions_ha": ch.transitions(s, i),
        }
        collect(name, s, i)
    r.tables |= {"areas": pd.DataFrame(rows_a), "transitions": pd.DataFrame(rows_t), "periods": pd.DataFrame(rows_p)}
    res["inputs"] = {
        "landcover": r.cfg.landcover.type,
        "sources": list(dict.fromkeys(str(b) for b in _sources(r.cfg))),
        "crs": None,
        "zone_sets": {s.name: s.names for s in g},
    }


def _sources(cfg: RunConfig):
    lc = cfg.landcover
    return [lc.path] if lc.path else [f.path for f in lc.files]


def _carbon(r: _Steps, srcs: dict) -> None:
    if not srcs:
        return
    ch = r.change
    out, rows = {}, []
    targets = [("(whole raster)", None, 0)] + [(n, s, i) for n, (s, i) in _zone_key(ch).items()]
    for name, src in srcs.items():
        by_zone = {}
        for zname, key, zone in targets:
            stock = {d: src.stock(key, zone, k) for k, d in enumerate(r.tally.dates)}
            agb = {d: src.stock(key, zone, k, what="agb") for k, d in enumerate(r.tally.dates)}
            periods = []
            for p in ch.periods(key, zone):
                k = r.tally.dates.index(p["start"])
                ef = src.emission_factor(key, zone, k)
                periods.append(
                    {
                        "period": p["period"],
                        "emission_factor_tco2e_per_ha": ef,
                        "emissions_tco2e": p["deforestation_ha"] * ef,
                        "annual_emissions_tco2e": p["annual_deforestation_ha"] * ef,
                    }
                )
            by_zone[zname] = {"forest_tco2e": stock, "forest_agb_t": agb, "periods": periods}
            rows += [
                {"source": name, "zone": zname, "date": d, "forest_agb_t": agb[d], "forest_tco2e": v}
                for d, v in stock.items()
            ]
        out[name] = {"notes": src.notes, "zones": by_zone}
    r.results["carbon"] = out
    r.tables["carbon"] = pd.DataFrame(rows)


def _accuracy(r: _Steps, product) -> None:
    a = r.cfg.accuracy
    if a is None:
        return
    ch, t = r.change, r.tally
    try:
        d1, d2 = a.period.split("/")
        i, j = t.dates.index(d1), t.dates.index(d2)
    except ValueError:
        raise InputError(
            f"accuracy.period {a.period!r} must be 'D1/D2' with two land-cover dates ({', '.join(t.dates)})"
        ) from None
    g = product.grid
    sample = accuracy.read_sample(a.path, a.x, a.y, a.reference, a.crs or g.crs, g.crs)
    # Olofsson et al. (2014): the strata's weights are the mapped areas of the region the sample
    # was drawn in (the zone), not of the whole raster (which may hold sea or a neighbour)
    zone_name = a.zone or r.cfg.baseline.zone
    key, zone = _find_zone(ch, zone_name) if zone_name else (None, 0)
    outside_zone = 0
    if key is not None:
        geom = next(s for s in t.sets if s.name == key).geometries[zone - 1]
        within = shapely.contains_xy(geom, sample.x.to_numpy(), sample.y.to_numpy())
        outside_zone = int((~within).sum())
        if not within.any():
            raise InputError(f"no reference point lies in the zone {zone_name!r}", file=str(a.path))
        sample = sample[within].reset_index(drop=True)
    rows, cols = ~g.transform * (sample.x.to_numpy(), sample.y.to_numpy())
    rows, cols = np.floor(cols).astype(int), np.floor(rows).astype(int)
    inside = (rows >= 0) & (rows < g.height) & (cols >= 0) & (cols < g.width)
    if not inside.all():
        raise InputError(
            f"{int((~inside).sum())} reference points lie outside the raster (first: row {int(np.flatnonzero(~inside)[0]) + 2})",
            file=str(a.path),
        )
    from rasterio.windows import Window

    # the sample's pixels only (a reference sample is hundreds of points, the raster may be huge)
    cats = np.stack([product.read(Window(int(c), int(rw), 1, 1))[[i, j], 0, 0] for rw, c in zip(rows, cols)], axis=1)
    f = np.isin(cats, ch.forest)
    mapped = np.where(
        f[0] & ~f[1], "deforestation", np.where(f[0] & f[1], "forest", np.where(~f[0] & f[1], "gain", "non_forest"))
    )
    classes = ["deforestation", "forest", "non_forest", "gain"]
    p = t.pair_index(i, j) if (i, j) in t.pairs else None
    if p is None:
        raise InputError(f"accuracy.period {a.period} is not one of the tabulated pairs")
    m = t.matrix(key, zone, p)
    fo, nf = list(ch.forest), list(ch.nonforest)
    areas = {
        "deforestation": m[np.ix_(fo, nf)].sum(),
        "forest": m[np.ix_(fo, fo)].sum(),
        "non_forest": m[np.ix_(nf, nf)].sum(),
        "gain": m[np.ix_(nf, fo)].sum(),
    }
    unknown = sorted(set(sample.reference) - set(classes))
    if unknown:
        raise InputError(
            f"reference classes {unknown} are not deforestation, forest, non_forest or gain",
            file=str(a.path),
            column=a.reference,
        )
    areas = {c: v for c, v in areas.items() if v > 0}
    counts = pd.crosstab(pd.Series(mapped, name="map"), pd.Series(sample.reference.to_numpy(), name="reference"))
    est = accuracy.estimate(areas, counts)
    est["period"] = a.period
    est["zone"] = zone_name or "(whole raster)"
    est["points_outside_zone"] = outside_zone
    if outside_zone:
        est.setdefault("notes", []).append(
            f"{outside_zone} reference points lie outside the zone {zone_name!r} and are not used"
        )
    r.results["accuracy"] = est


def _hist_deforestation(r: _Steps, key, zone) -> list[dict]:
    """Deforestation per consecutive period, bias-adjusted where a reference sample assessed it."""
    rows = r.change.periods(key, zone)
    acc = r.results.get("accuracy")
    if acc and "deforestation" in acc["classes"]:
        c = acc["classes"]["deforestation"]
        ratio = c["area"] / c["mapped_area"] if c["mapped_area"] else 1.0
        for row in rows:
            if row["period"] == acc["period"]:
                row["deforestation_ha_mapped"] = row["deforestation_ha"]
                row["deforestation_ha"] *= ratio
                row["annual_deforestation_ha"] = row["deforestation_ha"] / row["years"]
                row["adjusted_by_reference_sample"] = True
    return rows


def _baseline(r: _Steps, srcs: dict, main_src, area_se: float) -> Reference:
    cfg, ch = r.cfg, r.change
    key, zone = _find_zone(ch, cfg.baseline.zone) if cfg.baseline.zone else (None, 0)
    r.results["baseline_zone"] = cfg.baseline.zone or "(whole raster)"
    t, y, kind, unit, weights = _series(cfg, ch, main_src, key, zone)
    if len(t) < 2:
        raise InputError(
            f"the baseline series has {len(t)} observation(s); at least two are needed: two dates for a stock "
            "series, three for deforestation rates (two periods)"
        )
    fits = fit.fit_all(t, y, cfg.baseline.methods, kind, cfg.baseline.r2_threshold, weights)
    choice = fit.choose(fits, cfg.baseline.choice_margin, cfg.baseline.use)
    chosen = choice.fit
    r.results["baseline"] = {m: f.as_dict() for m, f in fits.items()}
    r.results["baseline_choice"] = {
        "method": chosen.method,
        "rule": choice.rule,
        "forced": choice.forced,
        "margin": cfg.baseline.choice_margin,
        "min_dof": fit.MIN_DOF,
    }
    r.results["baseline_projections"] = fit.projections(fits, _projection_years(cfg, t))
    r.results["baseline_series"] = {
        "series": cfg.baseline.series,
        "unit": unit,
        "t": t.tolist(),
        "y": y.tolist(),
        "kind": kind,
        "chosen": chosen.method,
        "carbon_source": main_src.name if main_src else None,
    }
    notes = [f"method: {choice.rule}"]
    short = [m for m, f in fits.items() if f.params and not f.supported]
    if short:
        notes.append(
            f"{len(t)} observations leave fewer than {fit.MIN_DOF} degrees of freedom for {', '.join(short)}: "
            "their R² says little about the trend, so they are shown but not chosen"
        )
    if not chosen.supported:
        notes.append(f"the {chosen.method} method was forced although the data cannot support it")
    if not chosen.r2_ok and not (chosen.method == "average" and kind == "rate"):
        notes.append(f"no allowed method reaches R² {cfg.baseline.r2_threshold}; the {chosen.method} method is used")
    r.results["baseline_notes"] = notes
    if cfg.baseline.series == "forest_carbon" and len(srcs) > 1:
        r.results["baseline_by_carbon_source"] = {}
        for name, src in srcs.items():
            ts, ys, k2, _, w2 = _series(cfg, ch, src, key, zone)
            if len(ts) >= 2:
                r.results["baseline_by_carbon_source"][name] = {
                    m: f.as_dict()
                    for m, f in fit.fit_all(ts, ys, cfg.baseline.methods, k2, cfg.baseline.r2_threshold, w2).items()
                }
    rows = [
        {
            "method": m,
            **{k: v for k, v in f.as_dict().items() if k not in ("params", "notes")},
            **{f"param_{k}": v for k, v in f.params.items()},
        }
        for m, f in fits.items()
    ]
    r.tables["baseline_fits"] = pd.DataFrame(rows)
    hist = _hist_deforestation(r, key, zone)
    r.results["baseline_zone_periods"] = hist
    if main_src is not None:
        efs = (
            [main_src.emission_factor(key, zone, k) for k in range(len(ch.t.dates) - 1)] if len(ch.t.dates) > 1 else []
        )
        ef_zone = efs[-1] if efs else float("nan")
        lvl = cfg.uncertainty
        for row, ef in zip(hist, efs):
            row["emission_factor_tco2e_per_ha"] = ef
            row["emissions_tco2e"] = row["deforestation_ha"] * ef
            row["emissions_interval_tco2e"] = credits.emissions_interval(
                row["deforestation_ha"], ef, area_se, main_src.ef_rel_se(), lvl.draws, lvl.seed, lvl.level
            )
    else:
        ef_zone = float("nan")
    return Reference(fits, chosen, kind, (key, zone), ef_zone)


def _area_rel_se(r: _Steps) -> float:
    """The relative standard error of deforested area: from the accuracy assessment when there is one."""
    acc = r.results.get("accuracy")
    if acc and "deforestation" in acc["classes"]:
        c = acc["classes"]["deforestation"]
        return c["se"] / c["area"] if c["area"] else r.cfg.uncertainty.area_rel_se
    return r.cfg.uncertainty.area_rel_se


def _allocation(r: _Steps, product, ref: Reference) -> Allocation:
    a, ch = r.cfg.allocation, r.change
    if a is None:
        return Allocation(ref.zone, 1.0)
    pkey, pzone = _find_zone(ch, a.project)
    bkey, bzone = ref.zone
    risk = None
    out: dict[str, Any] = {"project": a.project}
    proj = sum(p["deforestation_ha"] for p in ch.periods(pkey, pzone))
    juris = sum(p["deforestation_ha"] for p in ch.periods(bkey, bzone))
    if a.method in ("historical_share", "both"):
        out["historical_share"] = allocate.historical_share(proj, juris)
    if a.method in ("risk_map", "both"):
        by_name = {s.name: s for s in r.tally.sets}
        inside = (
            np.ones(product.grid.shape, bool)
            if bkey is None
            else allocate.zone_mask(by_name[bkey], by_name[bkey].names[bzone - 1], product)
        )
        pset = by_name[pkey]
        project = allocate.zone_mask(pset, pset.names[pzone - 1], product)
        if not project.any():
            raise InputError(f"the project zone {a.project!r} covers no pixel centre of the raster")
        risk = allocate.risk_map(product, inside, project, a.risk_bins)
        out["risk_map"] = {
            "share": risk.share,
            "factors": risk.factors,
            "classes": len(risk.table),  # the classes holding forest
            "validation": risk.validation,
        }
        v = risk.validation
        uses_risk = a.method == "risk_map" or (a.method == "both" and a.use == "risk_map")
        if v is not None and not v["passed"]:
            out.setdefault("warnings", []).append(
                f"the risk model, calibrated on {v['calibrated_on']}, gives the project {v['predicted_share']:.2%} of "
                f"the deforestation of {v['tested_on']}; it had {v['observed_share']:.2%} ({v['ratio']:.2f} times): "
                f"outside the plausibility range (a factor of {v['tolerance']:g})"
                + (", and its share is used (allocation.use = risk_map)" if uses_risk else "")
            )
        r.tables["risk_classes"] = pd.DataFrame(risk.table)
        if len(product.dates) >= 3:
            out["vt0007"] = _vt0007(r, product, a, by_name, inside, project)
            for w in out["vt0007"]["warnings"]:
                out.setdefault("warnings", []).append(f"VT0007: {w}")
    used = a.use if a.method == "both" else a.method
    if used == "vt0007" and "vt0007" not in out:
        raise InputError("allocation.use = vt0007 needs the risk map (method risk_map or both) and three dates")
    out["used"] = used
    share = float(
        out["vt0007"]["share"]
        if used == "vt0007"
        else risk.share
        if used == "risk_map" and risk is not None
        else out["historical_share"]
    )
    if not np.isfinite(share):
        raise InputError(f"the jurisdiction {r.results['baseline_zone']!r} had no deforestation to allocate")
    out["share"] = share
    r.results["allocation"] = out
    return Allocation((pkey, pzone), share, risk)


def _vt0007(r: _Steps, product, a, by_name: dict, inside: np.ndarray, project: np.ndarray) -> dict:
    """VT0007 on the jurisdiction, split into the named zone set's sub-jurisdictions (or one)."""
    if a.subjurisdictions is None:
        subj = inside.astype(np.int32)
        note = "one sub-jurisdiction: the jurisdiction (name a zone set in allocation.subjurisdictions)"
    else:
        if a.subjurisdictions not in by_name:
            raise InputError(
                f"allocation.subjurisdictions {a.subjurisdictions!r} is not a zone set; zone sets: {', '.join(by_name)}"
            )
        g = product.grid
        from rasterio.windows import Window

        subj = np.where(inside, by_name[a.subjurisdictions].rasterize(g, Window(0, 0, g.width, g.height)), 0)
        note = f"sub-jurisdictions: the zones of {a.subjurisdictions!r}"
    out = allocate.vt0007(product, subj.astype(np.int32), project, a.risk_bins, a.cell_m)
    out["subjurisdictions_from"] = note
    return out


def _crediting(r: _Steps, main_src, ref: Reference, alloc: Allocation, area_se: float) -> None:
    c = r.cfg.crediting
    if c is None or main_src is None:
        return
    years = list(range(c.start, c.start + c.years))
    series = r.cfg.baseline.series
    ef_zone = ref.ef
    juris_ad = _annual_baseline(ref.chosen, ref.kind, years, ef_zone, series)
    pkey, pzone = alloc.project
    ef_p = main_src.emission_factor(pkey, pzone, len(r.tally.dates) - 2)
    if not np.isfinite(ef_p) or ef_p <= 0:
        ef_p = ef_zone
    base = juris_ad * alloc.share
    if c.monitored_deforestation_ha is None:
        proj = base * (1 - c.effectiveness_percent / 100)
        mode = f"ex ante: the project avoids {c.effectiveness_percent:g}% of baseline deforestation"
    else:
        m = c.monitored_deforestation_ha
        proj = np.full(len(years), float(m)) if isinstance(m, (int, float)) else np.asarray(m, float)
        if proj.size != len(years):
            raise InputError(
                f"crediting.monitored_deforestation_ha has {proj.size} values for {len(years)} crediting years"
            )
        mode = "monitored deforestation"
    prices = np.full(len(years), float(c.price)) if isinstance(c.price, (int, float)) else np.asarray(c.price, float)
    if prices.size != len(years):
        raise InputError(f"crediting.price has {prices.size} values for {len(years)} crediting years")
    inp = credits.CreditInputs(
        years,
        base,
        proj,
        ef_p,
        c.leakage_percent / 100,
        c.buffer_percent / 100,
        prices,
        c.discount_rate_percent / 100,
        project_from_baseline=c.monitored_deforestation_ha is None,
    )
    s = credits.summarize(inp)
    u = r.cfg.uncertainty
    s["intervals"] = credits.monte_carlo(inp, area_se, u.area_rel_se, main_src.ef_rel_se(), u.draws, u.seed, u.level)
    s |= {
        "mode": mode,
        "emission_factor_tco2e_per_ha": ef_p,
        "share": alloc.share,
        "method": ref.chosen.method,
        "currency": c.currency,
        "discount_rate_percent": c.discount_rate_percent,
        "level": u.level,
        "uncertainty_notes": [
            "area and emission-factor errors are drawn independently; "
            + (
                "ex ante, project deforestation is a share of the baseline and moves with its draw; "
                if c.monitored_deforestation_ha is None
                else "monitored project deforestation has an error of its own; "
            )
            + "the allocation share and the choice of baseline method are not varied (see every method's projection)"
        ],
    }
    r.results["crediting"] = s
    r.tables["crediting"] = pd.DataFrame(s["years"])
    r.tables["projection"] = pd.DataFrame(
        {"year": years, "jurisdiction_baseline_deforestation_ha": juris_ad, "project_baseline_deforestation_ha": base}
    )


def _invest(r: _Steps, main_src, alloc: Allocation) -> None:
    v = r.cfg.invest
    if v is None or main_src is None:
        return
    key, zone = alloc.project
    dates = r.tally.dates
    p = v.start_year or int(landcover.decimal_year(dates[0]))
    q = v.end_year or int(landcover.decimal_year(dates[-1]))
    years = [int(landcover.decimal_year(d)) for d in dates]
    if p not in years or q not in years:
        raise InputError(f"invest: start and end years must be land-cover dates ({', '.join(dates)})")
    c_p = main_src.stock(key, zone, years.index(p)) / CO2_PER_C
    c_q = main_src.stock(key, zone, years.index(q)) / CO2_PER_C
    k = invest_constant(v.price_per_tc, v.discount_rate_percent, v.price_change_percent, p, q)
    r.results["invest"] = {
        "zone": r.results.get("allocation", {}).get("project", r.results["baseline_zone"]),
        "start_year": p,
        "end_year": q,
        "carbon_start_tc": c_p,
        "carbon_end_tc": c_q,
        "delta_tc": c_q - c_p,
        "valuation_constant": k,
        "value": (c_q - c_p) * k,
        "price_per_tc": v.price_per_tc,
        "currency": v.currency,
        "discount_rate_percent": v.discount_rate_percent,
        "price_change_percent": v.price_change_percent,
    }


# -- output ------------------------------------------------------------------------------------


def write(r: Run, out: Path | None = None) -> Path:
    """The run folder, written whole or not at all (recipe.RunFolder)."""
    with RunFolder(Path(out or r.cfg.output)) as folder:
        _write(r, folder)
    r.folder = folder.out
    return folder.out


def _write(r: Run, folder: RunFolder) -> None:
    from carbonscope.baseline import figures, report

    if r.cfg.source is not None:
        folder.copy(r.cfg.source, "config.toml")
    for name, df in r.tables.items():
        folder.table(f"tables/{name}", df)
    figs = figures.all_figures(r, folder.path / "figures")
    folder.json("results.json", r.results)
    report.write(folder.path, r, figs)


class BaselineRecipe:
    """The REDD+ baseline run on the recipe contract (carbonscope.recipe)."""

    name: str = "baseline"
    keep: tuple[str, ...] = ()

    def load(self, path: Path) -> RunConfig:
        from carbonscope.baseline.config import load

        return load(path)

    def output(self, cfg: RunConfig) -> Path:
        return Path(cfg.output)

    def run(self, cfg: RunConfig, folder: RunFolder, progress: Progress) -> Run:
        r = run(cfg, progress)
        _write(r, folder)
        return r

    def moved(self, result: Run, folder: RunFolder) -> Run:
        result.folder = folder.out
        return result


RECIPE = BaselineRecipe()
