"""News: search and filters, weekly counts per topic, link review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import Engine
from starlette.responses import Response

from carbonscope.db.engine import write as db_write
from carbonscope.errors import InvalidField
from carbonscope.news import store
from carbonscope.news.language import name as language_name
from carbonscope.web.auth import Admin, User, check_csrf, safe_next
from carbonscope.web.deps import Conn, get_engine_dep
from carbonscope.web.forms import redirect, render

router = APIRouter(include_in_schema=False)
Eng = Annotated[Engine, Depends(get_engine_dep)]
F = Annotated[str, Form()]


@router.get("/news")
def news_page(
    request: Request,
    conn: Conn,
    user: User,
    q: str | None = None,
    topic: str | None = None,
    source: str | None = None,
    project: str | None = None,
    country: str | None = None,
    language: str | None = None,
    page: int = 1,
) -> Response:
    if not 1 <= page <= 10_000:
        raise InvalidField("page", "between 1 and 10,000")
    facets = store.facets(conn)
    lang = _language(language, facets["language"])
    kind, target = (
        ("project", project.upper()) if project else ("country", country.upper()) if country else (None, None)
    )
    data = store.search(
        conn,
        q=q,
        topic=topic,
        source=source,
        lang=lang,
        target_kind=kind,
        target_id=target,
        limit=30,
        offset=(page - 1) * 30,
    )
    weekly = store.per_topic_week(conn)
    weeks = _last_weeks(weekly, CHART_WEEKS)
    older = sum(w["items"] for w in weekly if weeks and w["week"] < weeks[0])
    first = page == 1 and not any((q, topic, source, project, country))
    ctx = {
        "data": data,
        "facets": facets,
        "language": lang,
        "language_label": language_name(lang) if lang else None,
        "weekly": weekly,
        "chart": {"news_weekly": [w for w in weekly if w["week"] in weeks], "news_weeks": weeks},
        "chart_weeks": len(weeks),
        "older_items": older,
        # the opening page leads with what the hub adds: the latest items about registry projects
        "linked": store.search(conn, target_kind="project", lang=lang, limit=5)["items"] if first else [],
        "page": page,
        "pages": max(1, -(-data["total"] // 30)),
        "filters": {"q": q or "", "topic": topic, "source": source, "project": project, "country": country},
        "any_filter": any((q, topic, source, project, country)),
    }
    return render(request, "news/list.html", ctx)


CHART_WEEKS = 26


def _language(asked: str | None, languages: list[dict]) -> str | None:
    """The language filter: the one asked for, "all" for none, and by default English when the
    collection holds English and other languages (the same answer for every visitor, so cached
    pages do not depend on a browser's settings)."""
    known = {row["value"] for row in languages}
    if asked == "all":
        return None
    if asked:
        if asked not in known:
            names = ", ".join(f"{row['value']} ({row['label']})" for row in languages) or "none yet"
            raise InvalidField("language", f"a language the news is written in: {names}, or all")
        return asked
    return "en" if "en" in known and len(known) > 1 else None


def _last_weeks(weekly: list[dict], n: int) -> list[str]:
    """The ``n`` ISO weeks up to the latest with news, every week (none skipped when it had no news)."""
    from datetime import date, timedelta

    if not weekly:
        return []
    y, w = (int(v) for v in max(r["week"] for r in weekly).split("-W"))
    last = date.fromisocalendar(y, w, 1)
    out = []
    for k in range(n - 1, -1, -1):
        iy, iw, _ = (last - timedelta(weeks=k)).isocalendar()
        out.append(f"{iy}-W{iw:02d}")
    return out


@router.post("/news/links/{link_id}")
def review_link(
    request: Request, engine: Eng, user: Admin, link_id: int, action: F = "", csrf_token: F = "", next: F = "/news"
) -> Response:
    """Confirm or remove a news item's automatic link: moderation, for admins only."""
    check_csrf(request, csrf_token)
    with db_write(engine) as tx:
        store.review(tx, user, link_id, action)
    return redirect(safe_next(next))
