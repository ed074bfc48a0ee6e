"""Helpers every subcommand shares: opening the store, errors, annotator names, JSON."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import click
import orjson

from schema.migrations import NewerDatabaseError
from schema.scheme import SchemeError
from schema.store import Store, StoreError


def fail(message: str) -> NoReturn:
    """Print `Error: message` on stderr and exit 1."""
    click.echo(f"Error: {message}", err=True)
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
        fail(f"cannot open database {path}: {exc.strerror or exc}")
    try:
        if store.backup is not None:
            click.echo(f"Upgraded the database; the previous version is kept at {store.backup}", err=True)
        yield store
    except (StoreError, SchemeError) as exc:
        fail(str(exc))
    finally:
        store.close()


def resolve_annotator(name: str | None) -> str:
    """--annotator NAME, else $NEWSMARK_ANNOTATOR, else the OS user."""
    if name:
        return name
    env = os.environ.get("NEWSMARK_ANNOTATOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers): fall back to a fixed name
        return "annotator"


def annotator_option(func):
    """The shared --annotator option."""
    return click.option(
        "--annotator",
        default=None,
        help="Your name as annotator (else $NEWSMARK_ANNOTATOR, else your OS user).",
    )(func)


def echo_json(document: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
