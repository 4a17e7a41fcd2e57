"""Precision of news linking on a hand-checked sample (issue: accounts, proposals, comments, news).

Loads the real registry files and the 1,422 real news items into a scratch database, draws a
seeded sample of 50 links (confidence >= 0.5), and scores it against the judgements a person
recorded in ``benchmarks/news_links_checked.csv`` (link, target, correct 1/0, note). A link of the
sample without a judgement is printed for checking and makes the run fail.

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
    }
    print(json.dumps(result, indent=2))
    if missing:
        raise SystemExit(f"{len(missing)} links of the sample have no judgement in {JUDGED}")


if __name__ == "__main__":
    main()
