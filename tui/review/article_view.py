"""ArticleView: the article's text with every annotator's claims over it, in the
annotators' colours. The text is untrusted: it is built as Rich Text, never markup."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.review.claims_table import excerpt
from newsmark.tui.review.data import ReviewState, annotator_colour
from newsmark.tui.review.labels_table import FLAG, GOLD_STYLE
from newsmark.tui.review.names import TABLE_NAME_WIDTH, display_name
from newsmark.tui.widgets.label_bar import render_other_stories

SHARED_STYLE = "bold underline"  # a stretch marked by two or more annotators
# Rendered text is capped so a hostile 5 MB article cannot stall the screen; claims past
# the cap still appear in the claims table.
MAX_CHARS = 200_000
MAX_NOTE_CHARS = 1_000  # a note longer than this is cut on screen (the database keeps it whole)


def claims_text(state: ReviewState, blind: bool) -> Text:
    """The article's heading, the annotators' notes and flags in the story being read, and
    the text with claim spans styled per annotator.

    A stretch marked by one annotator takes that annotator's colour; one marked by
    several takes the colour of the first of them (story order), bold and underlined;
    gold claims are shown in the gold colour's foreground.
    """
    review = state.review
    if review is None:
        return Text("This story has no articles.", style="dim")
    article = review.article
    heading = Text()
    heading.append(for_terminal(article.source) if article.source else "(no outlet)", style="bold")
    if article.title:
        heading.append(" · ")
        heading.append(for_terminal(article.title), style="italic")
    if article.published:
        heading.append(f" · {for_terminal(article.published)}", style="dim")
    if review.other_stories:
        heading.append_text(render_other_stories(tuple(review.other_stories), ""))
    heading.append("\n")
    order = {name: index for index, name in enumerate(state.annotators)}
    for note in review.notes:
        heading.append(f" {display_name(state.annotators, note.annotator, blind, TABLE_NAME_WIDTH)} ",
                       style=f"on {annotator_colour(order.get(note.annotator, 0))}")
        if note.flagged:
            heading.append(f" {FLAG} flagged", style="bold red")
        if note.note:
            heading.append(": " + excerpt(note.note, MAX_NOTE_CHARS), style="italic")
        heading.append("\n")
    heading.append("\n")
    shown = article.text[:MAX_CHARS]
    body = Text(shown)
    length = len(shown)
    cuts = {0, length}
    for claim in review.claims:
        cuts.update((min(claim.start, length), min(claim.end, length)))
    points = sorted(cuts)
    for start, end in zip(points, points[1:]):
        markers = sorted(
            {c.annotator for c in review.claims if c.start <= start and end <= c.end}, key=lambda n: order.get(n, 0)
        )
        if not markers:
            continue
        style = f"on {annotator_colour(order.get(markers[0], 0))}"
        if len(markers) > 1:
            style += f" {SHARED_STYLE}"
        body.stylize(style, start, end)
    for gold in review.gold_claims:
        body.stylize(GOLD_STYLE, min(gold["start"], length), min(gold["end"], length))
    if len(article.text) > MAX_CHARS:
        body.append(f"\n… ({len(article.text) - MAX_CHARS:,} more characters not shown here)", style="dim")
    legend = Text("\n\n")
    for name in state.annotators:
        legend.append(f" {display_name(state.annotators, name, blind)} ", style=f"on {annotator_colour(order[name])}")
        legend.append(" ")
    legend.append(" several ", style=SHARED_STYLE)
    legend.append(" gold ", style=GOLD_STYLE)
    return heading + body + legend


class ArticleView(VerticalScroll):
    """A scrolling view of one article with its claims."""

    def compose(self):
        yield Static(id="article-body")

    def show(self, state: ReviewState, blind: bool) -> None:
        """Render the article of a review state."""
        self.query_one("#article-body", Static).update(claims_text(state, blind))
