"""Request-scoped dependencies: settings and a database connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine

from carbonscope.settings import Settings

if TYPE_CHECKING:
    from carbonscope.web.export import ExportSlots


def get_engine_dep(request: Request) -> Engine:
    return request.app.state.engine


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_conn(engine: Annotated[Engine, Depends(get_engine_dep)]) -> Iterator[Connection]:
    with engine.connect() as conn:
        yield conn


Conn = Annotated[Connection, Depends(get_conn)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def get_export_slots(request: Request) -> ExportSlots:
    return request.app.state.export_slots


ExportSlotsDep = Annotated["ExportSlots", Depends(get_export_slots)]  # file exports prepared at once
