"""LabelsTable: every annotator's article-level labels (rows) by field (columns), with a
gold row; fields in disagreement are highlighted. Cells are Rich Text, never markup.

The gold row shows a reviewer's value in bold and a value the gold policy gives by
agreement (what the accept-agreed key would write) in italics. A flag shows as ⚑ after
the annotator's name. In a narrow table (under NARROW columns) names and long field
names are cut so the article keeps its width."""

from __future__ import annotations

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.review.data import ReviewState, annotator_colour
from newsmark.tui.review.names import TABLE_NAME_WIDTH, display_name

GOLD_ROW = "\x00gold"  # a row key no annotator name can collide with
WHO_COLUMN = "\x00who"
DISAGREE_STYLE = "bold #ffd54f"
GOLD_STYLE = "bold #69f0ae"
AGREED_STYLE = "italic #69f0ae"
FLAG = "⚑"
NARROW = 48  # a table narrower than this many columns cuts names and field names
NARROW_NAME_WIDTH = 6
NARROW_FIELD_WIDTH = 6  # longer field names are cut to "rel." in a narrow table


def field_heading(name: str, narrow: bool) -> str:
    """A field's column heading: its name, cut to "rel." in a narrow table."""
    shown = for_terminal(name)
    return shown[:3] + "." if narrow and len(shown) > NARROW_FIELD_WIDTH else shown


class LabelsTable(DataTable):
    """Annotators x fields; select a cell (enter) to take that value as gold."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=False, **kwargs)

    def show(self, state: ReviewState, blind: bool, width: int = NARROW) -> None:
        """Fill the table from a review state for a table `width` columns wide, keeping
        the cursor where it was."""
        keep = self.cursor_coordinate
        narrow = width < NARROW
        self.clear(columns=True)
        review = state.review
        disagreements = review.disagreements if review else []
        self.add_column(Text("who" if narrow else "annotator"), key=WHO_COLUMN)
        for name in state.fields:
            label = Text(field_heading(name, narrow))
            if name in disagreements:
                label = Text.assemble((field_heading(name, narrow), DISAGREE_STYLE), (" ≠", DISAGREE_STYLE))
            self.add_column(label, key=name)
        flagged = {note.annotator for note in review.notes if note.flagged} if review else set()
        name_width = NARROW_NAME_WIDTH if narrow else TABLE_NAME_WIDTH
        for index, name in enumerate(state.annotators):
            values = review.labels.get(name, {}) if review else {}
            who = Text(display_name(state.annotators, name, blind, name_width), style=f"on {annotator_colour(index)}")
            if name in flagged:
                who.append(f" {FLAG}", style="bold red")
            cells = [who]
            for fld in state.fields:
                value = values.get(fld)
                if value is None:
                    cells.append(Text("·", style="dim"))
                else:
                    cells.append(Text(for_terminal(value), style=DISAGREE_STYLE if fld in disagreements else ""))
            self.add_row(*cells, key=name)
        gold = review.gold if review else {}
        agreed = review.agreed if review else {}
        gold_cells = [Text("gold", style=GOLD_STYLE)]
        for fld in state.fields:
            if fld in gold:
                gold_cells.append(Text(for_terminal(gold[fld]["value"]), style=GOLD_STYLE))
            elif fld in agreed:
                gold_cells.append(Text(for_terminal(agreed[fld].value), style=AGREED_STYLE))
            else:
                gold_cells.append(Text("—", style="dim"))
        self.add_row(*gold_cells, key=GOLD_ROW)
        if self.row_count and len(self.columns) > 1:
            # Keep the cursor's place; never rest on the annotator column, which holds no value.
            row = min(keep.row, self.row_count - 1)
            column = min(max(keep.column, 1), len(self.columns) - 1)
            self.cursor_coordinate = Coordinate(row, column)

    def cursor_field(self) -> str | None:
        """The field of the column under the cursor (None on the annotator column)."""
        if not self.columns:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).column_key.value
        return None if key == WHO_COLUMN else key
