"""Features: values worked out by hand, nodata kept as NaN, feature sets named in the config."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbonscope.biomass.config import FeatureConfig, LayerConfig
from carbonscope.biomass.features import build, glcm, terrain
from carbonscope.errors import InputError


def layers(*specs):
    return [LayerConfig(name=n, path="x.tif", **kw) for n, kw in specs]


def test_palsar_dn_to_db_by_the_jaxa_calibration():
    spec = build(layers(("hh", {"role": "hh"}), ("hv", {"role": "hv"})), FeatureConfig(sets=["sar"]))
    assert spec.names == ("hh_db", "hv_db", "hh_hv_diff", "hh_hv_ratio")
    a = {"hh": np.array([[1000.0, 10000.0]]), "hv": np.array([[100.0, np.nan]])}
    f = spec.compute(a, 25.0)
    # 10 log10(1000^2) - 83 = 60 - 83 = -23 dB; 10 log10(10000^2) - 83 = -3 dB; 10 log10(100^2) - 83 = -43 dB
    assert f["hh_db"][0].tolist() == pytest.approx([-23.0, -3.0])
    assert f["hv_db"][0, 0] == pytest.approx(-43.0)
    assert f["hh_hv_diff"][0, 0] == pytest.approx(20.0)
    assert f["hh_hv_ratio"][0, 0] == pytest.approx(-23.0 / -43.0)
    assert np.isnan(f["hv_db"][0, 1]) and np.isnan(f["hh_hv_diff"][0, 1])  # nodata stays NaN, never a number


def test_sentinel1_linear_power_to_db():
    spec = build(layers(("vv", {"role": "vv"}), ("vh", {"role": "vh"})), FeatureConfig(sets=["sar"]))
    f = spec.compute({"vv": np.array([[0.1]]), "vh": np.array([[0.01]])}, 10.0)
    assert f["vv_db"][0, 0] == pytest.approx(-10.0)
    assert f["vh_db"][0, 0] == pytest.approx(-20.0)
    assert f["vv_vh_diff"][0, 0] == pytest.approx(10.0)


def test_optical_indices_by_hand():
    ls = layers(*[(b, {"role": b}) for b in ("blue", "green", "red", "nir", "swir1", "swir2", "rededge1")])
    spec = build(ls, FeatureConfig(sets=["optical", "indices"]))
    assert set(spec.names) >= {"ndvi", "evi", "ndwi", "ndmi", "savi", "nbr", "ndre"}
    o = {"blue": 0.04, "green": 0.06, "red": 0.05, "nir": 0.30, "swir1": 0.15, "swir2": 0.08, "rededge1": 0.10}
    f = spec.compute({k: np.array([[v]]) for k, v in o.items()}, 10.0)
    assert f["ndvi"][0, 0] == pytest.approx(0.25 / 0.35)
    assert f["evi"][0, 0] == pytest.approx(2.5 * 0.25 / (0.30 + 0.30 - 0.30 + 1))  # nir + 6 red - 7.5 blue + 1
    assert f["ndwi"][0, 0] == pytest.approx(-0.24 / 0.36)
    assert f["savi"][0, 0] == pytest.approx(1.5 * 0.25 / 0.85)
    assert f["nbr"][0, 0] == pytest.approx(0.22 / 0.38)
    assert f["ndre"][0, 0] == pytest.approx(0.20 / 0.40)


def test_terrain_on_planes():
    res = 10.0
    rows, cols = np.mgrid[0:5, 0:5].astype(float)
    east_rising = cols * res * 0.5  # rises 0.5 m per m eastwards: faces west
    t = terrain(east_rising, res)
    assert t["slope"][2, 2] == pytest.approx(math.degrees(math.atan(0.5)), rel=1e-6)
    assert t["eastness"][2, 2] == pytest.approx(-1.0)
    assert abs(t["northness"][2, 2]) < 1e-9
    north_rising = (4 - rows) * res  # rows run south, so this rises northwards: faces south
    t = terrain(north_rising, res)
    assert t["slope"][2, 2] == pytest.approx(45.0)
    assert t["northness"][2, 2] == pytest.approx(-1.0)
    flat = terrain(np.zeros((3, 3)), res)
    assert flat["northness"][1, 1] == 0 and flat["eastness"][1, 1] == 0


def test_glcm_of_a_checkerboard():
    # grey levels alternate 0 and 31 (32 levels over -35..5 dB): every horizontal and vertical pair differs by 31
    board = np.where(np.indices((9, 9)).sum(0) % 2 == 0, -35.0, 4.99).astype("float32")
    g = glcm(board, -35.0, 5.0)
    assert g["contrast"][4, 4] == pytest.approx(31**2)
    assert g["dissimilarity"][4, 4] == pytest.approx(31)
    assert g["homogeneity"][4, 4] == pytest.approx(1 / (1 + 31**2))
    uniform = glcm(np.full((9, 9), -10.0, dtype="float32"), -35.0, 5.0)
    assert uniform["contrast"][4, 4] == 0 and uniform["homogeneity"][4, 4] == pytest.approx(1.0)
    holed = board.copy()
    holed[4, 4] = np.nan
    assert glcm(holed, -35.0, 5.0)["contrast"][4, 6] == pytest.approx(31**2)  # pairs with the missing pixel left out
    assert np.isnan(glcm(np.full((9, 9), np.nan, dtype="float32"), -35.0, 5.0)["contrast"][4, 4])
    assert glcm(board, -35.0, 5.0)["contrast"][0, 0] == pytest.approx(31**2)  # at a corner, from the pairs on the array


def test_feature_sets_from_config():
    ls = layers(
        ("hh", {"role": "hh"}),
        ("hv", {"role": "hv"}),
        ("lc", {"role": "landcover", "kind": "categorical", "classes": [1, 2, 3]}),
        ("dem", {"role": "elevation"}),
    )
    spec = build(ls, FeatureConfig(sets=["auto"], exclude=["hh_hv_ratio"]))
    assert spec.names == (
        "hh_db",
        "hv_db",
        "hh_hv_diff",
        "elevation",
        "slope",
        "northness",
        "eastness",
        "lc_1",
        "lc_2",
        "lc_3",
    )
    assert spec.halo == 1
    tex = build(ls, FeatureConfig(sets=["sar"], texture=True))
    assert "hv_db_contrast" in tex.names and tex.halo == 4
    lc = spec.compute(
        {"hh": np.ones((1, 3)), "hv": np.ones((1, 3)), "lc": np.array([[1.0, 3.0, np.nan]]), "dem": np.zeros((1, 3))},
        25.0,
    )
    assert lc["lc_1"][0, :2].tolist() == [1.0, 0.0] and lc["lc_3"][0, 1] == 1.0 and np.isnan(lc["lc_1"][0, 2])


@pytest.mark.parametrize(
    "cfg, message",
    [
        (FeatureConfig(sets=["radar"]), "unknown set"),
        (FeatureConfig(sets=["sar"], include=["ndvi"]), "cannot be computed"),
    ],
)
def test_bad_feature_config(cfg, message):
    with pytest.raises(InputError, match=message):
        build(layers(("hh", {"role": "hh"})), cfg)


def test_categorical_layer_needs_its_classes():
    with pytest.raises(InputError, match="list its classes"):
        build(layers(("lc", {"role": "landcover", "kind": "categorical"})), FeatureConfig())


def test_the_coastal_band_is_an_optical_feature_and_a_stac_asset():
    from carbonscope.biomass.stac import _asset_for

    ls = layers(*[(b, {"role": b}) for b in ("coastal", "blue", "red", "nir")])
    spec = build(ls, FeatureConfig(sets=["optical"]))
    assert spec.names[:4] == ("coastal", "blue", "red", "nir")
    f = spec.compute(
        {
            "coastal": np.array([[0.03]]),
            "blue": np.array([[0.04]]),
            "red": np.array([[0.05]]),
            "nir": np.array([[0.3]]),
        },
        30.0,
    )
    assert f["coastal"][0, 0] == pytest.approx(0.03)
    landsat = LayerConfig(name="b1", role="coastal", stac={"product": "landsat-c2-l2"})
    assert _asset_for(landsat, "landsat-c2-l2", {"coastal", "blue", "qa_pixel"}) == "coastal"
    assert _asset_for(landsat, "landsat-c2-l2", {"SR_B1", "SR_B2"}) == "SR_B1"
    s2 = LayerConfig(name="b01", role="coastal", stac={"product": "sentinel-2-l2a"})
    assert _asset_for(s2, "sentinel-2-l2a", {"B01", "B02", "SCL"}) == "B01"
