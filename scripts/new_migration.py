"""Developer tool: autogenerate an Alembic revision from carbonscope.db.schema.

Usage: python scripts/new_migration.py "message" REV_ID
It builds a scratch SQLite database at head, diffs it against the schema and writes
carbonscope/db/migrations/versions/<REV_ID>_<message>.py. Review the file before committing.
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from carbonscope.db.engine import make_engine
from carbonscope.db.migrate import alembic_config, upgrade

message, rev_id = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as tmp:
    engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
    upgrade(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
