"""Analyses as background jobs, end to end on real data, on each queue back end: the API, a real
worker process, the engines' numbers, cancel, retry, a killed worker, a failing layer, limits and
who may see what."""

from __future__ import annotations

import json
import time

import geopandas as gpd
import numpy as np
import pytest
from typer.testing import CliRunner

from carbonscope.cli import app as cli
from tests.analyses.conftest import JUU, MTQ, PARAMS
from tests.analyses.conftest import square as _square


def _proposal_with_boundary(lab, tmp_path) -> int:
    """Ana proposes the Martinique project with its polygon (the real GeoPackage, UTM 20N)."""
    c, h = lab.client, lab.auth("ana")
    r = c.post(
        "/api/v1/proposals",
        headers=h,
        json={"name": "Caravelle forest", "country": "MQ", "project_type": "REDD+", "expected_annual": 2000},
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    with open(MTQ / "project_borders_MTQ_jurisdiction.gpkg", "rb") as fh:
        r = c.put(f"/api/v1/proposals/{pid}/boundary", headers=h, files={"file": ("site.gpkg", fh)})
    assert r.status_code == 200, r.text
    return pid


def _hand_toml(tmp_path, boundary: dict) -> str:
    """What a person writes for `carbonscope baseline run` on the same inputs."""
    site = tmp_path / "site.geojson"
    site.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": boundary}))
    return f"""
name = "Martinique by hand"
output = "{tmp_path / "cli-run"}"
[landcover]
type = "forest_mask"
path = "{MTQ / "forest-MTQ-2000-2010-2020.tif"}"
dates = ["2000", "2010", "2020"]
[[zones]]
name = "reference"
path = "{MTQ / "aoi-MTQ-latlon.gpkg"}"
layer = "aoi"
[[zones]]
name = "project"
path = "{site}"
[carbon]
defaults = {{ forest = 220.0, non_forest = 0.0 }}
defaults_rel_se = {{ forest = 0.10 }}
root_shoot = "ipcc2006:tropical_moist_deciduous"
[baseline]
series = "forest_carbon"
zone = "reference"
[allocation]
project = "project"
method = "both"
use = "risk_map"
risk_bins = 5
[crediting]
start = 2021
years = 10
effectiveness_percent = 50
leakage_percent = 10
buffer_percent = 15
price = 12.0
discount_rate_percent = 5
[uncertainty]
draws = 10000
seed = 42
area_rel_se = 0.15
"""


def test_redd_baseline_on_a_proposal_through_the_api_equals_the_cli_run(lab, tmp_path):
    pid = _proposal_with_boundary(lab, tmp_path)
    body = {
        "recipe": "redd-baseline",
        "proposal": pid,
        "layers": {"forest": "martinique-forest", "jurisdiction": "martinique-jurisdiction"},
        "params": PARAMS,
    }
    r = lab.client.post("/api/v1/analyses", headers=lab.auth("ana"), json=body)
    assert r.status_code == 202, r.text
    queued = r.json()
    assert queued["status"] == "queued" and queued["url"] == f"/api/v1/analyses/{queued['id']}"
    doc = lab.wait(queued["id"])
    assert doc["status"] == "succeeded", doc["error"]
    assert doc["progress"] == {"fraction": 1.0, "step": "done"}
    res = doc["results"]

    geometry = lab.client.get(f"/api/v1/proposals/{pid}").json()["boundary"]
    toml = tmp_path / "by-hand.toml"
    toml.write_text(_hand_toml(tmp_path, geometry))
    out = CliRunner().invoke(cli, ["baseline", "run", str(toml), "--json"])
    assert out.exit_code == 0, out.output
    cli_res = json.loads(out.stdout[out.stdout.index("{") :])

    # inside the boundary, and the reference region under "reference"
    assert res["areas_ha"] == cli_res["zones"]["project"]["areas_ha"]
    assert res["deforestation_ha"] == cli_res["zones"]["project"]["deforestation_ha"]
    assert res["reference"]["deforestation_ha"] == cli_res["zones"]["reference"]["deforestation_ha"]
    assert res["baseline"] == cli_res["baseline"] and res["baseline_choice"] == cli_res["baseline_choice"]
    assert res["allocation"] == cli_res["allocation"]
    assert res["crediting"]["totals"] == cli_res["crediting"]["totals"]
    assert res["crediting"]["intervals"] == cli_res["crediting"]["intervals"]
    # and the engine's own numbers on this real polygon: 2,231.91 ha of forest in 2000
    assert res["areas_ha"]["2000"]["forest"] == pytest.approx(2231.91)
    assert res["parameters"]["agb_t_ha"] == {"value": 220.0, "given": True}
    assert res["parameters"]["leakage_percent"] == {"value": 10.0, "given": False}
    names = {f["name"] for f in doc["files"]}
    assert {"results.json", "areas.gpkg", "baseline/report.html", "baseline/tables/areas.csv"} <= names
    gpkg = lab.client.get(f"/api/v1/analyses/{doc['id']}/files/areas.gpkg", headers=lab.auth("ana"))
    assert gpkg.status_code == 200 and gpkg.content.startswith(b"SQLite format 3")

    # Published, the proposal's page shows it as a card
    r = lab.client.get(f"/proposals/{pid}")
    assert "analysis-card" not in r.text
    with lab.engine.begin() as tx:
        from carbonscope.analyses import store

        store.publish(tx, doc["id"], lab.users["ana"], True)
    page = lab.client.get(f"/proposals/{pid}").text
    assert 'id="analysis-card"' in page
    per_year = res["crediting"]["totals"]["creditable_tco2e"] / 10
    assert f"{per_year:,.0f} t CO2e" in page


def test_forest_carbon_inside_juupajoki_equals_the_biomass_run(lab, tmp_path):
    import rasterio
    from pyproj import Transformer
    from shapely.geometry import box, mapping
    from shapely.ops import transform

    with rasterio.open(JUU / "PALSAR-2_HH_Juupajoki.tif") as src:
        left, bottom, right, top = src.bounds
        crs = src.crs
    cx, cy = (left + right) / 2, (bottom + top) / 2
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True).transform
    area = mapping(transform(to_ll, box(cx - 6000, cy - 6000, cx + 6000, cy + 6000)))
    layers = {
        "hh": "juupajoki-hh",
        "hv": "juupajoki-hv",
        "landcover": "juupajoki-landcover",
        "plots": "juupajoki-plots",
    }
    params = {"root_shoot": "ipcc2006:boreal", "price": 25, "texture": True}
    r = lab.client.post(
        "/api/v1/analyses",
        headers=lab.auth("ana"),
        json={"recipe": "forest-carbon", "boundary": area, "layers": layers, "params": params},
    )
    assert r.status_code == 202, r.text
    doc = lab.wait(r.json()["id"])
    assert doc["status"] == "succeeded", doc["error"]
    stock = doc["results"]["stock"]

    # `carbonscope biomass run` on the shipped example with the same boundary as its area of interest
    site = tmp_path / "area.geojson"
    site.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": area}))
    from tests.conftest import ROOT

    text = (ROOT / "examples" / "juupajoki.toml").read_text()
    text = text.replace('"../../shared/data', f'"{JUU.parents[1]}').replace(
        '"../runs/juupajoki"', f'"{tmp_path / "cli"}"'
    )
    text = text.replace("[grid]", f'[aoi]\npath = "{site}"\n\n[grid]')
    cfg = tmp_path / "juupajoki.toml"
    cfg.write_text(text)
    out = CliRunner().invoke(cli, ["biomass", "run", str(cfg)])
    assert out.exit_code == 0, out.output
    cli_stock = json.loads((tmp_path / "cli" / "stock.json").read_text())["__domain__"]["inside_aoa"]
    for key, mine in (("agb_mg", "agb_t"), ("co2e_t", "tco2e"), ("carbon_t", "carbon_tc")):
        for end in ("estimate", "lower", "upper"):
            # the engines pick the fastest predictor (scikit-learn, ONNX in float32, treelite) by timing it,
            # and they agree within 5e-7 of each other: the two runs may use different ones
            assert stock[mine][end] == pytest.approx(cli_stock[key][end], rel=1e-6), (key, end)
    assert stock["area_ha"] == pytest.approx(cli_stock["area_ha"])

    # the map as tiles: a tile over the area holds coloured pixels; private to Ana
    import io

    import morecantile
    from PIL import Image

    lon, lat = to_ll(cx, cy)
    t = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 12)
    url = f"/analyses/{doc['id']}/tiles/agb/{t.z}/{t.x}/{t.y}.png"
    lab.client.cookies.clear()
    assert lab.client.get(url).status_code == 404  # anonymous: a private analysis is not found
    from tests.conftest import password_of

    lab.client.post(
        "/account/login",
        data={"email": "ana@example.org", "password": password_of("Ana"), "csrf_token": _csrf(lab.client)},
    )
    tile = lab.client.get(url)
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    px = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGBA"))
    assert (px[..., 3] > 0).mean() > 0.5  # most of the tile is mapped forest
    assert len({tuple(p) for p in px[px[..., 3] > 0][:, :3][::97]}) > 10  # a colour ramp, not one flat colour
    page = lab.client.get(f"/analyses/{doc['id']}").text
    assert "Carbon stock" in page and "t CO2e" in page and "change of support" in page
    lab.client.cookies.clear()

    # a biomass map as the labels instead of plots: this run's own map, uploaded
    agb = lab.client.get(f"/api/v1/analyses/{doc['id']}/files/biomass/agb.tif", headers=lab.auth("ana")).content
    req = {"recipe": "forest-carbon", "boundary": area, "layers": {"hh": "juupajoki-hh", "hv": "juupajoki-hv"}}
    r = lab.client.post(
        "/api/v1/analyses",
        headers=lab.auth("ana"),
        data={"request": json.dumps({**req, "params": {"root_shoot": "ipcc2006:boreal"}})},
        files={"layer.agb": ("map.tif", agb)},
    )
    assert r.status_code == 202, r.text
    from_map = lab.wait(r.json()["id"])
    assert from_map["status"] == "succeeded", from_map["error"]
    assert from_map["results"]["validation"]["n_samples"] > 100
    assert from_map["results"]["engine_config"]["labels"]["type"] == "raster"


def _csrf(client) -> str:
    import re

    page = client.get("/account/login").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _slow(lab, who="ana") -> str:
    """A forest-carbon job over all of Juupajoki: long enough to act on while it runs."""
    body = {
        "recipe": "forest-carbon",
        "boundary": json.loads(gpd.GeoSeries.from_xy([0], [0]).to_json())["features"][0]["geometry"],
        "layers": {"hh": "juupajoki-hh", "hv": "juupajoki-hv", "plots": "juupajoki-plots"},
        "params": {"texture": True, "root_shoot": "ipcc2006:boreal"},
    }
    import rasterio
    from rasterio.warp import transform_bounds
    from shapely.geometry import box, mapping

    with rasterio.open(JUU / "PALSAR-2_HH_Juupajoki.tif") as src:
        body["boundary"] = mapping(box(*transform_bounds(src.crs, 4326, *src.bounds)))
    r = lab.client.post("/api/v1/analyses", headers=lab.auth(who), json=body)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def _until_running(lab, aid: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        doc = lab.client.get(f"/api/v1/analyses/{aid}", headers=lab.auth("ana")).json()
        if doc["status"] == "running" and doc["progress"]["step"] not in ("starting", None):
            return
        assert doc["status"] in ("queued", "running"), doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.1)


def test_cancel_a_running_job_then_retry_it(lab):
    aid = _slow(lab)
    _until_running(lab, aid)
    # the web stays responsive while the worker maps
    assert lab.client.get("/api/v1/projects", params={"limit": 5}).status_code == 200
    r = lab.client.delete(f"/api/v1/analyses/{aid}", headers=lab.auth("ben"))
    assert r.status_code == 404  # not Ben's, and private: not even found
    r = lab.client.delete(f"/api/v1/analyses/{aid}", headers=lab.auth("ana"))
    assert r.status_code == 200, r.text
    doc = lab.wait(aid)
    assert doc["status"] == "cancelled" and "cancelled" in doc["error"]
    r = lab.client.delete(f"/api/v1/analyses/{aid}", headers=lab.auth("ana"))
    assert r.status_code == 422 and "nothing to cancel" in r.text
    r = lab.client.post(f"/api/v1/analyses/{aid}/retry", headers=lab.auth("ana"))
    assert r.status_code == 200 and r.json()["status"] == "queued"
    doc = lab.wait(aid)
    assert doc["status"] == "succeeded", doc["error"]
    assert doc["results"]["stock"]["tco2e"]["estimate"] > 0


def test_a_worker_killed_mid_job_leaves_it_failed_with_the_reason(lab):
    aid = _slow(lab)
    _until_running(lab, aid)
    lab.kill_worker()  # SIGKILL: no chance to say goodbye
    try:
        doc = lab.wait(aid, timeout=60)
        assert doc["status"] == "failed"
        assert "stopped: no sign of life since" in doc["error"] and "Retry" in doc["error"]
    finally:
        lab.start_worker()
    # a new worker takes new jobs (and never the dead one's again)
    r = lab.client.post(f"/api/v1/analyses/{aid}/retry", headers=lab.auth("ana"))
    assert r.status_code == 200
    assert lab.wait(aid)["status"] == "succeeded"


def test_a_layer_that_cannot_be_read_fails_the_job_with_a_message_naming_it(lab):
    r = lab.baseline({"forest": "broken-forest"}, who="ana")
    assert r.status_code == 202, r.text
    doc = lab.wait(r.json()["id"])
    assert doc["status"] == "failed" and "BROKEN" in doc["error"], doc["error"]
    assert doc["results"] is None and "failed" in doc["progress"]["step"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"layers": {}}, "layers.forest", "is required"),
        ({"layers": {"forest": "/etc/passwd"}}, "layers.forest", "CARBONSCOPE_DATA_FOLDERS"),
        ({"layers": {"forest": "martinique-jurisdiction"}}, "layers.forest", "serves jurisdiction, not forest"),
        ({"layers": {"forest": "martinique-forest", "hh": "juupajoki-hh"}}, "layers.hh", "takes no 'hh' layer"),
        ({"params": {"agb_t_ha": -3}}, "params.agb_t_ha", "greater than 0"),
        ({"params": {"nonsense": 1}}, "params.nonsense", "Extra inputs"),
        ({"recipe": "magic"}, "recipe", "unknown recipe"),
        ({"boundary": None}, "boundary", "draw or upload"),
        ({"boundary": _square(d=40)}, "boundary", "CARBONSCOPE_ANALYSIS_MAX_AREA_HA"),
        ({"boundary": _square(lon=20, lat=60)}, "boundary", "does not overlap"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_queued(lab, body, field, words):
    req = {
        "recipe": "redd-baseline",
        "boundary": _square(),
        "layers": {"forest": "martinique-forest"},
        "params": PARAMS,
    }
    req.update(body)
    if "params" in body:
        req["params"] = {**PARAMS, **body["params"]}
    from carbonscope.analyses import store

    with lab.engine.connect() as conn:
        before = len(store.list_for(conn, lab.users["ana"]))
    r = lab.client.post("/api/v1/analyses", headers=lab.auth("ana"), json=req)
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == field and words in err["message"]
    with lab.engine.connect() as conn:
        assert len(store.list_for(conn, lab.users["ana"])) == before


def test_limits_refuse_what_would_exhaust_the_machine(lab):
    from carbonscope.analyses import store

    with lab.engine.begin() as tx:  # Ben already has as many analyses waiting as he may
        for _ in range(lab.settings.analysis_max_active_per_user):
            store.create(tx, lab.users["ben"]["id"], "redd-baseline", "1.0", {"boundary": _square()}, 1.0)
    r = lab.baseline({"forest": "martinique-forest"}, who="ben")
    assert r.status_code == 429 and "CARBONSCOPE_ANALYSIS_MAX_ACTIVE_PER_USER" in r.json()["detail"]
    assert r.headers.get("retry-after")


def test_private_analyses_and_their_files_are_the_owners_alone(lab):
    r = lab.baseline({"forest": "martinique-forest"}, who="ana")
    aid = r.json()["id"]
    assert lab.wait(aid)["status"] == "succeeded"
    for who in ("ben", None):
        h = lab.auth(who) if who else {}
        assert lab.client.get(f"/api/v1/analyses/{aid}", headers=h).status_code == 404
        assert lab.client.get(f"/api/v1/analyses/{aid}/files/results.json", headers=h).status_code == 404
        assert lab.client.get(f"/analyses/{aid}", headers=h).status_code == 404
    assert lab.client.get(f"/api/v1/analyses/{aid}", headers=lab.auth("root")).status_code == 200  # admins see all
    assert lab.client.get(f"/api/v1/analyses/{aid}/files/../../secret_key", headers=lab.auth("ana")).status_code == 404
    ids = [j["id"] for j in lab.client.get("/api/v1/analyses", headers=lab.auth("ben")).json()["items"]]
    assert aid not in ids
    from carbonscope.analyses import store

    with lab.engine.begin() as tx:
        store.publish(tx, aid, lab.users["ana"], True)
    assert lab.client.get(f"/api/v1/analyses/{aid}", headers=lab.auth("ben")).status_code == 200
    assert lab.client.delete(f"/api/v1/analyses/{aid}", headers=lab.auth("ben")).status_code == 403


def test_project_estimate_without_plots_uses_the_given_biomass_as_a_labelled_fallback(lab):
    body = {
        "recipe": "project-estimate",
        "boundary": _square(),
        "layers": {"forest": "martinique-forest", "jurisdiction": "martinique-jurisdiction"},
        "params": PARAMS,
    }
    est = lab.wait(lab.client.post("/api/v1/analyses", headers=lab.auth("ana"), json=body).json()["id"])
    base = lab.wait(
        lab.client.post("/api/v1/analyses", headers=lab.auth("ana"), json={**body, "recipe": "redd-baseline"}).json()[
            "id"
        ]
    )
    assert est["status"] == base["status"] == "succeeded", (est["error"], base["error"])
    assert est["results"]["crediting"]["totals"] == base["results"]["crediting"]["totals"]
    density = est["results"]["carbon_density"]
    assert density["source"].startswith("value given (fallback") and density["agb_t_ha"] == 220
    # plots without a satellite layer to map from: refused, naming what is missing
    r = lab.client.post(
        "/api/v1/analyses",
        headers=lab.auth("ana"),
        json={**body, "layers": {**body["layers"], "plots": "juupajoki-plots"}},
    )
    assert r.status_code == 422 and "satellite layer" in r.json()["errors"][0]["message"]


def test_the_api_answers_what_its_models_say(lab):
    from carbonscope.web.api import models

    h = lab.auth("ana")
    models.DataSources.model_validate(lab.client.get("/api/v1/analyses/sources").json())
    body = {
        "recipe": "redd-baseline",
        "boundary": _square(),
        "layers": {"forest": "martinique-forest"},
        "params": PARAMS,
    }
    plan = lab.client.post("/api/v1/analyses/plan", headers=h, json=body)
    assert plan.status_code == 200, plan.text
    models.AnalysisPlan.model_validate(plan.json())
    assert plan.json()["pixels"]["forest"] > 0
    queued = lab.client.post("/api/v1/analyses", headers=h, json=body).json()
    models.AnalysisQueued.model_validate(queued)
    models.Analysis.model_validate(lab.client.get(f"/api/v1/analyses/{queued['id']}", headers=h).json())
    models.Analysis.model_validate(lab.wait(queued["id"]))
    models.AnalysisList.model_validate(lab.client.get("/api/v1/analyses", headers=h).json())
    r = lab.client.patch(f"/api/v1/analyses/{queued['id']}", headers=h, json={"public": True})
    assert r.status_code == 200 and r.json()["public"] is True
    models.Analysis.model_validate(r.json())


def test_the_cli_runs_the_same_recipe_in_the_foreground_and_makes_tokens(lab, tmp_path, monkeypatch):
    for k, v in lab.env.items():
        if k.startswith("CARBONSCOPE_"):
            monkeypatch.setenv(k, v)
    from carbonscope.settings import get_settings

    get_settings.cache_clear()
    out = CliRunner().invoke(cli, ["users", "token", "ben@example.org", "--name", "cli"])
    assert out.exit_code == 0, out.output
    token = out.stdout.strip()
    assert (
        token.startswith("cst_")
        and lab.client.get("/api/v1/analyses", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )

    site = tmp_path / "site.geojson"
    site.write_text(json.dumps(_square()))
    args = ["analyse", "redd-baseline", "--boundary", str(site), "--layer", "forest=martinique-forest"]
    args += [a for k, v in PARAMS.items() for a in ("--param", f"{k}={v}")]
    out = CliRunner().invoke(cli, [*args, "--output", str(tmp_path / "run"), "--json"])
    assert out.exit_code == 0, out.output
    cli_res = json.loads(out.stdout[out.stdout.index("{") :])
    r = lab.baseline({"forest": "martinique-forest"}, who="ana")
    api = lab.wait(r.json()["id"])["results"]
    assert cli_res["crediting"]["totals"] == api["crediting"]["totals"]
    assert cli_res["areas_ha"] == api["areas_ha"]
    assert (tmp_path / "run" / "results.json").exists() and not (tmp_path / "run.partial").exists()
    bad = CliRunner().invoke(cli, [*args[:-2], "--layer", "forest", "--json"])
    assert bad.exit_code == 2 and "ROLE=VALUE" in bad.output.replace("LAYER=VALUE", "ROLE=VALUE")


def test_a_zipped_shapefile_is_a_boundary_too(lab, tmp_path):
    import zipfile

    shp = tmp_path / "shp"
    shp.mkdir()
    gpd.read_file(MTQ / "project_borders_MTQ_jurisdiction.gpkg").to_file(shp / "site.shp")
    with zipfile.ZipFile(tmp_path / "site.zip", "w") as z:
        for f in shp.iterdir():
            z.write(f, f.name)
    req = {"recipe": "redd-baseline", "layers": {"forest": "martinique-forest"}, "params": PARAMS}
    with open(tmp_path / "site.zip", "rb") as fh:
        r = lab.client.post(
            "/api/v1/analyses/plan",
            headers=lab.auth("ana"),
            data={"request": json.dumps(req)},
            files={"boundary": ("site.zip", fh)},
        )
    assert r.status_code == 200, r.text
    g = gpd.read_file(MTQ / "project_borders_MTQ_jurisdiction.gpkg").to_crs("+proj=cea")
    assert r.json()["area_ha"] == pytest.approx(g.area.sum() / 1e4, rel=1e-3)


def test_layers_and_the_boundary_can_be_uploaded_as_files(lab, tmp_path):
    """Multipart: the boundary as a GeoPackage and the forest map as a file of one's own."""
    req = {"recipe": "redd-baseline", "layers": {}, "params": {**PARAMS, "dates": "2000,2010,2020"}}
    with (
        open(MTQ / "project_borders_MTQ_jurisdiction.gpkg", "rb") as b,
        open(MTQ / "forest-MTQ-2000-2010-2020.tif", "rb") as f,
    ):
        r = lab.client.post(
            "/api/v1/analyses",
            headers=lab.auth("ana"),
            data={"request": json.dumps(req)},
            files={"boundary": ("site.gpkg", b), "layer.forest": ("my-forest.tif", f)},
        )
    assert r.status_code == 202, r.text
    doc = lab.wait(r.json()["id"])
    assert doc["status"] == "succeeded", doc["error"]
    assert doc["results"]["areas_ha"]["2000"]["forest"] == pytest.approx(2231.91)
    assert doc["results"]["layers"]["forest"]["title"] == "forest.tif"  # the job's copy of the upload


def test_metrics_count_the_jobs_that_ran_by_recipe_and_outcome(lab):
    """/metrics reads jobs from their rows: the same answer whichever process ran them."""
    import re

    from sqlalchemy import func, select

    from carbonscope.db.schema import analyses

    with lab.engine.connect() as conn:
        counts = {
            (r, s): n
            for r, s, n in conn.execute(
                select(analyses.c.recipe, analyses.c.status, func.count())
                .where(analyses.c.status.in_(["succeeded", "failed", "cancelled"]))
                .group_by(analyses.c.recipe, analyses.c.status)
            )
        }
    assert counts  # the tests above ran jobs to their end
    text = lab.client.get("/metrics").text
    for (recipe, status), n in counts.items():
        assert f'carbonscope_analysis_jobs_total{{outcome="{status}",recipe="{recipe}"}} {float(n)}' in text
    durations = re.findall(r'carbonscope_analysis_job_duration_seconds_count\{recipe="([^"]+)"\} (\S+)', text)
    assert durations and all(float(n) >= 1 for _, n in durations)
