"""``carbonscope baseline``: translate arguments, call :mod:`carbonscope.baseline`, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carbonscope.cli_output import console, err, print_json

app = typer.Typer(
    help="REDD+ baseline: land-cover change, reference levels, creditable reductions.", no_args_is_help=True
)


def _areas_table(title: str, areas: dict) -> Table:
    cats = list(dict.fromkeys(c for by in areas.values() for c in by))
    t = Table(title=title)
    t.add_column("date")
    for c in cats:
        t.add_column(f"{c} (ha)", justify="right")
    for d, by in areas.items():
        t.add_row(d, *(f"{by.get(c, 0):,.2f}" for c in cats))
    return t


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="run configuration (TOML); see examples/martinique.toml")],
    output: Annotated[Path | None, typer.Option(help="run folder (default: the config's output)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print results.json")] = False,
) -> None:
    """Change, zones, carbon, reference level, allocation, crediting and report in one run folder."""
    from carbonscope.baseline.run import RECIPE
    from carbonscope.progress import RichProgress
    from carbonscope.recipe import execute

    cfg = RECIPE.load(config)
    with RichProgress(console=err) as progress:
        result = execute(RECIPE, cfg, output.resolve() if output else None, progress=progress)
    folder = result.folder
    assert folder is not None  # the recipe sets it once the folder is in place
    if json_out:
        print_json(result.results)
        return
    res = result.results
    console.print(_areas_table("area by category, whole raster", res["areas_ha"]))
    for per, ha in res["deforestation_ha"].items():
        console.print(f"deforestation {per}: {ha:,.2f} ha")
    fits = Table(title=f"reference level fits ({res['baseline_zone']})")
    for c in ("method", "R²", "can be chosen", "equation"):
        fits.add_column(c)
    for m, f in res["baseline"].items():
        ok = "yes" if f["allowed"] and f["supported"] else "no"
        fits.add_row(m, f"{f['r2']:.4f}" if f["r2"] == f["r2"] else "–", ok, f["equation"])
    console.print(fits)
    for n in res.get("baseline_notes", []):
        console.print(f"[yellow]note:[/yellow] {n}", highlight=False)
    if "crediting" in res:
        c = res["crediting"]
        iv = c["intervals"]["creditable_tco2e"]
        console.print(
            f"creditable {c['totals']['creditable_tco2e']:,.0f} tCO2e ({iv['lower']:,.0f} – {iv['upper']:,.0f}, "
            f"{c['level']:.0%}); NPV {c['totals']['npv']:,.0f} {c['currency']}"
        )
    console.print(f"report: {folder / 'report.html'}  ({result.seconds['total']:.1f} s)")


@app.command("fit")
def fit_cmd(
    table: Annotated[Path, typer.Argument(help="CSV, Parquet or Excel table with a row per year (and zone)")],
    x: Annotated[str, typer.Option(help="the column of years")],
    y: Annotated[str, typer.Option(help="the column of values: forest area, forest carbon, or loss per year")],
    zone: Annotated[str | None, typer.Option(help="fit each value of this column apart")] = None,
    method: Annotated[str, typer.Option(help="auto, average, linear, exponential or logarithmic")] = "auto",
    kind: Annotated[str, typer.Option(help="stock (a level over time) or rate (loss per year)")] = "stock",
    years: Annotated[int, typer.Option(min=1, max=100, help="years to project after the last one")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="print the fits as JSON")] = False,
) -> None:
    """The VMD0007 reference-level methods on a table of yearly values, with the method chosen and why."""
    from carbonscope.baseline.fit_table import FitOptions, fit_table

    doc = fit_table(table, x, y, zone=zone, options=FitOptions(kind=kind, method=method, years_ahead=years))
    if json_out:
        print_json(doc)
        return
    for name, one in doc["zones"].items() if "zones" in doc else [(None, doc)]:
        t = Table(title=f"reference level fits{f' ({name})' if name else ''}, {one['n']} observations")
        for c in ("method", "R²", "degrees of freedom", "can be chosen", "equation"):
            t.add_column(c)
        for m, f in one["baseline"].items():
            r2 = f"{f['r2']:.4f}" if f["r2"] == f["r2"] else "–"
            t.add_row(m, r2, str(f["dof"]), "yes" if f["allowed"] and f["supported"] else "no", f["equation"])
        console.print(t)
        console.print(f"chosen: {one['rule']}", highlight=False)


@app.command()
def areas(
    raster: Annotated[Path, typer.Argument(help="multi-band forest (1) / non-forest (0) raster, one band per date")],
    dates: Annotated[str, typer.Option(help="the bands' dates, comma-separated, e.g. 2000,2010,2020")],
    zones: Annotated[Path | None, typer.Option(help="vector file of zones (GeoPackage, GeoJSON, Shapefile)")] = None,
    zone_field: Annotated[str | None, typer.Option(help="the column naming each zone")] = None,
    zone_layer: Annotated[str | None, typer.Option(help="the layer of the zones file (default: the first)")] = None,
    mapping: Annotated[
        str | None, typer.Option(help="reclassify by a table instead (esa_cci, worldcover, modis_igbp or a CSV)")
    ] = None,
    workers: Annotated[int, typer.Option(min=1)] = 2,
    json_out: Annotated[
        bool, typer.Option("--json", help="print areas_ha, deforestation_ha and zones as JSON")
    ] = False,
) -> None:
    """Area per category and date, and deforestation between dates (whole raster and per zone)."""
    from carbonscope.baseline.areas import land_cover_areas
    from carbonscope.progress import RichProgress

    with RichProgress(console=err) as progress:
        doc = land_cover_areas(
            raster,
            [d.strip() for d in dates.split(",") if d.strip()],
            zones=zones,
            zone_field=zone_field,
            zone_layer=zone_layer,
            mapping=mapping,
            workers=workers,
            progress=progress,
        )
    if json_out:
        print_json(doc)
        return
    console.print(_areas_table("whole raster", doc["areas_ha"]))
    for per, ha in doc["deforestation_ha"].items():
        console.print(f"deforestation {per}: {ha:,.2f} ha")
    for name, z in doc.get("zones", {}).items():
        console.print(_areas_table(name, z["areas_ha"]))
        console.print(
            "  " + "; ".join(f"deforestation {per}: {ha:,.2f} ha" for per, ha in z["deforestation_ha"].items())
        )
