"""LabelsTable: every annotator's article-level labels (rows) by field (columns), with a
gold row; fields in disagreement are highlighted. Cells are Rich Text, never markup."""

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


class LabelsTable(DataTable):
    """Annotators x fields; select a cell (enter) to take that value as gold."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=False, **kwargs)

    def show(self, state: ReviewState, blind: bool) -> None:
        """Fill the table from a review state, keeping the cursor where it was."""
        keep = self.cursor_coordinate
        self.clear(columns=True)
        review = state.review
        disagreements = review.disagreements if review else []
        self.add_column(Text("annotator"), key=WHO_COLUMN)
        for name in state.fields:
            label = Text(for_terminal(name))
            if name in disagreements:
                label = Text.assemble((for_terminal(name), DISAGREE_STYLE), (" ≠", DISAGREE_STYLE))
            self.add_column(label, key=name)
        for index, name in enumerate(state.annotators):
            values = review.labels.get(name, {}) if review else {}
            who = Text(display_name(state.annotators, name, blind, TABLE_NAME_WIDTH), style=f"on {annotator_colour(index)}")
            cells = [who]
            for fld in state.fields:
                value = values.get(fld)
                if value is None:
                    cells.append(Text("·", style="dim"))
                else:
                    cells.append(Text(for_terminal(value), style=DISAGREE_STYLE if fld in disagreements else ""))
            self.add_row(*cells, key=name)
        gold = review.gold if review else {}
        gold_cells = [Text("gold", style=GOLD_STYLE)]
        for fld in state.fields:
            entry = gold.get(fld)
            gold_cells.append(Text(for_terminal(entry["value"]), style=GOLD_STYLE) if entry else Text("—", style="dim"))
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
