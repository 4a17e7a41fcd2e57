"""Values made fit for strict JSON, in one place: NaN, infinity and missing values (None, pandas
NA/NaT) become null; numpy scalars and arrays plain numbers and lists; dates and times ISO 8601
text; paths text. :func:`write_json` is the one writer of JSON files (strict, written atomically)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def json_safe(o: Any) -> Any:
    """``o`` with every value JSON can hold exactly (dict keys become text)."""
    if o is None or isinstance(o, (str, bool, int)):
        return o
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in o]
    if isinstance(o, (datetime, date)):  # pandas Timestamps are datetimes
        return None if _is_missing(o) else o.isoformat()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, Decimal):  # PostgreSQL sums
        return int(o) if o == o.to_integral_value() else json_safe(float(o))
    tolist = getattr(o, "tolist", None)  # numpy scalars and arrays
    if tolist is not None and hasattr(o, "dtype"):
        return json_safe(tolist())
    if _is_missing(o):
        return None
    return o


def _is_missing(o: Any) -> bool:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a core dependency
        return False
    return o is pd.NA or o is pd.NaT


def dumps(doc: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``doc`` (``allow_nan=False``: a value :func:`json_safe` cannot make exact fails here)."""
    return json.dumps(json_safe(doc), indent=indent, ensure_ascii=False, allow_nan=False)


def write_json(path: Path, doc: Any) -> None:
    """Write ``doc`` as strict JSON to ``path``, atomically (a reader sees the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps(doc) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
