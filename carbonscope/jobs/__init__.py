"""Jobs: the work a person, a schedule or a worker starts, as plain functions of (settings, engine,
progress). The CLI calls them, the web app's housekeeping calls them, and the scheduler and the
background workers of the analyses will. Each long job runs under a named lock (``locks.py``)
so two copies never run at once."""

from carbonscope.jobs.export import export_list
from carbonscope.jobs.housekeeping import deliver_mail, housekeeping
from carbonscope.jobs.ingest import ingest_files, snapshot_hooks
from carbonscope.jobs.news import refresh_news
from carbonscope.jobs.refresh import refresh_registries

__all__ = [
    "deliver_mail",
    "export_list",
    "housekeeping",
    "ingest_files",
    "refresh_news",
    "refresh_registries",
    "snapshot_hooks",
]
