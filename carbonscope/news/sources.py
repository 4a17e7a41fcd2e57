"""Where news items come from: JSON item dumps and RSS/Atom feeds (feedparser)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser

from carbonscope.errors import InputError
from carbonscope.news import language
from carbonscope.news.items import Item, parse_time, strip_html, topic_for


def from_json(path: Path) -> list[Item]:
    """A JSON list of items with title, link, summary, published, source, topic, matched_keywords."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not a JSON file of news items ({exc})", file=str(path)) from exc
    if isinstance(data, dict):
        data = data.get("items", [])
    if not isinstance(data, list):
        raise InputError("expected a JSON list of news items", file=str(path))
    out = []
    for i, d in enumerate(data):
        if not isinstance(d, dict) or not d.get("title") or not d.get("link"):
            raise InputError("a news item needs at least a title and a link", file=str(path), row=i + 1)
        summary = strip_html(d.get("summary"))
        out.append(
            Item(
                title=strip_html(d["title"]),
                link=str(d["link"]),
                summary=summary,
                source=d.get("source"),
                published_at=parse_time(d.get("published")),
                topic=d.get("topic") or topic_for(d["title"], summary),
                keywords=[str(k) for k in d.get("matched_keywords") or []],
                feed=str(path),
                language=language.detect(d["title"], summary, d.get("language")),
            )
        )
    return out


def from_feed(content: bytes | str, origin: str) -> list[Item]:
    """Entries of an RSS or Atom document."""
    parsed = feedparser.parse(content)
    if not parsed.get("version") and not parsed.entries:  # feedparser names the format it recognised
        raise InputError(f"not an RSS or Atom feed ({parsed.get('bozo_exception')})", file=origin)
    source = strip_html(parsed.feed.get("title")) or origin
    feed_language = parsed.feed.get("language")
    out = []
    for e in parsed.entries:
        title, link = strip_html(e.get("title")), e.get("link")
        if not title or not link:
            continue
        summary = strip_html(e.get("summary") or e.get("description"))
        when = e.get("published_parsed") or e.get("updated_parsed")
        published = datetime.fromtimestamp(time.mktime(when), UTC) if when else parse_time(e.get("published"))
        out.append(
            Item(
                title=title,
                link=link,
                summary=summary,
                source=source,
                published_at=published,
                topic=topic_for(title, summary),
                feed=origin,
                language=language.detect(title, summary, e.get("language") or feed_language),
            )
        )
    return out


def from_path(path: Path) -> list[Item]:
    if path.suffix.lower() == ".json":
        return from_json(path)
    if path.suffix.lower() in (".xml", ".rss", ".atom"):
        return from_feed(path.read_bytes(), str(path))
    raise InputError("expected a .json item dump or an .xml/.rss/.atom feed", file=str(path))


NEWS_SUFFIXES = (".json", ".xml", ".rss", ".atom")


def news_files(paths: list[Path]) -> list[Path]:
    """Files given, and the news files found (recursively, sorted) in folders given."""
    out: list[Path] = []
    for p in paths:
        out += sorted(x for x in p.rglob("*") if x.suffix.lower() in NEWS_SUFFIXES) if p.is_dir() else [p]
    return out
