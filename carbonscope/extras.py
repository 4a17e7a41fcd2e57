"""Which optional part of CarbonScope (a ``pip install 'carbonscope[EXTRA]'`` extra) a missing
module belongs to, so that a command needing it says what to install instead of a traceback."""

from __future__ import annotations

from carbonscope.errors import CarbonScopeError

# Top-level module -> the extra that installs it (pyproject.toml's [project.optional-dependencies])
EXTRA_OF = {
    **dict.fromkeys(["fastapi", "starlette", "uvicorn", "multipart", "python_multipart", "orjson", "redis"], "web"),
    "psycopg": "postgres",
    **dict.fromkeys(["rasterio", "scipy", "matplotlib", "affine"], "baseline"),
    **dict.fromkeys(
        [
            "xarray",
            "dask",
            "distributed",
            "sklearn",
            "lightgbm",
            "joblib",
            "h5py",
            "pystac",
            "pystac_client",
            "odc",
            "onnxruntime",
            "skl2onnx",
            "treelite",
        ],
        "analyst",
    ),
}


class MissingExtra(CarbonScopeError):
    """A command needs an optional part that is not installed."""

    status = 501


def missing_extra(exc: ModuleNotFoundError) -> MissingExtra | None:
    """The MissingExtra for an import that failed because an extra is not installed, else None."""
    root = (exc.name or "").split(".")[0]
    extra = EXTRA_OF.get(root)
    if extra is None:
        return None
    return MissingExtra(
        f"this needs CarbonScope's {extra!r} part: pip install 'carbonscope[{extra}]' ({root} is not installed)"
    )
