"""Faults of the disk and the database file, at the command line: a read-only database,
a full disk, a database from a newer newsmark, a corrupt or truncated file. Each ends in
one `Error: …` line on stderr and exit code 1 (or, for `import`, a rejection naming the
file), never a traceback; the database is still whole afterwards.

CI runs as root, where chmod alone does not stop writes: the read-only case is tested
with `PRAGMA query_only` (SQLite then refuses writes exactly as for a read-only file), and
the real chmod case runs the CLI without root's permission-overriding capabilities. A full disk is simulated with
`PRAGMA max_page_count` (SQLite then fails with SQLITE_FULL, as on a full disk).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from newsmark.schema.migrations import CURRENT_VERSION
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store
from newsmark.tui.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
NEWSMARK = Path(sys.executable).with_name("newsmark")


def run(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=True)


def assert_clean_error(result, *fragments: str) -> str:
    """Exit 1, one `Error:` line on stderr naming the fragments, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, (result.exit_code, result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def records_file(path: Path, count: int) -> Path:
    """`count` annotation records of new articles (with text), as a teammate exports them."""
    lines = []
    for k in range(count):
        text = f"Article {k}. " + "Words of a longer text that fills the pages of the database. " * 20
        lines.append(orjson.dumps({
            "schema_version": 1,
            "article": {"id": article_id_for(text), "story_id": "s", "source": None, "url": None, "title": None,
                        "byline": None, "published": None, "text_sha256": text_sha256(text), "text": text},
            "story": {"id": "s", "title": "S", "proposition": "P"},
            "annotator": "alice", "labels": {"stance": "agree"}, "claims": [], "note": None, "flagged": False,
            "updated_at": "2026-11-21T10:00:00Z",
        }))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "seeded.db"
    assert run(db, "import", str(SEEDS)).exit_code == 0
    return db


def with_pragma(monkeypatch, pragma: str) -> None:
    """Every Store.open from now on runs `pragma` on its connection after opening."""
    real = Store.open.__func__

    def open_then(cls, *args, **kwargs):
        store = real(cls, *args, **kwargs)
        if pragma.startswith("PRAGMA max_page_count"):
            pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
            store.conn.execute(f"PRAGMA max_page_count = {pages}")
        else:
            store.conn.execute(pragma)
        return store

    monkeypatch.setattr(Store, "open", classmethod(open_then))


# --- read-only ----------------------------------------------------------------------------


def test_read_only_database_load_annotations(seeded, tmp_path, monkeypatch):
    with_pragma(monkeypatch, "PRAGMA query_only = ON")
    result = run(seeded, "load-annotations", str(records_file(tmp_path / "r.jsonl", 3)))
    assert_clean_error(result, "read-only", str(seeded))
    monkeypatch.undo()
    assert integrity(seeded) == "ok"


def test_read_only_database_import_names_each_file(seeded, tmp_path, monkeypatch):
    with_pragma(monkeypatch, "PRAGMA query_only = ON")
    (tmp_path / "new.txt").write_text("A new title\nA new text.\n")
    result = run(seeded, "import", str(tmp_path / "new.txt"))
    assert result.exit_code == 1
    assert result.stdout == "Imported 0 articles (0 duplicates, 1 rejected) into 0 stories\n"
    assert "readonly database" in result.stderr and "Traceback" not in result.stderr


def test_read_only_database_reading_commands_still_work(seeded, monkeypatch):
    with_pragma(monkeypatch, "PRAGMA query_only = ON")
    assert run(seeded, "status", "--json").exit_code == 0
    assert run(seeded, "export", "-o", "-").exit_code == 0


def test_read_only_database_init_scheme(seeded, tmp_path, monkeypatch):
    with_pragma(monkeypatch, "PRAGMA query_only = ON")
    scheme = (ROOT / "schema" / "default_scheme.toml").read_text()
    (tmp_path / "scheme.toml").write_text(scheme)
    result = run(seeded, "init", "--scheme", str(tmp_path / "scheme.toml"))
    assert_clean_error(result, "read-only")


def permission_bits_bind() -> list[str]:
    """A command prefix under which file permissions bind: as root, drop the capabilities
    that let root write anything (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to test permissions as root"
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]


def test_chmod_read_only_file_and_folder(seeded, tmp_path):
    folder = seeded.parent
    for suffix in ("-wal", "-shm"):
        Path(str(seeded) + suffix).unlink(missing_ok=True)
    records = records_file(tmp_path.parent / "r.jsonl", 2)
    before = seeded.read_bytes()
    seeded.chmod(0o444)
    folder.chmod(0o555)
    try:
        result = subprocess.run(
            [*permission_bits_bind(), str(NEWSMARK), "--db", str(seeded), "load-annotations", str(records)],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
        )
    finally:
        folder.chmod(0o755)
        seeded.chmod(0o644)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr == f"Error: the database {seeded} is read-only (file or folder permissions, or a read-only disk): nothing could be saved\n"
    assert seeded.read_bytes() == before


# --- a full disk ------------------------------------------------------------------------


def test_full_disk_load_annotations(seeded, tmp_path, monkeypatch):
    with_pragma(monkeypatch, "PRAGMA max_page_count")
    before = run(seeded, "status", "--json").stdout
    result = run(seeded, "load-annotations", str(records_file(tmp_path / "big.jsonl", 300)))
    assert_clean_error(result, "disk is full", str(seeded))
    monkeypatch.undo()
    assert integrity(seeded) == "ok"
    assert run(seeded, "status", "--json").stdout == before  # the failed batch left nothing


@pytest.mark.parametrize("pipelined", [False, True], ids=["in-process", "forked-reader"])
def test_full_disk_import_names_the_file(seeded, tmp_path, monkeypatch, pipelined):
    import newsmark.schema.ingest as ingest

    if pipelined:  # the path big files take (read in a forked child)
        monkeypatch.setattr(ingest, "PIPELINE_BYTES", 1)
    with_pragma(monkeypatch, "PRAGMA max_page_count")
    lines = [orjson.dumps({"text": f"Row {k}. " + "Long text of a row. " * 50}) for k in range(500)]
    (tmp_path / "big.jsonl").write_bytes(b"\n".join(lines))
    result = run(seeded, "import", str(tmp_path / "big.jsonl"), "--story", "big")
    assert result.exit_code == 1
    assert "database or disk is full" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.undo()
    assert integrity(seeded) == "ok"
    again = run(seeded, "import", str(tmp_path / "big.jsonl"), "--story", "big")
    assert again.stdout == "Imported 500 articles (0 duplicates, 0 rejected) into 1 story\n"


def test_full_disk_as_the_console_script(seeded, tmp_path):
    """The same through `newsmark` itself (tui.cli.main), in a process of its own."""
    script = textwrap.dedent(f"""
        import sys
        from newsmark.schema.store import Store
        real = Store.open.__func__
        def open_then(cls, *a, **k):
            store = real(cls, *a, **k)
            pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
            store.conn.execute(f"PRAGMA max_page_count = {{pages}}")
            return store
        Store.open = classmethod(open_then)
        sys.argv = ["newsmark", "--db", {str(seeded)!r}, "load-annotations", {str(records_file(tmp_path / "b.jsonl", 300))!r}]
        from newsmark.tui.cli import main
        main()
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: the disk is full"), done.stderr
    assert "Traceback" not in done.stderr


# --- a database from a newer newsmark ---------------------------------------------------------


def test_newer_database(seeded):
    conn = sqlite3.connect(seeded)
    conn.execute(f"PRAGMA user_version = {CURRENT_VERSION + 5}")
    conn.close()
    for args in (("status",), ("export", "-o", "-"), ("import", str(SEEDS)), ("agreement",)):
        result = run(seeded, *args)
        assert_clean_error(result, f"schema version {CURRENT_VERSION + 5}", "newer")
    conn = sqlite3.connect(seeded)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION + 5  # untouched
    conn.close()


# --- corrupt files ----------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed-middle", "empty-header"])
@pytest.mark.parametrize("args", [("status",), ("export", "-o", "-"), ("import", "seeds"), ("agreement", "--json")])
def test_corrupt_database(tmp_path, seeded, damage, args):
    db = tmp_path / f"{damage}.db"
    data = seeded.read_bytes()
    if damage == "garbage":
        db.write_bytes(os.urandom(8192))
    elif damage == "truncated":
        db.write_bytes(data[: len(data) // 3])
    elif damage == "zeroed-middle":
        db.write_bytes(data[:4096] + b"\x00" * 8192 + data[4096 + 8192:])
    else:
        db.write_bytes(b"SQLite format 3\x00" + os.urandom(84) + data[100:])
    args = tuple(str(SEEDS) if a == "seeds" else a for a in args)
    result = run(db, *args)
    if result.exit_code == 0:
        # Some damage leaves what this command reads intact; then it must really be fine.
        assert "Traceback" not in result.output
        return
    if args[0] == "import" and result.stdout.startswith("Imported"):
        assert "Traceback" not in result.stderr  # files refused one by one, with reasons
        return
    assert_clean_error(result, str(db))
