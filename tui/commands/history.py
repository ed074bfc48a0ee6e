"""`newsmark undo` and `newsmark redo`: the event log's undo and redo from the command line,
the same as `u` and `ctrl+y` on the screens (they refuse to overwrite a later change)."""

from __future__ import annotations

import click

from newsmark.schema.operations import undo_message
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.store import UndoRefused
from newsmark.tui.commands.common import annotator_option, fail, open_store, resolve_annotator


def _step(ctx: click.Context, annotator: str | None, *, undo: bool) -> None:
    name = resolve_annotator(annotator)
    with open_store(ctx, create=False) as store:
        try:
            result = store.undo(name) if undo else store.redo(name)
        except UndoRefused as exc:
            fail(str(exc))
    if result is None:
        click.echo(f"Nothing to {'undo' if undo else 'redo'} for {for_terminal(name)}")
        return
    click.echo(undo_message(result, undo))


@click.command("undo")
@annotator_option
@click.pass_context
def undo(ctx: click.Context, annotator: str | None) -> None:
    """Undo your latest action still in effect."""
    _step(ctx, annotator, undo=True)


@click.command("redo")
@annotator_option
@click.pass_context
def redo(ctx: click.Context, annotator: str | None) -> None:
    """Redo the action you undid last."""
    _step(ctx, annotator, undo=False)
