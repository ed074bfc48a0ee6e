"""`newsmark agreement [--field NAME]... [--story ID] [--by-story] [--pair A B] [--resamples N]
[--seed N] [--json]`: who agrees with whom, and by how much (Krippendorff's α with its
bootstrap interval, Cohen's κ, the FNC-1 score, claim span F1), and how each annotator's
labels are distributed."""

from __future__ import annotations

import click

from newsmark.analysis.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import check_annotator_option, echo_json, fail, open_store


@click.command("agreement")
@click.option("--field", "fields", multiple=True, metavar="NAME", help="Only this article-level field (repeatable).")
@click.option("--story", default=None, metavar="ID", help="Only the articles of this story.")
@click.option("--by-story", is_flag=True, help="Also each story's figures.")
@click.option("--pair", nargs=2, default=None, metavar="A B", callback=check_annotator_option,
              help="Also compare annotator A with B (B may be 'gold'): confusion matrix, κ, α, FNC-1 score.")
@click.option("--resamples", type=click.IntRange(min=0), default=DEFAULT_RESAMPLES, show_default=True,
              help="Bootstrap resamples for α's 95% interval (0: no interval).")
@click.option("--seed", type=click.IntRange(min=0), default=DEFAULT_SEED, show_default=True,
              help="Seed of the bootstrap's random numbers.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def command(
    ctx: click.Context, fields: tuple[str, ...], story: str | None, by_story: bool,
    pair: tuple[str, str] | None, resamples: int, seed: int, as_json: bool,
) -> None:
    """Agreement between annotators: α per field with its 95% interval, κ and α per pair,
    label counts per annotator, claim span F1."""
    from newsmark.analysis.agreement import agreement

    if pair is not None and pair[0] == pair[1]:
        fail(f"--pair needs two different annotators (got {pair[0]!r} twice)")
    with open_store(ctx, create=False) as store:
        report = agreement(store, fields=fields, story=story, pair=pair, by_story=by_story, resamples=resamples, seed=seed)
    if as_json:
        echo_json(report.to_json())
        return
    _print(report)


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _interval(fa) -> str:
    return "–" if fa.alpha_ci is None else f"{fa.alpha_ci.low:.3f} to {fa.alpha_ci.high:.3f}"


def _names(names: list[str]):
    from rich.text import Text

    return Text(", ".join(map(for_terminal, names)) or "(nobody yet)")


def _print(report) -> None:
    """Rich tables; every name (annotators, fields, labels, stories) goes in as plain Text,
    through `for_terminal` (they come from the database: a teammate's file may hold anything)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)

    def table(title: Text, columns: tuple[tuple[str, str], ...]) -> Table:
        made = Table(title=title, title_justify="left")
        for name, justify in columns:  # Text: a label's name is data, never markup
            made.add_column(Text(name), justify=justify)
        return made

    scope = Text("all stories") if report.story is None else Text.assemble("story ", (for_terminal(report.story), "bold"))
    fields = table(Text.assemble("Agreement by field, ", scope), (
        ("field", "left"), ("level", "left"), ("α", "right"), ("95% CI", "right"), ("α nominal", "right"),
        ("units", "right"), ("annotators", "left")))
    for fa in report.fields.values():
        fields.add_row(Text(for_terminal(fa.name)), Text(for_terminal(fa.level)), _num(fa.alpha), _interval(fa),
                       _num(fa.alpha_nominal), str(fa.units), _names(fa.annotators))
    console.print(fields)
    interval = (f"bootstrap of {report.resamples:,} resamples (Hayes & Krippendorff 2007), seed {report.seed}"
                if report.resamples else "not drawn (--resamples 0)")
    console.print(Text("α: Krippendorff's alpha over all annotators; units: articles with two or more labels; "
                       f"\"cannot be judged\" grades count as missing. – : undefined. 95% CI: {interval}.", style="dim"))
    if report.stories is not None:
        stories = table(Text("Agreement by story"), (
            ("story", "left"), ("field", "left"), ("α", "right"), ("95% CI", "right"), ("units", "right"),
            ("annotators", "left")))
        for story, story_fields in report.stories.items():
            for fa in story_fields.values():
                stories.add_row(Text(for_terminal(story)), Text(for_terminal(fa.name)), _num(fa.alpha), _interval(fa),
                                str(fa.units), _names(fa.annotators))
        console.print(stories)
    for fa in report.fields.values():
        if not fa.pairwise:
            continue
        pairs = table(Text.assemble("Pairs on ", (for_terminal(fa.name), "bold"), f" ({for_terminal(fa.level)})"), (
            ("a", "left"), ("b", "left"), ("n", "right"), ("Cohen's κ", "right"), ("α", "right")))
        for p in fa.pairwise:
            pairs.add_row(Text(for_terminal(p.a)), Text(for_terminal(p.b)), str(p.n), _num(p.kappa), _num(p.alpha))
        console.print(pairs)
    for fa in report.fields.values():
        if not fa.distribution:
            continue
        labels = list(next(iter(fa.distribution.values())))
        counts = table(Text.assemble("Labels by annotator on ", (for_terminal(fa.name), "bold")),
                       (("annotator", "left"), *((for_terminal(label), "right") for label in labels), ("total", "right")))
        for who, per_label in fa.distribution.items():
            counts.add_row(Text(for_terminal(who)), *(str(n) for n in per_label.values()), str(sum(per_label.values())))
        console.print(counts)
    abstentions = [(fa.name, fa.cannot_judge) for fa in report.fields.values() if fa.cannot_judge]
    for name, counts in abstentions:
        console.print(Text.assemble(
            "\"cannot be judged\" in ", (for_terminal(name), "bold"), ": ",
            ", ".join(f"{for_terminal(who)} {count}" for who, count in counts.items()),
        ))
    if report.claims:
        claims = table(Text("Claim spans (articles both annotated, with a claim by either)"), (
            ("a", "left"), ("b", "left"), ("articles", "right"), ("spans a", "right"), ("spans b", "right"),
            ("exact F1", "right"), ("overlap F1", "right")))
        for p in report.claims:
            claims.add_row(Text(for_terminal(p.a)), Text(for_terminal(p.b)), str(p.articles), str(p.a_spans), str(p.b_spans),
                           _num(p.exact_f1), _num(p.overlap_f1))
        console.print(claims)
    elif report.claim_annotators:
        console.print(Text("Claim spans: only one annotator has marked claims.", style="dim"))
    for conf in report.confusion:
        a, b = for_terminal(conf.a), for_terminal(conf.b)
        matrix = Table(
            title=Text.assemble("Confusion on ", (for_terminal(conf.field), "bold"), ": rows ", (a, "bold"),
                                ", columns ", (b, "bold")),
            title_justify="left",
        )
        matrix.add_column(Text(f"{a} \\ {b}"))
        for label in conf.labels:
            matrix.add_column(Text(for_terminal(label)), justify="right")
        for label, row in zip(conf.labels, conf.matrix):
            matrix.add_row(Text(for_terminal(label)), *(str(count) for count in row))
        console.print(matrix)
        line = Text(f"{a} and {b} on {for_terminal(conf.field)}: n {conf.n}, Cohen's κ {_num(conf.kappa)}, α {_num(conf.alpha)}")
        if conf.fnc1 is not None:
            line.append(f"; FNC-1 score of {a} against {b}: {conf.fnc1.score:,.2f} of {conf.fnc1.max_score:,.2f}"
                        f" ({_num(conf.fnc1.relative)})")
        console.print(line)
