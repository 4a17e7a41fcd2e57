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


def save_png(fig: Figure, path: Path) -> str:
    """Write the figure to ``path`` and return it as base64 for a self-contained report."""
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
    return env
