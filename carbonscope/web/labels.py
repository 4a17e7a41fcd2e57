"""Words for what the pages show: field names as people say them, values with their units,
sources by name, and the change feed in sentences."""

from __future__ import annotations

from datetime import date, datetime

from carbonscope.queries.charts import REGISTRY_NAMES
from carbonscope.registry.detect import source_label, source_name

FIELD_LABELS = {
    "registry": "Registry",
    "status": "Status",
    "status_raw": "Status as the registry writes it",
    "proponent": "Developer (proponent)",
    "owner": "Owner",
    "country_name": "Country",
    "state": "State or province",
    "site": "Site",
    "region": "Region",
    "category": "Category",
    "project_type": "Project type",
    "type_raw": "Type as the registry writes it",
    "scope": "Scope",
    "methodologies": "Methodologies",
    "methodology_raw": "Methodology as the registry writes it",
    "methodology_version": "Methodology version",
    "reduction_removal": "Reduction or removal",
    "listed_at": "Listed",
    "registered_at": "Registered",
    "crediting_start": "Crediting period starts",
    "crediting_end": "Crediting period ends",
    "first_vintage": "First vintage",
    "estimated_annual": "Estimated credits a year",
    "verifier": "Verifier",
    "sdgs": "Sustainable Development Goals",
    "corsia": "Eligible for CORSIA",
    "ccp": "ICVCM Core Carbon Principles label",
    "article6": "Authorised under Article 6",
    "corresponding_adjustment": "Corresponding adjustment",
    "is_compliance": "Compliance project",
    "compliance_id": "Compliance programme ID",
    "poa_id": "Programme of activities",
    "size_class": "Size",
    "website": "Website",
    "expected_annual": "Expected credits a year",
    "area_ha": "Area",
}
# A field as the registry writes it is shown only when it says more than the harmonised one
RAW_OF = {"status_raw": "status", "type_raw": "project_type", "methodology_raw": "methodologies"}
SIZE_WORDS = {"micro": "micro", "small": "small", "medium": "medium", "large": "large"}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


def _norm(v: object) -> str:
    if isinstance(v, (list, tuple)):
        v = " ".join(str(x) for x in v)
    return "".join(ch for ch in str(v or "").lower() if ch.isalnum())


def says_more(name: str, value: object, fields: dict[str, object]) -> bool:
    """A registry's own wording worth showing: it differs from the harmonised value beyond case and punctuation."""
    base = RAW_OF.get(name)
    return base is None or _norm(value) != _norm(fields.get(base))


def field_value(name: str, value: object) -> str:
    """A value in words and units: yes/no, thousands separators, dates without times."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if name == "registry":
        return f"{REGISTRY_NAMES.get(str(value), value)} ({value})"
    if name == "estimated_annual":
        try:
            return f"{round(float(value)):,} credits (tCO2e) a year"  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        return value[:10]  # an ISO timestamp: the day is what the registry means
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, int):
        return str(value) if name in ("first_vintage",) else f"{value:,}"
    return str(value)


def provenance(source: dict | None) -> str:
    """Where a value came from: the source by name and its row."""
    if not source:
        return ""
    name = source_label(source.get("source"))
    return f"{name}, row {source['row']:,}" if source.get("row") else name


TYPE_WORDS = {
    "issuance": ("issuance", "issuances"),
    "retirement": ("retirement", "retirements"),
    "cancellation": ("cancellation", "cancellations"),
    "conversion": ("conversion", "conversions"),
    "buffer_deposit": ("buffer deposit", "buffer deposits"),
}
TOTAL_WORDS = {
    "issued": "issued",
    "retired": "retired",
    "cancelled": "cancelled",
    "retired_or_cancelled": "retired or cancelled",
    "remaining": "remaining",
    "buffer": "in the buffer pool",
}


def _n(v: object) -> str:
    return "not stated apart" if v is None else f"{int(v):,}"  # type: ignore[call-overload]


def change_sentence(kind: str, detail: dict | None) -> str:
    """One change of a project, as a sentence ("Status changed from listed to registered.")."""
    d = detail or {}
    if kind == "new_project":
        status = f", status {d['status']}" if d.get("status") else ""
        return f"First seen in the registry data{status}."
    if kind == "status_changed":
        return f"Status changed from {d.get('from') or 'unknown'} to {d.get('to') or 'unknown'}."
    if kind == "new_events":
        parts = []
        for t, v in d.items():
            one, many = TYPE_WORDS.get(t, (t, t + "s"))
            parts.append(f"{v['count']:,} {one if v['count'] == 1 else many} ({v['quantity']:,} credits)")
        return "New in the registry: " + ", ".join(parts) + "."
    if kind == "totals_changed":
        parts = [
            f"{TOTAL_WORDS.get(k, k.replace('_', ' '))} went from {_n(old)} to {_n(new)}" for k, (old, new) in d.items()
        ]
        return "Totals changed: " + "; ".join(parts) + " credits."
    if kind == "event_retracted":
        return (
            f"{d.get('count', 0):,} event(s) of {d.get('quantity', 0):,} credits are no longer in the registry's"
            " newer export; they are kept in the history and no longer count."
        )
    if kind == "event_corrected":
        return f"{d.get('count', 0):,} event(s) were corrected in the registry's newer export."
    if kind == "project_delisted":
        return f"No longer listed in {source_label(d.get('source'))}."
    return kind.replace("_", " ").capitalize() + "."


JOB_WORDS = {"news": "News feeds", "folders": "Reload the data folders", "backup": "Database backup"}


def job_label(job: str) -> str:
    """A schedule's job or an alert's key in words ("refresh:verra" -> "Refresh of the Verra registry")."""
    kind, _, source = job.partition(":")
    if kind == "refresh" and source:
        return f"Refresh of the {source_name(source)}".replace("the the ", "the ")
    if kind == "stale" and source:
        return f"Freshness of the {source_name(source)}"
    return JOB_WORDS.get(job, job)
