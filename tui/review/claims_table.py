"""ClaimsTable: every annotator's claims and the gold claims of the article, in text order.
Cells are Rich Text, never markup (claim text is article text, untrusted)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.review.data import ReviewState, annotator_colour
from newsmark.tui.review.labels_table import GOLD_STYLE
from newsmark.tui.review.names import TABLE_NAME_WIDTH, display_name

EXCERPT = 34  # characters of a claim's text shown in the table


def _excerpt(text: str) -> str:
    flat = for_terminal(" ".join(text.split()))
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


class ClaimsTable(DataTable):
    """One row per claim (key "c:<id>") and per gold claim (key "g:<id>")."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)

    def show(self, state: ReviewState, blind: bool) -> None:
        """Fill the table from a review state, keeping the cursor row where it was."""
        keep = self.cursor_row
        self.clear(columns=True)
        for label in ("who", "span", "text", "labels"):
            self.add_column(Text(label), key=label)
        review = state.review
        if review is None:
            return
        gold_spans = {(g["start"], g["end"]) for g in review.gold_claims}
        rows = []
        for claim in review.claims:
            index = state.annotators.index(claim.annotator) if claim.annotator in state.annotators else 0
            who = Text(display_name(state.annotators, claim.annotator, blind, TABLE_NAME_WIDTH), style=f"on {annotator_colour(index)}")
            if (claim.start, claim.end) in gold_spans:
                who.append(" ✓", style=GOLD_STYLE)
            rows.append(((claim.start, claim.end, 0), f"c:{claim.id}", who, claim))
        for gold in review.gold_claims:
            rows.append(((gold["start"], gold["end"], 1), f"g:{gold['id']}", Text("gold", style=GOLD_STYLE), gold))
        rows.sort(key=lambda row: row[0])
        for _, key, who, item in rows:
            if key.startswith("c:"):
                start, end, exact, labels = item.start, item.end, item.exact, item.labels
            else:
                start, end, exact, labels = item["start"], item["end"], item["exact"], item["labels"]
            shown = for_terminal(", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
            self.add_row(who, Text(f"{start}–{end}"), Text(_excerpt(exact)), Text(shown), key=key)
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor ("c:<claim id>" or "g:<gold id>"), or None."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
