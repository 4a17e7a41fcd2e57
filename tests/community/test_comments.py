import pytest

from carbonscope.community import comments, markdown, support, targets
from carbonscope.errors import InvalidField, NotFoundError, PermissionDenied
from carbonscope.ingest import ingest
from tests.conftest import NATIVE

XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="https://example.org" onclick="alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "![x](https://evil.example/x.png)",
    "<svg onload=alert(1)>",
]


def elements(html: str) -> list[tuple[str, list]]:
    """Every element the browser would build from ``html`` (escaped text builds none)."""
    from html.parser import HTMLParser

    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    P().feed(html)
    return found


@pytest.mark.parametrize("payload", XSS)
def test_markdown_is_sanitised(payload):
    for tag, attrs in elements(markdown.render(payload)):
        assert tag in markdown.TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), name
            if name == "href":
                assert value.startswith(("http://", "https://", "mailto:")), value


def test_markdown_keeps_formatting_and_marks_links():
    html = markdown.render("Great **idea**, see [the plan](https://example.org/plan)\n\n- one\n- two")
    assert "<strong>idea</strong>" in html and "<li>one</li>" in html
    assert 'href="https://example.org/plan"' in html and 'rel="nofollow noopener noreferrer ugc"' in html


@pytest.fixture
def world(engine, people):
    ingest([NATIVE / "art-trees"], engine)
    return people.ana, people.ben


def test_threads_replies_one_level_and_ownership(engine, world):
    ana, ben = world
    with engine.begin() as tx:
        top = comments.create(tx, ana, "project", "art102", "Is the **buffer** enough?")
        reply = comments.create(tx, ben, "project", "ART102", "Yes", parent_id=top)
        nested = comments.create(tx, ana, "project", "ART102", "Thanks", parent_id=reply)  # attaches to the thread
        v = targets.version(tx, "project", "ART102")
    with engine.connect() as conn:
        t = comments.thread(conn, "project", "ART102")
    assert t["total"] == 3 and [c["id"] for c in t["threads"]] == [top]
    assert [r["id"] for r in t["threads"][0]["replies"]] == [reply, nested]
    assert v == 3
    with pytest.raises(PermissionDenied), engine.begin() as tx:
        comments.edit(tx, ben, top, "hijacked")
    with pytest.raises(PermissionDenied), engine.begin() as tx:
        comments.delete(tx, ben, top)
    with engine.begin() as tx:
        comments.edit(tx, ana, top, "Is the buffer *enough*?")
        comments.delete(tx, ben, reply)
        comments.set_hidden(tx, nested, True)
    with engine.connect() as conn:
        t = comments.thread(conn, "project", "ART102")
    assert "<em>enough</em>" in t["threads"][0]["body_html"] and t["threads"][0]["edited_at"] is not None
    assert [r["deleted"] for r in t["threads"][0]["replies"]] == [True] and t["total"] == 1
    for args, exc in [
        (("project", "ART999", "hi"), NotFoundError),
        (("project", "ART102", "   "), InvalidField),
        (("galaxy", "1", "hi"), InvalidField),
        (("proposal", "1; DROP TABLE users", "hi"), NotFoundError),
    ]:
        with pytest.raises(exc), engine.begin() as tx:
            comments.create(tx, ana, *args)


def test_support_is_one_per_user_and_toggles(engine, world):
    ana, ben = world
    with engine.begin() as tx:
        assert support.toggle(tx, ana, "project", "ART102") is True
        assert support.toggle(tx, ben, "project", "ART102") is True
        assert support.count(tx, "project", "ART102") == 2
        assert support.toggle(tx, ana, "project", "ART102") is False
        assert support.count(tx, "project", "ART102") == 1 and support.supports_it(tx, ben, "project", "ART102")
