"""`newsmark init [--scheme FILE]`: create a database, or replace its scheme."""

from __future__ import annotations

import click

from newsmark.schema.sanitize import for_terminal
from newsmark.schema.scheme import SchemeError, parse_scheme, read_scheme_text
from newsmark.tui.commands.common import fail, open_store
from newsmark.tui.keymap import check_scheme_keys


@click.command("init")
@click.option("--scheme", "scheme_path", type=click.Path(dir_okay=False), help="An annotation scheme (TOML).")
@click.pass_context
def command(ctx: click.Context, scheme_path: str | None) -> None:
    """Create the database (idempotent); with --scheme, set its annotation scheme."""
    scheme_text = None
    if scheme_path:
        try:  # read once; validate it, keys included, before touching the database
            scheme_text = read_scheme_text(scheme_path)
            check_scheme_keys(parse_scheme(scheme_text, scheme_path), scheme_path)
        except SchemeError as exc:
            fail(str(exc))
    with open_store(ctx) as store:
        if scheme_text is not None:
            store.set_scheme(scheme_text, scheme_path)
        fields = ", ".join(f.name for f in store.scheme.fields)
        click.echo(for_terminal(f"Database {store.path} ready; scheme {store.scheme.name!r}: {fields}"))
