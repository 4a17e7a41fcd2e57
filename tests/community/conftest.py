"""Three people of the community tests: two members and an admin."""

import pytest

from carbonscope.accounts import users


@pytest.fixture
def people(engine):
    with engine.begin() as tx:
        a = users.get(tx, users.register(tx, "ana@example.org", "Ana", "a-long-password-1"))
        b = users.get(tx, users.register(tx, "ben@example.org", "Ben", "a-long-password-2"))
        admin = users.get(tx, users.register(tx, "root@example.org", "Root", "a-long-password-3", role="admin"))
    return a, b, admin
