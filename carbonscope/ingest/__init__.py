"""Ingest: files -> parsers -> staged rows -> merged projects, ledger, totals, change feed (one transaction)."""

from carbonscope.ingest.pipeline import IngestReport, ingest

__all__ = ["IngestReport", "ingest"]
