"""What a proposal's page shows of analyses: its latest public one, and registry projects like it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from carbonscope.db.schema import analyses, projects


def latest_public(conn: Connection, proposal_id: int) -> dict | None:
    """The newest published, succeeded analysis of a proposal's boundary."""
    q = (
        sa.select(analyses.c.id, analyses.c.recipe, analyses.c.summary, analyses.c.finished_at, analyses.c.area_ha)
        .where(analyses.c.proposal_id == proposal_id, analyses.c.public.is_(True), analyses.c.status == "succeeded")
        .order_by(analyses.c.finished_at.desc())
        .limit(1)
    )
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def similar_projects(conn: Connection, country: str | None, project_type: str | None, category: str | None, n: int = 5):
    """Registry projects in the same country of the same type (else category), most credits issued
    first: the registries publish no site boundaries, so "nearby" is the country."""
    if not country or not (project_type or category):
        return []
    cond = projects.c.project_type == project_type if project_type else projects.c.category == category
    q = (
        sa.select(
            projects.c.id,
            projects.c.name,
            projects.c.registry,
            projects.c.project_type,
            projects.c.status,
            projects.c.issued,
            projects.c.estimated_annual,
        )
        .where(projects.c.country == country, cond)
        .order_by(projects.c.issued.desc(), projects.c.id)
        .limit(n)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
