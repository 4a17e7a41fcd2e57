from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from carbonscope.accounts import sessions, tokens, users
from carbonscope.db.schema import outbox, password_resets
from carbonscope.db.schema import users as users_table
from carbonscope.errors import AuthError, InvalidField, Throttled
from carbonscope.settings import Settings
from tests.conftest import mailed_link

SETTINGS = Settings(secret_key="test-secret-key-that-is-long-enough")


def test_register_validates_and_hashes_with_argon2(engine):
    with engine.begin() as tx:
        uid = users.register(tx, "  Ana@Example.org ", "Ana", "a-long-password-1")
        row = tx.execute(select(users_table).where(users_table.c.id == uid)).mappings().one()
    assert row["email"] == "ana@example.org" and row["password_hash"].startswith("$argon2id$")
    assert "a-long-password-1" not in row["password_hash"]
    for email, name, pw, field in [
        ("bad", "x", "a-long-password-1", "email"),
        ("b@example.org", "", "a-long-password-1", "display_name"),
        ("b@example.org", "B", "short", "password"),
        ("ana@example.org", "Ana2", "a-long-password-2", "email"),
        ("c@example.org", "C", "password123", "password"),
    ]:
        with pytest.raises(InvalidField) as exc, engine.begin() as tx:
            users.register(tx, email, name, pw)
        assert exc.value.field == field


def test_authenticate_and_throttle_per_account_and_address(engine):
    with engine.begin() as tx:
        users.register(tx, "ana@example.org", "Ana", "a-long-password-1")
    s = Settings(login_max_failures_per_account=3, login_max_failures_per_address=5)
    for _ in range(3):
        with engine.begin() as tx:
            assert users.authenticate(tx, "ana@example.org", "wrong-password", "10.0.0.1", s) is None
    with pytest.raises(Throttled), engine.begin() as tx:  # the right password is refused from that address
        users.authenticate(tx, "ana@example.org", "a-long-password-1", "10.0.0.1", s)
    with engine.begin() as tx:  # but a stranger's failures do not lock Ana out of her own address
        assert (
            users.authenticate(tx, "ana@example.org", "a-long-password-1", "10.0.0.2", s)["email"] == "ana@example.org"
        )
    for i in range(27):  # guesses spread over many addresses meet a ceiling of ten times the limit
        with engine.begin() as tx:
            users.authenticate(tx, "ana@example.org", "wrong-password", f"10.1.0.{i}", s)
    with pytest.raises(Throttled), engine.begin() as tx:
        users.authenticate(tx, "ana@example.org", "a-long-password-1", "10.0.0.4", s)
    # another address guessing other accounts is stopped per address
    for i in range(5):
        with engine.begin() as tx:
            assert users.authenticate(tx, f"x{i}@example.org", "nope-nope-nope", "10.0.0.9", s) is None
    with pytest.raises(Throttled), engine.begin() as tx:
        users.authenticate(tx, "someone@example.org", "nope-nope-nope", "10.0.0.9", s)
    with engine.begin() as tx:
        assert (
            users.authenticate(tx, "ana@example.org", "a-long-password-1", "10.0.0.3", Settings())["email"]
            == "ana@example.org"
        )


def test_sessions_and_password_change_signs_out_everywhere(engine):
    with engine.begin() as tx:
        uid = users.register(tx, "ana@example.org", "Ana", "a-long-password-1")
        cookie = sessions.create(tx, uid, SETTINGS.secret_key, 14)
    with engine.connect() as conn:
        assert sessions.user_for(conn, cookie, SETTINGS.secret_key)["id"] == uid
        assert sessions.user_for(conn, cookie + "x", SETTINGS.secret_key) is None
        assert sessions.user_for(conn, cookie, "another-secret") is None
    with engine.begin() as tx:
        with pytest.raises(InvalidField):
            users.change_password(tx, uid, "wrong", "a-new-long-password")
    with engine.begin() as tx:
        users.change_password(tx, uid, "a-long-password-1", "a-new-long-password")
    with engine.connect() as conn:
        assert sessions.user_for(conn, cookie, SETTINGS.secret_key) is None


def test_reset_by_one_time_token_through_the_outbox(engine):
    with engine.begin() as tx:
        uid = users.register(tx, "ana@example.org", "Ana", "a-long-password-1")
        users.request_reset(tx, "ana@example.org", SETTINGS)
        users.request_reset(tx, "nobody@example.org", SETTINGS)  # says nothing, sends nothing
        mails = tx.execute(select(outbox.c.to_addr, outbox.c.body)).all()
        token = mailed_link(tx, SETTINGS).rsplit("/", 1)[1]
    assert [m.to_addr for m in mails] == ["ana@example.org"]
    with engine.begin() as tx:
        users.reset_password(tx, token, "a-brand-new-password")
    with pytest.raises(AuthError, match="invalid or has expired"), engine.begin() as tx:
        users.reset_password(tx, token, "another-new-password")
    with engine.begin() as tx:
        users.request_reset(tx, "ana@example.org", SETTINGS)
        expired = mailed_link(tx, SETTINGS).rsplit("/", 1)[1]
        tx.execute(update(password_resets).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    with pytest.raises(AuthError), engine.begin() as tx:
        users.reset_password(tx, expired, "another-new-password")
    with engine.begin() as tx:
        assert users.authenticate(tx, "ana@example.org", "a-brand-new-password", "1.2.3.4", Settings())["id"] == uid


def test_api_tokens_are_hashed_and_revocable(engine):
    with engine.begin() as tx:
        uid = users.register(tx, "ana@example.org", "Ana", "a-long-password-1")
        token = tokens.create(tx, uid, "script")
    assert token.startswith("cst_")
    with engine.connect() as conn:
        listed = tokens.list_for(conn, uid)
        assert listed[0]["prefix"] == token[:10] and "token_hash" not in listed[0]
        assert tokens.user_for(conn, token)["id"] == uid
    with engine.begin() as tx:
        tokens.revoke(tx, uid, listed[0]["id"])
    with pytest.raises(AuthError, match="revoked"), engine.connect() as conn:
        tokens.user_for(conn, token)


def test_delete_account_keeps_comments_anonymously_and_withdraws_proposals(engine):
    from carbonscope.community import comments, proposals
    from carbonscope.ingest import ingest
    from tests.conftest import NATIVE

    ingest([NATIVE / "art-trees"], engine)
    with engine.begin() as tx:
        uid = users.register(tx, "ana@example.org", "Ana", "a-long-password-1")
        me = users.get(tx, uid)
        cid = comments.create(tx, me, "project", "ART102", "first")
        pid = proposals.create(tx, me, {"name": "Forest plan"})
    with pytest.raises(InvalidField), engine.begin() as tx:
        users.delete_account(tx, uid, "wrong")
    with engine.begin() as tx:
        users.delete_account(tx, uid, "a-long-password-1")
    with engine.connect() as conn:
        thread = comments.thread(conn, "project", "ART102")
        assert thread["threads"][0]["id"] == cid and thread["threads"][0]["author"] is None
        assert proposals.get(conn, pid)["status"] == "withdrawn"
        assert users.by_email(conn, "ana@example.org") is None


def test_reset_links_die_with_a_password_change_or_a_newer_reset_and_are_throttled(engine):
    def link(tx):
        return mailed_link(tx, SETTINGS).rsplit("/", 1)[1]

    with engine.begin() as tx:
        uid = users.register(tx, "ana@example.org", "Ana", "a-long-password-1")
        users.request_reset(tx, "ana@example.org", SETTINGS)
        first = link(tx)
        users.request_reset(tx, "ana@example.org", SETTINGS)
        second = link(tx)
    with engine.begin() as tx:
        users.reset_password(tx, second, "a-brand-new-password")
    with pytest.raises(AuthError), engine.begin() as tx:  # the older link died with the use of the newer one
        users.reset_password(tx, first, "an-attackers-password")
    with engine.begin() as tx:
        users.request_reset(tx, "ana@example.org", SETTINGS)
        third = link(tx)
        users.change_password(tx, uid, "a-brand-new-password", "yet-another-password")
    with pytest.raises(AuthError), engine.begin() as tx:  # a link mailed before a change cannot undo it
        users.reset_password(tx, third, "an-attackers-password")
    with engine.begin() as tx:
        before = tx.execute(select(func.count()).select_from(outbox)).scalar_one()
        for _ in range(50):
            users.request_reset(tx, "ana@example.org", SETTINGS)
        sent = tx.execute(select(func.count()).select_from(outbox)).scalar_one() - before
        live = tx.execute(
            select(func.count()).select_from(password_resets).where(password_resets.c.used_at.is_(None))
        ).scalar_one()
    assert sent == 0 and live == 0  # three in the last hour already: 50 requests queue no mail and no token
