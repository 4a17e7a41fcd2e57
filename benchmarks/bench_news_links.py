"""Precision and recall of news linking, against judgements a person recorded.

Loads the real registry files and the 1,422 real news items into a scratch database.

* Precision: a seeded sample of 50 links (confidence >= 0.5) scored against
  ``benchmarks/news_links_checked.csv`` (link, target, correct 1/0, note). A link of the sample
  without a judgement is printed for checking and makes the run fail.
* Recall: every item found by reading all 559 distinct items that names a carbon project, a
  project developer or a crediting methodology, with what it names, in
  ``benchmarks/news_mentions_checked.csv``; ``in_data`` says whether the five registries' files
  hold it (a project, developer or methodology they do not hold cannot be linked). Recall is
  given over the mentions the data can answer and over all of them.

    python -m benchmarks.bench_news_links [--print-sample]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
JUDGED = ROOT / "benchmarks" / "news_links_checked.csv"
MENTIONS = ROOT / "benchmarks" / "news_mentions_checked.csv"


def sample_links(n: int = 50, seed: int = 50) -> list[dict]:
    from carbonscope.db.engine import make_engine
    from carbonscope.db.migrate import upgrade
    from carbonscope.db.schema import news_items, news_links
    from carbonscope.ingest import ingest
    from carbonscope.news import sources, store

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'news.db'}")
        upgrade(engine)
        ingest([SHARED / "registries"], engine)
        items = [
            it for f in sorted((SHARED / "news" / "carbon-news-json").glob("*.json")) for it in sources.from_json(f)
        ]
        with engine.begin() as tx:
            store.save(tx, items)
        q = (
            select(
                news_items.c.canonical_link,
                news_items.c.title,
                news_items.c.summary,
                news_links.c.target_kind,
                news_links.c.target_id,
                news_links.c.method,
                news_links.c.evidence,
                news_links.c.confidence,
            )
            .join(news_items, news_items.c.id == news_links.c.news_id)
            .where(news_links.c.confidence >= 0.5)
            .order_by(news_items.c.canonical_link, news_links.c.target_kind, news_links.c.target_id)
        )
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        engine.dispose()
    rng = random.Random(seed)
    return rows, rng.sample(rows, min(n, len(rows)))


def recall(rows: list[dict]) -> dict:
    """Share of the hand-found mentions that the linker linked (confidence >= 0.5)."""
    found = {(r["canonical_link"], r["target_kind"], r["target_id"]) for r in rows}
    with open(MENTIONS, newline="") as fh:
        mentions = list(csv.DictReader(fh))
    in_data = [m for m in mentions if m["in_data"] == "1"]
    hit = [m for m in in_data if (m["canonical_link"], m["target_kind"], m["target_id"]) in found]
    for m in in_data:
        if m not in hit:
            print(f"missed: {m['target_kind']} {m['target_id']} ({m['named_as']}) in {m['canonical_link']}")
    by_kind: dict[str, list[int]] = {}
    for m in mentions:
        by_kind.setdefault(m["target_kind"], []).append(int(m in hit))
    return {
        "items": len({m["canonical_link"] for m in mentions}),
        "mentions": len(mentions),
        "mentions_in_data": len(in_data),
        "linked": len(hit),
        "recall_in_data": len(hit) / max(1, len(in_data)),
        "recall_all": len(hit) / max(1, len(mentions)),
        "by_kind": {k: {"mentions": len(v), "linked": sum(v)} for k, v in sorted(by_kind.items())},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--print-sample", action="store_true", help="print the sample with context, for judging")
    args = ap.parse_args()
    rows, sample = sample_links()
    judged = {}
    if JUDGED.exists():
        with open(JUDGED, newline="") as fh:
            for r in csv.DictReader(fh):
                judged[(r["canonical_link"], r["target_kind"], r["target_id"])] = r
    missing, correct = [], 0
    by_kind: dict[str, list[int]] = {}
    for s in sample:
        key = (s["canonical_link"], s["target_kind"], s["target_id"])
        if args.print_sample or key not in judged:
            text = f"{s['title']} || {s['summary'] or ''}"
            i = text.lower().find((s["evidence"] or "").lower())
            print(
                "|".join(
                    [
                        s["canonical_link"],
                        s["target_kind"],
                        s["target_id"],
                        s["method"],
                        str(s["confidence"]),
                        s["evidence"] or "",
                        text[max(0, i - 90) : i + 90].replace("\n", " "),
                    ]
                )
            )
        if key not in judged:
            missing.append(key)
            continue
        ok = int(judged[key]["correct"])
        correct += ok
        by_kind.setdefault(s["target_kind"], []).append(ok)
    result = {
        "links_total": len(rows),
        "sample": len(sample),
        "judged": len(sample) - len(missing),
        "correct": correct,
        "precision": correct / max(1, len(sample) - len(missing)),
        "by_kind": {k: {"n": len(v), "precision": sum(v) / len(v)} for k, v in by_kind.items()},
        "non_country_links": sum(r["target_kind"] != "country" for r in rows),
        "recall": recall(rows),
    }
    print(json.dumps(result, indent=2))
    if missing:
        raise SystemExit(f"{len(missing)} links of the sample have no judgement in {JUDGED}")


if __name__ == "__main__":
    main()
