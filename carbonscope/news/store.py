"""Store news items (deduplicated by canonical link and content hash) and their links; read them back."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from carbonscope.community import targets
from carbonscope.db.schema import news_items, news_links
from carbonscope.errors import InvalidField, NotFoundError, PermissionDenied
from carbonscope.news import language
from carbonscope.news.items import Item
from carbonscope.news.linker import Linker
from carbonscope.urls import safe_url


def save(conn: Connection, items: list[Item], linker: Linker | None = None) -> dict:
    """Insert new items and link them; an item already known by link or content is skipped."""
    known_links = set(conn.execute(select(news_items.c.canonical_link)).scalars())
    known_hashes = set(conn.execute(select(news_items.c.content_hash)).scalars())
    linker = linker or Linker.from_db(conn)
    new = dup = links = 0
    now = datetime.now(UTC)
    refused = 0
    for it in items:
        if safe_url(it.link) is None:  # only http(s) links are stored (a javascript: link would be an href)
            refused += 1
            continue
        if it.canonical in known_links or it.hash in known_hashes:
            dup += 1
            continue
        known_links.add(it.canonical)
        known_hashes.add(it.hash)
        nid = conn.execute(
            insert(news_items)
            .values(
                canonical_link=it.canonical,
                content_hash=it.hash,
                title=it.title[:1000],
                summary=(it.summary or "")[:5000],
                source=it.source,
                link=it.link,
                published_at=it.published_at,
                topic=it.topic,
                keywords=it.keywords,
                feed=it.feed,
                fetched_at=now,
                language=it.language,
            )
            .returning(news_items.c.id)
        ).scalar_one()
        new += 1
        for link in linker.links(it.title, it.summary):
            conn.execute(
                insert(news_links).values(
                    news_id=nid,
                    target_kind=link.target_kind,
                    target_id=link.target_id,
                    confidence=link.confidence,
                    method=link.method,
                    evidence=link.evidence,
                    status="auto",
                )
            )
            links += 1
    _detect_missing_languages(conn)
    return {"items": len(items), "new": new, "duplicates": dup, "links": links, "refused_links": refused}


def _detect_missing_languages(conn: Connection) -> None:
    """Items stored before languages were detected get theirs (once: the column is then set)."""
    n = news_items.c
    for nid, title, summary in conn.execute(select(n.id, n.title, n.summary).where(n.language.is_(None))).all():
        lang = language.detect(title, summary or "")
        if lang:
            conn.execute(update(news_items).where(n.id == nid).values(language=lang))


def relink(conn: Connection) -> int:
    """Recompute automatic links of every item (confirmed and removed links are kept)."""
    linker = Linker.from_db(conn)
    conn.execute(delete(news_links).where(news_links.c.status == "auto"))
    kept = {
        (r.news_id, r.target_kind, r.target_id)
        for r in conn.execute(select(news_links.c.news_id, news_links.c.target_kind, news_links.c.target_id))
    }
    n = 0
    for nid, title, summary in conn.execute(select(news_items.c.id, news_items.c.title, news_items.c.summary)).all():
        for link in linker.links(title, summary or ""):
            if (nid, link.target_kind, link.target_id) in kept:
                continue
            conn.execute(
                insert(news_links).values(
                    news_id=nid,
                    target_kind=link.target_kind,
                    target_id=link.target_id,
                    confidence=link.confidence,
                    method=link.method,
                    evidence=link.evidence,
                    status="auto",
                )
            )
            n += 1
    return n


def review(conn: Connection, user: dict, link_id: int, action: str) -> None:
    """Confirm or remove an automatic link (moderation: admins only); the linked project's page changes."""
    if user.get("role") != "admin":
        raise PermissionDenied("only administrators confirm or remove news links")
    if action not in ("confirm", "remove"):
        raise InvalidField("action", "confirm or remove")
    n = conn.execute(
        update(news_links)
        .where(news_links.c.id == link_id)
        .values(status="confirmed" if action == "confirm" else "removed", reviewed_by=user["id"])
    ).rowcount
    if not n:
        raise NotFoundError(f"no news link {link_id}")
    row = conn.execute(select(news_links.c.target_kind, news_links.c.target_id).where(news_links.c.id == link_id)).one()
    if row.target_kind == "project":
        targets.bump(conn, "project", row.target_id)  # its cached page shows the news


def search(
    conn: Connection,
    q: str | None = None,
    topic: str | None = None,
    source: str | None = None,
    lang: str | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    min_confidence: float = 0.5,
    limit: int = 50,
    offset: int = 0,
) -> dict:
    n = news_items.c
    where = []
    if q and q.strip():
        from carbonscope.db.like import like_pattern

        for w in q.strip().split()[:8]:
            pat = like_pattern(w)
            where.append(or_(func.lower(n.title).like(pat, escape="\\"), func.lower(n.summary).like(pat, escape="\\")))
    if topic:
        where.append(n.topic == topic)
    if source:
        where.append(n.source == source)
    if lang:
        where.append(n.language == lang)
    if target_kind:  # items linked to that target, or (no id) to any target of that kind
        sub = select(news_links.c.news_id).where(
            news_links.c.target_kind == target_kind,
            news_links.c.status != "removed",
            news_links.c.confidence >= min_confidence,
        )
        if target_id:
            sub = sub.where(news_links.c.target_id == target_id)
        where.append(n.id.in_(sub))
    total = conn.execute(select(func.count()).select_from(news_items).where(*where)).scalar_one()
    rows = [
        dict(r)
        for r in conn.execute(
            select(n.id, n.title, n.summary, n.source, n.link, n.published_at, n.topic, n.language)
            .where(*where)
            .order_by(n.published_at.desc().nulls_last(), n.id.desc())
            .limit(limit)
            .offset(offset)
        ).mappings()
    ]
    ids = [r["id"] for r in rows]
    by_item: dict[int, list] = {}
    if ids:
        nl = news_links.c
        for r in conn.execute(
            select(nl.id, nl.news_id, nl.target_kind, nl.target_id, nl.confidence, nl.method, nl.evidence, nl.status)
            .where(nl.news_id.in_(ids), nl.status != "removed")
            .order_by(nl.confidence.desc())
        ).mappings():
            by_item.setdefault(r["news_id"], []).append(dict(r))
    for item in rows:
        item["links"] = by_item.get(item["id"], [])
    return {"total": total, "items": rows}


def facets(conn: Connection) -> dict:
    n = news_items.c
    topics = [
        {"value": t, "count": c}
        for t, c in conn.execute(select(n.topic, func.count()).group_by(n.topic).order_by(func.count().desc()))
    ]
    sources = [
        {"value": s, "count": c}
        for s, c in conn.execute(
            select(n.source, func.count()).group_by(n.source).order_by(func.count().desc()).limit(40)
        )
    ]
    languages = [
        {"value": code, "count": c, "label": language.name(code)}
        for code, c in conn.execute(
            select(n.language, func.count()).group_by(n.language).order_by(func.count().desc(), n.language)
        )
        if code
    ]
    return {"topic": topics, "source": sources, "language": languages}


def per_topic_week(conn: Connection) -> list[dict]:
    """Items per topic and ISO week of publication."""
    n = news_items.c
    counts: Counter = Counter()
    for topic, published in conn.execute(select(n.topic, n.published_at).where(n.published_at.is_not(None))):
        y, w, _ = published.isocalendar()
        counts[(f"{y}-W{w:02d}", topic or "Other")] += 1
    return [{"week": wk, "topic": t, "items": c} for (wk, t), c in sorted(counts.items())]


def get(conn: Connection, news_id: int) -> dict:
    row = conn.execute(select(news_items).where(news_items.c.id == news_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no news item {news_id}")
    return dict(row)
