"""`newsmark load-annotations FILE... [--from FORMAT] [--json]`: load a teammate's export
(annotation and gold records), or annotations made in Prodigy, doccano or Label Studio;
idempotent, and on conflict the newer record wins. `-` reads stdin."""

from __future__ import annotations

from pathlib import Path

import click

from newsmark.schema.importing import FORMATS as FOREIGN_FORMATS
from newsmark.schema.importing import LabelMap, MappingError, load_foreign
from newsmark.schema.importing.fnc1 import Fnc1Data, load_fnc1
from newsmark.schema.ingest import IngestError, check_story_id
from newsmark.schema.load import LoadReport, load_annotations
from newsmark.schema.names import InvalidName, check_name
from newsmark.tui.commands.common import echo_json, fail, open_store


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def summary_line(report: LoadReport) -> str:
    """`Read N records: L loaded, R replaced, U unchanged, K kept (local newer), X rejected;
    created S stories, A articles`, then, when a gold file held derived gold, `; skipped V
    derived gold values (agreed or majority; export derives them again) and D gold records
    with nothing adjudicated`."""
    return (
        f"Read {_plural(report.read, 'record')}: {report.loaded} loaded, {report.replaced} replaced, "
        f"{report.unchanged} unchanged, {report.kept_newer_local} kept (local newer), "
        f"{len(report.rejected)} rejected; created {_plural(report.stories_created, 'story', 'stories')}, "
        f"{_plural(report.articles_created, 'article')}"
        + (f"; skipped {_plural(report.derived_values, 'derived gold value')} (agreed or majority; "
           f"export derives them again) and {_plural(report.derived, 'gold record')} with nothing adjudicated"
           if report.derived_values or report.derived else "")
    )


@click.command("load-annotations")
# Not click.Path(dir_okay=False): a directory (or FIFO, device) is named and skipped by the
# loader, and the other files still load.
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True, path_type=str))
@click.option("--from", "fmt", type=click.Choice(["newsmark", *FOREIGN_FORMATS, "fnc1"]), default="newsmark",
              show_default=True, help="The files' format: newsmark's export, or another tool's "
                                      "(fnc1: FNC-1's bodies and stances CSV files, in either order).")
@click.option("--labels", "labels_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --from: a TOML file whose [labels] table maps the tool's labels (AGREE = \"stance=agree\", "
                   "CLAIM = \"claim\", CHECK = \"claim checkworthy=yes\").")
@click.option("--label", "label_options", multiple=True, metavar="NAME=MEANING",
              help="With --from: map one label, e.g. --label AGREE=stance=agree or --label CLAIM=claim (repeatable).")
@click.option("--story", default=None, metavar="ID", help="With --from: the story of the texts (default: the file's name).")
@click.option("--annotator", default=None, metavar="NAME",
              help="With --from: who annotated items whose file names nobody (default: the format's name).")
@click.option("--text-key", default="text", show_default=True, metavar="KEY",
              help="With --from labelstudio: the key of the task's data holding the text.")
@click.option("--as-gold", "as_gold", is_flag=True, help="With --from fnc1: the stances as gold labels.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
@click.pass_context
def command(ctx: click.Context, files: tuple[str, ...], fmt: str, labels_file: Path | None,
            label_options: tuple[str, ...], story: str | None, annotator: str | None, text_key: str,
            as_gold: bool, as_json: bool) -> None:
    """Load JSONL files written by `newsmark export` (with or without --gold); `-` reads stdin.

    Missing stories and articles are created from the records. For each article and
    annotator the record with the newer updated_at wins; what it replaces stays in the
    event log. Rejected lines and files are listed on stderr and make the exit code 1.
    """
    foreign_only = {"--labels": labels_file, "--label": label_options, "--story": story, "--annotator": annotator}
    if fmt == "newsmark":
        given = [option for option, value in foreign_only.items() if value]
        if given:
            raise click.UsageError(f"{', '.join(given)}: only with --from prodigy|doccano|labelstudio")
    if as_gold and fmt != "fnc1":
        raise click.UsageError("--as-gold: only with --from fnc1")
    if fmt == "fnc1":
        _load_fnc1(ctx, files, labels_file, label_options, story, annotator, text_key, as_gold, as_json)
        return
    with open_store(ctx) as store:
        if fmt == "newsmark":
            report = load_annotations(store, files)
        else:
            try:
                mapping = LabelMap.from_sources(store.scheme, labels_file, list(label_options))
                if story is not None:
                    check_story_id(story)
                name = check_name(annotator) if annotator is not None else None
            except (MappingError, IngestError, InvalidName) as exc:
                fail(str(exc))
            if not mapping.meanings:
                fail("--from needs a mapping of the tool's labels: --labels FILE or --label NAME=MEANING")
            report = load_foreign(store, files, fmt=fmt, mapping=mapping, story=story, annotator=name,
                                  text_key=text_key)
    _report(ctx, report, as_json)


def _report(ctx: click.Context, report: LoadReport, as_json: bool, fnc1: Fnc1Data | None = None) -> None:
    if as_json:
        echo_json({**report.as_dict(), "fnc1": fnc1.as_dict()} if fnc1 is not None else report.as_dict())
    else:
        if fnc1 is not None:
            click.echo(fnc1.summary())
        click.echo(summary_line(report))
        for rejection in report.rejected:
            click.echo(f"rejected: {rejection}", err=True)
    if report.rejected:
        ctx.exit(1)


def _load_fnc1(ctx: click.Context, files: tuple[str, ...], labels_file: Path | None, label_options: tuple[str, ...],
               story: str | None, annotator: str | None, text_key: str, as_gold: bool, as_json: bool) -> None:
    """`--from fnc1 BODIES STANCES [--annotator NAME] [--as-gold]`: see schema.importing.fnc1."""
    given = [option for option, value in {"--labels": labels_file, "--label": label_options, "--story": story,
                                          "--text-key": text_key != "text"}.items() if value]
    if given:
        raise click.UsageError(f"{', '.join(given)}: not with --from fnc1 (its stances are the scheme's stance labels, "
                               "its headlines the stories)")
    try:
        name = check_name(annotator if annotator is not None else "fnc1")
    except InvalidName as exc:
        fail(str(exc))
    with open_store(ctx) as store:
        data, report = load_fnc1(store, files, annotator=name, gold=as_gold)
    _report(ctx, report, as_json, data)
