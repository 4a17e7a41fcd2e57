"""The one JSON coercion and writer."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonscope.jsonsafe import dumps, json_safe, write_json


def test_every_kind_of_value():
    doc = {
        1: np.float32(0.5),
        "nan": float("nan"),
        "inf": np.float64("inf"),
        "na": pd.NA,
        "nat": pd.NaT,
        "day": date(2026, 1, 2),
        "time": pd.Timestamp("2026-01-02 03:04:05"),
        "dt": datetime(2026, 1, 2, 3, 4),
        "arr": np.array([1, 2]),
        "flag": np.bool_(True),
        "sum": Decimal("12"),
        "share": Decimal("0.25"),
        "path": Path("a/b"),
        "nested": [(np.int64(3), None)],
    }
    assert json_safe(doc) == {
        "1": 0.5,
        "nan": None,
        "inf": None,
        "na": None,
        "nat": None,
        "day": "2026-01-02",
        "time": "2026-01-02T03:04:05",
        "dt": "2026-01-02T03:04:00",
        "arr": [1, 2],
        "flag": True,
        "sum": 12,
        "share": 0.25,
        "path": "a/b",
        "nested": [[3, None]],
    }


def test_the_writer_is_strict_and_atomic(tmp_path):
    out = tmp_path / "r" / "results.json"
    write_json(out, {"x": float("nan")})
    assert json.loads(out.read_text()) == {"x": None}
    with pytest.raises(TypeError):
        write_json(out, {"x": object()})
    assert json.loads(out.read_text()) == {"x": None}  # the failed write left the old file
    assert [p.name for p in out.parent.iterdir()] == ["results.json"]
    assert dumps([1.5], indent=None) == "[1.5]"
