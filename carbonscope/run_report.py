"""What the run reports of the carbon analyst and the baseline engine share: matplotlib without a
display, figures saved as PNG and inlined as base64, number formatting, a Jinja environment."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["plt", "save_png", "fmt", "environment"]


def plain_numbers(fig: Figure) -> None:
    """Axes in plain numbers: thousands separators from 10,000 up, never an offset or a "1e6" multiplier
    written in the corner, which a reader misses."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if not isinstance(formatter, ScalarFormatter):
                continue  # dates, categories, logs keep theirs
            lo, hi = axis.get_view_interval()
            if max(abs(lo), abs(hi)) >= 10_000:
                axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
            else:
                formatter.set_useOffset(False)
                formatter.set_scientific(False)


def save_png(fig: Figure, path: Path) -> str:
    """Write the figure to ``path`` and return it as base64 for a self-contained report."""
    plain_numbers(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = buf.getvalue()
    path.write_bytes(data)
    return base64.b64encode(data).decode("ascii")


def fmt(v: float | int | None, digits: int = 1) -> str:
    """Numbers with thousands separators; None and NaN as a dash."""
    if v is None:
        return "–"
    if isinstance(v, float):
        if v != v:
            return "–"
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def environment(package: str) -> jinja2.Environment:
    """Autoescaping templates of ``package``/templates with the ``num`` filter."""
    env = jinja2.Environment(loader=jinja2.PackageLoader(package, "templates"), autoescape=True)
    env.filters["num"] = fmt
    env.filters["relpath"] = relative_to
    return env


def relative_to(path: str | Path | None, folder: str | Path) -> str:
    """A file as the report names it: relative to the run folder (the report travels with it), so no
    absolute path of the machine that ran it appears."""
    import os

    if not path:
        return ""
    p = Path(path)
    if not p.is_absolute():
        return str(p)
    base = Path(folder).resolve()
    try:
        if os.path.commonpath([p, base]) == p.anchor:  # nothing shared but the root: the name says enough
            return p.name
        return os.path.relpath(p, base)
    except ValueError:  # another drive
        return p.name
