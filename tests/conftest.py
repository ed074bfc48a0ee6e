"""Shared fixtures: a fresh database, the seeds, and the real corpora in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmark.schema.store import Store

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"


ENGINES = ("sqlite", "postgresql")


def _new_database(engine: str, request, tmp_path: Path) -> Path | str:
    """An SQLite file's path (not created yet), or the URL of a new empty PostgreSQL
    database on the test server (tests/pg_server.py; skipped saying why where there is
    none, never under $CI)."""
    if engine == "postgresql":
        return request.getfixturevalue("pg_database").url()
    return tmp_path / "test.db"


@pytest.fixture
def db_path(request, tmp_path: Path) -> Path | str:
    """Where a test's database lives: an SQLite file, or in a module that sets
    `ON_BOTH_ENGINES = True`, each engine in turn."""
    return _new_database(getattr(request, "param", "sqlite"), request, tmp_path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the tests of a module that says `ON_BOTH_ENGINES = True` on SQLite and on PostgreSQL."""
    # (An SVG snapshot compares what is drawn, which the engine does not change: once.)
    if "snap_compare" in metafunc.fixturenames:
        return
    if "db_path" in metafunc.fixturenames and getattr(metafunc.module, "ON_BOTH_ENGINES", False):
        metafunc.parametrize("db_path", ENGINES, indirect=True)


@pytest.fixture(params=ENGINES)
def database(request, tmp_path: Path) -> str:
    """Where a test's database lives, on each engine in turn (as `--db` takes it)."""
    return str(_new_database(request.param, request, tmp_path))


@pytest.fixture
def store(database: str):
    """A fresh, empty store with the default scheme, on each engine in turn."""
    with Store.open(database) as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path: Path):
    """A fresh SQLite store, for what only SQLite has (its file, WAL, PRAGMAs)."""
    with Store.open(tmp_path / "test.db") as opened:
        yield opened


@pytest.fixture
def pg_store(pg_database):
    """A fresh PostgreSQL store, for what only PostgreSQL has (MVCC, roles, NOTIFY)."""
    with Store.open(pg_database.url()) as opened:
        yield opened


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: a user's clone has no ../shared."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only the developers' checkouts have it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server (tests/pg_server.py says which), or skip saying why there
    is none; under $CI a missing server fails instead."""
    from tests.pg_server import Unavailable, skip_or_fail, start_server

    try:
        server = start_server()
    except Unavailable as exc:
        skip_or_fail(str(exc))
    yield server
    server.stop()


@pytest.fixture
def pg_database(pg_server):
    """A new empty database on the test server, dropped afterwards with its roles."""
    with pg_server.database() as database:
        yield database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the SVG snapshot tests `snapshot`: CI's run against the lowest allowed versions
    leaves them out (Textual releases render differently), the main run keeps them."""
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.snapshot)
