"""`newsmark export`: write the annotations (or with --gold the gold labels and claims under
the gold policy) as a dataset, JSONL by default, to stdout or to a file."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from newsmark.analysis.gold import POLICIES
from newsmark.exports import FORMATS
from newsmark.exports.jsonl import check_filters
from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import TerminalStream, check_annotator_option, fail, open_store
from newsmark.tui.commands.output import same_file, write_output

# Formats written as a folder (-o DIR) rather than one stream.
FOLDER_FORMATS = ("hf", "fnc1")
# The database's own files: an export written over one of them would destroy it.
DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal")


@click.command("export")
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE|-",
              help="Where to write; - is stdout. A file is written whole or not at all; "
                   "a FIFO or device is written through.")
@click.option("--format", "fmt", type=click.Choice([*FORMATS, *FOLDER_FORMATS]), default="jsonl", show_default=True,
              help="The dataset format (hf: a Hugging Face dataset folder; fnc1: FNC-1's stances.csv and "
                   "bodies.csv, one annotator's or the gold; both given with -o DIR).")
@click.option("--annotator", "annotators", multiple=True, metavar="NAME", callback=check_annotator_option,
              help="Only this annotator's records (repeat for several).")
@click.option("--story", default=None, metavar="ID", help="Only this story's articles.")
@click.option("--gold", is_flag=True,
              help="The gold labels and claims, one record per article, each value with its source "
                   "(adjudicated, agreed or majority) under the gold policy.")
@click.option("--gold-policy", "gold_policy", type=click.Choice(POLICIES), default=None,
              help="The gold policy of this export (default: the database's, set by init --gold-policy).")
@click.option("--no-text", "no_text", is_flag=True, help="Leave out the article text (keep its SHA-256).")
@click.option("--url-base", default=None, metavar="URL",
              help="claimreview: every review gets a url under URL (fact-check markup requires one).")
@click.option("--spreadsheet", is_flag=True,
              help="csv: for Excel and other spreadsheets (a UTF-8 BOM, formula cells made inert).")
@click.pass_context
def command(
    ctx: click.Context, output: str, fmt: str, annotators: tuple[str, ...], story: str | None,
    gold: bool, gold_policy: str | None, no_text: bool, url_base: str | None, spreadsheet: bool,
) -> None:
    """Export annotation records in a deterministic order (story, article, annotator)."""
    if gold and annotators:
        raise click.UsageError("--gold exports the gold labels; it cannot be combined with --annotator")
    if gold_policy is not None and not gold and fmt != "hf":
        raise click.UsageError("--gold-policy applies to --gold (and to --format hf)")
    if output == "":
        raise click.UsageError("-o needs a file name (or - for stdout)")
    if url_base is not None and fmt != "claimreview":
        raise click.UsageError("--url-base applies to --format claimreview")
    if url_base is not None and not url_base.startswith(("https://", "http://")):
        raise click.UsageError(f"--url-base must be an http(s) URL, not {for_terminal(url_base)!r}")
    if spreadsheet and fmt != "csv":
        raise click.UsageError("--spreadsheet applies to --format csv")
    if fmt in FOLDER_FORMATS:
        if output == "-":
            raise click.UsageError(f"--format {fmt} writes a folder: give it with -o DIR")
        if fmt == "hf":
            if gold:
                raise click.UsageError("--format hf writes the annotations and the gold together; leave out --gold")
            _export_hf(ctx, output, annotators=list(annotators), story=story, text=not no_text, policy=gold_policy)
        else:
            if no_text:
                raise click.UsageError("--format fnc1 writes the bodies' text; leave out --no-text")
            if gold == bool(annotators) or len(annotators) > 1:
                raise click.UsageError("--format fnc1 writes one annotator's stances or the gold: "
                                       "give --annotator NAME or --gold")
            _export_fnc1(ctx, output, annotator=annotators[0] if annotators else None, story=story,
                         policy=gold_policy)
        return
    writer = FORMATS[fmt]
    options = {"annotators": list(annotators), "story": story, "gold": gold, "text": not no_text,
               "policy": gold_policy}
    if url_base is not None:
        options["url_base"] = url_base
    if spreadsheet:
        options["spreadsheet"] = True
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


def _write_folder(folder: str, fmt: str, write: Callable[[Path], dict[str, int]]) -> dict[str, int]:
    """Run `write` into a new folder beside `folder`, then rename it into place, so a
    folder is there whole or not at all; an existing one is not replaced (an empty one is)."""
    import shutil
    import tempfile

    target = Path(folder)
    if target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir()))):
        fail(f"{for_terminal(folder)} exists; --format {fmt} writes a new folder (or an empty one)")
    parent = target.parent if str(target.parent) else Path(".")
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name[:40]}.", dir=parent))
    except OSError as exc:
        fail(f"cannot write {for_terminal(folder)}: {for_terminal(exc.strerror or exc)}")
    try:
        counts = write(staging)
        if target.is_dir():
            target.rmdir()
        staging.rename(target)
    except RuntimeError as exc:  # pyarrow missing
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {for_terminal(folder)}: {for_terminal(exc.strerror or exc)}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def _export_hf(ctx: click.Context, folder: str, *, annotators: list[str], story: str | None, text: bool,
               policy: str | None) -> None:
    """Write a Hugging Face dataset folder (see `_write_folder`)."""
    from newsmark.analysis.agreement import agreement
    from newsmark.exports.arrow import write_hf

    with open_store(ctx, create=False) as store:
        check_filters(store, annotators=annotators, story=story)
        figures = agreement(store, story=story).to_json()
        counts = _write_folder(folder, "hf", lambda staging: write_hf(
            store, staging, annotators=annotators, story=story, text=text, agreement=figures, policy=policy))
    shown = ", ".join(f"{n} {config}" for config, n in counts.items())
    click.echo(f"Exported {shown} records to {for_terminal(folder)}", err=True)


def _export_fnc1(ctx: click.Context, folder: str, *, annotator: str | None, story: str | None,
                 policy: str | None) -> None:
    """Write FNC-1's stances.csv and bodies.csv into a folder (see `_write_folder`)."""
    from newsmark.exports.fnc1 import write_fnc1

    with open_store(ctx, create=False) as store:
        check_filters(store, annotators=[annotator] if annotator else None, story=story)
        counts = _write_folder(folder, "fnc1", lambda staging: write_fnc1(
            store, staging, annotator=annotator, story=story, policy=policy))
    click.echo(f"Exported {counts['stances']} stances and {counts['bodies']} bodies to {for_terminal(folder)}", err=True)
