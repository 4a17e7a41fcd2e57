"""Typed settings in one place, read from ``CARBONSCOPE_*`` environment variables.

Call :func:`get_settings` (cached) rather than building settings at import time, so that
tests can change the environment and call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "carbonscope"


# Public carbon-market news feeds read by `carbonscope news refresh` unless settings name others:
# English first (the registries' language), carbon-market desks before general climate news.
# Items in other languages are kept and labelled with their detected language (news.language).
DEFAULT_NEWS_FEEDS = (
    "https://carbon-pulse.com/category/voluntary/vcm-developments/feed/",
    "https://carbon-pulse.com/category/voluntary/vcm-governance/feed/",
    "https://carbon-pulse.com/category/nature-based-carbon/feed/",
    "https://carbon-pulse.com/category/co2-management/engineered-removals/feed/",
    "https://carbon-pulse.com/category/international/paris-article-6/feed/",
    "https://carboncredits.com/feed/",
    "https://carbonmarketwatch.org/feed/",
    "https://www.clearbluemarkets.com/knowledge-base/rss.xml",
    "https://www.carbonbrief.org/feed/",
    "https://www.climatechangenews.com/feed/",
)


# Registry refreshes staggered through the night (UTC); Gold Standard forbids automated downloads
DEFAULT_SCHEDULES = {
    "refresh:verra": "0 2 * * *",
    "refresh:american-carbon-registry": "20 2 * * *",
    "refresh:climate-action-reserve": "40 2 * * *",
    "refresh:art-trees": "0 3 * * *",
    "news": "15 * * * *",
    "backup": "30 3 * * *",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARBONSCOPE_", extra="ignore")

    env: str = Field("development", description="development, test or production")
    data_dir: Path = Field(
        default_factory=_default_data_dir, description="where the SQLite file, raw downloads and uploads live"
    )
    database_url: str | None = Field(None, description="SQLAlchemy URL; default is a SQLite file in data_dir")
    redis_url: str | None = Field(None, description="Redis URL for the shared cache; in-process cache when unset")
    registries_dir: Path | None = Field(
        None, description="folder of registry exports that `carbonscope ingest` reads when given no paths"
    )
    secret_key: str | None = Field(
        None,
        description="signs session cookies, CSRF tokens and page slots; unset: a random key kept in data_dir/secret_key (refused in production)",
    )

    # Polite downloading
    user_agent: str = "CarbonScope/0.1 (+https://github.com/carbonscope/carbonscope; open registry data hub)"
    http_timeout: float = 60.0
    http_retries: int = 4
    http_backoff: float = 1.0
    http_min_interval: float = 1.0  # seconds between requests to the same host

    # Registry export endpoints (overridable; tests point them at a local server)
    verra_base_url: str = "https://registry.verra.org"
    acr_base_url: str = "https://acr2.apx.com"
    car_base_url: str = "https://thereserve2.apx.com"
    art_base_url: str = "https://art.apx.com"

    # Accounts and community
    secure_cookies: bool = Field(False, description="mark cookies Secure (set behind HTTPS)")
    session_days: int = 14
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_window_minutes: int = 15
    argon2_time_cost: int = 3  # argon2-cffi's RFC 9106 "low memory" profile by default
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    signups_per_address_per_hour: int = Field(5, description="new accounts one client address may open in an hour")
    verify_hours: int = Field(48, description="how long an address-confirmation link stays valid")
    max_document_bytes: int = 10 * 1024 * 1024
    max_boundary_bytes: int = 5 * 1024 * 1024
    max_documents_per_proposal: int = 20
    max_proposal_document_bytes: int = Field(100 * 1024 * 1024, description="all documents of one proposal together")
    login_attempts_keep_days: int = Field(30, description="sign-in attempts older than this are pruned")
    housekeeping_minutes: int = Field(
        60, description="the web app prunes expired rows and sends queued mail this often (0: off)"
    )
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "CarbonScope <no-reply@carbonscope.local>"
    site_url: str = "http://127.0.0.1:8000"
    basemap_url: str | None = Field(
        None,
        description="tile URL of a base map under site and project maps, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        " (unset: Natural Earth country borders only, which work offline)",
    )
    basemap_attribution: str = Field("© OpenStreetMap contributors", description="credit shown on the base map")
    news_feeds: list[str] = Field(
        default_factory=lambda: list(DEFAULT_NEWS_FEEDS),
        description="RSS/Atom feed URLs for `carbonscope news refresh` (default: public carbon-market feeds, English)",
    )

    # Carbon analyst
    stac_url: str = Field(
        "https://earth-search.aws.element84.com/v1",
        description="STAC API or static catalog for layers loaded from STAC",
    )

    # Analyses (background jobs on a boundary)
    queue_url: str | None = Field(
        None,
        description="task queue broker: redis://..., amqp://... (RabbitMQ); unset: a SQLite file beside the data (data_dir/queue.sqlite)",
    )
    queue_name: str = Field("analyses", description="the queue analyses go to (several sites can share a broker)")
    analysis_worker_nice: int = Field(
        19, ge=0, le=19, description="analysis workers run at this lower CPU priority, so the site stays responsive"
    )
    embedded_worker: bool = Field(True, description="`carbonscope serve` starts one analysis worker beside the site")
    data_folders: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="folders whose files analyses may read as layers (a layer path outside them is refused)",
    )
    # Operations: schedules, checks on downloads, alerts, backups (carbonscope/ops)
    schedules: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SCHEDULES),
        description="job -> cron schedule (UTC), run by `carbonscope scheduler` (or by `serve` with"
        " scheduler_embedded): refresh:<registry>, news, folders (re-ingest ingest_folders), backup",
    )
    scheduler_embedded: bool = Field(False, description="`carbonscope serve` runs the schedules beside the site")
    schedules_via_queue: bool = Field(
        False, description="the scheduler hands due runs to the queue's workers instead of running them itself"
    )
    metrics_enabled: bool = Field(True, description="count requests for /metrics (Prometheus)")
    log_json: bool = Field(False, description="log one JSON object per line, with each request's ID")
    ingest_folders: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="registry export folders the `folders` schedule re-ingests (new or changed files only)",
    )
    news_folders: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="news dump folders the `folders` schedule loads"
    )
    max_shrink_share: float = Field(
        0.5, ge=0, le=1, description="a download with this share fewer rows than the last good file is refused"
    )
    stale_days: float = Field(3.0, gt=0, description="a scheduled registry not refreshed for this long raises an alert")
    alert_emails: Annotated[list[str], NoDecode] = Field(default_factory=list, description="who gets alerts by e-mail")
    alert_webhook_url: str | None = Field(None, description="a webhook for alerts (JSON POST, Slack-compatible)")
    alert_reminder_hours: float = Field(24.0, gt=0, description="a failure still failing is reminded this often")
    backup_dir: Path | None = Field(
        None, description="where `db backup` and the backup schedule write; unset: data_dir/backups"
    )
    backup_keep: int = Field(7, ge=1, description="backups kept by the schedule (older ones are deleted)")
    raw_mirror_url: str | None = Field(
        None, description="a folder or fsspec URL (s3://bucket/raw) the raw downloads are mirrored to by the backup job"
    )
    data_sources_file: Path | None = Field(
        None, description="a TOML file of named data sources (layers by role), added to the built-in ones"
    )
    results_url: str | None = Field(
        None, description="where result folders are kept: an fsspec URL (s3://bucket/prefix); unset: data_dir/analyses"
    )
    dask_address: str | None = Field(None, description="a dask.distributed scheduler for raster work; unset: local")
    analysis_max_area_ha: float = Field(2_000_000.0, description="the largest boundary one analysis may cover (ha)")
    analysis_max_active_per_user: int = Field(2, description="analyses one person may have queued or running at once")
    analysis_max_upload_bytes: int = Field(
        200 * 1024 * 1024, description="uploaded layers and boundary of one analysis together"
    )
    analysis_max_pixels: int = Field(400_000_000, description="the most raster cells one analysis may read per layer")
    analysis_heartbeat_seconds: float = Field(5.0, description="a running analysis says it is alive this often")
    analysis_stale_seconds: float = Field(
        60.0, description="a running analysis silent for this long has lost its worker: it is marked failed"
    )

    # Web
    rate_limit_per_minute: int = 600
    forwarded_allow_ips: str | None = Field(
        None,
        description="proxies (addresses or networks, comma-separated) whose X-Forwarded-For gives the client address; unset: the socket's address",
    )
    hsts_seconds: int = Field(
        0, description="send Strict-Transport-Security with this max-age (set behind HTTPS, e.g. 31536000)"
    )
    exports_at_once: int = Field(
        2, description="file exports (CSV, Excel, Parquet) prepared at the same time per process; more wait with 503"
    )
    cache_ttl_seconds: int = 300

    @field_validator("basemap_url")
    @classmethod
    def _tile_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        from urllib.parse import urlsplit

        if urlsplit(v).scheme not in ("https", "http") or not all(k in v for k in ("{z}", "{x}", "{y}")):
            raise ValueError("a base map URL is http(s) and holds {z}, {x} and {y}")
        return v

    @field_validator("ingest_folders", "news_folders", "alert_emails", mode="before")
    @classmethod
    def _comma_list(cls, v):
        return [x.strip() for x in v.split(",") if x.strip()] if isinstance(v, str) else v

    @field_validator("schedules")
    @classmethod
    def _cron(cls, v: dict[str, str]) -> dict[str, str]:
        from apscheduler.triggers.cron import CronTrigger

        for job, expr in v.items():
            try:
                CronTrigger.from_crontab(expr)
            except ValueError as exc:
                raise ValueError(f"schedule {job!r}: {expr!r} is not a cron expression ({exc})") from exc
        return v

    @field_validator("data_folders", mode="before")
    @classmethod
    def _folders(cls, v):
        if isinstance(v, str):  # CARBONSCOPE_DATA_FOLDERS=/a:/b (os.pathsep) or a JSON list
            v = v.strip()
            return json.loads(v) if v.startswith("[") else [x for x in v.split(os.pathsep) if x]
        return v

    @field_validator("data_dir", mode="before")
    @classmethod
    def _expand(cls, v):
        return Path(os.path.expanduser(str(v))) if v is not None else v

    @model_validator(mode="after")
    def _refuse_a_weak_secret(self):
        if self.secret_key is not None and len(self.secret_key) < 16:
            raise ValueError("CARBONSCOPE_SECRET_KEY must be at least 16 characters (use a random value)")
        if self.env == "production" and self.secret_key is None:
            raise ValueError("CARBONSCOPE_SECRET_KEY must be set to a random value in production")
        return self

    def with_secret(self) -> Settings:
        """These settings with a signing key: the configured one, else a random key created once in
        ``data_dir/secret_key`` (mode 0600) and reused, so no install signs with a key anyone knows."""
        if self.secret_key:
            return self
        import secrets

        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return self.model_copy(update={"secret_key": path.read_text().strip()})

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'carbonscope.db'}"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def effective_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def analyses_dir(self) -> Path:
        return self.data_dir / "analyses"

    @property
    def effective_queue_url(self) -> str:
        return self.queue_url or f"sqla+sqlite:///{self.data_dir / 'queue.sqlite'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
