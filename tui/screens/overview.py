"""The story overview (`o` on the annotate screen): two matrices for the current story.

1. Who copies whom: article x article, the share of the row article's text that the
   column article repeats or closely paraphrases (analysis.overview.shared_matrix).
2. Who carries which claim: claim cluster x article for this annotator, with each
   article's stance and credibility on top (analysis.overview.claim_matrix).

Articles are numbered as on the annotate screen (import order) and abbreviated, with a
legend, so both tables read at 80 columns. Everything is computed on the slow reader's
thread; every cell is a `rich.text.Text` built from plain strings (outlets, titles and
cluster wordings are untrusted: never markup).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from newsmark.tui.text import display_inline

if TYPE_CHECKING:
    from newsmark.analysis.overview import ClaimMatrix, SharedMatrix
    from newsmark.tui.app import NewsmarkApp

ABBREVIATION = 5  # characters of an outlet's short name in column headings
WORDING_MIN, WORDING_MAX = 16, 60  # characters of a cluster's wording in the claim table
STANCE_SHORT = {"agree": "agree", "disagree": "disagr", "discuss": "discus", "unrelated": "unrel"}


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
    """Who copies whom, and who carries which claim, for one story."""

    BINDINGS = [
        Binding("escape,o,q", "close", "Back to the articles"),
    ]

    def __init__(self, story_id: str, blind: bool = False) -> None:
        super().__init__()
        self.story_id = story_id
        self.blind = blind
        self.shared: SharedMatrix | None = None
        self.claims: ClaimMatrix | None = None

    @property
    def napp(self) -> NewsmarkApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="overview-body"):
            yield Static(Text("Story overview: computing…", style="bold"), id="overview-title")
            yield Static(Text(""), id="shared-caption")
            yield DataTable(id="shared-table", cursor_type="none", zebra_stripes=True)
            yield Static(Text(""), id="claims-caption")
            yield DataTable(id="claims-table", cursor_type="none", zebra_stripes=True)
            yield Static(Text(""), id="overview-legend")
        yield Footer()

    def on_mount(self) -> None:
        """Compute both matrices off the event loop."""
        self.compute()

    @work(exclusive=True, group="overview")
    async def compute(self) -> None:
        """Read the story and align its articles on the slow reader's thread."""
        from newsmark.analysis.overview import claim_matrix, shared_matrix

        story_id, annotator = self.story_id, self.napp.annotator

        def read(store):
            return store.get_story(story_id), shared_matrix(store, story_id, annotator), claim_matrix(store, story_id, annotator)

        try:
            story, shared, claims = await self.napp.slow_reader.run(read)
        except Exception as exc:
            self.notify(f"Cannot compute the overview: {exc}", title="Error", severity="error", markup=False)
            return
        self.shared, self.claims = shared, claims
        title = Text("Story overview: ", style="bold")
        title.append(display_inline((story.title if story else "") or story_id), style="bold")
        title.append(f"  [{display_inline(story_id)} · {len(shared.articles)} articles]", style="dim")
        if self.blind:
            title.append("  BLIND MODE", style="bold black on yellow")
        self.query_one("#overview-title", Static).update(title)
        self._fill(shared, claims)
        self.query_one("#overview-body").focus()

    def _names(self, shared: SharedMatrix) -> tuple[list[str], list[str]]:
        """Column headings ("1 CC") and legend names for the articles."""
        numbers = [str(k + 1) for k in range(len(shared.articles))]
        if self.blind:
            return numbers, [f"article {n}" for n in numbers]
        shorts = abbreviate([head.name for head in shared.articles])
        return [f"{n} {s}" for n, s in zip(numbers, shorts)], [head.name for head in shared.articles]

    def _fill(self, shared: SharedMatrix, claims: ClaimMatrix) -> None:
        headings, names = self._names(shared)
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
                elif value <= 0:
                    cells.append(Text("·", style="dim", justify="right"))
                else:
                    best = most is not None and most[0] == j
                    cells.append(Text(f"{round(100 * value)}%", style="bold yellow" if best else "", justify="right"))
            table.add_row(*cells, key=f"r{i}")

        caption = Text("Who carries which claim", style="bold underline")
        caption.append("  ● claimed (credibility) · w on a claim edits its wording", style="dim")
        self.query_one("#claims-caption", Static).update(caption)
        table = self.query_one("#claims-table", DataTable)
        table.clear(columns=True)
        table.add_column(Text("claim cluster"), key="cluster")
        for k in range(n):
            table.add_column(Text(headings[k], justify="right"), key=f"a{k}")
        table.add_row(Text("stance", style="italic"), *[
            Text(STANCE_SHORT.get(h.stance or "", display_inline(h.stance or "–")[:6]), justify="right",
                 style="" if h.stance else "dim")
            for h in claims.articles
        ], key="stance")
        table.add_row(Text("credibility", style="italic"), *[
            Text(display_inline(h.credibility or "–"), justify="right", style="" if h.credibility else "dim")
            for h in claims.articles
        ], key="credibility")
        if not claims.clusters:
            table.add_row(Text("(no linked claims yet: c marks, l or L links)", style="dim"), *[Text("")] * n,
                          key="none")
        # The wording takes what the article columns leave of the screen's width.
        room = self.size.width - 8 - sum(max(len(h), 6) + 2 for h in headings)
        width = max(WORDING_MIN, min(WORDING_MAX, room))
        for row in claims.clusters:
            wording = display_inline(row.label)
            if len(wording) > width:
                wording = wording[: width - 1] + "…"
            label = Text(wording)
            label.append(f" ({row.n_articles})", style="dim")
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

        legend = Text("Articles", style="bold underline")
        if self.blind:
            legend.append("  outlets hidden (blind mode): numbered as on the annotate screen", style="dim")
        for k, head in enumerate([] if self.blind else shared.articles):
            legend.append("\n")
            legend.append(f"{headings[k]:<8}", style="bold")
            legend.append(display_inline(names[k]))
        self.query_one("#overview-legend", Static).update(legend)

    def action_close(self) -> None:
        """Back to the annotate screen."""
        self.dismiss(None)
