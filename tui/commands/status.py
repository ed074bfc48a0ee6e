"""`newsmark status [--json]`: stories, articles and each annotator's progress."""

from __future__ import annotations

import click

from newsmark.tui.commands.common import echo_json, open_store


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Show what the database holds and how far each annotator has got."""
    with open_store(ctx, create=False) as store:
        status = store.status()
    if as_json:
        echo_json(status)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{status['stories']} stories, {status['articles']} articles", title_justify="left")
    table.add_column("annotator")
    table.add_column("articles labelled", justify="right")
    table.add_column("of all", justify="right")
    for name in status["annotators"]:
        done = status["annotated"][name]
        share = f"{100 * done / status['articles']:.1f}%" if status["articles"] else "-"
        table.add_row(name, str(done), share)
    if not status["annotators"]:
        table.add_row("(nobody yet)", "-", "-")
    console.print(table)
