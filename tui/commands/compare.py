"""`newsmark compare A B [--json]`: the passages of article B that repeat or closely
paraphrase passages of article A, with scores, and how similar the two are overall."""

from __future__ import annotations

import click

from newsmark.schema.models import Article
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.store import Store
from newsmark.tui.commands.common import echo_json, fail, open_store

SHOWN_CHARS = 600  # a passage longer than this is shortened in the terminal view


def resolve_article(store: Store, given: str) -> Article:
    """The article with this id, or the only one whose id starts with it; else fail."""
    article = store.get_article(given)
    if article is not None:
        return article
    prefix = given.lower()
    matches: list[str] = []
    if prefix and all(c in "0123456789abcdef" for c in prefix):
        matches = store.article_ids_with_prefix(prefix, 6)
    if not matches:
        fail(f"no article {given}")
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", …" if len(matches) > 5 else "")
        fail(f"article id prefix {given} matches more than one article ({shown})")
    article = store.get_article(matches[0])
    assert article is not None
    return article


@click.command("compare")
@click.argument("article_a", metavar="ARTICLE_ID")
@click.argument("article_b", metavar="ARTICLE_ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--semantic", is_flag=True,
              help="Align by sentence meaning (needs the optional `semantic` extra; slower).")
@click.pass_context
def command(ctx: click.Context, article_a: str, article_b: str, as_json: bool, semantic: bool) -> None:
    """Show the passages of the second article that repeat or closely paraphrase the
    first (ids, or unique prefixes of them)."""
    from newsmark.analysis.align import align

    with open_store(ctx, create=False) as store:
        a = resolve_article(store, article_a)
        b = resolve_article(store, article_b)
    if semantic:
        from newsmark.analysis import semantic as semantic_mode

        if not semantic_mode.available():
            fail("--semantic needs the optional extra: pip install torch==2.13.0 'newsmark[semantic]'")
        result = semantic_mode.semantic_align(a.text, b.text)
    else:
        result = align(a.text, b.text)
    if as_json:
        echo_json({
            "a": a.id, "b": b.id, "similarity": result.similarity,
            "shared": [passage.as_dict() for passage in result.shared],
        })
        return
    _print_view(a, b, result)


def _name(article: Article) -> str:
    """A column header: the outlet, else the start of the title, else the id (as shown:
    through `for_terminal`)."""
    if article.source:
        return for_terminal(article.source)
    if article.title:
        return for_terminal(article.title if len(article.title) <= 40 else article.title[:39] + "…")
    return for_terminal(article.id)


def _shorten(text: str) -> str:
    text = for_terminal(" ".join(text.split()))
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _print_view(a: Article, b: Article, result) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    for letter, article in (("A", a), ("B", b)):
        line = Text(f"{letter}  ", style="bold")
        line.append(for_terminal(article.id), style="dim")
        line.append("  ")
        line.append(for_terminal(article.source) if article.source else "(outlet unknown)", style="bold")
        if article.title:
            line.append(" — ")
            line.append(for_terminal(article.title))
        console.print(line)
    count = len(result.shared)
    summary = Text(f"similarity {result.similarity:.2f}", style="bold")
    summary.append(f" · {count} shared passage{'s' if count != 1 else ''}")
    summary.append(f" · {round(100 * result.a_shared)}% of A, {round(100 * result.b_shared)}% of B")
    console.print(summary)
    if not result.shared:
        console.print(Text("No passage of B repeats or closely paraphrases A."))
        return
    table = Table(show_lines=True, expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column(Text(f"A: {_name(a)}"), ratio=1)
    table.add_column(Text(f"B: {_name(b)}"), ratio=1)
    table.add_column("score", justify="right", no_wrap=True)
    for number, passage in enumerate(result.shared, 1):
        table.add_row(
            str(number),
            Text(_shorten(a.text[passage.a_start : passage.a_end])),
            Text(_shorten(b.text[passage.b_start : passage.b_end])),
            f"{passage.score:.2f}",
        )
    console.print(table)
