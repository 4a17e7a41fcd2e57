"""Database layer: schema (SQLAlchemy Core), engine, Alembic migrations."""

from carbonscope.db.engine import get_engine, make_engine
from carbonscope.db.schema import metadata

__all__ = ["get_engine", "make_engine", "metadata"]
