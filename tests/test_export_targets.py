"""`newsmark export -o PATH` against every kind of target: a regular file is replaced
atomically, a symlink's target is written (the link stays), a FIFO, a device, a socket or
an open descriptor is written through and never replaced, a folder, the database itself
and an empty name are refused. Each case checks the bytes that arrive, the message, and
the database reopened (row counts, `PRAGMA integrity_check`)."""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmark.tui.cli import cli
from tests.test_export import rich_db  # noqa: F401 (a fixture)

TABLES = ("stories", "articles", "annotations", "labels", "claims", "gold", "gold_claims", "events")


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def counts(db_path: Path) -> dict[str, int]:
    """Row counts of the database's tables, after checking its integrity."""
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


def export_to(db_path: Path, target: str):
    """Run `newsmark export -o target`; the database must be whole and unchanged after."""
    before = counts(db_path)
    result = run("--db", str(db_path), "export", "-o", target)
    assert counts(db_path) == before
    return result


def hidden_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_regular_file_is_replaced_atomically_keeping_its_mode(rich_db, tmp_path):
    db_path, _, expected = rich_db
    out = tmp_path / "out.jsonl"
    out.write_text("old contents\n")
    out.chmod(0o640)
    inode = out.stat().st_ino
    result = export_to(db_path, str(out))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", f"Exported 5 records to {out}\n")
    assert out.read_bytes() == expected
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.stat().st_ino != inode  # a new file renamed into place, not rewritten in place
    assert hidden_files(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_replaced_by_root_keeps_its_owner(rich_db, tmp_path):
    db_path, _, expected = rich_db
    out = tmp_path / "alice.jsonl"
    out.write_text("old\n")
    os.chown(out, 4321, 4322)
    result = export_to(db_path, str(out))
    assert result.exit_code == 0, result.stderr
    assert (out.stat().st_uid, out.stat().st_gid) == (4321, 4322)
    assert out.read_bytes() == expected


def test_a_symlink_stays_a_link_and_its_target_holds_the_export(rich_db, tmp_path):
    db_path, _, expected = rich_db
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "real.jsonl"
    target.write_text("old\n")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(Path("data") / "real.jsonl")  # relative, as people make them
    result = export_to(db_path, str(link))
    assert (result.exit_code, result.stderr) == (0, f"Exported 5 records to {link}\n")
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "real.jsonl")
    assert target.read_bytes() == expected
    assert hidden_files(tmp_path) == [] and hidden_files(tmp_path / "data") == []


def test_a_dangling_symlink_gets_its_target_created(rich_db, tmp_path):
    db_path, _, expected = rich_db
    link = tmp_path / "link.jsonl"
    link.symlink_to(tmp_path / "new.jsonl")
    result = export_to(db_path, str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and (tmp_path / "new.jsonl").read_bytes() == expected


def _char_device(tmp_path: Path, name: str = "null", numbers: tuple[int, int] = (1, 3)) -> Path:
    """A character device to export to: as root, a twin of /dev/NAME made in tmp_path (so
    that code which replaces its target cannot harm the machine's /dev), else /dev/NAME."""
    if os.geteuid() == 0:
        device = tmp_path / name
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(*numbers))
        return device
    return Path("/dev") / name


def test_a_character_device_is_written_through_and_stays_a_device(rich_db, tmp_path):
    db_path, _, _ = rich_db
    device = _char_device(tmp_path)
    before = device.stat()
    result = export_to(db_path, str(device))
    assert (result.exit_code, result.stderr) == (0, f"Exported 5 records to {device}\n")
    after = device.stat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if device.parent == tmp_path:
        assert hidden_files(tmp_path) == []


def test_a_full_device_is_one_error_line(rich_db, tmp_path):
    db_path, _, _ = rich_db
    device = _char_device(tmp_path, "full", (1, 7))
    result = export_to(db_path, str(device))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: cannot write {device}: No space left on device\n"
    assert stat.S_ISCHR(device.stat().st_mode)


def test_a_fifo_receives_the_bytes(rich_db, tmp_path):
    db_path, _, expected = rich_db
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as reader:  # blocks until the export opens the other end
            received.append(reader.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    result = export_to(db_path, str(fifo))
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert (result.exit_code, result.stderr) == (0, f"Exported 5 records to {fifo}\n")
    assert received == [expected]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert hidden_files(tmp_path) == []


def test_a_unix_socket_receives_the_bytes(rich_db, tmp_path):
    db_path, _, expected = rich_db
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    received: list[bytes] = []

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
            received.append(b"".join(chunks))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = export_to(db_path, str(path))
        thread.join(timeout=30)
    finally:
        server.close()
    assert (result.exit_code, result.stderr) == (0, f"Exported 5 records to {path}\n")
    assert received == [expected]
    assert stat.S_ISSOCK(path.stat().st_mode)


def test_a_folder_is_an_error(rich_db, tmp_path):
    db_path, _, _ = rich_db
    folder = tmp_path / "out"
    folder.mkdir()
    result = export_to(db_path, str(folder))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: cannot write {folder}: it is a folder\n"
    assert folder.is_dir() and list(folder.iterdir()) == []
    link = tmp_path / "to-folder"
    link.symlink_to(folder)
    result = export_to(db_path, str(link))
    assert (result.exit_code, result.stderr) == (1, f"Error: cannot write {link}: it is a folder\n")
    assert link.is_symlink()


def test_an_empty_file_name_is_a_usage_error(rich_db, tmp_path, monkeypatch):
    db_path, _, _ = rich_db
    monkeypatch.chdir(tmp_path)
    result = export_to(db_path, "")
    assert result.exit_code == 2
    assert result.stderr.endswith("\nError: -o needs a file name (or - for stdout)\n")
    assert "Traceback" not in result.stderr and "busy" not in result.stderr


def test_the_database_itself_is_refused(rich_db):
    db_path, _, _ = rich_db
    for target in (str(db_path), str(db_path.parent / "." / db_path.name)):
        result = export_to(db_path, target)
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == f"Error: {target} is the database itself; export to another file\n"
    link = db_path.parent / "db-link"
    link.symlink_to(db_path)
    result = export_to(db_path, str(link))
    assert result.stderr == f"Error: {link} is the database itself; export to another file\n"


def test_a_hostile_file_name_reaches_the_terminal_written_out(rich_db, tmp_path):
    db_path, _, expected = rich_db
    name = "\x1b]0;pwned\x07\x1b[31mred\u202e.jsonl"
    out = tmp_path / name
    result = export_to(db_path, str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"Exported 5 records to {tmp_path}/\\x1b]0;pwned\\x07\\x1b[31mred\\u202e.jsonl\n"
    assert out.read_bytes() == expected
    missing = tmp_path / "no-such-folder" / name
    result = export_to(db_path, str(missing))
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert result.stderr == (
        f"Error: cannot write {tmp_path}/no-such-folder/\\x1b]0;pwned\\x07\\x1b[31mred\\u202e.jsonl: "
        "No such file or directory\n"
    )


def test_a_file_name_of_the_longest_allowed_length_is_written(rich_db, tmp_path):
    db_path, _, expected = rich_db
    out = tmp_path / ("n" * 249 + ".jsonl")  # 255 bytes: the temporary name must still fit
    result = export_to(db_path, str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == expected
    assert hidden_files(tmp_path) == []


def test_a_read_only_file_is_left_alone(rich_db, tmp_path):
    """A file the user may not write is refused, though its folder would allow replacing
    it (as root, with the capabilities that override permissions dropped)."""
    from tests.test_faults import permission_bits_bind

    db_path, _, _ = rich_db
    out = tmp_path / "keep.jsonl"
    out.write_text("keep me\n")
    out.chmod(0o444)
    result = subprocess.run(
        [*permission_bits_bind(), sys.executable, "-m", "newsmark.tui.cli", "--db", str(db_path), "export",
         "-o", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"Error: cannot write {out}: Permission denied\n"
    assert out.read_text() == "keep me\n" and stat.S_IMODE(out.stat().st_mode) == 0o444
    assert hidden_files(tmp_path) == []


def test_an_open_descriptor_is_written_through(rich_db, tmp_path):
    """`-o /dev/fd/1` (as `/dev/stdout`) writes into the file the shell opened."""
    db_path, _, expected = rich_db
    out = tmp_path / "captured.jsonl"
    with open(out, "wb") as stdout:
        result = subprocess.run(
            [sys.executable, "-m", "newsmark.tui.cli", "--db", str(db_path), "export", "-o", "/dev/fd/1"],
            stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        )
    assert (result.returncode, result.stderr) == (0, "Exported 5 records to /dev/fd/1\n")
    assert out.read_bytes() == expected
    assert hidden_files(tmp_path) == []
    # Into a pipe, through /proc (what /dev/stdout leads to; /dev/stdout itself is not used
    # here, so that code which replaces its target cannot harm the machine's /dev).
    piped = subprocess.run(
        [sys.executable, "-m", "newsmark.tui.cli", "--db", str(db_path), "export", "-o", "/proc/self/fd/1"],
        capture_output=True, cwd=tmp_path,
    )
    assert (piped.returncode, piped.stdout) == (0, expected)
