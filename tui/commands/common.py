"""Helpers every subcommand shares: opening the store, errors, annotator names, JSON."""

from __future__ import annotations

import codecs
import getpass
import io
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, NoReturn

import click
import orjson

from newsmark.schema.engines import shown_database
from newsmark.schema.migrations import NewerDatabaseError
from newsmark.schema.names import InvalidName, check_name
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.scheme import SchemeError
from newsmark.schema.store import Store, StoreError


def fail(message: str) -> NoReturn:
    """Print `Error: message` on stderr and exit 1. The message often quotes what the user
    or a file gave (names, paths, ids): it goes out through `for_terminal`, so no control
    or format character from it reaches the terminal."""
    click.echo(f"Error: {for_terminal(message)}", err=True)
    sys.exit(1)


@contextmanager
def open_store(ctx: click.Context, *, create: bool = True) -> Iterator[Store]:
    """Open the database named by --db / $NEWSMARK_DB, turning failures into `Error:` lines."""
    path = ctx.obj["db_path"]
    try:
        store = Store.open(path, create=create)
    except (StoreError, NewerDatabaseError, SchemeError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot open database {shown_database(path)}: {exc.strerror or exc}")
    except sqlite3.DatabaseError as exc:  # damage found past the header, while opening
        fail(database_fault(exc, path))
    try:
        if store.backup is not None:
            click.echo(f"Upgraded the database; the previous version is kept at {for_terminal(store.backup)}", err=True)
        yield store
    except (StoreError, SchemeError) as exc:
        fail(str(exc))
    except sqlite3.DatabaseError as exc:  # a fault of the disk or the file, met mid-command
        fail(database_fault(exc, path))
    finally:
        store.close()


def database_fault(exc: sqlite3.Error, path: object) -> str:
    """A clear sentence for a database failure the user can act on (the transaction it hit
    was rolled back, so nothing of it was saved)."""
    message = str(exc)
    lowered = message.lower()
    path = shown_database(path)
    if lowered.startswith("permission denied") or "row-level security" in lowered:
        return f"the server refused: your role may not do this on {path} ({message}); nothing was saved"
    if "server closed the connection" in lowered or "connection" in lowered and "lost" in lowered \
            or "terminating connection" in lowered:
        return f"the connection to {path} was lost ({message}): nothing of the unfinished change was saved; try again"
    if "disk is full" in lowered or "database or disk is full" in lowered:
        return f"the disk is full (or the database reached its size limit): nothing more could be saved to {path}; free some space and try again"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the database {path} is read-only (file or folder permissions, or a read-only disk): nothing could be saved"
    if "locked" in lowered or "busy" in lowered:
        return f"the database {path} is busy: another process kept it locked for writing too long; try again when it has finished"
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return f"{path} is damaged or not a newsmark database ({message}); restore it from a backup"
    if "unable to open" in lowered:
        return f"cannot open database {path} ({message}): check that its folder exists and is writable"
    if "disk i/o error" in lowered:
        return f"the disk failed while using {path} ({message})"
    return f"database error on {path}: {message}"


def resolve_annotator(name: str | None) -> str:
    """--annotator NAME, else $NEWSMARK_ANNOTATOR, else the OS user, checked by the one
    name rule (`check_name`, NFC-normalised); a name that breaks it fails with `Error:`
    saying where it came from."""
    if name is not None:
        source, raw = "--annotator", name
    elif os.environ.get("NEWSMARK_ANNOTATOR"):
        source, raw = "$NEWSMARK_ANNOTATOR", os.environ["NEWSMARK_ANNOTATOR"]
    else:
        try:
            source, raw = "your OS user name", getpass.getuser()
        except Exception:  # no passwd entry (containers): fall back to a fixed name
            return "annotator"
    try:
        return check_name(raw)
    except InvalidName as exc:
        hint = "" if name is not None else "; give one with --annotator NAME"
        fail(f"{source}: {exc}{hint}")


def check_annotator_option(ctx: click.Context, param: click.Parameter, value):
    """A click callback for options naming annotators (one name, several, or a pair):
    each goes through `check_name`, a broken one is a usage error (exit 2)."""
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else tuple(value)
    checked = []
    for raw in names:
        try:
            checked.append(check_name(raw))
        except InvalidName as exc:
            raise click.BadParameter(str(exc)) from None
    return checked[0] if isinstance(value, str) else tuple(checked)


def annotator_option(func):
    """The shared --annotator option."""
    return click.option(
        "--annotator",
        default=None,
        help="Your name as annotator (else $NEWSMARK_ANNOTATOR, else your OS user).",
    )(func)


class TerminalStream(io.RawIOBase):
    """A binary stream in front of a terminal: the UTF-8 written to it reaches `target`
    through `for_terminal` (newlines and tabs kept, `\\r\\n` as `\\n`), so a dataset printed
    on a terminal holds no raw escape. Pipes and files get the exact bytes instead (the
    caller decides). `close()` writes out what is held back (a `\\r` that may begin `\\r\\n`)."""

    def __init__(self, target: BinaryIO) -> None:
        super().__init__()
        self._target = target
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._held = ""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self._emit(self._decoder.decode(data))
        return len(data)

    def _emit(self, text: str, final: bool = False) -> None:
        text = self._held + text
        self._held = ""
        if text.endswith("\r") and not final:
            text, self._held = text[:-1], "\r"
        if text:
            self._target.write(for_terminal(text.replace("\r\n", "\n"), multiline=True).encode("utf-8"))

    def flush(self) -> None:
        self._target.flush()

    def close(self) -> None:
        if not self.closed:
            self._emit(self._decoder.decode(b"", final=True), final=True)
            self._target.flush()
        super().close()


def echo_json(document: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
