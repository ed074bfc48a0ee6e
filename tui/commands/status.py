"""`newsmark status [--json]`: stories, articles and each annotator's progress."""

from __future__ import annotations

import click

from newsmark.analysis.gold import gold_progress
from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import echo_json, open_store


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Show what the database holds and how far each annotator has got."""
    with open_store(ctx, create=False) as store:
        status = store.status()
        status["gold"] = gold_progress(store)
    if as_json:
        echo_json(status)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Names come from the database, where a teammate's file or an old version may have
    # put anything: cells are plain Text through `for_terminal`, never markup.
    console = Console(highlight=False)
    table = Table(title=Text(f"{status['stories']} stories, {status['articles']} articles"), title_justify="left")
    table.add_column("annotator")
    table.add_column("articles labelled", justify="right")
    table.add_column("of all", justify="right")
    for name in status["annotators"]:
        done = status["annotated"][name]
        share = f"{100 * done / status['articles']:.1f}%" if status["articles"] else "-"
        table.add_row(Text(for_terminal(name)), Text(str(done)), Text(share))
    if not status["annotators"]:
        table.add_row(Text("(nobody yet)"), Text("-"), Text("-"))
    console.print(table)
    gold = status["gold"]
    console.print(Text(
        f"Gold ({gold['policy']} policy): {gold['decided']} of {gold['units']} labelled articles decided, "
        f"{gold['units'] - gold['decided']} need a decision"
    ))
