"""`newsmark export`: write the annotations (or with --gold the adjudicated labels) as a
dataset, JSONL by default, to stdout or to a file."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from newsmark.exports import FORMATS
from newsmark.exports.jsonl import check_filters
from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import TerminalStream, check_annotator_option, fail, open_store


@click.command("export")
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE|-",
              help="Where to write; - is stdout. A file is written whole or not at all.")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="jsonl", show_default=True,
              help="The dataset format.")
@click.option("--annotator", "annotators", multiple=True, metavar="NAME", callback=check_annotator_option,
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
    writer = FORMATS[fmt]
    options = {"annotators": list(annotators), "story": story, "gold": gold, "text": not no_text}
    with open_store(ctx, create=False) as store:
        check_filters(store, annotators=annotators, story=story)
        if output == "-":
            _to_stdout(lambda out: writer(store, out, **options))
            return
        count = _to_file(Path(output), lambda out: writer(store, out, **options))
    click.echo(f"Exported {count} records to {for_terminal(output)}", err=True)


def _to_stdout(write) -> None:
    sys.stdout.flush()
    stream = sys.stdout.buffer
    out = TerminalStream(stream) if sys.stdout.isatty() else stream  # a terminal gets no raw escape
    try:
        write(out)
        out.flush()
        if out is not stream:
            out.close()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        sys.exit(1)


def _to_file(path: Path, write) -> int:
    """Write through a temporary file beside the target, renamed into place at the end,
    so an interrupted export never leaves half a file under the real name."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        handle = tempfile.NamedTemporaryFile(
            "wb", dir=directory, prefix=f".{path.name}.", suffix=".tmp", delete=False
        )
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    temp = Path(handle.name)
    try:
        with handle:
            count = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _file_mode(path))
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        fail(f"cannot write {path}: {exc.strerror or exc}")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return count


def _file_mode(path: Path) -> int:
    """The target's current mode, else what a plain open() would give (0666 less umask);
    temporary files are created 0600."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
