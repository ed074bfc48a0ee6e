"""ReviewScreen: walk a story's articles, see who labelled and marked what, adjudicate.

Every database call runs in a thread worker (`ReviewData` serialises them with a lock);
results come back with `call_from_thread`. A load carries a request number so a slow,
stale load never overwrites a newer one.
"""

from __future__ import annotations

import sqlite3

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer
from textual.worker import Worker, WorkerState

from newsmark.schema.operations import undo_message
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.store import StoreError
from newsmark.tui.live import TeammatesChanged, touches
from newsmark.tui.review.article_view import ArticleView
from newsmark.tui.review.claims_table import ClaimsTable
from newsmark.tui.review.data import ReviewData, ReviewState
from newsmark.tui.review.gold_modal import GoldChoice, GoldModal
from newsmark.tui.review.labels_table import GOLD_ROW, WHO_COLUMN, LabelsTable
from newsmark.tui.review.names import display_name
from newsmark.tui.review.review_header import ReviewHeader


ARTICLE_MIN_WIDTH = 48  # the article's column with its border, padding and scrollbar: 45 for the text


def tables_width(screen_width: int) -> int:
    """How wide the tables' column is on a screen this wide: half the screen, but leaving
    the article ARTICLE_MIN_WIDTH columns (80 columns: 32 for the tables, which then cut
    names and drop the span column), and never under 28."""
    return max(28, min(screen_width // 2, screen_width - ARTICLE_MIN_WIDTH))


class ReviewScreen(Screen):
    """The review and adjudication screen."""

    # In the footer's order (at 80 columns the ones after "q" are cut off).
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("a", "accept_agreed(False)", "Accept agreed"),
        Binding("A", "accept_agreed(True)", "Accept agreed (story)", show=False),
        Binding("N", "undecided(1)", "Next to decide"),
        Binding("P", "undecided(-1)", "Prev to decide", show=False),
        Binding("right_square_bracket", "article(1)", "Next article"),
        Binding("left_square_bracket", "article(-1)", "Prev article", show=False),
        Binding("u,ctrl+z", "undo(True)", "Undo"),
        Binding("ctrl+y", "undo(False)", "Redo", show=False),
        Binding("q", "app.quit", "Quit"),
        Binding("n", "story(1)", "Next story", show=False),
        Binding("p", "story(-1)", "Prev story", show=False),
        Binding("o", "other_value", "Other value"),
        Binding("G", "gold_claim", "Gold claim"),
        Binding("delete,backspace", "remove_gold", "Remove gold", show=False),
        Binding("b", "toggle_blind", "Blind"),
        Binding("r", "reload", "Reload", show=False),
    ]

    def __init__(self, data: ReviewData, reviewer: str, story_id: str | None = None, blind: bool = False) -> None:
        super().__init__()
        self.data = data
        self.reviewer = reviewer
        self.blind = blind
        self.state: ReviewState | None = None
        self.scheme = None
        self._first_story = story_id
        self._request = 0
        self.writes = 0  # gold decisions committed (for tests)
        self.live_reloads = 0  # teammates' changes that made the screen read again (for tests)
        self.tables_width = 0  # set from the terminal's width on the first resize

    def compose(self) -> ComposeResult:
        yield ReviewHeader(id="review-header")
        with Horizontal(id="review-body"):
            with Vertical(id="review-left"):
                yield LabelsTable(id="labels")
                yield ClaimsTable(id="claims")
            yield ArticleView(id="article")
        yield Footer()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A read or write that failed unexpectedly (a vanished file): a message, and the
        app keeps running (its workers have exit_on_error=False)."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            self.notify(for_terminal(f"{type(error).__name__}: {error}"), severity="error", markup=False)

    def on_mount(self) -> None:
        self.load(self._first_story, 0)

    # --- loading ----------------------------------------------------------------------

    def load(self, story_id: str | None, index: int) -> None:
        """Load a story's index-th article (off the event loop)."""
        self._request += 1
        self._load(self._request, story_id, index)

    def reload(self) -> None:
        """Load the current article again (after a write, or someone else's)."""
        if self.state is not None:
            self.load(self.state.story.id, self.state.index)

    @work(thread=True, group="review-db", exit_on_error=False)
    def _load(self, request: int, story_id: str | None, index: int) -> None:
        try:
            scheme = self.data.scheme
            state = self.data.state(story_id, index)
        except (StoreError, sqlite3.Error) as exc:
            self.app.call_from_thread(self.notify, for_terminal(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self._show, request, state, scheme)

    def _show(self, request: int, state: ReviewState, scheme) -> None:
        if request != self._request:
            return  # a newer load is on its way
        self.state = state
        self.scheme = scheme
        self._refresh_widgets()

    def on_resize(self, event: events.Resize) -> None:
        """Share the width between the tables and the article (see `tables_width`)."""
        width = tables_width(event.size.width)
        if width != self.tables_width:
            self.tables_width = width
            self.query_one("#review-left").styles.width = width
            self._refresh_widgets()

    def _refresh_widgets(self) -> None:
        state = self.state
        if state is None:
            return
        self.query_one(ReviewHeader).show(state, self.reviewer, self.blind)
        self.query_one(LabelsTable).show(state, self.blind, self.tables_width)
        self.query_one(ClaimsTable).show(state, self.blind, self.tables_width)
        self.query_one(ArticleView).show(state, self.blind)

    # --- moving -----------------------------------------------------------------------

    def action_article(self, step: int) -> None:
        """Previous / next article of the story."""
        state = self.state
        if state is None:
            return
        target = state.index + step
        if not 0 <= target < len(state.article_ids):
            self.notify("first article of the story" if step < 0 else "last article of the story")
            return
        self.load(state.story.id, target)

    def action_undecided(self, step: int) -> None:
        """Jump to the next (previous) article with a field that still needs a decision under
        the gold policy, wrapping around the story."""
        state = self.state
        if state is None:
            return
        progress = state.progress
        if not progress.undecided:
            self.notify(f"Every labelled article of this story is decided ({progress.policy} policy).")
            return
        position = {aid: index for index, aid in enumerate(state.article_ids)}
        positions = sorted(position[aid] for aid in progress.undecided)
        if step > 0:
            later = [p for p in positions if p > state.index]
            target = later[0] if later else positions[0]
        else:
            earlier = [p for p in positions if p < state.index]
            target = earlier[-1] if earlier else positions[-1]
        self.load(state.story.id, target)

    def action_story(self, step: int) -> None:
        """Previous / next story."""
        if self.state is not None:
            self._story(self.state.story.id, step)

    @work(thread=True, group="review-db", exit_on_error=False)
    def _story(self, current: str, step: int) -> None:
        try:
            target = self.data.story_id_at(current, step)
        except (StoreError, sqlite3.Error) as exc:
            self.app.call_from_thread(self.notify, for_terminal(exc), severity="error", markup=False)
            return
        if target is None:
            self.app.call_from_thread(self.notify, "no more stories that way")
            return
        self.app.call_from_thread(self.load, target, 0)

    @on(TeammatesChanged)
    def _teammates_changed(self, message: TeammatesChanged) -> None:
        """A teammate's labels, claims or gold: read the article again when they concern the
        story (its progress counts every article)."""
        state = self.state
        if state is not None and touches(message.events, state.story.id, state.article_ids):
            self.live_reloads += 1
            self.reload()

    def action_reload(self) -> None:
        """Read the current article again (teammates may be annotating the same database)."""
        self.reload()

    def action_help(self) -> None:
        """Show the keys."""
        from newsmark.tui.review.help_modal import HelpModal

        self.app.push_screen(HelpModal())

    def action_toggle_blind(self) -> None:
        """Hide (or show) annotator names."""
        self.blind = not self.blind
        self._refresh_widgets()
        self.notify("blind: annotator names hidden" if self.blind else "blind off: names shown")

    # --- adjudicating -----------------------------------------------------------------

    def _who(self, name: str) -> str:
        return display_name(self.state.annotators if self.state else [], name, self.blind)

    @on(DataTable.CellSelected, "#labels")
    def _cell_selected(self, event: DataTable.CellSelected) -> None:
        state = self.state
        if state is None or state.review is None:
            return
        row, column = event.cell_key.row_key.value, event.cell_key.column_key.value
        if column == WHO_COLUMN:
            self.notify("pick a field's column")
            return
        if row == GOLD_ROW:
            self._ask_other(column)
            return
        value = state.review.labels.get(row, {}).get(column)
        if value is None:
            self.notify(f"{self._who(row)} gave no {for_terminal(column)} label", markup=False)
            return
        title = Text.assemble("Gold ", (for_terminal(column), "bold"), " = ", (for_terminal(value), "bold"),
                              f" (from {self._who(row)})")
        self._ask(GoldModal(title, self.scheme.field(column), value), column)

    def action_other_value(self) -> None:
        """Set a gold value no annotator gave (for the field under the cursor)."""
        state = self.state
        if state is None or state.review is None:
            return
        field = self.query_one(LabelsTable).cursor_field()
        if field is None:
            field = (state.review.undecided or state.review.disagreements or state.fields)[0]
        self._ask_other(field)

    def _ask_other(self, field: str) -> None:
        title = Text.assemble("Gold ", (for_terminal(field), "bold"), ": type the value")
        self._ask(GoldModal(title, self.scheme.field(field)), field)

    def _ask(self, modal: GoldModal, field: str) -> None:
        story_id, article_id = self.state.story.id, self.state.review.article.id

        def decided(choice: GoldChoice | None) -> None:
            if choice is not None and choice.value is not None:
                self._write_gold(story_id, article_id, field, choice.value, choice.reason)

        self.app.push_screen(modal, decided)

    @work(thread=True, group="review-db", exit_on_error=False)
    def _write_gold(self, story_id: str, article_id: str, field: str, value: str | None, reason: str) -> None:
        try:
            self.data.set_gold(story_id, article_id, field, value, self.reviewer, reason)
        except (StoreError, sqlite3.Error) as exc:
            self.app.call_from_thread(self.notify, for_terminal(exc), severity="error", markup=False)
            return
        message = f"gold {field} = {value} saved" if value is not None else f"gold {field} removed"
        message = for_terminal(message)
        self.app.call_from_thread(self._written, message)

    def _written(self, message: str) -> None:
        self.writes += 1
        self.notify(message, markup=False)
        self.reload()

    def action_remove_gold(self) -> None:
        """Remove the gold claim under the cursor (claims table) or the gold value of the
        field under the cursor (labels table)."""
        state = self.state
        if state is None or state.review is None:
            return
        if isinstance(self.focused, ClaimsTable):
            key = self.query_one(ClaimsTable).cursor_key()
            if key and key.startswith("g:"):
                self._remove_gold_claim(key[2:])
            return
        field = self.query_one(LabelsTable).cursor_field()
        if field is not None and field in state.review.gold:
            self._write_gold(state.story.id, state.review.article.id, field, None, "")

    @on(DataTable.RowSelected, "#claims")
    def _claim_selected(self) -> None:
        self.action_gold_claim()

    def action_gold_claim(self) -> None:
        """Accept the claim under the cursor of the claims table as a gold claim."""
        state = self.state
        if state is None or state.review is None:
            return
        key = self.query_one(ClaimsTable).cursor_key()
        if key is None:
            self.notify("no claims in this article")
            return
        if key.startswith("g:"):
            self.notify("already a gold claim (delete removes it)")
            return
        claim = next(c for c in state.review.claims if c.id == key[2:])
        title = Text.assemble("Gold claim ", (f"{claim.start}–{claim.end}", "bold"), f" (from {self._who(claim.annotator)})")

        def decided(choice: GoldChoice | None) -> None:
            if choice is not None:
                self._write_gold_claim(claim, choice.reason)

        self.app.push_screen(GoldModal(title), decided)

    @work(thread=True, group="review-db", exit_on_error=False)
    def _write_gold_claim(self, claim, reason: str) -> None:
        try:
            self.data.set_gold_claim(claim, self.reviewer, reason)
        except (StoreError, sqlite3.Error) as exc:
            self.app.call_from_thread(self.notify, for_terminal(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self._written, f"gold claim {claim.start}–{claim.end} saved")

    @work(thread=True, group="review-db", exit_on_error=False)
    def _remove_gold_claim(self, gold_id: str) -> None:
        try:
            self.data.remove_gold_claim(gold_id, self.reviewer)
        except (StoreError, sqlite3.Error) as exc:
            self.app.call_from_thread(self.notify, for_terminal(exc), severity="error", markup=False)
            return
        self.app.call_from_thread(self._written, "gold claim removed")

    def action_accept_agreed(self, whole_story: bool) -> None:
        """Write as gold what the policy decides by agreement, for the article (or the whole
        story) being read, as one action; a reviewer's gold is never overwritten."""
        state = self.state
        if state is None or state.review is None:
            return
        self._accept_agreed(state.story.id, None if whole_story else state.review.article.id)

    @work(thread=True, group="review-db", exit_on_error=False)
    def _accept_agreed(self, story_id: str, article_id: str | None) -> None:
        try:
            result = self.data.accept_agreed(story_id, article_id, self.reviewer)
        except (StoreError, sqlite3.Error) as exc:
            self.app.call_from_thread(self.notify, for_terminal(exc), severity="error", markup=False)
            return
        where = "this article" if article_id is not None else "this story"
        if not result.changed:
            self.app.call_from_thread(self.notify, f"Nothing agreed is left without gold in {where}.", markup=False)
            return
        values = sum(event.tbl == "gold" for event in result.events)
        claims = sum(event.tbl == "gold_claims" for event in result.events)
        self.app.call_from_thread(self._written, f"Accepted {_count(values, 'agreed value')} and "
                                                 f"{_count(claims, 'agreed claim')} as gold in {where} (u undoes).")

    def action_undo(self, undo: bool) -> None:
        """Undo (or redo) the reviewer's latest change; never a teammate's later one."""
        self._undo(undo)

    @work(thread=True, group="review-db")
    def _undo(self, undo: bool) -> None:
        try:
            result = self.data.undo(self.reviewer, undo)
        except (StoreError, sqlite3.Error) as exc:  # UndoRefused names the later change
            title = getattr(exc, "title", "Not saved")
            self.app.call_from_thread(self.notify, str(exc), title=title, severity="error", markup=False)
            return
        if result is None:
            self.app.call_from_thread(self.notify, undo_message(None, undo), markup=False)
            return
        self.app.call_from_thread(self._written, undo_message(result, undo))


def _count(n: int, noun: str) -> str:
    """ "1 agreed value", "2 agreed values"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
