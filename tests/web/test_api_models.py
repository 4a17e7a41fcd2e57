"""Every API route declares its response model, and real answers validate against it (the models
forbid fields they do not name, so a field added to an answer without the model fails here)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from carbonscope.accounts import tokens
from carbonscope.db.engine import write
from carbonscope.ingest import ingest
from carbonscope.news import sources, store
from carbonscope.web.api import models
from carbonscope.web.app import create_app
from tests.conftest import NATIVE
from tests.news.test_news import NEWS
from tests.web.conftest import app_settings

SQUARE = {"type": "Polygon", "coordinates": [[[-58.5, 5.0], [-58.4, 5.0], [-58.4, 5.1], [-58.5, 5.1], [-58.5, 5.0]]]}


def _valid(model: type[BaseModel], response) -> dict:
    assert response.status_code in (200, 201), response.text
    doc = response.json()
    model.model_validate(doc)
    return doc


def test_the_openapi_document_gives_every_route_a_response_schema(client):
    spec = client.get("/api/v1/openapi.json").json()
    missing = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            ok = next((op["responses"][c] for c in ("200", "201", "202") if c in op["responses"]), {})
            schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
            if not schema or schema == {}:
                missing.append(f"{method.upper()} {path}")
    assert missing == []
    row = spec["components"]["schemas"]["ProjectRow"]["properties"]
    assert row["issued"]["type"] == "integer" and "date" in json.dumps(row["listed_at"])


def test_read_routes_answer_what_their_models_say(client):
    items = _valid(models.ProjectList, client.get("/api/v1/projects", params={"limit": 500}))["items"]
    assert len(items) == 500
    _valid(models.Facets, client.get("/api/v1/projects/facets"))
    for pid in ("VCS1477", "GS1247", "ACR1185", "CAR1001", "ART101"):
        _valid(models.ProjectDetail, client.get(f"/api/v1/projects/{pid}"))
    _valid(models.EventList, client.get("/api/v1/projects/ART101/events"))
    assert _valid(models.EventList, client.get("/api/v1/credits", params={"limit": 500}))["total"] > 500
    _valid(models.ChangeFeed, client.get("/api/v1/changes", params={"limit": 200}))
    _valid(models.Summary, client.get("/api/v1/stats/summary"))
    for basis in ("event_date", "vintage"):
        _valid(models.ByYear, client.get("/api/v1/stats/by-year", params={"basis": basis}))
    for dim in ("registry", "category", "type", "country", "status"):
        _valid(models.Breakdown, client.get(f"/api/v1/stats/by/{dim}"))
    _valid(models.Listings, client.get("/api/v1/stats/listings"))
    _valid(models.TopProjects, client.get("/api/v1/stats/top-projects"))
    _valid(models.TopBeneficiaries, client.get("/api/v1/stats/top-beneficiaries"))


def test_news_and_community_routes_answer_what_their_models_say(engine, people, tmp_path):
    ingest([NATIVE / "art-trees"], engine)
    with write(engine) as tx:
        saved = store.save(tx, [it for f in sorted(NEWS.glob("*.json"))[:3] for it in sources.from_json(f)])
        token = tokens.create(tx, people.ana["id"], "script")
    auth = {"Authorization": f"Bearer {token}"}
    app = create_app(app_settings(str(engine.url.render_as_string(hide_password=False)), tmp_path))
    with TestClient(app) as c:
        news = _valid(models.NewsList, c.get("/api/v1/news", params={"limit": 200}))
        assert news["total"] == saved["new"] > 0
        _valid(models.NewsStats, c.get("/api/v1/news/stats"))
        made = _valid(
            models.Proposal, c.post("/api/v1/proposals", json={"name": "Rupununi", "country": "GY"}, headers=auth)
        )
        pid = made["id"]
        edited = _valid(models.Proposal, c.patch(f"/api/v1/proposals/{pid}", json={"developer": "Ana"}, headers=auth))
        assert edited["changed"] == ["developer"]
        up = ("site.geojson", json.dumps(SQUARE).encode(), "application/json")
        area = _valid(models.Boundary, c.put(f"/api/v1/proposals/{pid}/boundary", files={"file": up}, headers=auth))
        assert 10_000 < area["area_ha"] < 13_000  # 0.1 degree square at 5 degrees north: about 12,200 ha
        pdf = ("plan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
        _valid(models.DocumentRow, c.post(f"/api/v1/proposals/{pid}/documents", files={"file": pdf}, headers=auth))
        detail = _valid(models.ProposalDetail, c.get(f"/api/v1/proposals/{pid}"))
        assert [d["filename"] for d in detail["documents"]] == ["plan.pdf"] and len(detail["history"]) >= 3
        _valid(models.ProposalList, c.get("/api/v1/proposals"))
        cid = _valid(models.CommentDone, c.post("/api/v1/projects/ART101/comments", json={"body": "Hi"}, headers=auth))[
            "id"
        ]
        c.post("/api/v1/projects/ART101/comments", json={"body": "a reply", "parent_id": cid}, headers=auth)
        thread = _valid(models.CommentThread, c.get("/api/v1/projects/ART101/comments"))
        assert thread["total"] == 2 and len(thread["threads"][0]["replies"]) == 1
        _valid(models.CommentDone, c.patch(f"/api/v1/comments/{cid}", json={"body": "Hello"}, headers=auth))
        assert _valid(models.SupportState, c.post("/api/v1/projects/ART101/support", headers=auth)) == {
            "supported": True,
            "count": 1,
        }
        _valid(models.Proposal, c.post(f"/api/v1/proposals/{pid}/link", json={"project_id": "ART101"}, headers=auth))
        _valid(models.CommentDone, c.delete(f"/api/v1/comments/{cid}", headers=auth))
        _valid(models.Proposal, c.post(f"/api/v1/proposals/{pid}/withdraw", headers=auth))


@pytest.mark.parametrize("name", ["ProjectRow", "EventRow", "ProjectDetail", "Proposal"])
def test_row_models_take_their_fields_from_the_schema(name):
    from carbonscope.community.proposals import PUBLIC_FIELDS as PROPOSAL_FIELDS
    from carbonscope.db.schema import credit_events, projects, proposals
    from carbonscope.queries.lists import EVENT_COLUMNS, PROJECT_LIST_COLUMNS
    from carbonscope.queries.projects import PUBLIC_FIELDS

    table, columns = {
        "ProjectRow": (projects, PROJECT_LIST_COLUMNS),
        "EventRow": (credit_events, EVENT_COLUMNS),
        "ProjectDetail": (projects, PUBLIC_FIELDS),
        "Proposal": (proposals, [f for f in PROPOSAL_FIELDS if f != "owner_name"]),
    }[name]
    fields = getattr(models, name).model_fields
    assert set(columns) <= set(fields)
    assert all(c in table.c for c in columns)
