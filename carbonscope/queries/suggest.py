"""A search that found nothing: the words of project and developer names closest to what was
typed ("Kasigua" -> "Kasigau"), by edit similarity (rapidfuzz), offered only when the corrected
search finds projects."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process
from sqlalchemy import Connection, func, select

from carbonscope.db.schema import projects
from carbonscope.queries import analytics

MIN_SCORE = 80  # rapidfuzz's ratio, 0-100: one or two letters swapped or wrong in a word of six or more
WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


_CACHE: dict[tuple[str, int], tuple[str, ...]] = {}  # (database, data version) -> words; one entry kept


def vocabulary(conn: Connection) -> tuple[str, ...]:
    """Distinct words (four letters or more) of every project's name and developer, per data version."""
    key = (conn.engine.url.render_as_string(hide_password=True), analytics.data_version(conn))
    if key not in _CACHE:
        words: set[str] = set()
        for name, proponent in conn.execute(select(projects.c.name, projects.c.proponent)):
            words.update(w.lower() for w in WORD.findall(f"{name or ''} {proponent or ''}"))
        _CACHE.clear()
        _CACHE[key] = tuple(sorted(words))
    return _CACHE[key]


def corrected_query(conn: Connection, q: str) -> str | None:
    """``q`` with each unknown word replaced by the closest known one, when that finds projects."""
    words = vocabulary(conn)
    known = set(words)
    out, changed = [], False
    for token in q.split():
        low = token.lower()
        if len(low) < 4 or low in known or not low.isalpha():
            out.append(token)
            continue
        hit = process.extractOne(low, words, scorer=fuzz.ratio, score_cutoff=MIN_SCORE)
        if hit is None:
            out.append(token)
            continue
        out.append(hit[0])
        changed = True
    if not changed:
        return None
    corrected = " ".join(out)
    from carbonscope.queries.filters import ProjectFilters

    found = conn.execute(select(func.count()).select_from(projects).where(*ProjectFilters(q=corrected).where()))
    return corrected if found.scalar_one() else None
