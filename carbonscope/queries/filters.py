"""Filters for project and credit lists: validated models at the boundary, SQL built with bound
parameters only (never string formatting of user input)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, exists, func, or_
from sqlalchemy.sql import ColumnElement

from carbonscope.db.like import like_pattern
from carbonscope.db.schema import credit_events, projects, vintage_totals
from carbonscope.registry.codes import normalise_id

Registry = Literal["VCS", "GS", "ACR", "CAR", "ART"]
EventType = Literal["issuance", "retirement", "cancellation", "buffer_deposit", "conversion"]

PROJECT_SORTS = {
    "id": projects.c.id,
    "name": projects.c.name,
    "registry": projects.c.registry,
    "country": projects.c.country,
    "category": projects.c.category,
    "type": projects.c.project_type,
    "project_type": projects.c.project_type,
    "status": projects.c.status,
    "proponent": projects.c.proponent,
    "issued": projects.c.issued,
    "retired": projects.c.retired,
    "cancelled": projects.c.cancelled,
    "retired_or_cancelled": projects.c.retired_or_cancelled,
    "remaining": projects.c.remaining,
    "buffer": projects.c.buffer,
    "listed_at": projects.c.listed_at,
    "registered_at": projects.c.registered_at,
    "first_vintage": projects.c.first_vintage,
    "estimated_annual": projects.c.estimated_annual,
    "first_issuance_at": projects.c.first_issuance_at,
}

EVENT_SORTS = {
    "event_date": credit_events.c.event_date,
    "date": credit_events.c.event_date,
    "quantity": credit_events.c.quantity,
    "vintage": credit_events.c.vintage,
    "project_id": credit_events.c.project_id,
    "project": credit_events.c.project_id,
    "type": credit_events.c.type,
    "registry": credit_events.c.registry,
    "beneficiary": credit_events.c.beneficiary,
    "id": credit_events.c.id,
}


def _upper_list(v):
    return [str(x).strip().upper() for x in v] if v else v


def _id_list(v):
    return [normalise_id(x) for x in v] if v else v


def _as_list(v):
    return [v] if isinstance(v, str) else v


MAX_PAGE = 500  # rows per page of any list, in the API, the pages and the CLI


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(50, ge=1, le=MAX_PAGE, description=f"page size, at most {MAX_PAGE}")


class ProjectFilters(BaseModel):
    """Query parameters of the projects list (all optional; lists are OR within, AND across)."""

    model_config = ConfigDict(extra="forbid")
    registry: list[Registry] | None = None
    country: list[str] | None = Field(None, description="ISO 3166-1 alpha-2 codes")
    category: list[str] | None = None
    type: list[str] | None = Field(None, description="project type, e.g. REDD+")
    status: list[str] | None = None
    methodology: list[str] | None = Field(None, description="normalised codes, e.g. VM0007, ACM0002, ARB-MMC")
    scope: list[str] | None = None
    reduction_removal: list[Literal["reduction", "removal", "mixed"]] | None = None
    corsia: bool | None = None
    ccp: bool | None = None
    vintage_min: int | None = Field(None, ge=1900, le=2200)
    vintage_max: int | None = Field(None, ge=1900, le=2200)
    issued_min: int | None = Field(None, ge=0)
    issued_max: int | None = Field(None, ge=0)
    retired_min: int | None = Field(None, ge=0)
    retired_max: int | None = Field(None, ge=0)
    listed_from: date | None = None
    listed_to: date | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    q: str | None = Field(None, max_length=200, description="text in ID, name, developer or methodology")

    @field_validator("registry", "country", "methodology", mode="before")
    @classmethod
    def _upper(cls, v):
        if isinstance(v, str):
            v = [v]
        return _upper_list(v)

    @field_validator("country")
    @classmethod
    def _alpha2(cls, v):
        """ISO 3166-1 alpha-2 codes; a country's name ("Kenya", "Viet Nam") is taken for its code."""
        from carbonscope.registry.countries import to_alpha2

        out = []
        for c in v or []:
            code = c if len(c) == 2 and c.isalpha() else to_alpha2(c)
            if code is None:
                raise ValueError(f"{c!r} is not a country name or ISO 3166-1 alpha-2 code")
            out.append(code)
        return out or v

    @field_validator("category", "type", "status", "scope", mode="before")
    @classmethod
    def _listify(cls, v):
        return [v] if isinstance(v, str) else v

    def where(self, skip: str | None = None) -> list[ColumnElement]:
        """Conditions of every filter (``skip`` one of them, for its facet counts)."""
        p = projects.c
        conds: list[ColumnElement] = []

        def in_(name, column, values):
            if values and name != skip:
                conds.append(column.in_(values))

        in_("registry", p.registry, self.registry)
        in_("country", p.country, self.country)
        in_("category", p.category, self.category)
        in_("type", p.project_type, self.type)
        in_("status", p.status, self.status)
        in_("scope", p.scope, self.scope)
        in_("reduction_removal", p.reduction_removal, self.reduction_removal)
        if self.methodology and skip != "methodology":
            conds.append(
                or_(
                    *[
                        p.methodology_codes.like(f"%|{code.replace('%', '').replace('_', '')}|%")
                        for code in self.methodology
                    ]
                )
            )
        if self.corsia is not None:
            conds.append(p.corsia.is_(True) if self.corsia else or_(p.corsia.is_(False), p.corsia.is_(None)))
        if self.ccp is not None:
            conds.append(p.ccp.is_(True) if self.ccp else or_(p.ccp.is_(False), p.ccp.is_(None)))
        if self.vintage_min is not None or self.vintage_max is not None:
            v = vintage_totals.c
            inner = [v.project_id == p.id, v.issued > 0]
            if self.vintage_min is not None:
                inner.append(v.vintage >= self.vintage_min)
            if self.vintage_max is not None:
                inner.append(v.vintage <= self.vintage_max)
            conds.append(exists().where(and_(*inner)))
        for col, lo, hi in (
            (p.issued, self.issued_min, self.issued_max),
            (p.retired, self.retired_min, self.retired_max),
        ):
            if lo is not None:
                conds.append(col >= lo)
            if hi is not None:
                conds.append(col <= hi)
        for dcol, dlo, dhi in (
            (p.listed_at, self.listed_from, self.listed_to),
            (p.registered_at, self.registered_from, self.registered_to),
        ):
            if dlo is not None:
                conds.append(dcol >= dlo)
            if dhi is not None:
                conds.append(dcol <= dhi)
        if self.q and self.q.strip():
            words = self.q.strip().split()[:8]
            conds.extend(p.search_text.like(like_pattern(w), escape="\\") for w in words)
        return conds


class EventFilters(BaseModel):
    """Query parameters of credit-event lists."""

    model_config = ConfigDict(extra="forbid")
    project: list[str] | None = None
    registry: list[Registry] | None = None
    type: list[EventType] | None = None
    vintage_min: int | None = Field(None, ge=1900, le=2200)
    vintage_max: int | None = Field(None, ge=1900, le=2200)
    date_from: date | None = None
    date_to: date | None = None
    beneficiary: str | None = Field(None, max_length=200, description="text in beneficiary, account or note")
    quantity_min: int | None = Field(None, ge=0)
    quantity_max: int | None = Field(None, ge=0)

    @field_validator("registry", mode="before")
    @classmethod
    def _upper(cls, v):
        return _upper_list(_as_list(v))

    @field_validator("project", mode="before")
    @classmethod
    def _ids(cls, v):
        return _id_list(_as_list(v))

    @field_validator("type", mode="before")
    @classmethod
    def _types(cls, v):
        return [v] if isinstance(v, str) else v

    def where(self) -> list[ColumnElement]:
        e = credit_events.c
        conds: list[ColumnElement] = []
        if self.project:
            conds.append(e.project_id.in_(self.project))
        if self.registry:
            conds.append(e.registry.in_(self.registry))
        if self.type:
            conds.append(e.type.in_(self.type))
        if self.vintage_min is not None:
            conds.append(e.vintage >= self.vintage_min)
        if self.vintage_max is not None:
            conds.append(e.vintage <= self.vintage_max)
        if self.date_from is not None:
            conds.append(e.event_date >= self.date_from)
        if self.date_to is not None:
            conds.append(e.event_date <= self.date_to)
        if self.quantity_min is not None:
            conds.append(e.quantity >= self.quantity_min)
        if self.quantity_max is not None:
            conds.append(e.quantity <= self.quantity_max)
        if self.beneficiary and self.beneficiary.strip():
            pat = like_pattern(self.beneficiary.strip())
            conds.append(or_(*[func.lower(c).like(pat, escape="\\") for c in (e.beneficiary, e.account, e.note)]))
        return conds


M = TypeVar("M", bound=BaseModel)


def from_pairs(model: type[M], pairs: Iterable[tuple[str, str]]) -> M:
    """A filters model from (name, value) pairs, as a query string or repeated command-line options
    give them: a list field takes every value, another field the last; empty values are ignored.
    Raises pydantic's ValidationError (each error's ``loc`` names the field)."""
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        if value != "":
            values.setdefault(key, []).append(value)
    data: dict[str, object] = {}
    for key, got in values.items():
        field = model.model_fields.get(key)
        data[key] = got if field is not None and "list" in str(field.annotation) else got[-1]
    return model(**data)


def parse_sort(sort: str | None, allowed: dict, default: str) -> list:
    """``'-issued'`` -> ORDER BY issued DESC; unknown names raise ValueError naming the choices."""
    from sqlalchemy import nulls_last

    text = (sort or default).strip()
    desc = text.startswith("-")
    name = text.lstrip("-+")
    if name not in allowed:
        raise ValueError(
            f"unknown sort column {name!r}; choose one of {', '.join(sorted(allowed))} (prefix - for descending)"
        )
    col = allowed[name]
    order = col.desc() if desc else col.asc()
    return [nulls_last(order) if col.nullable else order]
