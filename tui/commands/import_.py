"""`newsmark import PATH... [--story ID] [--source NAME] [--map DEST=SRC]... [--format F] [--group] [--json]`.

PATH `-` reads standard input (named `<stdin>` in messages): its format is `--format`, or
else sniffed from its first bytes (JSONL if it starts with `{`, HTML with `<`, CSV/TSV if
its first line is a header naming a text column, plain text otherwise).

With --group, articles that arrive without a story (no story.toml, no `story` field) go
to the story `ungrouped` first; then every article of `ungrouped` (this import's and any
left there by earlier ones) joins the existing story it belongs to, or is grouped with the
others into new stories, by near-duplicate and topical similarity (analysis.grouping).
Groups of one stay in `ungrouped`.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import click

from newsmark.schema.ingest import FIELDS, FORMATS, ImportReport, IngestError, check_story_id, import_paths
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.store import CATCH_ALL_PREFIX
from newsmark.tui.commands.common import echo_json, open_store

PROGRESS_AFTER_S = 0.5  # show the bar only for imports that take longer than this
UNGROUPED_STORY = CATCH_ALL_PREFIX  # where --group puts articles that arrive without a story


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary_line(report: ImportReport) -> str:
    """`Imported N articles (D duplicates, R rejected) into S stories`, with
    `, E skipped with empty text` before the parenthesis closes when records were."""
    stories = "story" if len(report.stories) == 1 else "stories"
    empty = f", {len(report.empty)} skipped with empty text" if report.empty else ""
    return (
        f"Imported {_plural(report.imported, 'article')} ({_plural(report.duplicates, 'duplicate')}, "
        f"{len(report.rejected)} rejected{empty}) into {len(report.stories)} {stories}"
    )


def _story_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_story_id(value)
    except IngestError as exc:
        raise click.BadParameter(str(exc)) from None


def _map_option(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in value:
        dest, sep, src = item.partition("=")
        dest, src = dest.strip(), src.strip()
        if not sep or not dest or not src:
            raise click.BadParameter(f"{item!r} is not DEST=SRC (e.g. text=articleBody)")
        if dest not in FIELDS:
            raise click.BadParameter(f"{dest!r} is not a field; fields: {', '.join(FIELDS)}")
        mapping[dest] = src
    return mapping


class _LazyBar:
    """A transient rich progress bar on stderr, started only once an import has run for
    PROGRESS_AFTER_S and only when stderr is a terminal."""

    def __init__(self) -> None:
        self.started_at = time.monotonic()
        self.enabled = sys.stderr.isatty()
        self.progress = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if self.progress is None:
            if time.monotonic() - self.started_at < PROGRESS_AFTER_S or done >= total:
                return
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                console=Console(stderr=True), transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("import", total=total)
        self.progress.update(self.task, completed=done, total=total)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--story", default=None, callback=_story_option,
              help="Story (id) of files whose folder has no story.toml and whose rows name none.")
@click.option("--source", default=None, help="Outlet of articles whose file does not name one.")
@click.option("--map", "mapping", multiple=True, callback=_map_option, metavar="DEST=SRC",
              help="Read field DEST from column/key SRC, e.g. --map text=articleBody (repeatable).")
@click.option("--format", "file_format", type=click.Choice(sorted(FORMATS)), default=None,
              help="Read standard input (PATH -) and every file named as PATH in this format, whatever "
                   "its suffix (files found in folders are known by their suffix).")
@click.option("--group", is_flag=True,
              help="Group articles that arrive without a story into stories by similarity.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
@click.pass_context
def command(ctx: click.Context, paths: tuple[str, ...], story: str | None, source: str | None,
            mapping: dict[str, str], file_format: str | None, group: bool, as_json: bool) -> None:
    """Import .txt, .md, .html, .jsonl and .csv files, or folders of them (recursively);
    PATH - reads standard input.

    A folder holding story.toml is a story. Same text twice is counted as a duplicate;
    records with empty text are skipped and counted; rejected files and lines are listed
    on stderr and make the exit code 1.
    """
    if group and story is not None:
        raise click.UsageError("--group and --story exclude each other (--group chooses the stories)")
    bar = _LazyBar()
    grouping = None
    with open_store(ctx) as store:
        try:
            report = import_paths(store, list(paths), story=UNGROUPED_STORY if group else story,
                                  source=source, mapping=mapping, progress=bar, format=file_format)
        finally:
            bar.stop()
        if group:
            grouping = _group_ungrouped(store)
        # The story list's figures of the stories this import changed, computed now rather
        # than when the list is first sorted.
        store.refresh_story_stats()
    if as_json:
        document = report.model_dump(mode="json", by_alias=True)
        if grouping is not None:
            document["grouping"] = grouping
        echo_json(document)
    else:
        click.echo(summary_line(report))
        if grouping is not None:
            click.echo(grouping_line(grouping))
        for rejection in report.rejected:
            click.echo(f"rejected: {for_terminal(rejection)}", err=True)
        for skipped in report.empty:
            click.echo(f"skipped: {for_terminal(skipped)}", err=True)
        for warning in report.warnings:
            click.echo(f"warning: {for_terminal(warning)}", err=True)
        if report.skipped:
            kinds = Counter(for_terminal(Path(name).suffix.lower()) or "(no extension)" for name in report.skipped)
            shown = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
            click.echo(f"skipped {_plural(len(report.skipped), 'file')} of other types ({shown})", err=True)
    if report.rejected:
        ctx.exit(1)


def _group_ungrouped(store) -> dict:
    """Group the articles of the `ungrouped` story: into the existing stories they belong
    to, else into new stories; what was done."""
    from newsmark.analysis.grouping import group_into_stories

    grouping, created = group_into_stories(store)
    grouped = sum(len(g.ids) for g in grouping.groups if len(g.ids) >= 2)
    left = sum(len(g.ids) for g in grouping.groups if len(g.ids) < 2)
    joined = sum(map(len, grouping.joined.values()))
    return {"stories": created, "grouped": grouped, "ungrouped": left, "joined": joined,
            "joined_stories": sorted(grouping.joined)}


def grouping_line(grouping: dict) -> str:
    """`Grouped N articles into S stories, J joined existing stories (U left in story
    ungrouped)`; the middle part only when an article joined an existing story."""
    stories = len(grouping["stories"])
    joined = grouping.get("joined", 0)
    into = f", {_plural(joined, 'article')} joined existing stories" if joined else ""
    return (
        f"Grouped {_plural(grouping['grouped'], 'article')} into {stories} "
        f"{'story' if stories == 1 else 'stories'}{into} ({grouping['ungrouped']} left in story {UNGROUPED_STORY})"
    )
