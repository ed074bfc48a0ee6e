"""`newsmark story …`: curate stories — list them, set a title and proposition, put articles
in or take them out, move them, merge stories, split one. Every change is one action in the
event log: `newsmark undo` reverses it."""

from __future__ import annotations

import sys

import click

from newsmark.analysis.grouping import story_title
from newsmark.schema.ingest import IngestError, check_story_id
from newsmark.schema.models import Story
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.search import open_search_index
from newsmark.schema.store import ActionResult, Store
from newsmark.tui.commands.common import annotator_option, echo_json, open_store, resolve_annotator


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _story_id(ctx: click.Context, param: click.Parameter, value):
    """A click callback: story ids given on the command line follow the id rule."""
    values = (value,) if isinstance(value, str) else tuple(value or ())
    for raw in values:
        try:
            check_story_id(raw)
        except IngestError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def _moved(result: ActionResult, table: str, *, removed: bool) -> int:
    """How many memberships an action wrote (added, or with `removed`, taken away)."""
    return sum(1 for e in result.events if e.tbl == table and (e.after is None) == removed)


@click.group("story")
def command() -> None:
    """Curate stories: titles, propositions, which articles they hold."""


@command.command("list")
@click.option("--search", "words", default=None,
              help="Only stories with articles holding these words (in titles and texts), or titled with them.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def list_stories(ctx: click.Context, words: str | None, as_json: bool) -> None:
    """Every story (or those a search finds): id, article count, title and proposition."""
    with open_store(ctx, create=False) as store:
        if words is not None:
            _list_found(store, words, as_json)
            return
        rows = [(s, store.article_count(s.id)) for s in store.stories()]
    if as_json:
        echo_json([{"id": s.id, "title": s.title, "proposition": s.proposition, "articles": n} for s, n in rows])
        return
    for story, count in rows:
        click.echo(f"{for_terminal(story.id)}\t{_plural(count, 'article')}\t{for_terminal(story.title)}"
                   f"\t{for_terminal(story.proposition) or '(no proposition)'}")


@command.command("edit")
@click.argument("story_id", callback=_story_id)
@click.option("--title", default=None, help="The story's new title.")
@click.option("--proposition", default=None, help="The statement stance is judged against.")
@annotator_option
@click.pass_context
def edit(ctx: click.Context, story_id: str, title: str | None, proposition: str | None, annotator: str | None) -> None:
    """Set a story's title and/or proposition."""
    if title is None and proposition is None:
        raise click.UsageError("give --title, --proposition or both")
    with open_store(ctx, create=False) as store:
        store.edit_story(story_id, resolve_annotator(annotator), title=title, proposition=proposition)
        story = store.get_story(story_id)
    click.echo(f"Story {for_terminal(story.id)}: title \"{for_terminal(story.title)}\", "
               f"proposition \"{for_terminal(story.proposition)}\"")


def _articles_argument(func):
    return click.argument("article_ids", nargs=-1, required=True)(func)


@command.command("add")
@click.argument("story_id", callback=_story_id)
@_articles_argument
@annotator_option
@click.pass_context
def add(ctx: click.Context, story_id: str, article_ids: tuple[str, ...], annotator: str | None) -> None:
    """Put articles into a story too (they stay in their other stories)."""
    with open_store(ctx, create=False) as store:
        result = store.add_articles_to_story(story_id, article_ids, resolve_annotator(annotator))
        total = store.article_count(story_id)
    click.echo(f"Added {_plural(_moved(result, 'story_articles', removed=False), 'article')} to "
               f"{for_terminal(story_id)} ({_plural(total, 'article')} now)")


@command.command("remove")
@click.argument("story_id", callback=_story_id)
@_articles_argument
@annotator_option
@click.pass_context
def remove(ctx: click.Context, story_id: str, article_ids: tuple[str, ...], annotator: str | None) -> None:
    """Take articles out of a story (what was labelled there returns with `undo`)."""
    with open_store(ctx, create=False) as store:
        result = store.remove_articles_from_story(story_id, article_ids, resolve_annotator(annotator))
        total = store.article_count(story_id)
    click.echo(f"Removed {_plural(_moved(result, 'story_articles', removed=True), 'article')} from "
               f"{for_terminal(story_id)} ({_plural(total, 'article')} left)")


@command.command("move")
@click.argument("from_story", callback=_story_id)
@click.argument("to_story", callback=_story_id)
@_articles_argument
@annotator_option
@click.pass_context
def move(ctx: click.Context, from_story: str, to_story: str, article_ids: tuple[str, ...], annotator: str | None) -> None:
    """Move articles from one story to another."""
    with open_store(ctx, create=False) as store:
        result = store.move_articles(article_ids, from_story, to_story, resolve_annotator(annotator))
    click.echo(f"Moved {_plural(_moved(result, 'story_articles', removed=True), 'article')} from "
               f"{for_terminal(from_story)} to {for_terminal(to_story)}")


@command.command("merge")
@click.argument("target", callback=_story_id)
@click.argument("sources", nargs=-1, required=True, callback=_story_id)
@annotator_option
@click.pass_context
def merge(ctx: click.Context, target: str, sources: tuple[str, ...], annotator: str | None) -> None:
    """Merge stories into TARGET: their articles and the work done on them there."""
    with open_store(ctx, create=False) as store:
        store.merge_stories(target, sources, resolve_annotator(annotator))
        total = store.article_count(target)
    click.echo(f"Merged {_plural(len(set(sources)), 'story', 'stories')} into "
               f"{for_terminal(target)} ({_plural(total, 'article')} now)")


@command.command("split")
@click.argument("story_id", callback=_story_id)
@_articles_argument
@click.option("--into", "new_id", required=True, callback=_story_id, help="The new story's id.")
@click.option("--title", default=None, help="The new story's title (default: its first article's).")
@click.option("--proposition", default="", help="The new story's proposition.")
@annotator_option
@click.pass_context
def split(ctx: click.Context, story_id: str, article_ids: tuple[str, ...], new_id: str, title: str | None,
          proposition: str, annotator: str | None) -> None:
    """Make a new story of some of a story's articles."""
    with open_store(ctx, create=False) as store:
        if title is None:  # named like a grouped story, after an article of it
            first = store.get_article(article_ids[0])
            title = story_title(first.title, first.text) if first is not None else ""
        new_story = Story(id=new_id, title=title, proposition=proposition)
        result = store.split_story(story_id, article_ids, new_story, resolve_annotator(annotator))
    click.echo(f"Split {_plural(_moved(result, 'story_articles', removed=True), 'article')} of "
               f"{for_terminal(story_id)} into {for_terminal(new_id)}")


def _list_found(store: Store, words: str, as_json: bool) -> None:
    """`story list --search`: bring the search index up to date (showing progress on a
    terminal when there is much to do), then list the stories it finds."""
    index = open_search_index(store)
    try:
        pending = index.pending()
        if pending and sys.stderr.isatty():
            with click.progressbar(length=pending, label="Indexing texts", file=sys.stderr) as bar:
                index.catch_up_all(progress=lambda done, total: bar.update(done - bar.pos))
        else:
            index.catch_up_all()
        hits = index.search(words)
        counts = {hit.story_id: store.article_count(hit.story_id) for hit in hits}
    finally:
        index.close()
    if as_json:
        echo_json([{"id": h.story_id, "title": h.title, "matching_articles": h.articles, "articles": counts[h.story_id],
                    "in_title": h.in_title} for h in hits])
        return
    for hit in hits:
        click.echo(f"{for_terminal(hit.story_id)}\t{hit.articles} of {_plural(counts[hit.story_id], 'article')} match"
                   f"\t{for_terminal(hit.title)}")
    if not hits:
        click.echo(f"No stories match {for_terminal(words)!r}", err=True)
