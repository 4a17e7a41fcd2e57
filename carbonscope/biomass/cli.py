"""``carbonscope biomass``: translate arguments, call :mod:`carbonscope.biomass`, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carbonscope.cli_output import console, err, print_json

app = typer.Typer(help="Carbon analyst: forest biomass and carbon from satellite rasters.", no_args_is_help=True)


def _load(config: Path, output: Path | None):
    from carbonscope.biomass import config as cfgmod

    cfg = cfgmod.load(config)
    if output is not None:
        cfg = cfg.model_copy(update={"output": output.resolve()})
    return cfg


def _metrics_table(validation: dict) -> Table:
    t = Table(title="held-out accuracy")
    for c in ("model", "validation", "n", "RMSE", "RMSE %", "bias", "R²", "r"):
        t.add_column(c, justify="right" if c not in ("model", "validation") else "left")
    for model, by in validation.items():
        for scheme, m in by.items():
            t.add_row(
                model,
                scheme,
                str(m["n"]),
                f"{m['rmse']:.1f}",
                f"{m['rrmse']:.1f}",
                f"{m['bias']:.1f}",
                f"{m['r2']:.3f}",
                f"{m['r']:.3f}",
            )
    return t


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="run configuration (TOML); see examples/juupajoki.toml")],
    output: Annotated[Path | None, typer.Option(help="run folder (default: the config's output)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print metrics and totals as JSON")] = False,
) -> None:
    """Features, labels, validation, map, stock and report in one run folder."""
    from carbonscope.biomass.run import run as do_run
    from carbonscope.progress import RichProgress

    cfg = _load(config, output)
    with RichProgress(console=err) as progress:
        result = do_run(cfg, config, progress)
    if json_out:
        print_json({"folder": str(result.folder), "metrics": result.metrics, "stock": result.stock})
        return
    console.print(_metrics_table(result.metrics["validation"]))
    whole = result.stock["__domain__"]
    inside = whole.get("inside_aoa")
    if inside:
        console.print(
            f"AGB inside the area of applicability ({inside['area_ha']:,.0f} of {whole['area_ha']:,.0f} ha): "
            f"{inside['agb_mg']['estimate']:,.0f} Mg ({inside['agb_mg']['lower']:,.0f} – "
            f"{inside['agb_mg']['upper']:,.0f}, {int(cfg.predict.level * 100)}%); CO2e {inside['co2e_t']['estimate']:,.0f} t"
        )
    if whole.get("warning"):
        console.print(f"[yellow]warning:[/yellow] {whole['warning']}", highlight=False)
    for note in result.metrics["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    console.print(f"report: {result.folder / 'report.html'}  ({result.seconds:.1f} s)")


@app.command()
def sample(
    config: Annotated[Path, typer.Argument(help="run configuration (TOML)")],
    out: Annotated[Path, typer.Option(help="samples table to write (.csv or .parquet)")] = Path("samples.csv"),
) -> None:
    """Labels with the features under them (plots, GEDI shots, or points drawn for a biomass raster)."""
    from carbonscope.biomass.run import build_samples, prepare
    from carbonscope.progress import RichProgress

    cfg = _load(config, None)
    with RichProgress(console=err) as progress:
        ctx = prepare(cfg, progress=progress)
        samples, _, dropped = build_samples(ctx.cfg, ctx, progress)
    samples.to_parquet(out, index=False) if out.suffix == ".parquet" else samples.to_csv(out, index=False)
    console.print(
        f"{len(samples)} samples with {len(ctx.spec.names)} features -> {out}"
        + (f"; dropped: {dropped}" if dropped else "")
    )


@app.command()
def train(
    table: Annotated[Path, typer.Option(help="samples (CSV or Parquet)")],
    target: Annotated[str, typer.Option(help="the label column (AGB)")],
    features: Annotated[str, typer.Option(help="feature columns, comma-separated")],
    model: Annotated[str | None, typer.Option(help="rf | knn | lgbm (default: the preset's, else rf)")] = None,
    preset: Annotated[str | None, typer.Option(help="gee | published-rf-grid | published-knn | lgbm-default")] = None,
    cv: Annotated[str, typer.Option(help="split:0.7 | kfold:N | spatial:BLOCK_METRES")] = "split:0.7",
    x: Annotated[str | None, typer.Option("--x", help="x coordinate column (spatial CV)")] = None,
    y: Annotated[str | None, typer.Option("--y", help="y coordinate column (spatial CV)")] = None,
    seed: Annotated[int, typer.Option()] = 42,
    save: Annotated[Path | None, typer.Option(help="also fit on all rows and save the model (joblib)")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Validate a model on a table of samples; metrics are computed on held-out rows only."""
    from carbonscope.biomass.from_samples import train_table

    doc = train_table(
        table,
        target,
        [f.strip() for f in features.split(",") if f.strip()],
        model_type=model,
        preset=preset,
        cv=cv,
        x=x,
        y=y,
        seed=seed,
        save=save,
    )
    if json_out:
        print_json(doc)
        return
    console.print(_metrics_table({doc["model"]: {doc["validation"]: doc}}))
    if doc.get("chosen_params"):
        console.print(f"hyperparameters chosen inside each fold: {doc['chosen_params']}")


@app.command()
def predict(
    config: Annotated[Path, typer.Argument(help="run configuration (TOML): layers, grid, AOI, mask")],
    model: Annotated[Path, typer.Option(help="model.joblib of a run")],
    out: Annotated[Path, typer.Option(help="folder for agb.tif and aoa.tif")] = Path("map"),
    scheduler: Annotated[str | None, typer.Option(help="sync | threads | processes | distributed")] = None,
    workers: Annotated[int | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option(help="dask.distributed scheduler address")] = None,
) -> None:
    """Map a trained model over the configuration's area (Cloud-Optimized GeoTIFFs)."""
    from carbonscope.biomass.mapping import map_with_saved_model
    from carbonscope.progress import RichProgress

    cfg = _load(config, None)
    with RichProgress(console=err) as progress:
        result = map_with_saved_model(
            cfg, model, out, scheduler=scheduler, workers=workers, address=address, progress=progress
        )
    console.print(
        f"{result.agb_path} ({result.pixels:,} px in {result.seconds:.1f} s, {result.pixels_per_s:,.0f} px/s, {result.engine})"
    )


@app.command()
def stock(
    agb: Annotated[Path, typer.Argument(help="AGB raster in Mg/ha (a run's agb.tif or any biomass map)")],
    polygons: Annotated[Path | None, typer.Option(help="polygons to total (vector file)")] = None,
    field: Annotated[str | None, typer.Option(help="polygon name field")] = None,
    model: Annotated[
        Path | None, typer.Option(help="the run's model.joblib: its held-out residuals give the intervals")
    ] = None,
    root_shoot: Annotated[str, typer.Option(help="ratio, or ipcc2006:<zone>")] = "0.24",
    carbon_fraction: Annotated[float, typer.Option()] = 0.47,
    price: Annotated[float | None, typer.Option(help="per tCO2e")] = None,
    level: Annotated[float, typer.Option()] = 0.9,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Totals of AGB, BGB, carbon, CO2e (and value) over the map or per polygon, with intervals when residuals are known."""
    from carbonscope.biomass.mapping import stock_of_raster

    rs = float(root_shoot) if root_shoot.replace(".", "", 1).isdigit() else root_shoot
    doc = stock_of_raster(
        agb,
        polygons=polygons,
        field=field,
        model=model,
        root_shoot=rs,
        carbon_fraction=carbon_fraction,
        price=price,
        level=level,
    )
    if json_out:
        print_json(doc)
        return
    t = Table(title="stock")
    for c in ("area", "ha", "AGB Mg", "interval", "CO2e t"):
        t.add_column(c, justify="left" if c == "area" else "right")
    for zone, z in doc.items():
        agb_ = z["agb_mg"]
        t.add_row(
            "whole map" if zone == "__domain__" else zone,
            f"{z['area_ha']:,.0f}",
            f"{agb_['estimate']:,.0f}",
            f"{agb_.get('lower', float('nan')):,.0f} – {agb_.get('upper', float('nan')):,.0f}",
            f"{z['co2e_t']['estimate']:,.0f}",
        )
    console.print(t)


@app.command()
def validate(
    map_path: Annotated[Path, typer.Argument(metavar="MAP", help="biomass map (GeoTIFF, AGB in Mg/ha)")],
    plots: Annotated[Path, typer.Option(help="field plots: CSV with coordinates, or a vector file of points")],
    agb: Annotated[str, typer.Option(help="the plots' AGB column (Mg/ha)")] = "agb",
    x: Annotated[str, typer.Option(help="CSV: the x (easting or longitude) column")] = "x",
    y: Annotated[str, typer.Option(help="CSV: the y (northing or latitude) column")] = "y",
    crs: Annotated[str | None, typer.Option(help="CSV: the CRS of x and y, e.g. EPSG:3067")] = None,
    plot_size: Annotated[
        str, typer.Option(help="each plot's area in m² (a number or a column); 0: the pixel under the plot")
    ] = "0",
    date: Annotated[str | None, typer.Option(help="the column with each plot's measurement year or date")] = None,
    map_year: Annotated[float | None, typer.Option(help="the year the map shows (with --date)")] = None,
    band: Annotated[int, typer.Option(min=1)] = 1,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """How accurate an existing biomass map is at field plots (RMSE, bias, R², by AGB bin)."""
    from carbonscope.biomass.map_validation import validate_map

    doc = validate_map(
        map_path, plots, agb=agb, x=x, y=y, crs=crs, plot_size=plot_size, date=date, map_year=map_year, band=band
    )
    if json_out:
        print_json(doc)
        return
    a = doc["accuracy"]
    console.print(
        f"{doc['used']} of {doc['plots']} plots ({doc['aggregation']}): RMSE {a['rmse']:,.1f} Mg/ha "
        f"({a['rrmse']:.1f}%), bias {a['bias']:+,.1f} Mg/ha, R² {a['r2']:.3f}"
    )
    for reason, n in doc["skipped"].items():
        if n:
            console.print(f"skipped {n} plot(s): {reason.replace('_', ' ')}")
    for note in doc["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)


@app.command()
def gedi(
    paths: Annotated[list[Path], typer.Argument(help="GEDI L4A granules (.h5, or .zip holding them), or folders")],
    min_sensitivity: Annotated[float, typer.Option()] = 0.9,
    out: Annotated[Path | None, typer.Option(help="write the shots (CSV or Parquet)")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Read GEDI L4A footprints: shots per beam, and how many pass the quality filter."""
    from carbonscope.biomass.labels import read_gedi_l4a

    shots = read_gedi_l4a(paths, min_sensitivity)
    summary = (
        shots.groupby(["granule", "beam"]).agg(shots=("agbd", "size"), quality_ok=("quality_ok", "sum")).reset_index()
    )
    if out:
        shots.to_parquet(out, index=False) if out.suffix == ".parquet" else shots.to_csv(out, index=False)
    if json_out:
        print_json(summary.to_dict(orient="records"))
        return
    t = Table(title=f"GEDI L4A: {len(shots)} shots, {int(shots.quality_ok.sum())} pass the quality filter")
    for c in summary.columns:
        t.add_column(c)
    for row in summary.itertuples(index=False):
        t.add_row(*map(str, row))
    console.print(t)
