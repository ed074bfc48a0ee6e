"""`newsmark init [--scheme FILE]`: create a database, or replace its scheme."""

from __future__ import annotations

from pathlib import Path

import click

from newsmark.schema.sanitize import for_terminal
from newsmark.schema.scheme import SchemeError, load_scheme
from newsmark.tui.commands.common import fail, open_store


@click.command("init")
@click.option("--scheme", "scheme_path", type=click.Path(dir_okay=False), help="An annotation scheme (TOML).")
@click.pass_context
def command(ctx: click.Context, scheme_path: str | None) -> None:
    """Create the database (idempotent); with --scheme, set its annotation scheme."""
    scheme_text = None
    if scheme_path:
        try:
            load_scheme(scheme_path)  # validate before touching the database
        except SchemeError as exc:
            fail(str(exc))
        scheme_text = Path(scheme_path).read_text(encoding="utf-8")
    with open_store(ctx) as store:
        if scheme_text is not None:
            store.set_scheme(scheme_text, scheme_path)
        fields = ", ".join(f.name for f in store.scheme.fields)
        click.echo(for_terminal(f"Database {store.path} ready; scheme {store.scheme.name!r}: {fields}"))
