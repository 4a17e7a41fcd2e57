"""Write transactions on SQLite take turns across processes through a lock file."""

import threading

from carbonscope.db import engine as db_engine


def test_short_writers_queue_on_the_lock_file(tmp_path):
    # flock locks belong to open files, so two threads opening the lock file contend like two processes
    database = str(tmp_path / "x.db")
    events: list[str] = []
    held = threading.Event()

    def first():
        with db_engine._file_lock(database):
            events.append("first holds")
            held.set()
            threading.Event().wait(0.2)
            events.append("first releases")

    t = threading.Thread(target=first)
    t.start()
    held.wait()
    with db_engine._file_lock(database):
        events.append("second holds")
    t.join()
    assert events == ["first holds", "first releases", "second holds"]


def test_write_takes_the_lock_file_except_for_long_transactions(tmp_path):
    engine = db_engine.make_engine(f"sqlite:///{tmp_path / 'y.db'}")
    with db_engine.write(engine) as tx:
        tx.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    assert (tmp_path / "y.db-writer").exists()
    (tmp_path / "y.db-writer").unlink()
    with db_engine.write(engine, long=True) as tx:
        tx.exec_driver_sql("INSERT INTO t VALUES (1)")
    assert not (tmp_path / "y.db-writer").exists()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM t").scalar() == 1
    engine.dispose()


def test_migrations_build_exactly_the_declared_schema(tmp_path):
    """Alembic's autogenerate finds nothing to add or drop after the migrations ran."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from carbonscope.db import migrate
    from carbonscope.db.schema import metadata

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    structural = [
        d for d in diff if not (isinstance(d, list) or d[0] in ("modify_nullable", "modify_type", "modify_default"))
    ]
    assert structural == []


def test_a_second_long_writer_waits_for_the_first_and_says_so(tmp_path):
    import threading

    from carbonscope.db.engine import make_engine, write

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    told, order = [], []
    first_in = threading.Event()
    release = threading.Event()

    def first():
        with write(engine, long=True) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            first_in.set()
            release.wait(10)
            order.append("first done")

    t = threading.Thread(target=first)
    t.start()
    first_in.wait(10)
    other = make_engine(f"sqlite:///{tmp_path / 'w.db'}")  # another process's engine: the lock file is what they share

    def second():
        with write(other, long=True, on_wait=lambda: (told.append("waiting"), release.set())) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
            order.append("second done")

    s = threading.Thread(target=second)
    s.start()
    s.join(20)
    t.join(20)
    assert told == ["waiting"] and order == ["first done", "second done"]
    with engine.connect() as conn:
        assert [r[0] for r in conn.exec_driver_sql("SELECT x FROM t ORDER BY x")] == [1, 2]
