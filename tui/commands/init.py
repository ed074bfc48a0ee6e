"""`newsmark init [--scheme FILE] [--json]`: create a database, or replace its scheme."""

from __future__ import annotations

import click

from newsmark.analysis.gold import POLICIES, POLICY_SETTING, database_policy
from newsmark.schema.engines import shown_database
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.scheme import SchemeError, parse_scheme, read_scheme_text
from newsmark.tui.commands.common import echo_json, fail, open_store
from newsmark.tui.keymap import check_scheme_keys


@click.command("init")
@click.option("--scheme", "scheme_path", type=click.Path(dir_okay=False), help="An annotation scheme (TOML).")
@click.option("--gold-policy", type=click.Choice(POLICIES), default=None,
              help="What becomes gold besides adjudications: nothing, unanimous values (default), or majorities.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON document.")
@click.pass_context
def command(ctx: click.Context, scheme_path: str | None, gold_policy: str | None, as_json: bool) -> None:
    """Create the database (idempotent); with --scheme, set its annotation scheme; with
    --gold-policy, its gold policy."""
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
        if gold_policy is not None:
            store.set_setting(POLICY_SETTING, gold_policy)
        scheme = store.scheme
        policy = database_policy(store)
        database = shown_database(store.location)
        created = store.created
    fields = [field.name for field in scheme.fields]
    if as_json:
        echo_json({"database": database, "scheme": scheme.name, "fields": fields, "gold_policy": policy,
                   "created": created})
        return
    shown = ", ".join(for_terminal(name) for name in fields)
    click.echo(f"Database {for_terminal(database)} ready; scheme '{for_terminal(scheme.name)}': {shown}")
    if gold_policy is not None:
        click.echo(f"Gold policy: {policy}")
