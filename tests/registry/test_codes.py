"""The one home of registry codes and project IDs."""

from __future__ import annotations

from typing import get_args

import pandas as pd

from carbonscope.queries.filters import Registry
from carbonscope.registry import codes
from carbonscope.registry.exports import EXPORTS, resolve


def test_normal_project_ids():
    assert codes.normalise_id(" vcs 1234 ") == "VCS1234"
    assert codes.normalise_id("GLD5678") == "GS5678"
    assert codes.normalise_id("acr\t123") == "ACR123"
    got = codes.normalise_ids(pd.Series(["gld 1", " car1001", None], dtype="string"))
    assert got.tolist()[:2] == ["GS1", "CAR1001"] and got.isna().tolist() == [False, False, True]


def test_project_id_form():
    assert [codes.is_project_id(p) for p in ("VCS1", "ART101", "XYZ12", "VCS", "VCS12a")] == [
        True,
        True,
        False,
        False,
        False,
    ]


def test_words_name_one_registry():
    assert [codes.lookup(w).code for w in ("verra", "Gold", "gld", "american-carbon-registry", " CAR ", "art")] == [
        "VCS",
        "GS",
        "GS",
        "ACR",
        "CAR",
        "ART",
    ]
    assert codes.lookup("puro") is None
    got = codes.codes_of(pd.Series(["GOLD", "verra", "Puro.earth"], dtype="string"))
    assert got.tolist()[:2] == ["GS", "VCS"] and pd.isna(got.iloc[2])


def test_every_list_of_registries_is_the_one_list():
    assert get_args(Registry) == codes.CODES
    assert sorted(EXPORTS) == sorted(r.source for r in codes.REGISTRIES)
    assert resolve("VCS").name == "Verra" and resolve("gold-standard").automated is False
