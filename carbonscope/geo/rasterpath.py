"""Raster paths as GDAL reads them: a file, or a subdataset of one (``NETCDF:"file.nc":agb``,
``HDF5:"file.h5"://group/var``), such as the variables of ESA CCI Biomass NetCDF files.

Configuration files give paths relative to themselves; a subdataset's file part is what is
resolved and checked, the driver prefix and the variable are kept as written."""

from __future__ import annotations

import re
from pathlib import Path

SUBDATASET = re.compile(r'^(?P<driver>NETCDF|HDF5|HDF4_EOS|HDF4_SDS|HDF4):(?P<file>"[^"]+"|[^:"]+):(?P<var>.+)$', re.I)


def split(value: str | Path) -> tuple[str | None, Path, str | None]:
    """(driver, file, variable) of a subdataset path; (None, path, None) for a plain file."""
    m = SUBDATASET.match(str(value))
    if not m:
        return None, Path(value), None
    return m["driver"], Path(m["file"].strip('"')), m["var"]


def is_subdataset(value: str | Path) -> bool:
    return SUBDATASET.match(str(value)) is not None


def join(driver: str | None, file: Path, variable: str | None) -> str | Path:
    """The inverse of :func:`split`: a GDAL subdataset string, or the file itself."""
    return f'{driver}:"{file}":{variable}' if driver else file


def resolve(value: str | Path, base: Path) -> str | Path:
    """``value`` with its file made absolute against ``base`` (a subdataset stays a GDAL string)."""
    driver, file, var = split(value)
    if not file.is_absolute():
        file = (base / file).resolve()
    return join(driver, file, var)


def exists(value: str | Path) -> bool:
    """Whether the file (of a subdataset: the container file) is there."""
    return split(value)[1].exists()
