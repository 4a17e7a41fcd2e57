"""Reclassification tables: the packaged ones say what their sources say; bad tables are refused."""

import numpy as np
import pytest

from carbonscope.baseline import legend
from carbonscope.errors import InputError


def test_esa_cci_follows_the_product_user_guide():
    lg = legend.load("esa_cci")
    assert lg.categories == legend.IPCC
    expected = {
        "cropland": [10, 11, 12, 20, 30, 40],
        "forest": [50, 60, 61, 62, 70, 71, 72, 80, 81, 82, 90, 100, 160, 170],
        "grassland": [110, 130],
        "wetland": [180],
        "settlement": [190],
        "other": [120, 121, 122, 140, 150, 151, 152, 153, 200, 201, 202, 210, 220],
    }
    got = {}
    for value, cat in lg.codes.items():
        if cat is not None:
            got.setdefault(cat, []).append(value)
    assert {k: sorted(v) for k, v in got.items()} == expected
    assert lg.codes[0] is None  # no data


def test_lookup_table_maps_codes_and_marks_unknown_ones():
    lg = legend.load("worldcover")
    lut = lg.lut(8, False)
    assert lg.categories[lut[10]] == "forest" and lg.categories[lut[95]] == "forest"
    assert lg.categories[lut[40]] == "cropland" and lg.categories[lut[90]] == "wetland"
    assert lut[0] == lg.nodata and lut[11] == lg.unmapped


def test_signed_codes_and_nodata_value():
    lg = legend.load({"-1": "", "0": "non_forest", "1": "forest"})
    lut = lg.lut(8, True, nodata=-128)
    raw = np.array([-1, 0, 1, -128], dtype=np.int8).view(np.uint8)
    assert lut[raw].tolist() == [lg.nodata, lg.categories.index("non_forest"), lg.categories.index("forest"), lg.nodata]


def test_modis_and_forest_mask_tables():
    m = legend.load("modis_igbp")
    assert (
        {m.codes[k] for k in (1, 2, 3, 4, 5, 8)} == {"forest"}
        and m.codes[12] == "cropland"
        and m.codes[13] == "settlement"
    )
    f = legend.load("forest_nonforest")
    assert f.categories == ("forest", "non_forest")


def test_user_table_with_own_choices(tmp_path):
    p = tmp_path / "inventory.csv"
    p.write_text("value,category\n120,grassland\n210,wetland\n50,forest\n")
    lg = legend.load(p)
    assert lg.codes == {120: "grassland", 210: "wetland", 50: "forest"}
    assert lg.categories == legend.IPCC


@pytest.mark.parametrize(
    "text, match",
    [
        ("value,category\n10,forest\n10,cropland\n", "row 3.*class 10 is mapped twice"),
        ("value,cat\n10,forest\n", "needs the columns value, category"),
        ("value,category\nten,forest\n", "row 2.*'value'.*not an integer"),
        ("value,category\n10,Forest Land\n", "row 2.*lower-case name"),
    ],
)
def test_bad_tables_are_refused_with_row_and_column(tmp_path, text, match):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(InputError, match=match):
        legend.load(p)


def test_missing_table_names_the_packaged_ones(tmp_path):
    with pytest.raises(InputError, match="esa_cci, worldcover"):
        legend.load(tmp_path / "nope.csv")
