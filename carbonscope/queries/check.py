"""The reconciliation and data-quality report of ``carbonscope check``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from carbonscope.db.schema import ingest_warnings, projects, reconciliation, source_files
from carbonscope.registry import vocab

KINDS = (
    "retired_exceeds_issued",
    "incomplete_ledger",
    "reconciliation",
    "unmapped_methodology",
    "unknown_type",
    "unknown_country",
    "ingest_warning",
    "beneficiaries",
)


def findings(conn: Connection, *, registry: str | None = None, warnings_limit: int = 200) -> list[dict]:
    """Every finding as ``{"kind", "project", "registry", "detail"}``; differences are listed, never fixed."""
    p = projects
    where = [p.c.registry == registry] if registry else []
    out: list[dict] = []
    q = select(
        p.c.id, p.c.registry, p.c.issued, p.c.retired, p.c.cancelled, p.c.retired_or_cancelled, p.c.totals_rules
    ).where(p.c.retired_or_cancelled > p.c.issued, *where)
    for pid, reg, iss, ret, can, roc, rules in conn.execute(q.order_by(p.c.id)):
        basis = _basis(rules or {})
        if basis is None:
            # Issued and retired come from different sources, or from a ledger that lacks the
            # issuances of the credits it retires: that is no evidence against the registry.
            out.append(
                {
                    "kind": "incomplete_ledger",
                    "project": pid,
                    "registry": reg,
                    "detail": _incomplete_text(rules or {}, iss, roc),
                }
            )
            continue
        out_txt = (
            f"retired {ret:,} + cancelled {can:,}"
            if ret is not None and can is not None
            else f"retired or cancelled {roc:,}"
        )
        out.append(
            {
                "kind": "retired_exceeds_issued",
                "project": pid,
                "registry": reg,
                "detail": f"{out_txt} > issued {iss:,} (issued from {_rule_text((rules or {}).get('issued'))}, "
                f"retired from {_rule_text((rules or {}).get('retired_or_cancelled'))})",
            }
        )
    r = reconciliation
    q = select(r.c.project_id, p.c.registry, r.c.source, r.c.metric, r.c.stated, r.c.computed, r.c.difference).join(
        p, p.c.id == r.c.project_id
    )
    for pid, reg, src, metric, st, comp, d in conn.execute(
        q.where(*where).order_by(r.c.project_id, r.c.source, r.c.metric)
    ):
        out.append(
            {
                "kind": "reconciliation",
                "project": pid,
                "registry": reg,
                "detail": f"{src} states {metric} {st:,}; CarbonScope has {comp:,} (difference {d:+,})",
            }
        )
    known = vocab.known_codes()
    q = (
        select(
            p.c.id,
            p.c.registry,
            p.c.methodology_raw,
            p.c.methodologies,
            p.c.project_type,
            p.c.type_raw,
            p.c.country,
            p.c.country_raw,
        )
        .where(*where)
        .order_by(p.c.id)
    )
    row: Any
    for row in conn.execute(q):
        pid, reg, raw, codes, ptype, type_raw, country, country_raw = row
        if raw and not vocab.is_no_methodology(raw):
            unknown = [c for c in (codes or []) if c not in known]
            if not codes or unknown:
                out.append(
                    {
                        "kind": "unmapped_methodology",
                        "project": pid,
                        "registry": reg,
                        "detail": f"{raw!r}"
                        + (f" (codes without a rule: {', '.join(unknown)})" if unknown else " (no code recognised)"),
                    }
                )
        if ptype is None:
            out.append(
                {
                    "kind": "unknown_type",
                    "project": pid,
                    "registry": reg,
                    "detail": f"no type from methodology {raw!r} or registry type {type_raw!r}",
                }
            )
        if country is None and country_raw:
            out.append(
                {
                    "kind": "unknown_country",
                    "project": pid,
                    "registry": reg,
                    "detail": f"country {country_raw!r} not recognised",
                }
            )
    if registry is None:
        from carbonscope.queries.analytics import beneficiary_groups

        groups, cover = beneficiary_groups(conn)
        if cover["quantity"]:
            merged = cover["spellings"] - cover["groups"]
            out.append(
                {
                    "kind": "beneficiaries",
                    "project": None,
                    "registry": None,
                    "detail": (
                        f"{100 * cover['named_share']:.1f}% of {cover['quantity']:,} retired credits name a beneficiary "
                        f"({cover['groups']:,} organisations from {cover['spellings']:,} spellings, {merged:,} merged); "
                        f"{cover['undisclosed_quantity']:,} undisclosed, {cover['not_a_name_quantity']:,} with a note instead of a name"
                    ),
                }
            )
        w, f = ingest_warnings, source_files
        q = (
            select(f.c.path, w.c.row, w.c.column, w.c.message)
            .join(f, f.c.id == w.c.file_id)
            .order_by(w.c.id.desc())
            .limit(warnings_limit)
        )
        warning: Any
        for warning in conn.execute(q):
            path, row_n, col, msg = warning
            parts: list[str | None] = [path, f"row {row_n}" if row_n else None, f"column {col!r}" if col else None]
            where_txt = ", ".join(x for x in parts if x)
            out.append({"kind": "ingest_warning", "project": None, "registry": None, "detail": f"{where_txt}: {msg}"})
    return out


def _basis(rules: dict) -> str | None:
    """The one source both issued and retired-or-cancelled come from, else None."""
    i, r = rules.get("issued") or {}, rules.get("retired_or_cancelled") or {}
    if i.get("rule") == r.get("rule") == "stated" and i.get("source") == r.get("source"):
        return i["source"]
    if i.get("rule") == r.get("rule") == "ledger" and not i.get("why") and i.get("value", 0) > 0:
        return "events"
    return None


def _incomplete_text(rules: dict, issued: int, roc: int) -> str:
    return (
        f"retired or cancelled {roc:,} > issued {issued:,}, but issued comes from {_rule_text(rules.get('issued'))} and retired from "
        f"{_rule_text(rules.get('retired_or_cancelled'))}: the event list lacks issuances, so this is not a finding against the registry"
    )


def _rule_text(rule: dict | None) -> str:
    if not rule or rule.get("rule") == "none":
        return "no source"
    return "the event ledger" if rule["rule"] == "ledger" else f"{rule['source']} (row {rule.get('row')})"


def summary(items: list[dict]) -> dict[str, dict[str, int]]:
    """Counts of findings by kind and registry."""
    out: dict[str, dict[str, int]] = {}
    for it in items:
        out.setdefault(it["kind"], {}).setdefault(it["registry"] or "-", 0)
        out[it["kind"]][it["registry"] or "-"] += 1
    return out
