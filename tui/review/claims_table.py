"""ClaimsTable: every annotator's claims and the gold claims of the article, in text order.
Cells are Rich Text, never markup (claim text is article text, untrusted). A claim whose
span has a gold claim is marked ✓; one the gold policy agrees on (what accept-agreed would
make gold) ≈.

The claim's text is cut to what the table's width leaves after the other columns, so the
labels show in full; a narrow table (under NARROW columns) drops the span column, cuts
names and shows the labels' values only."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.review.data import ReviewState, annotator_colour
from newsmark.tui.review.labels_table import AGREED_STYLE, GOLD_STYLE, NARROW, NARROW_NAME_WIDTH
from newsmark.tui.review.names import TABLE_NAME_WIDTH, display_name

MIN_EXCERPT = 10  # the claim's text keeps at least this many characters
CELL_PADDING = 2  # a DataTable cell's padding, both sides together
SCROLLBAR = 2  # the table's vertical scrollbar, when its rows overflow


def excerpt(text: str, width: int) -> str:
    """A claim's text on one line, cut to `width` characters with "…"."""
    flat = for_terminal(" ".join(text.split()))
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def labels_text(labels: dict[str, str], narrow: bool) -> str:
    """A claim's labels: "checkworthy=yes, credibility=2", or in a narrow table "yes 2"."""
    items = sorted(labels.items())
    if narrow:
        return for_terminal(" ".join(value for _, value in items))
    return for_terminal(", ".join(f"{k}={v}" for k, v in items))


class ClaimsTable(DataTable):
    """One row per claim (key "c:<id>") and per gold claim (key "g:<id>")."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)

    def show(self, state: ReviewState, blind: bool, width: int = NARROW) -> None:
        """Fill the table from a review state for a table `width` columns wide, keeping
        the cursor row where it was."""
        keep = self.cursor_row
        narrow = width < NARROW
        self.clear(columns=True)
        columns = ("who", "text", "labels") if narrow else ("who", "span", "text", "labels")
        for label in columns:
            self.add_column(Text(label), key=label)
        review = state.review
        if review is None:
            return
        name_width = NARROW_NAME_WIDTH if narrow else TABLE_NAME_WIDTH
        gold_spans = {(g["start"], g["end"]) for g in review.gold_claims}
        agreed_spans = {(c.start, c.end) for c in review.agreed_claims}
        rows = []
        for claim in review.claims:
            index = state.annotators.index(claim.annotator) if claim.annotator in state.annotators else 0
            who = Text(display_name(state.annotators, claim.annotator, blind, name_width), style=f"on {annotator_colour(index)}")
            if (claim.start, claim.end) in gold_spans:
                who.append(" ✓", style=GOLD_STYLE)
            elif (claim.start, claim.end) in agreed_spans:
                who.append(" ≈", style=AGREED_STYLE)
            rows.append(((claim.start, claim.end, 0), f"c:{claim.id}", who, claim.start, claim.end, claim.exact, claim.labels))
        for gold in review.gold_claims:
            rows.append(((gold["start"], gold["end"], 1), f"g:{gold['id']}", Text("gold", style=GOLD_STYLE),
                         gold["start"], gold["end"], gold["exact"], gold["labels"]))
        rows.sort(key=lambda row: row[0])
        # Every column but the text, by column name; the text gets the width they leave.
        cells = [(key, exact, {"who": who, "span": Text(f"{start}–{end}"), "labels": Text(labels_text(labels, narrow))})
                 for _, key, who, start, end, exact, labels in rows]
        others = [max([len(name)] + [row[name].cell_len for _, _, row in cells]) for name in columns if name != "text"]
        room = width - sum(others) - CELL_PADDING * len(columns) - SCROLLBAR
        text_width = max(MIN_EXCERPT, min(room, max(len(exact) for _, exact, _ in cells) if cells else 0))
        for key, exact, row in cells:
            row["text"] = Text(excerpt(exact, text_width))
            self.add_row(*(row[name] for name in columns), key=key)
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor ("c:<claim id>" or "g:<gold id>"), or None."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
