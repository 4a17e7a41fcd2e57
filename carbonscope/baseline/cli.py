"""``carbonscope baseline``: translate arguments, call :mod:`carbonscope.baseline`, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carbonscope.cli_output import console, err, fail, print_json
from carbonscope.errors import CarbonScopeError

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
):
    """Change, zones, carbon, reference level, allocation, crediting and report in one run folder."""
    from carbonscope.baseline import config as cfgmod
    from carbonscope.baseline.run import run as do_run
    from carbonscope.baseline.run import write
    from carbonscope.progress import RichProgress

    cfg = cfgmod.load(config)
    if output is not None:
        cfg = cfg.model_copy(update={"output": output.resolve()})
    with RichProgress(console=err) as progress:
        result = do_run(cfg, progress)
        folder = write(result)
    if json_out:
        print_json(result.results)
        return
    res = result.results
    console.print(_areas_table("area by category, whole raster", res["areas_ha"]))
    for per, ha in res["deforestation_ha"].items():
        console.print(f"deforestation {per}: {ha:,.2f} ha")
    fits = Table(title=f"reference level fits ({res['baseline_zone']})")
    for c in ("method", "R²", "allowed", "equation"):
        fits.add_column(c)
    for m, f in res["baseline"].items():
        fits.add_row(m, f"{f['r2']:.4f}" if f["r2"] == f["r2"] else "–", "yes" if f["allowed"] else "no", f["equation"])
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
):
    """Area per category and date, and deforestation between dates (whole raster and per zone)."""
    from carbonscope.baseline import landcover
    from carbonscope.baseline import zones as zmod
    from carbonscope.baseline.change import Change
    from carbonscope.baseline.config import LandCoverConfig, ZoneConfig
    from carbonscope.baseline.tabulate import tabulate
    from carbonscope.progress import RichProgress

    try:
        lc = LandCoverConfig(
            type="landcover" if mapping else "forest_mask",
            path=raster.resolve(),
            mapping=mapping,
            dates=[d.strip() for d in dates.split(",") if d.strip()],
        )
        with landcover.open_product(lc) as product:
            grid, forest = product.grid, product.forest
        sets = (
            [zmod.load(ZoneConfig(name="zones", path=zones.resolve(), layer=zone_layer, field=zone_field), grid)]
            if zones
            else []
        )
        with RichProgress(console=err) as progress:
            task = progress.task("pixels", total=grid.width * grid.height)
            tally = tabulate(lc, sets, workers=workers, progress=lambda n: progress.advance(task, n))
    except (CarbonScopeError, ValueError) as exc:
        fail(exc, 2)
    ch = Change(tally, forest)
    doc = {"areas_ha": ch.areas(), "deforestation_ha": ch.deforestation()}
    if sets:
        doc["zones"] = {
            name: {"areas_ha": ch.areas("zones", i + 1), "deforestation_ha": ch.deforestation("zones", i + 1)}
            for i, name in enumerate(sets[0].names)
        }
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
