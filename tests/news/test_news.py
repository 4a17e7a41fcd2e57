"""News from the real JSON item dumps, and from RSS/Atom files made from them."""

import json
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pandas as pd
import pytest
from sqlalchemy import func, select

from carbonscope.db.engine import make_engine
from carbonscope.db.schema import news_items, news_links
from carbonscope.news import sources, store
from carbonscope.news.items import canonical_link, content_hash
from carbonscope.news.linker import Linker
from tests.conftest import SHARED

NEWS = SHARED / "news" / "carbon-news-json"


def raw_items() -> pd.DataFrame:
    rows = []
    for f in sorted(NEWS.glob("*.json")):
        rows += json.loads(f.read_text())
    return pd.DataFrame(rows)


def all_items():
    return [it for f in sorted(NEWS.glob("*.json")) for it in sources.from_json(f)]


def test_json_dumps_deduplicate_by_link_and_content(engine):
    raw = raw_items()
    assert len(raw) == 1422 and raw["link"].nunique() == 560
    with engine.begin() as tx:
        result = store.save(tx, all_items(), Linker({}, set()))
    # One article is published under two addresses with the same title and summary: kept once
    firsts = raw.drop_duplicates("link")
    same_content = firsts.duplicated(subset=["title", "summary"]).sum()
    assert same_content == 1
    assert result == {"items": 1422, "new": 559, "duplicates": 863, "links": result["links"], "refused_links": 0}
    with engine.begin() as tx:
        again = store.save(tx, all_items(), Linker({}, set()))
    assert again["new"] == 0 and again["duplicates"] == 1422


def test_canonical_links_and_hashes():
    assert canonical_link("HTTP://www.Example.org/a/b/?utm_source=x&id=3#top") == "https://example.org/a/b?id=3"
    assert content_hash("Title  <b>x</b>", "Sum") == content_hash("title x", "sum")


def _rss(items) -> str:
    entries = "".join(
        f"<item><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link><description>{escape(i.get('summary') or '')}</description>"
        f"<pubDate>{datetime.fromisoformat(i['published']).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for i in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test feed</title><link>https://example.org</link>{entries}</channel></rss>'


def _atom(items) -> str:
    entries = "".join(
        f'<entry><title>{escape(i["title"])}</title><link href="{escape(i["link"])}"/><id>{escape(i["link"])}</id>'
        f"<updated>{i['published']}</updated><summary>{escape(i.get('summary') or '')}</summary></entry>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom test</title>'
        f"<id>urn:test</id><updated>2026-07-08T00:00:00Z</updated>{entries}</feed>"
    )


def test_rss_and_atom_files_made_from_the_items(engine, tmp_path):
    raw = raw_items().drop_duplicates("link")
    first, second = raw.iloc[:40].to_dict("records"), raw.iloc[30:70].to_dict("records")
    (tmp_path / "feed.rss").write_text(_rss(first))
    (tmp_path / "feed.atom").write_text(_atom(second))
    rss = sources.from_path(tmp_path / "feed.rss")
    atom = sources.from_path(tmp_path / "feed.atom")
    assert len(rss) == 40 and len(atom) == 40
    assert rss[0].title == first[0]["title"] and rss[0].source == "Test feed"
    assert rss[0].published_at == datetime.fromisoformat(first[0]["published"]).replace(microsecond=0).astimezone(UTC)
    with engine.begin() as tx:
        a = store.save(tx, rss, Linker({}, set()))
        b = store.save(tx, atom, Linker({}, set()))
        c = store.save(tx, all_items(), Linker({}, set()))
    assert (a["new"], b["new"], b["duplicates"]) == (40, 30, 10)  # 10 items are in both feeds
    assert c["new"] == 559 - 70 and c["duplicates"] == 1422 - (559 - 70)
    with pytest.raises(Exception, match="not an RSS or Atom feed"):
        sources.from_feed(b"<html>nope</html>", "bad.xml")


def test_items_per_topic_and_week_match_an_independent_count(engine):
    with engine.begin() as tx:
        store.save(tx, all_items(), Linker({}, set()))
        got = {(r["week"], r["topic"]): r["items"] for r in store.per_topic_week(tx)}
    raw = raw_items()
    kept = raw.drop_duplicates("link")
    kept = kept[~kept.duplicated(subset=["title", "summary"])]
    weeks = pd.to_datetime(kept["published"], utc=True, format="ISO8601").dt.isocalendar()
    expected = (
        kept.assign(week=weeks["year"].astype(str) + "-W" + weeks["week"].astype(str).str.zfill(2))
        .groupby(["week", "topic"])
        .size()
        .to_dict()
    )
    assert got == expected and sum(got.values()) == 559


def test_languages_detected_on_the_real_items():
    """Every item with Chinese characters is Chinese, the two Politico pieces in French are French,
    the rest English (a model free to answer any language called some English headlines Nigerian
    Pidgin and traditional Chinese Cantonese)."""
    import re

    unique = {it.canonical: it for it in all_items()}.values()
    cjk = {it.canonical for it in unique if re.search(r"[\u4e00-\u9fff]", it.title + it.summary)}
    french = {it.canonical for it in unique if it.title.startswith(("A gauche, qui", "Spéciale Aix"))}
    assert len(cjk) == 63 and len(french) == 2
    for it in unique:
        expected = "zh" if it.canonical in cjk else "fr" if it.canonical in french else "en"
        assert it.language == expected, (it.title, it.language)


def test_a_feed_declares_the_language_of_items_too_short_to_tell():
    from carbonscope.news import language

    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><language>zh-TW</language>'
        "<item><title>ESG</title><link>https://example.org/a</link></item>"
        "<item><title>Verra reinstates a grassland carbon project after a community vote</title>"
        "<link>https://example.org/b</link></item></channel></rss>"
    )
    short, long = sources.from_feed(rss, "feed.xml")
    assert short.language == "zh" and long.language == "en"  # the text wins when it can tell
    assert language.declared("en-us") == "en" and language.declared("tlh") is None
    assert language.detect("ok", "") is None and language.name("zh") == "Chinese"


def test_links_to_projects_countries_and_methodologies(loaded_url):
    engine = make_engine(loaded_url)
    with engine.connect() as conn:
        linker = Linker.from_db(conn)
    items = {it.canonical: it for it in all_items()}
    kariba = next(it for it in items.values() if "Kariba" in it.title)
    links = linker.links(kariba.title, kariba.summary)
    assert ("project", "VCS902") in {(link.target_kind, link.target_id) for link in links}
    assert next(link for link in links if link.target_id == "VCS902").method == "name"
    tanzania = next(it for it in items.values() if it.title.startswith("Tanzania files Article 6 report"))
    assert ("country", "TZ") in {
        (link.target_kind, link.target_id) for link in linker.links(tanzania.title, tanzania.summary)
    }

    def found(start):
        it = next(it for it in items.values() if it.title.startswith(start))
        return {(link.target_kind, link.target_id) for link in linker.links(it.title, it.summary)}

    # a three-word name of capitalised, uncommon-enough words ("grassland" is not rare in English)
    assert ("project", "VCS1468") in found("Verra reinstates Northern Kenya grassland")
    # developers by the registry's proponent name without its legal form; a plural last word matches
    assert {("developer", "Groundwork BioAg Ltd."), ("project", "VCS4885")} <= found("Groundwork BioAg Issues")
    assert ("developer", "KOKO Network limited") in found("Kenyan carbon developer puts technology")
    from carbonscope.news.linker import developer_core

    assert developer_core("Groundwork BioAg Ltd.") == ("groundwork", "bioag")
    assert developer_core("Multiple Proponents") is None and developer_core("South Pole AG") is None
    assert developer_core("Wildlife Works; Terra Global") is None
    # words that are also ordinary English never link a project ("Sustainable", "Growing", "Access")
    assert not [
        link for link in linker.links("Growing access to sustainable finance", "") if link.target_kind == "project"
    ]
    synthetic = linker.links(
        "Retirement of VCS 1477 credits",
        "Serial 19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1 under VM0007",
    )
    got = {(link.target_kind, link.target_id, link.method) for link in synthetic}
    assert {
        ("project", "VCS1477", "id"),
        ("project", "VCS1340", "serial"),
        ("methodology", "VM0007", "methodology"),
    } <= got
    engine.dispose()


def test_admins_confirm_or_remove_links_and_relinking_keeps_their_choice(engine, people):
    from carbonscope.ingest import ingest
    from tests.conftest import NATIVE

    ingest([NATIVE / "art-trees"], engine)
    with engine.begin() as tx:
        store.save(tx, all_items())
        me = people.root
        first = tx.execute(select(news_links.c.id).order_by(news_links.c.id)).scalars().first()
        store.review(tx, me, first, "remove")
        before = tx.execute(select(func.count()).select_from(news_links)).scalar_one()
        store.relink(tx)
        assert tx.execute(select(news_links.c.status).where(news_links.c.id == first)).scalar_one() == "removed"
        assert tx.execute(select(func.count()).select_from(news_links)).scalar_one() == before
        assert tx.execute(select(func.count()).select_from(news_items)).scalar_one() == 559


def test_only_http_links_are_stored_or_rendered(engine):
    from carbonscope.news import store
    from carbonscope.news.items import Item
    from carbonscope.urls import safe_url
    from carbonscope.web.templating import templates

    for bad in (
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<b>x</b>",
        "vbscript:x",
        "//evil.example/x",
        "/relative",
    ):
        assert safe_url(bad) is None, bad
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    with engine.begin() as conn:
        out = store.save(
            conn,
            [
                Item(title="Verra news", link="javascript:alert(document.cookie)"),
                Item(title="Real", link="https://example.org/verra"),
            ],
        )
    assert out["refused_links"] == 1 and out["new"] == 1
    assert templates.env.filters["safe_href"]("javascript:alert(1)") == "#"


def test_the_news_page_opens_on_a_chart_and_the_latest_project_news(engine, db_url, tmp_path):
    """Visitors read plain words (no command lines) before news is loaded; once it is, the page opens on
    a chart of items per week (its data beside it) and the latest items about registry projects."""
    import re

    from fastapi.testclient import TestClient
    from sqlalchemy import insert

    from carbonscope.ingest import ingest
    from carbonscope.web.app import create_app
    from tests.conftest import NATIVE
    from tests.web.conftest import app_settings

    with TestClient(create_app(app_settings(db_url, tmp_path))) as client:
        empty = client.get("/news").text
        assert "No news has been collected yet" in empty and "carbonscope news" not in empty
        assert 'data-chart="news_weekly"' not in empty

        ingest([NATIVE / "art-trees"], engine)
        with engine.begin() as tx:
            store.save(tx, all_items())
            first = tx.execute(
                select(news_items.c.id, news_items.c.title)
                .where(news_items.c.language == "en")
                .order_by(news_items.c.id)
            ).first()
            # an administrator's confirmed link to a project of the registry
            tx.execute(
                insert(news_links).values(
                    news_id=first.id,
                    target_kind="project",
                    target_id="ART101",
                    confidence=1.0,
                    method="id",
                    evidence="confirmed by hand",
                    status="confirmed",
                )
            )
        page = client.get("/news").text
        assert 'data-chart="news_weekly"' in page
        js = client.get("/static/js/charts.js").text  # the chart's y axis says what it counts
        assert 'bars(c, weeks, series, "items per week")' in js and "precision: 0" in js
        data = json.loads(
            re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S).group(1)
        )
        weekly = store.per_topic_week(engine.connect())
        assert len(data["news_weeks"]) == 26 and data["news_weeks"] == sorted(data["news_weeks"])
        assert data["news_weeks"][-1] == max(w["week"] for w in weekly)  # up to the latest week, none skipped
        shown = sum(w["items"] for w in data["news_weekly"])
        older = sum(w["items"] for w in weekly if w["week"] < data["news_weeks"][0])
        assert shown + older == sum(w["items"] for w in weekly) == 559 and shown > 500
        assert f"{older:,} older items are in the list below" in page
        linked = page[page.index('id="linked-news"') :]
        assert '<a href="/projects/ART101">ART101</a>' in linked[:3000]
        # English first: the page opens on the English items and offers the others by name
        assert "494 news items in English" in re.sub(r"<[^>]+>", "", page)
        assert "Chinese (63)" in page and "French (2)" in page
        everything = client.get("/news", params={"language": "all"}).text
        assert "559 news items" in re.sub(r"<[^>]+>", "", everything)
        chinese = client.get("/news", params={"language": "zh"}).text
        assert "63 news items in Chinese" in re.sub(r"<[^>]+>", "", chinese)
        api = client.get("/api/v1/news", params={"language": "fr"}).json()
        assert api["total"] == 2 and {i["language"] for i in api["items"]} == {"fr"}
        langs = {r["value"]: r["count"] for r in client.get("/api/v1/news/stats").json()["language"]}
        assert langs == {"en": 494, "zh": 63, "fr": 2}
        bad = client.get("/news", params={"language": "xx"}, headers={"accept": "text/html"})
        assert bad.status_code == 422 and "zh (Chinese)" in bad.text and "or all" in bad.text
        filtered = client.get("/news", params={"q": "no-such-word-anywhere"}).text
        assert "No news item matches these filters" in filtered and 'id="linked-news"' not in filtered
