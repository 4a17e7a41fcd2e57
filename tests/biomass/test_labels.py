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
