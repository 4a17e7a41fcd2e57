"""The registry hub's tables.

Projects hold the merged view of every source; ``source_records`` keep what each source said,
so the merge can be redone and every field traced to its file and row. ``credit_events`` is the
ledger; totals are derived from it (or from a bulk source's stated totals when a project has no
event-level data) and reconciled against what sources state.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

JSONType = JSON().with_variant(JSONB(), "postgresql")

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("command", String(40), nullable=False),
    Column("summary", JSONType),
)

source_files = Table(
    "source_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("snapshot_id", Integer, ForeignKey("snapshots.id"), nullable=False, index=True),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("source", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("parser_version", Integer, nullable=False),
    Column("retrieved_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),  # ingested | unchanged | older (not applied)
    Column("rows", Integer),
    # The export's own date where the file name or download says it, else the file's modification time
    Column("exported_at", DateTime(timezone=True)),
    Column("date_basis", String(30)),  # file name | download | file modified
    Column("partial", Boolean),  # the file holds only some rows of its export: nothing is retracted
    Column("skipped_rows", Integer),
    Column("columns", JSONType),  # its header, normalised: a later download's schema is checked against it
)

ingest_warnings = Table(
    "ingest_warnings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("file_id", Integer, ForeignKey("source_files.id"), nullable=False, index=True),
    Column("row", Integer),
    Column("column", String(120)),
    Column("message", Text, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("registry", String(8), nullable=False, index=True),
    Column("name", Text),
    Column("proponent", Text),
    Column("owner", Text),
    Column("status", String(30), index=True),
    Column("status_raw", Text),
    Column("methodology_raw", Text),
    Column("methodologies", JSONType),
    Column("methodology_codes", Text),  # "|VM0007|VM0033|": exact-code filters with LIKE on any database
    Column("methodology_version", Text),
    Column("category", String(40), index=True),
    Column("project_type", String(80), index=True),
    Column("type_source", String(20)),
    Column("type_raw", Text),
    Column("scope", Text),
    Column("reduction_removal", String(30)),
    Column("country", String(2), index=True),
    Column("country_name", Text),
    Column("country_raw", Text),
    Column("region", Text),
    Column("state", Text),
    Column("site", Text),
    Column("listed_at", Date),
    Column("registered_at", Date),
    Column("crediting_start", Date),
    Column("crediting_end", Date),
    Column("first_vintage", Integer),
    Column("estimated_annual", Float),
    Column("verifier", Text),
    Column("sdgs", JSONType),
    Column("corsia", Boolean),
    Column("ccp", Boolean),
    Column("article6", Boolean),
    Column("corresponding_adjustment", Boolean),
    Column("is_compliance", Boolean),
    Column("compliance_program", Text),  # VROD: ARB Compliance, WA Compliance, ARB Early Action
    Column("compliance_status", Text),
    Column("compliance_id", Text),
    Column("poa_id", Text),
    Column("size_class", Text),
    Column("registry_url", Text),
    Column("website", Text),
    Column("description", Text),
    Column("certifications", JSONType),
    Column("pers", BigInteger),  # VROD: pre-existing (pre-registration) emission reductions
    Column("notes", Text),
    Column("countries", JSONType),  # [{"country": "BR", "sources": [...]}] when sources disagree: every source's value
    # Totals: per metric from the ledger where it covers the project, else the best stated total
    # (``totals_rules`` says which rule and source chose each). ``retired`` and ``cancelled`` are
    # null where a source only states their sum (VROD), which ``retired_or_cancelled`` always holds.
    Column("issued", BigInteger, nullable=False, default=0),
    Column("retired", BigInteger),
    Column("cancelled", BigInteger),
    Column("retired_or_cancelled", BigInteger, nullable=False, default=0),
    Column("buffer", BigInteger, nullable=False, default=0),
    Column("remaining", BigInteger, nullable=False, default=0),
    Column("totals_source", String(40)),  # events, vrod, offsetsdb or a registry source key
    Column("totals_rules", JSONType),
    Column("ledger_complete", Boolean),  # the event list is the whole story of this project's credits
    Column("listed", Boolean),  # false once the registry's own projects export no longer lists it
    Column("first_issuance_at", Date),
    Column("first_retirement_at", Date),
    Column("sources", JSONType),
    Column("provenance", JSONType),
    Column("created_snapshot", Integer, ForeignKey("snapshots.id")),
    Column("updated_snapshot", Integer, ForeignKey("snapshots.id")),
    Column("search_text", Text),
)
Index("ix_projects_issued", projects.c.issued)
Index("ix_projects_retired", projects.c.retired)
Index("ix_projects_listed_at", projects.c.listed_at)
# Explorer paths: filtered by registry and sorted by a total; free-text scans read this narrow index, not the wide rows
Index("ix_projects_registry_issued", projects.c.registry, projects.c.issued)
Index("ix_projects_registry_retired", projects.c.registry, projects.c.retired)
Index("ix_projects_search_text", projects.c.search_text)

source_records = Table(
    "source_records",
    metadata,
    Column("project_id", String(40), primary_key=True),
    Column("source", String(40), primary_key=True),  # e.g. verra/projects, vrod, offsetsdb
    Column("rank", Integer, nullable=False),  # lower wins in the merge
    Column("file_id", Integer, ForeignKey("source_files.id"), nullable=False),
    Column("row", Integer),
    Column("retrieved_at", DateTime(timezone=True), nullable=False),
    Column("data", JSONType, nullable=False),
    Column("delisted_snapshot", Integer),  # a newer export of this kind no longer lists the project
)

credit_events = Table(
    "credit_events",
    metadata,
    Column("id", String(24), primary_key=True),
    Column("project_id", String(40), nullable=False),
    Column("registry", String(8), nullable=False),
    Column("type", String(20), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("vintage", Integer),
    Column("vintage_start", Date),
    Column("vintage_end", Date),
    Column("event_date", Date),
    Column("serial", Text),
    Column("serial_start", BigInteger),
    Column("serial_end", BigInteger),
    Column("beneficiary", Text),
    Column("reason", Text),
    Column("note", Text),
    Column("account", Text),
    Column("corsia", Boolean),  # the row's CORSIA eligibility, where the export states it per row (vintage)
    Column("source", String(40), nullable=False),
    Column("file_id", Integer, nullable=False),
    Column("row", Integer),
    Column("snapshot_id", Integer, nullable=False),
)
Index("ix_credit_events_project_date", credit_events.c.project_id, credit_events.c.event_date)
Index("ix_credit_events_date", credit_events.c.event_date)
Index("ix_credit_events_source", credit_events.c.source)

# Events a newer export of their kind no longer holds (retracted) or holds with other values on the
# same serial block (corrected): moved out of the ledger, never deleted.
event_history = Table(
    "event_history",
    metadata,
    *[Column(c.name, c.type, primary_key=c.primary_key) for c in credit_events.columns],
    Column("retracted_snapshot", Integer, nullable=False, index=True),
    Column("retraction", String(20), nullable=False),  # retracted | corrected
    Column("superseded_by", String(24)),
)
Index("ix_event_history_project", event_history.c.project_id)

vintage_totals = Table(
    "vintage_totals",
    metadata,
    Column("project_id", String(40), primary_key=True),
    Column("vintage", Integer, primary_key=True),  # 0 = vintage unknown
    Column("issued", BigInteger, nullable=False),
    Column("retired", BigInteger, nullable=False),
    Column("cancelled", BigInteger, nullable=False),
    Column("buffer", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("source", String(20), nullable=False),
    Column("corsia", Boolean),  # true when any row of this vintage says CORSIA-eligible, false when rows say only no
)

project_series = Table(
    "project_series",
    metadata,
    Column("project_id", String(40), primary_key=True),
    Column("series", String(40), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("source", String(20), nullable=False),
)

stated_totals = Table(
    "stated_totals",
    metadata,
    Column("project_id", String(40), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("metric", String(30), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("file_id", Integer, nullable=False),
    Column("row", Integer),
)

reconciliation = Table(
    "reconciliation",
    metadata,
    Column("project_id", String(40), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("metric", String(30), primary_key=True),
    Column("stated", BigInteger, nullable=False),
    Column("computed", BigInteger, nullable=False),
    Column("difference", BigInteger, nullable=False),
    Column("snapshot_id", Integer, nullable=False),
)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("snapshot_id", Integer, ForeignKey("snapshots.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("project_id", String(40), index=True),
    Column("detail", JSONType),
)

__all__ = [
    "metadata",
    "snapshots",
    "source_files",
    "ingest_warnings",
    "projects",
    "source_records",
    "credit_events",
    "event_history",
    "vintage_totals",
    "project_series",
    "stated_totals",
    "reconciliation",
    "changes",
]


# ---------------------------------------------------------------- accounts and community

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("display_name", String(80), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", String(10), nullable=False, default="user"),  # user | admin
    Column("feed_token", String(64), nullable=False, unique=True),  # private Atom feed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("email_verified_at", DateTime(timezone=True)),  # None: signed up, address not confirmed yet
    Column("name_key", String(160), index=True),  # look-alike skeleton of display_name (accounts/lookalike.py)
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the random session id in the cookie
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(80), nullable=False),
    Column("prefix", String(12), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, index=True),
    Column("address", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("success", Boolean, nullable=False),
)

password_resets = Table(
    "password_resets",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

email_verifications = Table(
    "email_verifications",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

signups = Table(  # sign-ups per client address, for throttling (no e-mail kept)
    "signups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("address", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("to_addr", String(254), nullable=False, index=True),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),  # a secret link stays out: "{link}", rendered from params when sent
    Column("params", JSONType),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("error", Text),
)

proposals = Table(
    "proposals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("country", String(2)),
    Column("project_type", String(80)),
    Column("category", String(40)),
    Column("methodology", String(120)),
    Column("expected_annual", BigInteger),
    Column("developer", String(200)),
    Column("contact", String(200)),
    Column("links", JSONType),
    Column("boundary", JSONType),  # GeoJSON geometry in WGS84
    Column("area_ha", Float),
    Column("centroid_lat", Float),
    Column("centroid_lon", Float),
    Column("status", String(20), nullable=False, default="active"),  # active | withdrawn
    Column("hidden", Boolean, nullable=False, default=False),
    Column("linked_project_id", String(40)),
    Column("support_count", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

proposal_revisions = Table(
    "proposal_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("editor_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(20), nullable=False),  # created | edited | withdrawn | hidden | unhidden | linked
    Column("changes", JSONType),  # {field: [old, new]}
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("uploader_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target_kind", String(10), nullable=False),  # project | proposal
    Column("target_id", String(40), nullable=False),
    Column("author_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("parent_id", Integer, ForeignKey("comments.id", ondelete="CASCADE")),
    Column("body_md", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("edited_at", DateTime(timezone=True)),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("hidden", Boolean, nullable=False, default=False),
)
Index("ix_comments_target", comments.c.target_kind, comments.c.target_id, comments.c.id)
Index("ix_comments_parent", comments.c.parent_id)

supports = Table(
    "supports",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("target_kind", String(10), primary_key=True),
    Column("target_id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_supports_target", supports.c.target_kind, supports.c.target_id)

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reporter_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("target_kind", String(10), nullable=False),  # comment | proposal
    Column("target_id", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolver_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
)

target_versions = Table(
    "target_versions",
    metadata,
    Column("target_kind", String(10), primary_key=True),
    Column("target_id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
)

watches = Table(
    "watches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(12), nullable=False),  # project | country | methodology | beneficiary
    Column("value", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "kind", "value", name="uq_watches_user_kind_value"),
)
Index("ix_watches_kind_value", watches.c.kind, watches.c.value)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("change_id", Integer, ForeignKey("changes.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text),
    Column("link", Text),
    Column("read_at", DateTime(timezone=True)),
    UniqueConstraint("user_id", "change_id", name="uq_notifications_user_change"),
)
Index("ix_notifications_user", notifications.c.user_id, notifications.c.id)

# ---------------------------------------------------------------- news

news_items = Table(
    "news_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("canonical_link", Text, nullable=False, unique=True),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("summary", Text),
    Column("source", Text),
    Column("link", Text, nullable=False),
    Column("published_at", DateTime(timezone=True), index=True),
    Column("topic", Text),
    Column("keywords", JSONType),
    Column("feed", Text),  # where it came from: a feed URL or a file
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    Column("language", String(8), index=True),  # two-letter code, detected (news.language)
)

news_links = Table(
    "news_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("news_id", Integer, ForeignKey("news_items.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("target_kind", String(12), nullable=False),  # project | country | methodology | developer
    Column("target_id", String(200), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("method", String(20), nullable=False),  # id | serial | name | country | methodology
    Column("evidence", Text),
    Column("status", String(10), nullable=False, default="auto"),  # auto | confirmed | removed
    Column("reviewed_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    UniqueConstraint("news_id", "target_kind", "target_id", name="uq_news_links_item_target"),
)
Index("ix_news_links_target", news_links.c.target_kind, news_links.c.target_id)

analyses = Table(
    "analyses",
    metadata,
    Column("id", String(32), primary_key=True),  # random, unguessable: it appears in URLs
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="SET NULL"), index=True),
    Column("recipe", String(40), nullable=False),
    Column("recipe_version", String(20), nullable=False),
    Column("inputs", JSONType, nullable=False),  # boundary (GeoJSON, WGS84), layers by role, parameters
    Column("area_ha", Float),
    Column("status", String(12), nullable=False, index=True),  # queued|running|succeeded|failed|cancelled
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("step", String(200)),
    Column("log", Text, nullable=False, default=""),
    Column("error", Text),
    Column("worker", String(200)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("public", Boolean, nullable=False, default=False),
    Column("result_folder", Text),
    Column("summary", JSONType),  # the headline numbers of results.json, for cards and lists
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)

# Operations: every scheduled run, and the state of each alert (one message per change of state)
schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(80), nullable=False, index=True),  # refresh:verra, news, backup, ...
    Column("due_at", DateTime(timezone=True), nullable=False),  # the schedule's fire time it answers
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("outcome", String(12), nullable=False),  # running | ok | failed | skipped
    Column("detail", JSONType),  # files, sizes, rows, changes
    Column("error", Text),
    Column("worker", String(200)),
    UniqueConstraint("job", "due_at", name="uq_schedule_runs_job_due"),  # a fire time runs once
)

alert_states = Table(
    "alert_states",
    metadata,
    Column("key", String(120), primary_key=True),  # refresh:verra, stale:verra, ...
    Column("state", String(10), nullable=False),  # ok | failing
    Column("since", DateTime(timezone=True), nullable=False),
    Column("last_sent_at", DateTime(timezone=True)),
    Column("message", Text),
)
