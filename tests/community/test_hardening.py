"""Community hardening (ASVS L1 audit): withdrawn proposals take no more comments or support, hidden
comments stay as moderated, reports reveal nothing hidden, uploads leave no orphan and meet a
quota, news-link moderation is for admins."""

from __future__ import annotations

import os
import time
from datetime import UTC

import pytest
from sqlalchemy import insert

from carbonscope.community import abuse, comments, documents, proposals, support
from carbonscope.db.schema import news_items, news_links
from carbonscope.errors import InvalidField, NotFoundError, PermissionDenied
from carbonscope.news import store
from carbonscope.settings import Settings


def test_a_withdrawn_proposal_takes_no_more_comments_or_support(engine, people):
    ana, ben, _ = people
    with engine.begin() as tx:
        pid = proposals.create(tx, ana, {"name": "Forest plan"})
        comments.create(tx, ben, "proposal", str(pid), "Good luck")
        support.toggle(tx, ben, "proposal", str(pid))
        proposals.withdraw(tx, ana, pid)
    for write in (
        lambda tx: comments.create(tx, ben, "proposal", str(pid), "Still here?"),
        lambda tx: support.toggle(tx, ben, "proposal", str(pid)),
    ):
        with pytest.raises(PermissionDenied, match="withdrawn"), engine.begin() as tx:
            write(tx)
    with engine.connect() as conn:
        assert comments.thread(conn, "proposal", str(pid))["total"] == 1  # what was said stays readable


def test_an_author_cannot_rewrite_a_comment_an_admin_hid(engine, people):
    ana, _, _ = people
    with engine.begin() as tx:
        pid = proposals.create(tx, ana, {"name": "Forest plan"})
        cid = comments.create(tx, ana, "proposal", str(pid), "Spam spam")
        comments.set_hidden(tx, cid, True)
    with pytest.raises(PermissionDenied, match="hid"), engine.begin() as tx:
        comments.edit(tx, ana, cid, "Innocent now")
    with engine.begin() as tx:
        comments.delete(tx, ana, cid)  # taking it down stays the author's right


def test_reporting_what_is_hidden_answers_as_if_it_did_not_exist(engine, people):
    ana, ben, admin = people
    with engine.begin() as tx:
        pid = proposals.create(tx, ana, {"name": "Forest plan"})
        proposals.set_hidden(tx, admin, pid, True)
        cid = comments.create(tx, ana, "proposal", str(proposals.create(tx, ana, {"name": "Other plan"})), "hello")
        comments.set_hidden(tx, cid, True)
    for kind, target in (("proposal", pid), ("proposal", 999_999), ("comment", cid), ("comment", 999_999)):
        with pytest.raises(NotFoundError) as exc, engine.begin() as tx:
            abuse.create(tx, ben, kind, target, "looks like spam")
        assert str(exc.value) == f"no {kind} {target}"  # the same words whether hidden or missing
    with engine.begin() as tx:
        abuse.create(tx, ana, "proposal", pid, "why was mine hidden?")  # its owner still sees it


def test_a_refused_upload_leaves_no_file_and_a_proposal_has_a_document_quota(engine, people, tmp_path):
    ana, ben, _ = people
    uploads = tmp_path / "uploads"
    settings = Settings(max_documents_per_proposal=2, max_proposal_document_bytes=1000)
    with engine.begin() as tx:
        pid = proposals.create(tx, ana, {"name": "Forest plan"})
    data = b"Restoration plan, version 1"
    checked = documents.check("plan.txt", data, 10_000)
    with pytest.raises(PermissionDenied), engine.begin() as tx:
        proposals.attach_document(tx, ben, pid, checked, data, uploads, settings)
    assert not uploads.exists() or not any(uploads.rglob("*"))  # 403, and nothing written
    for i in range(2):
        d = f"Restoration plan, version {i + 2}".encode()
        with engine.begin() as tx:
            proposals.attach_document(tx, ana, pid, documents.check("plan.txt", d, 10_000), d, uploads, settings)
    with pytest.raises(InvalidField, match="at most 2 documents"), engine.begin() as tx:
        proposals.attach_document(tx, ana, pid, checked, data, uploads, settings)
    big = b"x" * 990
    with pytest.raises(InvalidField, match="add up to"), engine.begin() as tx:
        proposals.attach_document(
            tx,
            ana,
            pid,
            documents.check("big.txt", big, 10_000),
            big,
            uploads,
            Settings(max_proposal_document_bytes=1000),
        )
    assert len([p for p in uploads.rglob("*") if p.is_file()]) == 2


def test_files_no_document_refers_to_are_swept_once_old(engine, people, tmp_path):
    ana, _, _ = people
    uploads = tmp_path / "uploads"
    with engine.begin() as tx:
        pid = proposals.create(tx, ana, {"name": "Forest plan"})
        data = b"kept"
        proposals.attach_document(tx, ana, pid, documents.check("kept.txt", data, 100), data, uploads, Settings())
    stray = documents.store(uploads, "f" * 64, b"left by a failed commit")
    fresh = documents.store(uploads, "e" * 64, b"its commit may still be running")
    os.utime(stray, (time.time() - 7200, time.time() - 7200))
    with engine.connect() as conn:
        assert documents.sweep_orphans(conn, uploads) == 1
    assert not stray.exists() and fresh.exists() and len([p for p in uploads.rglob("*") if p.is_file()]) == 2


def test_only_admins_confirm_or_remove_news_links(engine, people):
    ana, _, admin = people
    from datetime import datetime

    with engine.begin() as tx:
        nid = tx.execute(
            insert(news_items)
            .values(
                canonical_link="https://example.org/a",
                link="https://example.org/a",
                source="test",
                title="A forest project",
                published_at=datetime.now(UTC),
                fetched_at=datetime.now(UTC),
                content_hash="h" * 64,
            )
            .returning(news_items.c.id)
        ).scalar_one()
        lid = tx.execute(
            insert(news_links)
            .values(news_id=nid, target_kind="project", target_id="VCS1", confidence=0.9, method="test", status="auto")
            .returning(news_links.c.id)
        ).scalar_one()
    with pytest.raises(PermissionDenied), engine.begin() as tx:
        store.review(tx, ana, lid, "remove")
    with engine.begin() as tx:
        store.review(tx, admin, lid, "confirm")
