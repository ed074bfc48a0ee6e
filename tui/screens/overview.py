"""The story overview (`o` on the annotate screen): two matrices for the current story.

1. Who copies whom: article x article, the share of the row article's text that the
   column article repeats or closely paraphrases (analysis.overview.shared_matrix).
2. Who carries which claim: claim cluster x article for this annotator, with each
   article's stance and credibility on top (analysis.overview.claim_matrix).

Articles are numbered as on the annotate screen (import order) and abbreviated, with a
legend, so both tables read at 80 columns. Every cell is a `rich.text.Text` built from
plain strings (outlets, titles and cluster wordings are untrusted: never markup).

Bounded and cancellable: the overview covers at most OVERVIEW_ARTICLES articles of the
story (] and [ move to the next / previous ones); the slow reader reads them in short
reads, then a thread worker aligns their pairs under a time budget (OVERVIEW_SECONDS),
showing the tables at once and the shared fractions as they come, and says how many pairs
it compared. Leaving the screen (esc, o) cancels the worker within milliseconds; q quits
the app whatever runs.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.worker import Worker, WorkerState, get_current_worker
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from newsmark.analysis.budget import Budget, Cancelled, Running
from newsmark.analysis.overview import OVERVIEW_ARTICLES
from newsmark.schema.sanitize import for_terminal
from newsmark.tui.text import clip_words, display_inline

if TYPE_CHECKING:
    from newsmark.analysis.overview import ClaimMatrix, SharedMatrix, StoryWindow
    from newsmark.tui.app import NewsmarkApp

ABBREVIATION = 5  # characters of an outlet's short name in column headings
WORDING_MIN, WORDING_MAX = 16, 60  # characters of a cluster's wording in the claim table
OVERVIEW_SECONDS = 20.0  # time budget for aligning one window's pairs
PROGRESS_SECONDS = 1.0  # the shared table is redrawn this often while pairs are compared
VALUE_WIDTH = 10  # characters of a stance or credibility value in the claim table ("unrelated" fits)


def abbreviate(names: list[str], width: int = ABBREVIATION) -> list[str]:
    """Short, distinct names for column headings: the initials of a several-word name
    ("Capital Cities" -> "CC"), else its first `width` characters; repeats get a digit."""
    out: list[str] = []
    for name in names:
        words = [w for w in display_inline(name).split() if w[:1].isalnum()]
        short = "".join(w[0] for w in words)[:width].upper() if len(words) > 1 else display_inline(name)[:width]
        out.append(short or "?")
    seen: dict[str, int] = {}
    repeated = {short for short in out if out.count(short) > 1}
    for index, short in enumerate(out):
        if short in repeated:
            seen[short] = seen.get(short, 0) + 1
            out[index] = f"{short[: width - 1]}{seen[short]}"
    return out


class OverviewScreen(Screen[None]):
    """Who copies whom, and who carries which claim, for one story (or a window of it)."""

    BINDINGS = [
        Binding("escape,o", "close", "Back to the articles"),
        Binding("right_square_bracket", "window(1)", "Next articles"),
        Binding("left_square_bracket", "window(-1)", "Previous articles"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, story_id: str, blind: bool = False, first: int = 0) -> None:
        super().__init__()
        self.story_id = story_id
        self.blind = blind
        self.first = first  # the window's first article (0-based position in the story)
        self.window: StoryWindow | None = None
        self.shared: SharedMatrix | None = None
        self.claims: ClaimMatrix | None = None
        self.complete = False  # the computation has ended (all pairs, or the budget spent)
        self.running = Running()  # the computing threads (idle once cancelled work stopped)
        self.opened_at = time.monotonic()
        self.first_result_at: float | None = None  # when the window's tables were first shown

    @property
    def napp(self) -> NewsmarkApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="overview-body"):
            yield Static(Text("Story overview: computing…", style="bold"), id="overview-title")
            yield Static(Text(""), id="overview-status")
            yield Static(Text(""), id="shared-caption")
            yield DataTable(id="shared-table", cursor_type="none", zebra_stripes=True)
            yield Static(Text(""), id="claims-caption")
            yield DataTable(id="claims-table", cursor_type="none", zebra_stripes=True)
            yield Static(Text(""), id="overview-legend")
        yield Footer()

    def on_mount(self) -> None:
        """Compute both matrices off the event loop."""
        self.compute()

    @work(thread=True, exclusive=True, group="overview", exit_on_error=False)
    def compute(self) -> None:
        """Read the window's articles (short reads on the slow reader), show the tables,
        then align the pairs in this thread under the time budget."""
        from newsmark.analysis.overview import claim_matrix, story_window

        worker = get_current_worker()
        budget = Budget(OVERVIEW_SECONDS, cancelled=lambda: worker.is_cancelled)
        story_id, annotator, first = self.story_id, self.napp.annotator, self.first

        def read(store):
            window = story_window(store, story_id, annotator, first, OVERVIEW_ARTICLES)
            return store.get_story(story_id), window, claim_matrix(store, story_id, annotator, window.articles)

        with self.running:
            self._compute(worker, budget, read)

    def _compute(self, worker: Worker, budget: Budget, read) -> None:
        from newsmark.analysis.overview import window_shared

        try:
            story, window, claims = self.napp.slow_reader.submit(read).result()
            budget.check()
            self._post(worker, self._show_window, story, window, claims)
            last = [0.0]

            def progress(shared: SharedMatrix) -> None:
                if budget.elapsed - last[0] >= PROGRESS_SECONDS:
                    last[0] = budget.elapsed
                    self._post(worker, self._show_shared, shared, False)

            shared = window_shared(window, budget, progress)
            self._post(worker, self._show_shared, shared, True)
        except Cancelled:
            return
        except Exception as exc:  # a locked, damaged or vanished database: say so, stay open
            try:
                self._post(worker, self._failed, exc)
            except Cancelled:
                return

    def _post(self, worker: Worker, callback, *args) -> None:
        """(In the worker) run `callback` on the event loop unless the work was cancelled."""
        if worker.is_cancelled:
            raise Cancelled()
        self.app.call_from_thread(callback, *args)

    def _failed(self, exc: BaseException) -> None:
        self.complete = True
        message = for_terminal(f"Cannot compute the overview: {type(exc).__name__}: {exc}")
        self.notify(message, title="Error", severity="error", markup=False)
        if self.is_attached:
            self.query_one("#overview-status", Static).update(Text(message, style="bold red"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failure the worker did not catch still leaves the app running, with a message."""
        if event.state == WorkerState.ERROR and event.worker.error is not None and not event.worker.is_cancelled:
            self._failed(event.worker.error)

    def _show_window(self, story, window: StoryWindow, claims: ClaimMatrix) -> None:
        """The window's articles are read: title, claim table and legend now, the shared
        fractions as they are computed."""
        if not self.is_attached:
            return
        self.window, self.claims = window, claims
        self.first = window.first
        if self.first_result_at is None:
            self.first_result_at = time.monotonic()
        title = Text("Story overview: ", style="bold")
        title.append(display_inline(story.title if story else "") or display_inline(self.story_id), style="bold")
        title.append(f"  [{display_inline(self.story_id)} · {window.total:,} articles]", style="dim")
        if self.blind:
            title.append("  BLIND MODE", style="bold black on yellow")
        self.query_one("#overview-title", Static).update(title)
        from newsmark.analysis.overview import SharedMatrix

        n = len(window.articles)
        pending = SharedMatrix(window.articles, [[1.0 if i == j else None for j in range(n)] for i in range(n)],
                               [None] * n, 0, n * (n - 1) // 2)
        self._fill_shared(pending)
        self._fill_claims(pending, claims)
        self._fill_legend(pending)
        self._show_status(pending, done=False)
        self.refresh_bindings()
        self.query_one("#overview-body").focus()

    def _show_shared(self, shared: SharedMatrix, done: bool) -> None:
        if not self.is_attached:
            return
        self.shared = shared
        self.complete = done
        self._fill_shared(shared)
        self._show_status(shared, done)

    def _show_status(self, shared: SharedMatrix, done: bool) -> None:
        """What the overview covers and how far the comparison got, in plain words."""
        window = self.window
        assert window is not None
        status = Text()
        if window.partial:
            last = window.first + len(window.articles)
            status.append(f"Story too large for one overview: {window.total:,} articles; "
                          f"showing articles {window.first + 1:,}–{last:,}", style="bold yellow")
            status.append("  (] next, [ previous)\n", style="dim")
        if not done:
            status.append(f"comparing… {shared.compared:,} of {shared.total:,} pairs so far", style="italic")
        elif shared.complete:
            status.append(f"compared all {shared.total:,} pairs", style="dim")
        else:
            status.append(f"compared {shared.compared:,} of {shared.total:,} pairs in {OVERVIEW_SECONDS:.0f} s: "
                          "showing the strongest found so far (? not compared)", style="bold yellow")
        self.query_one("#overview-status", Static).update(status)

    def _names(self, shared: SharedMatrix) -> tuple[list[str], list[str]]:
        """Column headings ("1 CC") and legend names for the articles."""
        numbers = [str(head.number or k + 1) for k, head in enumerate(shared.articles)]
        if self.blind:
            return numbers, [f"article {n}" for n in numbers]
        shorts = abbreviate([head.name for head in shared.articles])
        return [f"{n} {s}" for n, s in zip(numbers, shorts)], [head.name for head in shared.articles]

    def _fill_shared(self, shared: SharedMatrix) -> None:
        headings, _ = self._names(shared)
        n = len(shared.articles)
        caption = Text("Who copies whom", style="bold underline")
        caption.append("  row: % of that article's text that the column's article repeats or paraphrases",
                       style="dim")
        self.query_one("#shared-caption", Static).update(caption)
        table = self.query_one("#shared-table", DataTable)
        table.clear(columns=True)
        table.add_column(Text("article"), key="article")
        for k in range(n):
            table.add_column(Text(headings[k], justify="right"), key=f"a{k}")
        for i, row in enumerate(shared.matrix):
            most = shared.most[i]
            cells: list[Text] = [Text(headings[i], style="bold")]
            for j, value in enumerate(row):
                if i == j:
                    cells.append(Text("—", style="dim", justify="right"))
                elif value is None:
                    cells.append(Text("?", style="dim italic", justify="right"))
                elif value <= 0:
                    cells.append(Text("·", style="dim", justify="right"))
                else:
                    best = most is not None and most[0] == j
                    cells.append(Text(f"{round(100 * value)}%", style="bold yellow" if best else "", justify="right"))
            table.add_row(*cells, key=f"r{i}")

    def _fill_claims(self, shared: SharedMatrix, claims: ClaimMatrix) -> None:
        headings, _ = self._names(shared)
        n = len(shared.articles)
        caption = Text("Who carries which claim", style="bold underline")
        caption.append("  ● claimed (credibility) · w on a claim edits its wording", style="dim")
        self.query_one("#claims-caption", Static).update(caption)
        table = self.query_one("#claims-table", DataTable)
        table.clear(columns=True)
        table.add_column(Text("claim cluster"), key="cluster")
        for k in range(n):
            table.add_column(Text(headings[k], justify="right"), key=f"a{k}")
        # Whole label values ("discuss", "unrelated"): a custom scheme's long ones are cut at a word.
        stances = [clip_words(h.stance, VALUE_WIDTH) if h.stance else "–" for h in claims.articles]
        credibilities = [clip_words(h.credibility, VALUE_WIDTH) if h.credibility else "–" for h in claims.articles]
        table.add_row(Text("stance", style="italic"), *[
            Text(value, justify="right", style="" if h.stance else "dim") for value, h in zip(stances, claims.articles)
        ], key="stance")
        table.add_row(Text("credibility", style="italic"), *[
            Text(value, justify="right", style="" if h.credibility else "dim")
            for value, h in zip(credibilities, claims.articles)
        ], key="credibility")
        if not claims.clusters:
            table.add_row(Text("(no claims yet: c marks one, l or L links it to others)", style="dim"),
                          *[Text("")] * n, key="none")
        # The wording takes what the article columns leave of the screen's width.
        columns = [max(len(h), len(s), len(c), 3) + 2 for h, s, c in zip(headings, stances, credibilities)]
        room = self.size.width - 8 - sum(columns)
        width = max(WORDING_MIN, min(WORDING_MAX, room))
        for row in claims.clusters:
            count = f" ({row.n_articles})" if row.linked else " (not linked)"
            label = Text(clip_words(row.label, width), style="" if row.linked else "italic")
            label.append(count, style="dim")
            cells = [label]
            for head in claims.articles:
                found = row.cells.get(head.id)
                if not found:
                    cells.append(Text("·", style="dim", justify="right"))
                    continue
                grades = [g for _, g in found if g]
                mark = "●" + (f" {display_inline(grades[0])}" if grades else "")
                if len(found) > 1:
                    mark += f" ×{len(found)}"
                cells.append(Text(mark, style="bold green", justify="right"))
            table.add_row(*cells, key=f"c{row.id}")

    def _fill_legend(self, shared: SharedMatrix) -> None:
        headings, names = self._names(shared)
        legend = Text("Articles", style="bold underline")
        if self.blind:
            legend.append("  outlets hidden (blind mode): numbered as on the annotate screen", style="dim")
        column = max((len(h) for h in headings), default=0) + 2  # "12 CNN" and its name never touch
        for k, head in enumerate([] if self.blind else shared.articles):
            legend.append("\n")
            legend.append(f"{headings[k]:<{column}}", style="bold")
            legend.append(display_inline(names[k]))
        self.query_one("#overview-legend", Static).update(legend)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """] and [ (and their footer entries) only for a story larger than one overview."""
        if action == "window":
            return self.window is not None and self.window.partial
        return True

    def _cancel(self) -> None:
        self.workers.cancel_group(self, "overview")

    def action_window(self, step: int) -> None:
        """Show the next / previous OVERVIEW_ARTICLES articles of a large story."""
        window = self.window
        if window is None or not window.partial:
            return
        first = window.first + step * OVERVIEW_ARTICLES
        if first < 0 or first >= window.total:
            return
        self._cancel()
        self.first = first
        self.window = self.shared = self.claims = None
        self.complete = False
        self.query_one("#overview-status", Static).update(Text("reading the articles…", style="italic"))
        self.compute()

    def action_close(self) -> None:
        """Back to the annotate screen (the computation stops)."""
        self._cancel()
        self.dismiss(None)

    async def action_quit(self) -> None:
        """Quit the app whatever is being computed (once the writer has committed)."""
        self._cancel()
        await self.napp.writer.idle()
        self.app.exit()
