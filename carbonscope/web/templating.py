"""Jinja2 environment: autoescaping templates, number and URL helpers, HTML error pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import Response

from carbonscope.community import markdown
from carbonscope.registry.countries import country_name
from carbonscope.registry.detect import source_label, source_name
from carbonscope.registry.vocab import CATEGORY_LABELS
from carbonscope.urls import safe_url
from carbonscope.web import labels

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))


def num(v: float | int | None) -> str:
    if v is None or v == "":
        return "–"
    try:
        return f"{int(v):,}"
    except (TypeError, ValueError):
        return str(v)


def compact(v: float | int | None) -> str:
    """1_234_567 -> '1.2 M'."""
    if v is None:
        return "–"
    v = float(v)
    for div, unit in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.1f} {unit}"
    return f"{v:,.0f}"


def num_both(v: float | int | None) -> Markup:
    """A count in full on wide screens and compact (17.7 M) on a phone, the full figure in its title."""
    full = num(v)
    return Markup('<span class="n-full">{}</span><span class="n-short" title="{}">{}</span>').format(
        full, full, compact(v)
    )


def with_query(request: Request, **changes: object) -> str:
    """The current URL's query with some parameters replaced (None removes), for links that keep state."""
    items: list[tuple[str, object]] = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for k, v in changes.items():
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            items.extend((k, x) for x in v)
        else:
            items.append((k, v))
    return "?" + urlencode(items) if items else "?"


def toggled(request: Request, key: str, value: str) -> str:
    """Link that adds or removes one value of a repeatable filter, back to page 1."""
    current = request.query_params.getlist(key)
    values = [v for v in current if v != value] if value in current else [*current, value]
    return with_query(request, **{key: values or None, "page": None})


# Quantities: the first click shows the largest first (the question is "which projects retired most?")
DESCENDING_FIRST = {"issued", "retired", "cancelled", "retired_or_cancelled", "remaining", "buffer", "quantity",
                    "estimated_annual", "support", "event_date", "listed_at", "registered_at"}  # fmt: skip


def sort_link(request: Request, column: str, default: str) -> str:
    current = request.query_params.get("sort") or default
    if column in DESCENDING_FIRST:
        new = column if current == f"-{column}" else f"-{column}"
    else:
        new = f"-{column}" if current == column else column
    return with_query(request, sort=new, page=None)


def sort_mark(request: Request, column: str, default: str) -> str:
    current = request.query_params.get("sort") or default
    return "▲" if current == column else "▼" if current == f"-{column}" else ""


templates.env.filters["num"] = num
# Every stored link goes through this before it becomes an href: http(s) or nothing
templates.env.filters["safe_href"] = lambda u: safe_url(u) or "#"
templates.env.filters["compact"] = compact
templates.env.filters["country"] = lambda code: country_name(code) or code
templates.env.filters["field_label"] = labels.field_label
templates.env.filters["provenance"] = labels.provenance
templates.env.filters["job_label"] = labels.job_label
templates.env.filters["source_label"] = source_label
templates.env.filters["source_name"] = source_name
templates.env.filters["num2"] = num_both
templates.env.filters["markdown"] = lambda text: Markup(markdown.render(text))  # CommonMark, then nh3's allow-list
templates.env.globals.update(
    category_labels=CATEGORY_LABELS,
    field_value=labels.field_value,
    says_more=labels.says_more,
    change_sentence=labels.change_sentence,
)
templates.env.globals.update(with_query=with_query, toggled=toggled, sort_link=sort_link, sort_mark=sort_mark)


class HtmlErrors:
    """Decides whether a failed request should get an HTML page, and renders it."""

    def __call__(self, request: Request) -> bool:
        return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")

    def render_error(self, request: Request, status: int, message: str) -> Response:
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )


html_errors = HtmlErrors()
