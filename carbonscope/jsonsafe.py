"""Values made fit for strict JSON: NaN and infinity become null, numpy scalars plain numbers."""

from __future__ import annotations

import math


def json_safe(o):
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    item = getattr(o, "item", None)  # numpy scalars
    if item is not None and getattr(o, "shape", None) == ():
        return json_safe(item())
    return o
