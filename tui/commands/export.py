"""`newsmark export`: write the annotations (or with --gold the adjudicated labels) as a
dataset, JSONL by default, to stdout or to a file."""

from __future__ import annotations

import os
import sys

import click

from newsmark.exports import FORMATS
from newsmark.exports.jsonl import check_filters
from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import fail, open_store
from newsmark.tui.commands.output import same_file, write_output

# The database's own files: an export written over one of them would destroy it.
DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal")


@click.command("export")
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE|-",
              help="Where to write; - is stdout. A file is written whole or not at all; "
                   "a FIFO or device is written through.")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="jsonl", show_default=True,
              help="The dataset format.")
@click.option("--annotator", "annotators", multiple=True, metavar="NAME",
              help="Only this annotator's records (repeat for several).")
@click.option("--story", default=None, metavar="ID", help="Only this story's articles.")
@click.option("--gold", is_flag=True, help="The adjudicated (gold) labels and claims, one record per article.")
@click.option("--no-text", "no_text", is_flag=True, help="Leave out the article text (keep its SHA-256).")
@click.pass_context
def command(
    ctx: click.Context, output: str, fmt: str, annotators: tuple[str, ...], story: str | None,
    gold: bool, no_text: bool,
) -> None:
    """Export annotation records in a deterministic order (story, article, annotator)."""
    if gold and annotators:
        raise click.UsageError("--gold exports the adjudicated labels; it cannot be combined with --annotator")
    if output == "":
        raise click.UsageError("-o needs a file name (or - for stdout)")
    writer = FORMATS[fmt]
    options = {"annotators": list(annotators), "story": story, "gold": gold, "text": not no_text}
    with open_store(ctx, create=False) as store:
        check_filters(store, annotators=annotators, story=story)
        if output == "-":
            _to_stdout(lambda out: writer(store, out, **options))
            return
        if any(same_file(output, f"{store.path}{suffix}") for suffix in DATABASE_SUFFIXES):
            fail(f"{for_terminal(output)} is the database itself; export to another file")
        count = write_output(output, lambda out: writer(store, out, **options))
    click.echo(f"Exported {count} records to {for_terminal(output)}", err=True)


def _to_stdout(write) -> None:
    sys.stdout.flush()
    stream = sys.stdout.buffer
    try:
        write(stream)
        stream.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        sys.exit(1)
