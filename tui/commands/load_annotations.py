"""`newsmark load-annotations FILE... [--json]`: load a teammate's export (annotation and
gold records); idempotent, and on conflict the newer record wins. `-` reads stdin."""

from __future__ import annotations

import click

from newsmark.schema.load import LoadReport, load_annotations
from newsmark.tui.commands.common import echo_json, open_store


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def summary_line(report: LoadReport) -> str:
    """`Read N records: L loaded, R replaced, U unchanged, K kept (local newer), X rejected;
    created S stories, A articles`."""
    return (
        f"Read {_plural(report.read, 'record')}: {report.loaded} loaded, {report.replaced} replaced, "
        f"{report.unchanged} unchanged, {report.kept_newer_local} kept (local newer), "
        f"{len(report.rejected)} rejected; created {_plural(report.stories_created, 'story', 'stories')}, "
        f"{_plural(report.articles_created, 'article')}"
    )


@click.command("load-annotations")
# Not click.Path(dir_okay=False): a directory (or FIFO, device) is named and skipped by the
# loader, and the other files still load.
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
@click.pass_context
def command(ctx: click.Context, files: tuple[str, ...], as_json: bool) -> None:
    """Load JSONL files written by `newsmark export` (with or without --gold); `-` reads stdin.

    Missing stories and articles are created from the records. For each article and
    annotator the record with the newer updated_at wins; what it replaces stays in the
    event log. Rejected lines and files are listed on stderr and make the exit code 1.
    """
    with open_store(ctx) as store:
        report = load_annotations(store, files)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(summary_line(report))
        for rejection in report.rejected:
            click.echo(f"rejected: {rejection}", err=True)
    if report.rejected:
        ctx.exit(1)
