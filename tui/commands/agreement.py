"""`newsmark agreement [--field NAME]... [--story ID] [--pair A B] [--json]`: who agrees
with whom, and by how much (Krippendorff's α, Cohen's κ, claim span F1)."""

from __future__ import annotations

import click

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import check_annotator_option, echo_json, fail, open_store


@click.command("agreement")
@click.option("--field", "fields", multiple=True, metavar="NAME", help="Only this article-level field (repeatable).")
@click.option("--story", default=None, metavar="ID", help="Only the articles of this story.")
@click.option("--pair", nargs=2, default=None, metavar="A B", callback=check_annotator_option,
              help="Also show the confusion matrix of annotators A and B.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def command(ctx: click.Context, fields: tuple[str, ...], story: str | None, pair: tuple[str, str] | None, as_json: bool) -> None:
    """Agreement between annotators: α per field, κ and α per pair, claim span F1."""
    from newsmark.analysis.agreement import agreement

    if pair is not None and pair[0] == pair[1]:
        fail(f"--pair needs two different annotators (got {pair[0]!r} twice)")
    with open_store(ctx, create=False) as store:
        report = agreement(store, fields=fields, story=story, pair=pair)
    if as_json:
        echo_json(report.to_json())
        return
    _print(report)


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _print(report) -> None:
    """Rich tables; every name (annotators, fields, labels, stories) goes in as plain Text,
    through `for_terminal` (they come from the database: a teammate's file may hold anything)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    scope = Text("all stories") if report.story is None else Text.assemble("story ", (for_terminal(report.story), "bold"))
    fields = Table(title=Text.assemble("Agreement by field, ", scope), title_justify="left")
    for name, justify in (("field", "left"), ("level", "left"), ("α", "right"), ("α nominal", "right"),
                          ("units", "right"), ("annotators", "left")):
        fields.add_column(name, justify=justify)
    for fa in report.fields.values():
        fields.add_row(
            Text(for_terminal(fa.name)), Text(for_terminal(fa.level)), _num(fa.alpha), _num(fa.alpha_nominal), str(fa.units),
            Text(", ".join(map(for_terminal, fa.annotators)) or "(nobody yet)"),
        )
    console.print(fields)
    console.print(Text("α: Krippendorff's alpha over all annotators; units: articles with two or more labels; "
                       "\"cannot be judged\" grades count as missing. – : undefined.", style="dim"))
    for fa in report.fields.values():
        if not fa.pairwise:
            continue
        pairs = Table(title=Text.assemble("Pairs on ", (for_terminal(fa.name), "bold"), f" ({for_terminal(fa.level)})"), title_justify="left")
        for name, justify in (("a", "left"), ("b", "left"), ("n", "right"), ("Cohen's κ", "right"), ("α", "right")):
            pairs.add_column(name, justify=justify)
        for p in fa.pairwise:
            pairs.add_row(Text(for_terminal(p.a)), Text(for_terminal(p.b)), str(p.n), _num(p.kappa), _num(p.alpha))
        console.print(pairs)
    abstentions = [(fa.name, fa.cannot_judge) for fa in report.fields.values() if fa.cannot_judge]
    for name, counts in abstentions:
        console.print(Text.assemble(
            "\"cannot be judged\" in ", (for_terminal(name), "bold"), ": ",
            ", ".join(f"{for_terminal(who)} {count}" for who, count in counts.items()),
        ))
    if report.claims:
        claims = Table(title=Text("Claim spans (articles both annotated, with a claim by either)"), title_justify="left")
        for name, justify in (("a", "left"), ("b", "left"), ("articles", "right"), ("spans a", "right"),
                              ("spans b", "right"), ("exact F1", "right"), ("overlap F1", "right")):
            claims.add_column(name, justify=justify)
        for p in report.claims:
            claims.add_row(Text(for_terminal(p.a)), Text(for_terminal(p.b)), str(p.articles), str(p.a_spans), str(p.b_spans),
                           _num(p.exact_f1), _num(p.overlap_f1))
        console.print(claims)
    elif report.claim_annotators:
        console.print(Text("Claim spans: only one annotator has marked claims.", style="dim"))
    for conf in report.confusion:
        table = Table(
            title=Text.assemble("Confusion on ", (for_terminal(conf.field), "bold"), ": rows ", (for_terminal(conf.a), "bold"),
                                ", columns ", (for_terminal(conf.b), "bold")),
            title_justify="left",
        )
        table.add_column(Text(f"{for_terminal(conf.a)} \\ {for_terminal(conf.b)}"))
        for label in conf.labels:
            table.add_column(Text(for_terminal(label)), justify="right")
        for label, row in zip(conf.labels, conf.matrix):
            table.add_row(Text(for_terminal(label)), *(str(count) for count in row))
        console.print(table)
