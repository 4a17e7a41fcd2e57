"""Load benchmark of the community features (issue: accounts, proposals, comments, news).

Copies the scale database of benchmarks.bench_ingest, adds 10,000 users, 50,000 comments and
100,000 supports (generated, with one Argon2 hash shared by the synthetic users: hashing 10,000
passwords would only measure Argon2), then with wrk from a second process, 32 connections, 60 s:

* reading project pages that carry comments (anonymous readers: the response cache; signed-in readers:
  their own copy, filled per request from a shared rendering, see carbonscope/web/personal.py);
* posting comments through the write API with 200 users' tokens.

    python -m benchmarks.bench_community [--duration 60]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd

from benchmarks.bench_web import DB as SCALE_DB
from benchmarks.bench_web import OUT, WRK_DONE, Server, free_port  # noqa: F401

DB = OUT / "bench-community.db"

POST_LUA = (
    r"""
local tokens, projects = {}, {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
for line in io.lines("%(projects)s") do projects[#projects + 1] = line end
local n = 0
request = function()
  n = n + 1
  local t = tokens[(n %% #tokens) + 1]
  local p = projects[(n * 7 %% #projects) + 1]
  local body = '{"body": "Load test comment ' .. n .. ' on **' .. p .. '**"}'
  local headers = {["Authorization"] = "Bearer " .. t, ["Content-Type"] = "application/json"}
  return wrk.format("POST", "/api/v1/projects/" .. p .. "/comments", headers, body)
end
"""
    + WRK_DONE
)

GET_LUA = (
    r"""
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local cookies = {}
for line in io.lines("%(cookies)s") do cookies[#cookies + 1] = line end
local n = 0
request = function()
  n = n + 1
  local headers = {["Accept"] = "text/html"}
  if #cookies > 0 then headers["Cookie"] = "cs_session=" .. cookies[(n %% #cookies) + 1] end
  return wrk.format("GET", paths[(n %% #paths) + 1], headers)
end
"""
    + WRK_DONE
)


def generate(seed: int = 11) -> dict:
    from carbonscope.accounts import passwords, sessions, tokens
    from carbonscope.accounts.secrets import digest, new_secret
    from carbonscope.community.markdown import render
    from carbonscope.db.bulk import insert_frame
    from carbonscope.db.engine import make_engine
    from carbonscope.db.migrate import upgrade

    shutil.copyfile(SCALE_DB, DB)
    engine = make_engine(f"sqlite:///{DB}")
    upgrade(engine)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with sqlite3.connect(DB) as con:
        project_ids = [r[0] for r in con.execute("SELECT id FROM projects ORDER BY id")]
    shared_hash = passwords.hash_password("load-test-password")
    n_users = 10_000
    users = pd.DataFrame(
        {
            "id": range(1, n_users + 1),
            "email": [f"user{i}@load.example" for i in range(1, n_users + 1)],
            "display_name": [f"User {i}" for i in range(1, n_users + 1)],
            "password_hash": shared_hash,
            "role": "user",
            "feed_token": [new_secret(nbytes=18) for _ in range(n_users)],
            "created_at": (now - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S.%f"),
            "disabled": False,
        }
    )
    popular = rng.sample(project_ids, 1000)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(popular))]
    targets = rng.choices(popular, weights=weights, k=50_000)
    texts = [
        "Interesting **vintage** profile.",
        "Is the buffer *enough*? See https://example.org/report",
        "We visited the site last year.",
        "Good documentation.",
        "- issuance looks late\n- retirements are steady",
    ]
    comments = pd.DataFrame(
        {
            "id": range(1, 50_001),
            "target_kind": "project",
            "target_id": targets,
            "author_id": [rng.randint(1, n_users) for _ in range(50_000)],
            "parent_id": None,
            "body_md": [rng.choice(texts) for _ in range(50_000)],
            "created_at": [
                (now - timedelta(minutes=rng.randint(1, 40000))).strftime("%Y-%m-%d %H:%M:%S.%f") for _ in range(50_000)
            ],
            "deleted": False,
            "hidden": False,
        }
    )
    comments["body_html"] = comments["body_md"].map({t: render(t) for t in texts})
    # every tenth comment answers an earlier comment on the same page
    first = comments.groupby("target_id")["id"].transform("min")
    reply = (comments["id"] % 10 == 0) & (comments["id"] != first)
    comments.loc[reply, "parent_id"] = first[reply]
    pairs = set()
    while len(pairs) < 100_000:
        pairs.add((rng.randint(1, n_users), rng.choice(project_ids[:5000] + popular)))
    supports = pd.DataFrame(
        [
            {"user_id": u, "target_kind": "project", "target_id": p, "created_at": now.strftime("%Y-%m-%d %H:%M:%S.%f")}
            for u, p in pairs
        ]
    )
    versions = (
        comments.groupby("target_id").size().rename("version").reset_index().rename(columns={"target_id": "target_id"})
    )
    versions["target_kind"] = "project"
    with engine.begin() as tx:
        insert_frame(tx, "users", users, list(users.columns))
        insert_frame(
            tx,
            "comments",
            comments,
            [
                "id",
                "target_kind",
                "target_id",
                "author_id",
                "parent_id",
                "body_md",
                "body_html",
                "created_at",
                "deleted",
                "hidden",
            ],
        )
        insert_frame(tx, "supports", supports, list(supports.columns))
        insert_frame(tx, "target_versions", versions, ["target_kind", "target_id", "version"])
        toks = [tokens.create(tx, uid, "load") for uid in range(1, 201)]
        cookies = [
            sessions.create(tx, uid, os.environ.get("CARBONSCOPE_SECRET_KEY", "dev-insecure-secret-change-me"), 14)
            for uid in range(1, 201)
        ]
    engine.dispose()
    (OUT / "tokens.txt").write_text("\n".join(toks) + "\n")
    (OUT / "cookies.txt").write_text("\n".join(cookies) + "\n")
    commented = pd.Series(targets).value_counts()
    (OUT / "commented.txt").write_text("\n".join(f"/projects/{p}" for p in commented.index[:300]) + "\n")
    (OUT / "post_projects.txt").write_text("\n".join(popular[:500]) + "\n")
    _ = digest
    return {
        "users": n_users,
        "comments": len(comments),
        "supports": len(supports),
        "pages": 300,
        "comments_on_those_pages": int(commented.iloc[:300].sum()),
        "median_comments_per_page": int(commented.iloc[:300].median()),
    }


def wrk(base: str, script: str, duration: int, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", script, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(
        r"RESULT p50=(\d+) p95=(\d+) p99=(\d+) max=(\d+) requests=(\d+) non2xx=(\d+) errors=(\d+) duration_us=(\d+)",
        out,
    )
    p50, p95, p99, mx, n, non2xx, errors, dur = map(int, m.groups())
    return {
        "requests": n,
        "rps": n / (dur / 1e6),
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "p99_ms": p99 / 1000,
        "max_ms": mx / 1000,
        "non_2xx": non2xx,
        "socket_errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores",
        "generated": generate(),
    }
    print("generated", results["generated"], flush=True)
    import benchmarks.bench_web as web

    web.DB = DB  # serve the community copy
    tmp = OUT / "wrk"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "none.txt").write_text("")
    paths = (OUT / "commented.txt").read_text().split()
    server = Server(cache=True, workers=args.workers)
    results["workers"] = args.workers
    try:
        for name, cookies in (
            ("page_with_comments_anonymous", tmp / "none.txt"),
            ("page_with_comments_signed_in", OUT / "cookies.txt"),
        ):
            script = tmp / f"{name}.lua"
            script.write_text(GET_LUA % {"paths": OUT / "commented.txt", "cookies": cookies})
            # warm-up: every page once as this scenario's readers (anonymous: the response cache;
            # signed in: the shared renderings their copies are filled from)
            first_cookie = (cookies.read_text().split() or [None])[0]
            with httpx.Client(base_url=server.base, timeout=60) as c:
                for p in paths:
                    c.get(
                        p,
                        headers={
                            "Accept": "text/html",
                            "Accept-Encoding": "identity",
                            **({"Cookie": f"cs_session={first_cookie}"} if first_cookie else {}),
                        },
                    )
            results[name] = wrk(server.base, str(script), args.duration, args.connections)
            print(name, json.dumps(results[name]), flush=True)
        script = tmp / "post_comment.lua"
        script.write_text(POST_LUA % {"tokens": OUT / "tokens.txt", "projects": OUT / "post_projects.txt"})
        results["post_comment"] = wrk(server.base, str(script), args.duration, args.connections)
        print("post_comment", json.dumps(results["post_comment"]), flush=True)
        with sqlite3.connect(DB) as con:
            results["comments_after"] = con.execute("SELECT count(*) FROM comments").fetchone()[0]
    finally:
        server.stop()
    (OUT / "community.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
