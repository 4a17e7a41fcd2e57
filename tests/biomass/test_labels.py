"""Labels on the real files: plot volume to AGB by hand, GEDI L4A shots by beam and quality."""

from __future__ import annotations

import numpy as np
import pytest

from carbonscope.biomass.config import LabelConfig
from carbonscope.biomass.labels import bcef, bcef_table, read_gedi_l4a, read_plots
from carbonscope.errors import InputError
from tests.biomass.conftest import GEDI, GEDI_2020, GEDI_2021, PLOTS, copy_plots

SPECIES = {"pine": "pinevol", "spruce": "sprucevol", "hardwood": "decidvol"}


def plot_config(path=PLOTS, **kw):
    base = dict(
        type="plots",
        path=path,
        crs="EPSG:3067",
        x="xcoordinate",
        y="ycoordinate",
        id="sampleplotid",
        kind="volume",
        value="volume",
        species=SPECIES,
        bcef_zone="boreal",
    )
    return LabelConfig(**{**base, **kw})


def test_bcef_classes_of_table_4_5():
    t = bcef_table()
    assert bcef(t, "boreal", "pine", np.array([10, 20, 49.9, 50, 100, 400])).tolist() == [
        1.2,
        0.68,
        0.68,
        0.57,
        0.5,
        0.5,
    ]
    # larch, as Table 4.5 reads (1.22, 0.78, 0.6, 0.57): the two upper classes once held 0.62 and 0.50,
    # the hardwood and pine values of those classes
    assert bcef(t, "boreal", "larch", np.array([10, 30, 75, 150])).tolist() == [1.22, 0.78, 0.6, 0.57]
    with pytest.raises(InputError, match="no BCEF for zone 'tropical'"):
        bcef(t, "tropical", "pine", np.array([1.0]))


def test_plots_volume_to_agb_worked_by_hand():
    labels = read_plots(plot_config(), "EPSG:32635")
    t = labels.table.set_index("id")
    assert len(t) == 178
    # 422768: 327.6 m3/ha (> 100): pine 268.56 x 0.50 + spruce 59.03 x 0.53 + deciduous 0
    assert t.loc["422768", "agb"] == pytest.approx(268.56 * 0.50 + 59.03 * 0.53)
    # 422899: 4.67 m3/ha (< 20): spruce 0.39 x 1.16 + deciduous 4.29 x 0.90
    assert t.loc["422899", "agb"] == pytest.approx(0.39 * 1.16 + 4.29 * 0.90)
    # 483789: 46.21 m3/ha of pine (20-50): x 0.68
    assert t.loc["483789", "agb"] == pytest.approx(46.21 * 0.68)
    # TM35FIN (EPSG:3067) and UTM 35N (EPSG:32635) coincide to well under a millimetre here
    assert t.loc["422768", "x"] == pytest.approx(354393.77, abs=1e-3)
    assert t.loc["422768", "y"] == pytest.approx(6856964.47, abs=1e-3)
    assert "BCEF" in labels.notes[0]


def test_plot_label_with_text_is_refused_naming_row_and_column(tmp_path):
    def edit(lines):
        cells = lines[5].split(",")
        cells[4] = "about 100"
        lines[5] = ",".join(cells)
        return lines

    with pytest.raises(InputError) as e:
        read_plots(plot_config(copy_plots(tmp_path, edit)), "EPSG:32635")
    assert "row 6" in str(e.value) and "'volume'" in str(e.value) and "about 100" in str(e.value)


def test_plot_file_without_the_named_column(tmp_path):
    with pytest.raises(InputError, match="no column 'stemvol'"):
        read_plots(plot_config(value="stemvol"), "EPSG:32635")
    with pytest.raises(InputError, match="labels.crs is needed"):
        read_plots(plot_config(crs=None), "EPSG:32635")


def test_gedi_l4a_shots_per_beam_and_quality():
    shots = read_gedi_l4a(GEDI_2020)
    per_beam = shots.groupby("beam").agg(n=("agbd", "size"), ok=("quality_ok", "sum"))
    assert per_beam.n.to_dict() == {
        "BEAM0000": 34,
        "BEAM0001": 34,
        "BEAM0010": 11,
        "BEAM0011": 10,
        "BEAM0101": 84,
        "BEAM0110": 103,
        "BEAM1000": 73,
        "BEAM1011": 112,
    }
    assert per_beam.ok.to_dict() == {
        "BEAM0000": 10,
        "BEAM0001": 9,
        "BEAM0010": 0,
        "BEAM0011": 0,
        "BEAM0101": 84,
        "BEAM0110": 45,
        "BEAM1000": 71,
        "BEAM1011": 102,
    }
    named = shots.set_index("shot_number")
    assert named.loc[65150000200000001, "agbd"] == pytest.approx(25.264719, abs=1e-5)
    assert named.loc[65150500200000032, "agbd"] == pytest.approx(75.273575, abs=1e-5)
    assert named.loc[65150800200000053, "agbd_se"] == pytest.approx(3.002143, abs=1e-5)
    assert named.loc[65150000200000001, "lat"] == pytest.approx(36.093716, abs=1e-6)
    assert shots.time.min().year == 2020


def test_gedi_degraded_granule_and_folder():
    late = read_gedi_l4a(GEDI_2021)
    assert len(late) == 966 and (late.degrade_flag > 0).all() and not late.quality_ok.any()
    assert late.degrade_flag.value_counts().to_dict() == {4: 685, 74: 184, 34: 97}
    assert late.set_index("shot_number").loc[139480000300000098, "agbd"] == pytest.approx(93.637444, abs=1e-5)
    both = read_gedi_l4a(GEDI)  # a folder: its two L4A zips (the L2A/L2B zips beside them are left out)
    assert len(both) == 461 + 966


def test_gedi_sensitivity_threshold_is_a_setting():
    strict = read_gedi_l4a(GEDI_2020, min_sensitivity=0.96)
    assert strict.quality_ok.sum() == 213  # of the 321 that pass at 0.9
    assert (strict[strict.quality_ok].sensitivity >= 0.96).all()


def test_gedi_reader_refuses_other_files(tmp_path):
    bad = tmp_path / "granule.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(InputError, match="not a readable HDF5"):
        read_gedi_l4a(bad)


def test_gedi_l4b_mean_and_se_files_read_as_one_label_source(tmp_path):
    """An L4B-format pair (1 km EASE-Grid 2.0 cells, _MU and _SE GeoTIFFs, nodata -9999) made from the
    real L4A shots: one label per cell, at its centre, with the cell's mean and standard error."""
    import pandas as pd
    import rasterio
    from pyproj import Transformer
    from rasterio.transform import from_origin

    from carbonscope.biomass.config import LabelConfig
    from carbonscope.biomass.labels import gedi_l4b_labels
    from carbonscope.geo.grid import Grid

    shots = read_gedi_l4a(GEDI_2020)
    shots = shots[shots.agbd != -9999]
    ease = Transformer.from_crs(4326, 6933, always_xy=True)
    x, y = ease.transform(shots.lon.to_numpy(), shots.lat.to_numpy())
    size = 1000.895023  # EASE-Grid 2.0 at 1 km
    left, top = np.floor(x.min() / size) * size, np.ceil(y.max() / size) * size
    col, row = ((x - left) // size).astype(int), ((top - y) // size).astype(int)
    cells = pd.DataFrame({"row": row, "col": col, "agbd": shots.agbd.to_numpy()}).groupby(["row", "col"]).agbd
    mean, se = cells.mean(), cells.std(ddof=1) / np.sqrt(cells.size())
    shape = (row.max() + 1, col.max() + 1)
    prof = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "crs": "EPSG:6933",
        "nodata": -9999,
        "transform": from_origin(left, top, size, size),
        "height": shape[0],
        "width": shape[1],
    }
    for name, values in (("MU", mean), ("SE", se)):
        arr = np.full(shape, -9999, "float32")
        v = values.dropna()
        arr[v.index.get_level_values(0), v.index.get_level_values(1)] = v.to_numpy()
        with rasterio.open(tmp_path / f"GEDI04_B_MW019MW223_02_002_02_R01000M_{name}.tif", "w", **prof) as dst:
            dst.write(arr, 1)
    grid = Grid.from_bounds("EPSG:6933", 25.0, (left, top - shape[0] * size, left + shape[1] * size, top))
    cfg = LabelConfig(type="gedi_l4b", path=tmp_path / "GEDI04_B_MW019MW223_02_002_02_R01000M_MU.tif")
    labels = gedi_l4b_labels(cfg, grid)
    both = se.dropna()  # cells of one shot have no standard error: not labels
    assert len(labels.table) == len(both) and labels.dropped["no mean or standard error (nodata)"] > 0
    t = labels.table.set_index("id")
    for (r, c), s in both.items():
        got = t.loc[f"l4b_{r}_{c}"]
        assert got.agb == pytest.approx(mean[(r, c)], rel=1e-6) and got.agb_se == pytest.approx(s, rel=1e-6)
        assert got.x == pytest.approx(left + (c + 0.5) * size) and got.y == pytest.approx(top - (r + 0.5) * size)
    assert labels.table.radius.iloc[0] == pytest.approx(size / np.sqrt(np.pi))
    assert any("change of support" in n for n in labels.notes)
    (tmp_path / "GEDI04_B_MW019MW223_02_002_02_R01000M_SE.tif").unlink()
    with pytest.raises(InputError, match="no standard-error raster"):
        gedi_l4b_labels(cfg, grid)
