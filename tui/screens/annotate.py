"""The annotate screen: a story's articles side by side, labelled by keyboard.

Keys act on the focused pane. Every change goes to the single writer (tui/writer.py) as
one request; the pane says "saving" until the writer reports the commit, then shows what
the store confirmed. Reads (stories, articles) run on the reader thread. Nothing here
touches SQLite on the event loop.

Cross-source comparison: `h` highlights the passages each visible pane shares with the
others and names, in each label bar, the story's article sharing most of it; marking a
claim lists the matching sentences of the story's other articles (J/K select, L links
one into the claim's cluster, w edits the cluster's wording); `o` opens the story
overview. Alignments and suggestions are computed in thread workers; every article pair
is aligned once per session.

Background work is bounded and cancellable: each analysis runs under a time budget
(analysis/budget.py) and checks its worker's cancellation between small pieces of work;
a new request, another article or story, or leaving claim mode cancels the work it
replaces, and quitting cancels everything. A worker that fails (a locked, damaged or
vanished database) shows a message; the app keeps running.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.worker import Worker, WorkerState, get_current_worker
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal
from textual.events import Resize
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from newsmark.analysis.budget import Budget, Cancelled, Running
from newsmark.schema.operations import undo_message
from newsmark.schema.sanitize import for_terminal, sanitize_inline
from newsmark.schema.scheme import Scheme
from newsmark.schema.store import ActionResult, Store, StoreError
from newsmark.tui.live import TeammatesChanged, active_since, touches
from newsmark.tui.keymap import ACTIONS, FOOTER_ORDER, effective_keys, key_display, label_description, label_keys
from newsmark.tui.pane_data import (
    OUTLET_FIELD,
    ArticleView,
    GradeBook,
    StoryView,
    load_annotations,
    load_article,
    load_grade_book,
    load_story,
)
from newsmark.tui.text import display_inline, next_word_end, previous_word_end, previous_word_start, next_word_start, sentence_at
from newsmark.tui.widgets.article_pane import ArticlePane, EmptyPane
from newsmark.tui.widgets.article_text import ArticleText
from newsmark.tui.widgets.suggestion_list import SuggestionItem, SuggestionState

if TYPE_CHECKING:
    from newsmark.tui.app import NewsmarkApp

# Seconds after the first paint to read the annotator's earlier grades by outlet.
GRADE_BOOK_DELAY = 0.3
# Terminal widths at which a third and a fourth pane fit.
THREE_PANES_WIDTH = 200
FOUR_PANES_WIDTH = 260
# Stories with more articles than this name the best-sharing article among the visible
# panes only (reading every article's text for the label would cost too much).
SHARED_LABEL_STORY_LIMIT = 200
SUGGESTIONS = 8  # matches offered per claim
TEXT_CACHE_LIMIT = 500  # article texts kept for highlights and suggestions across stories
LABEL_NAME_WIDTH = 28  # characters of the other article's name in the label bar
SUGGESTIONS_PER_ARTICLE = 2
SUGGESTION_SECONDS = 10.0  # time budget for finding one claim's matches
SHARED_SECONDS = 10.0  # time budget for one round of shared-passage alignments
TEXT_READ_CHUNK = 100  # article texts read in one trip to the slow reader
TEAMMATES_SECONDS = 60  # how often "also here" is read again when nothing changed


def panes_for_width(width: int) -> int:
    """How many panes fit a terminal width."""
    return 4 if width >= FOUR_PANES_WIDTH else 3 if width >= THREE_PANES_WIDTH else 2


def pane_count_for(width: int, articles: int) -> int:
    """How many article panes to show at a terminal width (one article per pane)."""
    return max(1, min(panes_for_width(width), articles))


class AnnotateCommands(Provider):
    """The command palette's view of the annotate screen: the same actions as the keys."""

    def _commands(self) -> list[tuple[str, str, str]]:
        screen = self.screen
        if not isinstance(screen, AnnotateScreen):
            return []
        return screen.command_entries()

    async def discover(self) -> Hits:
        """Every action, before anything is typed."""
        for title, action, help_text in self._commands():
            yield DiscoveryHit(escape(title), partial(self.screen.run_action, action), text=title, help=escape(help_text))

    async def search(self, query: str) -> Hits:
        """Actions whose name matches the query."""
        matcher = self.matcher(query)
        for title, action, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                # escaped: the palette parses markup, and titles hold the scheme's wording
                yield Hit(score, matcher.highlight(escape(title)), partial(self.screen.run_action, action), text=title, help=escape(help_text))


class AnnotateScreen(Screen):
    """Side-by-side articles of one story, with labels, claims and links."""

    COMMANDS = {AnnotateCommands}
    AUTO_FOCUS = None

    def __init__(self, scheme: Scheme, story_id: str | None = None) -> None:
        super().__init__()
        self.scheme = scheme
        self._initial_story = story_id
        self.story: StoryView | None = None
        self.blind = False
        self.auto_advance = False  # on: a pane whose article becomes finished moves to the next unfinished
        self._search_query = ""
        self.teammates: list[str] = []  # others with a change in the story lately, latest first
        self.live_refreshes = 0  # teammates' changes that concerned the screen (for tests)
        self.live_refreshed = 0  # ...and the reads they led to, finished
        self._label_owners: dict[str, list[tuple[str, str, str]]] = {}
        self._grade_book: GradeBook | None = None
        self._panes: list[ArticlePane] = []
        self._grade_book_requested = False
        self._shared_on = False
        self._shared_scheduled = False
        # Caches for shared passages and suggestions: an article's text never changes
        # (its id is its hash), so these hold for the whole session.
        self._texts: dict[str, tuple[str, str | None, str | None]] = {}  # id -> (text, source, title)
        self._prepared: dict[str, Any] = {}  # id -> analysis.align.PreparedText
        self._indexed: dict[str, Any] = {}  # id -> analysis.clusters.ArticleTerms
        self._alignments: dict[tuple[str, str], Any] = {}  # (a, b) with a < b -> Alignment
        self.analyses = Running()  # threads aligning or searching (idle once cancelled work stopped)
        self._bindings = BindingsMap(self._build_bindings())

    @property
    def napp(self) -> NewsmarkApp:
        """The app, typed."""
        return self.app  # type: ignore[return-value]

    # --- bindings ---------------------------------------------------------------------

    def _build_bindings(self) -> list[Binding]:
        scheme = self.scheme
        keys = effective_keys({}, scheme)
        # The footer shows bindings in the order given: the most needed first, so the
        # ones cut off at 80 columns are the least needed.
        ordered = sorted(ACTIONS, key=lambda a: FOOTER_ORDER.index(a.id) if a.id in FOOTER_ORDER else len(FOOTER_ORDER))
        bindings = [
            Binding(keys[a.id], a.action, a.footer_label, show=a.id in FOOTER_ORDER, id=a.id, tooltip=a.description)
            for a in ordered
            if keys[a.id]  # a key the scheme took for a label (see KeyAction.yields)
        ]
        for key, binding_id, owners in label_keys(scheme):
            self._label_owners[key] = owners
            bindings.append(Binding(key, f"label_key({key!r})", label_description(scheme, owners), show=False, id=binding_id))
        return list(Binding.make_bindings(bindings))

    def command_entries(self) -> list[tuple[str, str, str]]:
        """(title, action, help) for the command palette, keys as the keymap has them."""
        keys = effective_keys(self.napp.keymap_overrides, self.napp.scheme)
        entries = [(a.description, a.action, f"key: {key_display(keys[a.id])}") for a in ACTIONS]
        for key, binding_id, owners in label_keys(self.napp.scheme):
            entries.append((
                "Set " + label_description(self.napp.scheme, owners), f"label_key({key!r})",
                f"key: {key_display(keys.get(binding_id, key))}",
            ))
        pane = self.focused_pane
        if pane is not None and pane.view is not None:
            entries.append(("Move this article to story…", "choose_story('move')",
                            "pick a story: the article leaves this one (u undoes)"))
            entries.append(("Add this article to story…", "choose_story('add')",
                            "pick a story: the article stays in this one too (u undoes)"))
        for story_id, title in pane.view.other_stories if pane is not None and pane.view is not None else []:
            entries.append((
                f"Read this article in the story {display_inline(title) or display_inline(story_id)}",
                f"other_story({story_id!r})",
                f"story {display_inline(story_id)}; key {key_display(keys['story.other'])}: the next one",
            ))
        return entries

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Span-start keys only work while refining a span (span-end keys, ←/→, move the
        sentence cursor otherwise)."""
        if action == "span_start":
            pane = self.focused_pane
            return pane is not None and pane.text.span is not None
        return True

    # --- layout -----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="story-header")
        yield Horizontal(id="panes")
        yield Input(placeholder="search the text (enter: next match, esc: close)", id="search")
        yield Footer()

    def on_mount(self) -> None:
        """Load the first story (off the event loop)."""
        self.query_one("#search", Input).display = False
        self.load_story(self._initial_story)
        self.set_interval(TEAMMATES_SECONDS, self._refresh_teammates)

    @property
    def panes(self) -> list[ArticlePane]:
        """The article panes, left to right (kept as a list: a DOM query on every
        keystroke costs more than the commit)."""
        return list(self._panes)

    @property
    def focused_pane(self) -> ArticlePane | None:
        """The pane keys act on: the one holding focus, else the first."""
        focused = self.focused
        while focused is not None:
            if isinstance(focused, ArticlePane):
                return focused
            focused = focused.parent  # type: ignore[assignment]
        panes = self.panes
        return panes[0] if panes else None

    def _render_story_header(self) -> None:
        header = Text(no_wrap=False)
        if self.story is None or self.story.story is None:
            header.append("No stories yet. ", style="bold")
            header.append("Import articles with: newsmark import PATH... (a folder with a story.toml is a story)")
        else:
            story = self.story.story
            header.append(display_inline(story.title or story.id), style="bold")
            header.append(f"  [{display_inline(story.id)} · {len(self.story.article_ids)} articles]", style="dim")
            # On a shared database the labels are filed under this name: keep it in sight.
            header.append("  annotator: ", style="dim")
            header.append(display_inline(self.napp.annotator), style="bold cyan")
            if self.auto_advance:
                header.append("  AUTO-ADVANCE", style="bold black on green")
            if self.blind:
                header.append("  BLIND MODE", style="bold black on yellow")
            if self.teammates:
                header.append("  also here: ", style="dim")
                header.append(", ".join(display_inline(name) for name in self.teammates), style="bold magenta")
            header.append("\n")
            header.append("Proposition: ", style="dim")
            header.append(display_inline(story.proposition) or "(none)", style="italic")
        self.query_one("#story-header", Static).update(header)

    # --- loading ----------------------------------------------------------------------

    @property
    def story_id(self) -> str | None:
        """The id of the story being read (None before one is loaded, or with none)."""
        return self.story.story.id if self.story is not None and self.story.story is not None else None

    @work(exclusive=True, group="story", exit_on_error=False)
    async def load_story(self, story_id: str | None, step: int = 0, article_id: str | None = None) -> None:
        """Load a story (or the one `step` away) and fill the panes; with `article_id`
        (an article of that story), the first pane shows it and the others the articles
        after it.

        Everything is read first (one trip to the reader thread), then the panes are
        mounted with their articles in one batch, so the screen is laid out once.
        """
        annotator = self.napp.annotator
        width = self.app.size.width
        budget = self.napp.reader_budget

        def read(store: Store) -> tuple[StoryView, int, list]:
            story = load_story(store, story_id, step)
            ids = story.article_ids
            first = ids.index(article_id) if article_id is not None and article_id in ids else 0
            shown = [ids[(first + k) % len(ids)] for k in range(pane_count_for(width, len(ids)))] if ids else []
            read_in = story.story.id if story.story is not None else None
            return story, first, [
                load_article(store, shown_id, annotator, read_in, grades=False, budget=budget) for shown_id in shown
            ]

        try:
            story, first, views = await self.napp.reader.run(read)
        except Exception as exc:  # an unreadable database: say so, keep the app usable
            self._report("Cannot read the database", exc)
            self.napp.loaded.set()
            return
        if step and story_id is not None and story.story is not None and story.story.id == story_id:
            # n / p wrapped around to the story on screen: say so, and keep the panes as they are.
            self.notify("This is the only story in the database: n and p stay on it.", markup=False)
            return
        # Another story: what was being computed for the old one is of no use.
        self.workers.cancel_group(self, "shared")
        for pane in self.panes:
            self._cancel_suggestions(pane)
        self.story = story
        self.teammates = []  # read after the panes are shown (see _read_teammates)
        if len(self._texts) > TEXT_CACHE_LIMIT:  # a long session: keep memory bounded
            self._texts.clear()
            self._prepared.clear()
            self._indexed.clear()
            self._alignments.clear()
        container = self.query_one("#panes", Horizontal)
        with self.app.batch_update():
            self._render_story_header()
            self._panes = []
            await container.remove_children()
            panes = []
            for index, view in enumerate(views):
                if view is None:
                    continue
                pane = ArticlePane(self.napp.scheme)
                pane.article_index = (first + index) % len(story.article_ids)
                pane.blind = self.blind
                panes.append(pane)
            if panes:
                await container.mount_all(panes)
                self._panes = panes
                await self._fill_empty_panes(width)
                for pane, view in zip(panes, [v for v in views if v is not None]):
                    self._show(pane, view)
                self.set_focus(panes[0].text)  # at once: keys already queued go to it
        self.napp.loaded.set()
        self._refresh_teammates()
        if self._grade_book is None and not self._grade_book_requested:
            self._grade_book_requested = True
            # Soon after the first paint, not during it.
            self.set_timer(GRADE_BOOK_DELAY,
                           lambda: self.run_worker(self._load_grade_book(), group="grades", exit_on_error=False))

    def _show(self, pane: ArticlePane, view: ArticleView) -> None:
        """Put a loaded article into a pane, then fetch the outlet's earlier grades."""
        assert self.story is not None
        total = len(self.story.article_ids)
        pane.suggestion_keys, pane.other_story_key = self._pane_key_hints()
        pane.show_article(view, f"{pane.article_index % total + 1}/{total}")
        if self._search_query:
            self._apply_search(pane)
        pane.set_outlet_grades(self._grade_book)
        if self._shared_on:
            self._schedule_shared()

    async def _load_pane(self, pane: ArticlePane, annotator: str) -> None:
        assert self.story is not None
        ids = self.story.article_ids
        article_id = ids[pane.article_index % len(ids)]
        story_id = self.story_id
        self._cancel_suggestions(pane)  # the pane's claim is no longer on screen
        try:
            budget = self.napp.reader_budget
            view = await self.napp.reader.run(
                lambda s: load_article(s, article_id, annotator, story_id, grades=False, budget=budget))
        except Exception as exc:
            self._report("Cannot read the article", exc)
            return
        if view is None or not pane.is_attached:
            return
        pane.blind = self.blind
        self._show(pane, view)

    async def _fill_empty_panes(self, width: int) -> None:
        """With fewer articles than the width has room for, the rest of the room is empty
        panes that say why (never a second copy of an article)."""
        container = self.query_one("#panes", Horizontal)
        await container.query(EmptyPane).remove()
        missing = panes_for_width(width) - len(self._panes) if self._panes else 0
        if missing > 0:
            await container.mount_all([EmptyPane() for _ in range(missing)])

    async def _load_grade_book(self) -> None:
        """Read this annotator's earlier grades by outlet, once, after the first paint and
        on its own connection (it walks all of the annotator's annotations)."""
        annotator = self.napp.annotator
        try:
            book = await self.napp.slow_reader.run(lambda s: load_grade_book(s, annotator))
        except Exception:  # only an aid: the screen works without it
            return
        self._grade_book = book
        for pane in self.panes:
            pane.set_outlet_grades(book)

    async def on_resize(self, event: Resize) -> None:
        """Add or drop panes when the terminal crosses a width threshold."""
        if self.story is None or not self.story.article_ids:
            return
        wanted = pane_count_for(event.size.width, len(self.story.article_ids))
        panes = self.panes
        if wanted == len(panes) or not panes:
            await self._fill_empty_panes(event.size.width)
            return
        container = self.query_one("#panes", Horizontal)
        if wanted < len(panes):
            self._panes = panes[:wanted]
            for pane in panes[wanted:]:
                await pane.remove()
            await self._fill_empty_panes(event.size.width)
            return
        used = {p.article_index for p in panes}
        new = []
        for _ in range(wanted - len(panes)):
            pane = ArticlePane(self.napp.scheme)
            free = [i for i in range(len(self.story.article_ids)) if i not in used]
            pane.article_index = free[0] if free else 0
            used.add(pane.article_index)
            new.append(pane)
        await container.mount_all(new)
        self._panes = panes + new
        await self._fill_empty_panes(event.size.width)
        for pane in new:
            self.run_worker(self._load_pane(pane, self.napp.annotator), group="panes", exit_on_error=False)

    # --- saving -----------------------------------------------------------------------

    def _visible_articles(self) -> list[tuple[str, str | None]]:
        return [(p.view.article.id, p.view.article.source) for p in self.panes if p.view is not None]

    def save(self, pane: ArticlePane | None, request: Callable[[Store], Any], done: str | Callable[[Any], str] | None = None) -> None:
        """Send one change to the writer; the panes update when it has committed.

        `request` runs on the writer thread with the writer's store and makes exactly one
        store call (one transaction). Once it has committed, the annotations of every
        visible article are read back on the reader thread, so the screen shows what the
        database holds, and the pane says "saved".
        """
        future = self.napp.writer.submit(request)  # first: the commit starts at once
        if pane is not None:
            pane.mark_saving()
        self.run_worker(self._finish_save(pane, future, done), group="save", exit_on_error=False)

    async def _finish_save(self, pane: ArticlePane | None, future, done: str | Callable[[Any], str] | None) -> None:
        ok = True
        result: Any = None
        try:
            result = await asyncio.wrap_future(future)
        except StoreError as exc:
            ok = False
            self.notify(for_terminal(str(exc)), title=getattr(exc, "title", "Not saved"), severity="error", markup=False)
        except Exception as exc:  # a database error: the change did not commit
            ok = False
            self.notify(for_terminal(f"{type(exc).__name__}: {exc}"), title="Not saved", severity="error", markup=False)
        # Read back what is stored (also after a failure, to drop optimistic claims).
        was_finished = pane is not None and pane.view is not None and self._finished(pane.view.annotation.labels)
        visible = self._visible_articles()
        await self._read_back(visible)
        if isinstance(result, ActionResult) and self._grade_book is not None:
            # An undo or redo may touch articles no pane shows: read the book again.
            shown = {article_id for article_id, _ in visible}
            if any(article_id not in shown for _, article_id, _ in result.touched):
                self.run_worker(self._load_grade_book(), group="grades", exit_on_error=False)
        if pane is not None:
            pane.mark_done(ok)
        message = done(result) if ok and callable(done) else done if ok else None
        if message:
            self.notify(message, markup=False, timeout=3)
        if (self.auto_advance and ok and pane is not None and pane.is_attached and pane.view is not None
                and not was_finished and self._finished(pane.view.annotation.labels)):
            await self._next_unfinished(pane)

    async def _read_back(self, visible: list[tuple[str, str | None]]) -> None:
        """Show what the database holds of the visible articles' annotations and of the
        story (its title and proposition). The outlet's earlier grades exclude the article
        itself, so they are kept."""
        annotator = self.napp.annotator
        story_id = self.story_id
        stored_story = None
        try:
            annotations, stored_story = await self.napp.reader.run(
                lambda s: (load_annotations(s, visible, annotator, story_id, grades=False),
                           s.get_story(story_id) if story_id is not None else None))
        except Exception as exc:
            annotations = {}
            self._report("Cannot read back the annotations", exc)
        if stored_story is not None and self.story is not None and self.story_id == stored_story.id \
                and stored_story != self.story.story:
            self.story.story = stored_story  # an undo or an edit changed the title or proposition
            self._render_story_header()
        for other in self.panes:
            if other.view is not None and other.article_id in annotations:
                annotation = annotations[other.article_id]
                if self._grade_book is not None:
                    self._grade_book.record(other.view.article.source, other.view.article.id, annotation.labels.get(OUTLET_FIELD))
                other.set_annotation(annotation)
        for other in self.panes:
            other.set_outlet_grades(self._grade_book)

    # --- teammates' changes, live (tui/live.py) ---------------------------------------

    @on(TeammatesChanged)
    def _teammates_changed(self, message: TeammatesChanged) -> None:
        """A teammate changed something: when it concerns this story or a visible article,
        show the database's state (the panes keep their cursor and mode)."""
        if self.story is None or not touches(message.events, self.story_id, (aid for aid, _ in self._visible_articles())):
            return
        self.live_refreshes += 1
        self.run_worker(self._live_refresh(), group="live", exclusive=True, exit_on_error=False)

    async def _live_refresh(self) -> None:
        # After the app's own saves under way: each reads back when it has committed, and a
        # read now would drop their provisional claims.
        await self.napp.writer.idle()
        await self._read_back(self._visible_articles())
        await self._read_teammates()
        self.live_refreshed += 1

    async def _read_teammates(self) -> None:
        """Name who else changed something in the story lately (not on a keystroke's path:
        on a story's load, a teammate's change, and every TEAMMATES_SECONDS)."""
        story_id = self.story_id
        if story_id is None:
            return
        since = active_since()
        try:
            active = await self.napp.reader.run(lambda s: s.active_annotators(story_id, since))
        except Exception as exc:
            self._report("Cannot read who else is working", exc)
            return
        teammates = [name for name, _ in active if name != self.napp.annotator]
        if self.story_id == story_id and teammates != self.teammates:
            self.teammates = teammates
            self._render_story_header()

    def _refresh_teammates(self) -> None:
        """Every so often: who is working on the story changes with time alone."""
        if self.story is not None:
            self.run_worker(self._read_teammates(), group="teammates", exclusive=True, exit_on_error=False)

    # --- actions: panes and stories ---------------------------------------------------

    def action_focus_pane(self, step: int) -> None:
        """Focus the next / previous pane."""
        panes = self.panes
        if not panes:
            return
        current = self.focused_pane
        index = panes.index(current) if current in panes else 0
        self.set_focus(panes[(index + step) % len(panes)].text)  # at once, not after queued keys

    def action_article(self, step: int) -> None:
        """Show the next / previous article of the story in the focused pane, skipping
        those another pane shows (two panes never show the same article)."""
        pane = self.focused_pane
        if pane is None or self.story is None or not self.story.article_ids:
            return
        total = len(self.story.article_ids)
        shown = self._indexes_in_other_panes(pane)
        index = next((i for i in ((pane.article_index + step * k) % total for k in range(1, total))
                      if i not in shown), None)
        if index is None:
            self.notify("The story's other articles are all in the other panes." if total > 1
                        else "This story has no other article.", severity="warning", markup=False)
            return
        pane.article_index = index
        self.run_worker(self._load_pane(pane, self.napp.annotator), group="panes", exit_on_error=False)

    def _indexes_in_other_panes(self, pane: ArticlePane) -> set[int]:
        """The story positions of the articles the other panes show."""
        total = len(self.story.article_ids) if self.story is not None else 0
        return {other.article_index % total for other in self.panes if other is not pane} if total else set()

    def _finished(self, labels: dict[str, str]) -> bool:
        """Every article-level field of the scheme has a value (in the story being read)."""
        return all(fld.name in labels for fld in self.scheme.fields_at("article"))

    def action_next_unfinished(self) -> None:
        """Show, in the focused pane, the story's next article (after the pane's, round to
        the first) whose article-level fields are not all set; one another pane shows
        gets the focus instead. Says so when every article is finished."""
        pane = self.focused_pane
        if pane is None or self.story is None or not self.story.article_ids:
            return
        self.run_worker(self._next_unfinished(pane), group="panes", exit_on_error=False)

    async def _next_unfinished(self, pane: ArticlePane) -> None:
        assert self.story is not None
        ids, story_id, annotator = list(self.story.article_ids), self.story_id, self.napp.annotator
        await self.napp.writer.idle()  # labels just keyed count

        def read(store: Store) -> set[int]:
            return {i for i, aid in enumerate(ids) if not self._finished(store.labels(aid, annotator, story_id=story_id))}

        try:
            unfinished = await self.napp.reader.run(read)
        except Exception as exc:
            self._report("Cannot read the labels", exc)
            return
        if ids != (self.story.article_ids if self.story is not None else None) or not pane.is_attached:
            return  # another story opened meanwhile
        total, current = len(ids), pane.article_index % len(ids)
        after = [(current + k) % total for k in range(1, total)]
        shown = self._indexes_in_other_panes(pane)
        target = next((i for i in after if i in unfinished and i not in shown), None)
        if target is not None:
            pane.article_index = target
            await self._load_pane(pane, annotator)
            return
        elsewhere = next((i for i in after if i in unfinished), None)
        if elsewhere is not None:
            other = next(p for p in self.panes if p is not pane and p.article_index % total == elsewhere)
            self.set_focus(other.text)
            self.notify("The next unfinished article is in this pane.", markup=False, timeout=3)
        elif current in unfinished:
            self.notify("This is the story's last unfinished article.", markup=False, timeout=3)
        else:
            self.notify(f"All {total} articles of this story are finished.", markup=False, timeout=3)

    def action_toggle_auto_advance(self) -> None:
        """Turn auto-advance on or off: when the focused pane's article becomes finished,
        the pane moves to the next unfinished article."""
        self.auto_advance = not self.auto_advance
        self._render_story_header()
        self.notify("Auto-advance on: a finished article makes way for the next unfinished one"
                    if self.auto_advance else "Auto-advance off", markup=False, timeout=2)

    def action_story(self, step: int) -> None:
        """Go to the next / previous story."""
        self.load_story(self.story_id, step)

    def action_other_story(self, story_id: str = "") -> None:
        """Read the focused pane's article in another of its stories (`story_id`; "": the
        next one after the story being read, in id order, round to the first): that
        story opens with the article in the first pane."""
        pane = self.focused_pane
        if pane is None or pane.view is None:
            return
        others = [other for other, _ in pane.view.other_stories]
        if not others:
            self.notify("This article is in no other story.", severity="warning", markup=False)
            return
        if not story_id:
            current = self.story_id or ""
            story_id = next((other for other in others if other > current), others[0])
        self.load_story(story_id, article_id=pane.view.article.id)

    def action_story_list(self) -> None:
        """Open the story list (virtual, over SQLite)."""
        try:
            from newsmark.tui.screens.story_list import StoryListScreen
        except ImportError:
            self.notify("The story list is not available in this build.", severity="warning", markup=False)
            return

        def chosen(story_id: str | None) -> None:
            if story_id:
                self.load_story(story_id)

        self.app.push_screen(StoryListScreen(str(self.napp.db_path), self.napp.annotator, self.story_id), chosen)

    def action_choose_story(self, how: str) -> None:
        """Pick a story from the story list, then move the focused pane's article there
        (`how` "move": it leaves the story being read) or add it ("add"); one action each."""
        from newsmark.tui.screens.story_list import StoryListScreen

        pane = self.focused_pane
        current = self.story_id
        if pane is None or pane.view is None or current is None:
            return
        article_id, annotator = pane.view.article.id, self.napp.annotator

        def chosen(target: str | None) -> None:
            if not target:
                return
            if target == current:
                self.notify("That is the story being read.", severity="warning", markup=False)
                return
            name = display_inline(target)
            if how == "move":
                def moved(_: Any) -> str:
                    self.load_story(current)  # the article left this story: fill the panes again
                    return f"Moved the article to story {name}."

                self.save(pane, lambda s: s.move_articles([article_id], current, target, annotator), moved)
            else:
                def added(_: Any) -> str:
                    self.run_worker(self._load_pane(pane, annotator), group="panes", exit_on_error=False)
                    return f"Added the article to story {name}."

                self.save(pane, lambda s: s.add_articles_to_story(target, [article_id], annotator), added)

        self.notify(f"Choose the story to {how} the article to (enter); esc cancels.", markup=False, timeout=4)
        self.app.push_screen(StoryListScreen(str(self.napp.db_path), annotator, current), chosen)

    # --- actions: labels --------------------------------------------------------------

    def action_label_key(self, key: str) -> None:
        """A scheme key: sets the claim's field in claim mode, else the article's."""
        pane = self.focused_pane
        owners = self._label_owners.get(key, [])
        if pane is None or pane.view is None or not owners:
            return
        annotator, story_id = self.napp.annotator, self.story_id
        claim = pane.current_claim()
        claim_owner = next((o for o in owners if o[0] == "claim"), None)
        article_owner = next((o for o in owners if o[0] == "article"), None)
        if claim is not None and claim_owner is not None:
            _, field_name, value = claim_owner
            claim_id = claim.id
            self.save(pane, lambda s: s.set_claim_label(claim_id, annotator, field_name, value, story_id=story_id))
            return
        if article_owner is None:
            assert claim_owner is not None
            self.notify(
                f"{key} sets {claim_owner[1]} of a claim: put the sentence cursor (j/k) on a claim first.",
                severity="warning", markup=False,
            )
            return
        _, field_name, value = article_owner
        article_id = pane.view.article.id

        def set_label() -> None:
            self.save(pane, lambda s: s.set_label(article_id, annotator, field_name, value, story_id=story_id))

        story = self.story.story if self.story is not None else None
        if story is not None and field_name in self.scheme.story_fields() and not story.proposition:
            self._ask_proposition(pane, field_name, set_label)
            return
        set_label()

    def _ask_proposition(self, pane: ArticlePane, field_name: str, then: Callable[[], None]) -> None:
        """Ask for the story's proposition (a story-scoped label is judged toward it); once
        given, save it (one action, undone by u) and run `then`; cancelled, nothing is set."""
        from newsmark.tui.screens.proposition import PropositionScreen

        assert self.story is not None and self.story.story is not None
        story, annotator = self.story.story, self.napp.annotator

        def done(proposition: str | None) -> None:
            cleaned = sanitize_inline(proposition) if proposition else None
            if not cleaned:
                self.notify(f"No proposition given: {field_name} was not set.", severity="warning", markup=False)
                return
            self.story.story = story.model_copy(update={"proposition": cleaned})  # type: ignore[union-attr]
            self._render_story_header()
            self.save(pane, lambda s: s.edit_story(story.id, annotator, proposition=cleaned))
            then()

        self.app.push_screen(PropositionScreen(story.title or story.id, field_name), done)

    def action_flag(self) -> None:
        """Flag or unflag the article."""
        pane = self.focused_pane
        if pane is None or pane.view is None:
            return
        article_id, flagged = pane.view.article.id, not pane.view.annotation.flagged
        annotator, story_id = self.napp.annotator, self.story_id
        self.save(pane, lambda s: s.set_flag(article_id, annotator, flagged, story_id=story_id))

    def action_note(self) -> None:
        """Edit the note on the article."""
        from newsmark.tui.screens.note import NoteScreen

        pane = self.focused_pane
        if pane is None or pane.view is None:
            return
        article = pane.view.article
        annotator, story_id = self.napp.annotator, self.story_id

        def done(note: str | None) -> None:
            if note is None:
                return
            self.save(pane, lambda s: s.set_note(article.id, annotator, note, story_id=story_id))

        title = article.title or article.id
        self.app.push_screen(NoteScreen(pane.view.annotation.note or "", title), done)

    def action_undo(self) -> None:
        """Undo this annotator's latest change (it survives restarts)."""
        annotator = self.napp.annotator
        self.save(self.focused_pane, lambda s: s.undo(annotator), lambda r: undo_message(r, True))

    def action_redo(self) -> None:
        """Redo the latest undone change."""
        annotator = self.napp.annotator
        self.save(self.focused_pane, lambda s: s.redo(annotator), lambda r: undo_message(r, False))

    def action_blind(self) -> None:
        """Hide or show outlet, byline and URL."""
        self.blind = not self.blind
        for pane in self.panes:
            pane.set_blind(self.blind)
        self._render_story_header()
        if self._shared_on:
            self._schedule_shared()  # the label names "article N" instead of the outlet
        self.notify("Blind mode on: outlet, byline and URL hidden" if self.blind else "Blind mode off", markup=False, timeout=2)

    # --- actions: sentence cursor and claims ------------------------------------------

    def action_cursor(self, step: int) -> None:
        """Move the sentence cursor."""
        pane = self.focused_pane
        if pane is None or pane.view is None or not pane.text.sentences:
            return
        text = pane.text
        if text.span is not None:
            text.set_span(None)
        if text.cursor is None:
            index = text.first_visible_sentence() or 0
        else:
            index = max(0, min(len(text.sentences) - 1, text.cursor + step))
        text.move_cursor(index)
        pane.refresh_modes()
        self._suggest_for_current(pane)

    @on(ArticleText.SentenceClicked)
    def _sentence_clicked(self, event: ArticleText.SentenceClicked) -> None:
        event.widget.set_span(None)
        event.widget.move_cursor(event.index)
        event.widget.focus()
        pane = event.widget.parent
        if isinstance(pane, ArticlePane):
            pane.refresh_modes()
            self._suggest_for_current(pane)

    def action_cancel(self) -> None:
        """Leave span mode, the search, or claim mode (cursor off), in that order."""
        search = self.query_one("#search", Input)
        pane = self.focused_pane
        if search.display:
            search.display = False
            self._search_query = ""
            for other in self.panes:
                other.text.set_matches([])
            if pane is not None:
                self.set_focus(pane.text)
            return
        if pane is None:
            return
        if pane.text.span is not None:
            pane.text.set_span(None)
        elif pane.text.cursor is not None:
            pane.text.move_cursor(None)
            self._cancel_suggestions(pane)  # claim mode closed: its matches are not wanted
        pane.refresh_modes()

    def action_toggle_claim(self) -> None:
        """Mark the sentence (or refined span) as a claim; on a claim, unmark it."""
        pane = self.focused_pane
        if pane is None or pane.view is None:
            return
        annotator, story_id = self.napp.annotator, self.story_id
        article_id = pane.view.article.id
        text = pane.text
        if text.span is not None:
            start, end = text.span
            text.set_span(None)
            pane.add_provisional_claim(annotator, start, end)
            self.save(pane, lambda s: s.add_claim(article_id, annotator, start, end, story_id=story_id))
            # The refined span is a claim but not the cursor's sentence: suggest for it.
            claim = next((c for c in pane.view.annotation.claims if (c.start, c.end) == (start, end)), None)
            if claim is not None:
                self._request_suggestions(pane, claim.id, claim.cluster, start, end)
            return
        span = text.cursor_span()
        if span is None:
            self.notify("Move the sentence cursor (j/k) to a sentence first.", severity="warning", markup=False)
            return
        claim = pane.current_claim()
        # The pane shows the claim (or its absence) at once, marked "saving", so keys
        # pressed before the commit act on the right thing; the read-back confirms it.
        if claim is not None:
            claim_id = claim.id
            pane.drop_provisional_claim(claim_id)
            self.save(pane, lambda s: s.remove_claim(claim_id, annotator, story_id=story_id))
            return
        start, end = span
        pane.add_provisional_claim(annotator, start, end)
        self.save(pane, lambda s: s.add_claim(article_id, annotator, start, end, story_id=story_id))
        self._suggest_for_current(pane)

    def action_refine(self) -> None:
        """Start refining the sentence under the cursor word by word (then c)."""
        pane = self.focused_pane
        if pane is None or pane.view is None:
            return
        span = pane.text.cursor_span()
        if span is None:
            self.notify("Move the sentence cursor (j/k) to a sentence first.", severity="warning", markup=False)
            return
        pane.text.set_span(span)
        pane.refresh_modes()
        self.refresh_bindings()

    def action_span_end(self, step: int) -> None:
        """Move the end of the refined span one word later / earlier; with no span being
        refined, move the sentence cursor to the next / previous sentence (so → and ←
        walk the sentences while ↑/↓ keep scrolling the text)."""
        pane = self.focused_pane
        if pane is None:
            return
        if pane.text.span is None:
            self.action_cursor(step)
            return
        text, (start, end) = pane.text.text, pane.text.span
        end = next_word_end(text, end) if step > 0 else previous_word_end(text, end, start)
        pane.text.set_span((start, max(end, start + 1)))
        pane.refresh_modes()

    def action_span_start(self, step: int) -> None:
        """Move the start of the refined span one word later / earlier."""
        pane = self.focused_pane
        if pane is None or pane.text.span is None:
            return
        text, (start, end) = pane.text.text, pane.text.span
        start = next_word_start(text, start, end) if step > 0 else previous_word_start(text, start)
        pane.text.set_span((min(start, end - 1), end))
        pane.refresh_modes()

    def action_link(self) -> None:
        """Link the claim under the cursor to the claim under the cursor in another pane."""
        pane = self.focused_pane
        if pane is None:
            return
        claim = pane.current_claim()
        if claim is None:
            self.notify("Put the sentence cursor on a claim first (c marks one).", severity="warning", markup=False)
            return
        panes = self.panes
        start = panes.index(pane)
        others = [panes[(start + i) % len(panes)] for i in range(1, len(panes))]
        other = next((p.current_claim() for p in others if p.current_claim() is not None), None)
        if other is None:
            self.notify(
                "Put the sentence cursor on the matching claim in another pane (tab, j/k), then press l here.",
                severity="warning", markup=False,
            )
            return
        annotator, story_id = self.napp.annotator, self.story_id
        claim_id, other_id = claim.id, other.id

        def describe(result: tuple[str, Any]) -> str:
            return "Linked the two claims into one cluster."

        self.save(pane, lambda s: s.link_claims(claim_id, other_id, annotator, story_id=story_id), describe)

    # --- shared passages (h) -------------------------------------------------------------

    def action_toggle_shared(self) -> None:
        """Highlight (or stop highlighting) the passages each pane shares with the others."""
        self._shared_on = not self._shared_on
        if self._shared_on:
            self._schedule_shared()
            self.notify("Shared passages: on (highlighted in each pane)", markup=False, timeout=2)
        else:
            for pane in self.panes:
                pane.set_shared([], None)
            self.notify("Shared passages: off", markup=False, timeout=2)

    def _schedule_shared(self) -> None:
        """Compute the highlights once the panes in flight have their articles."""
        if not self._shared_scheduled:
            self._shared_scheduled = True
            self.call_after_refresh(self._start_shared)

    def _start_shared(self) -> None:
        self._shared_scheduled = False
        if not self._shared_on or self.story is None:
            return
        shown = [(pane, pane.view.article.id) for pane in self.panes if pane.view is not None]
        if not shown:
            return
        for pane, _ in shown:
            article = pane.view.article  # type: ignore[union-attr]
            self._texts.setdefault(article.id, (article.text, article.source, article.title))
        self._shared_worker(shown, list(self.story.article_ids), self.blind)

    @work(thread=True, exclusive=True, group="shared", exit_on_error=False)
    def _shared_worker(self, shown: list[tuple[ArticlePane, str]], story_ids: list[str], blind: bool) -> None:
        """Align each visible article with the other visible ones (highlights) and with
        every article of the story (the label bar's best match), off the event loop; every
        pair is aligned once per session. Bounded by SHARED_SECONDS: the label then names
        the best match among the articles compared so far."""
        worker = get_current_worker()
        budget = Budget(SHARED_SECONDS, cancelled=lambda: worker.is_cancelled)
        with self.analyses:
            try:
                results = self._shared_results(shown, story_ids, blind, budget)
                self._post(worker, self._apply_shared, results)
            except Cancelled:
                return
            except Exception as exc:  # a locked, damaged or vanished database
                self._post_report(worker, "Cannot compute the shared passages", exc)

    def _shared_results(
        self, shown: list[tuple[ArticlePane, str]], story_ids: list[str], blind: bool, budget: Budget
    ) -> list[tuple[ArticlePane, str, list[tuple[int, int]], str | None]]:
        visible = list(dict.fromkeys(article_id for _, article_id in shown))
        others = story_ids if len(story_ids) <= SHARED_LABEL_STORY_LIMIT else visible
        # The visible articles first: their highlights must not wait for the label's search.
        others = visible + [other for other in others if other not in visible]
        self._ensure_texts(others, budget)
        results = []
        for pane, article_id in shown:
            spans: list[tuple[int, int]] = []
            best: tuple[float, str] | None = None
            compared = total = 0
            for other_id in others:
                if other_id == article_id or other_id not in self._texts:
                    continue
                total += 1
                if budget.spent and other_id not in visible:
                    continue
                budget.check()
                passages, fraction = self._shared_with(article_id, other_id, budget)
                compared += 1
                if other_id in visible:
                    spans += passages
                if fraction > 0 and (best is None or fraction > best[0]):
                    best = (fraction, other_id)
            label = None
            if best is not None:
                label = f"{round(100 * best[0])}% shared with {self._article_name(best[1], story_ids, blind)}"
                if compared < total:
                    label += f" ({compared} of {total} compared)"
            results.append((pane, article_id, spans, label))
        return results

    def _apply_shared(self, results: list[tuple[ArticlePane, str, list[tuple[int, int]], str | None]]) -> None:
        if not self._shared_on:
            return
        for pane, article_id, spans, label in results:
            if pane.is_attached and pane.article_id == article_id:
                pane.set_shared(spans, label)

    def _ensure_texts(self, article_ids: list[str], budget: Budget) -> None:
        """(In a worker thread) read the texts not cached yet, on the slow reader, in
        short reads of TEXT_READ_CHUNK articles (raises `Cancelled` between them)."""
        missing = [article_id for article_id in article_ids if article_id not in self._texts]

        def read(chunk: list[str]) -> Callable[[Store], dict[str, tuple[str, str | None, str | None]]]:
            def run(store: Store) -> dict[str, tuple[str, str | None, str | None]]:
                found = {}
                for article_id in chunk:
                    article = store.get_article(article_id)
                    if article is not None:
                        found[article_id] = (article.text, article.source, article.title)
                return found
            return run

        for first in range(0, len(missing), TEXT_READ_CHUNK):
            budget.check()
            self._texts.update(self.napp.slow_reader.submit(read(missing[first : first + TEXT_READ_CHUNK])).result())

    def _prepared_text(self, article_id: str, budget: Budget) -> Any:
        """(In a worker thread) an article's units for alignment, computed once."""
        from newsmark.analysis.align import prepare

        found = self._prepared.get(article_id)
        if found is None:
            found = self._prepared[article_id] = prepare(self._texts[article_id][0], budget)
        return found

    def _indexed_text(self, article_id: str, text: str, budget: Budget) -> Any:
        """(In a worker thread) an article's term sets for the suggestions' prefilter,
        computed once."""
        from newsmark.analysis.clusters import index_article

        found = self._indexed.get(article_id)
        if found is None:
            found = self._indexed[article_id] = index_article(text, budget)
        return found

    def _post(self, worker: Worker, callback: Callable[..., Any], *args: Any) -> None:
        """(In a worker thread) run `callback` on the event loop, unless the worker was
        cancelled (its screen may be gone, the app closing)."""
        if worker.is_cancelled:
            raise Cancelled()
        self.app.call_from_thread(callback, *args)

    def _post_report(self, worker: Worker, what: str, exc: BaseException) -> None:
        """(In a worker thread) show a failure, unless the worker was cancelled."""
        if not worker.is_cancelled:
            self.app.call_from_thread(self._report, what, exc)

    def _report(self, what: str, exc: BaseException) -> None:
        """Say that a background read or computation failed; the app keeps running."""
        message = for_terminal(f"{what}: {type(exc).__name__}: {exc}")
        self.notify(message, title="Error", severity="error", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker failure not caught where it happened: a message, not the app's end."""
        if event.state == WorkerState.ERROR and event.worker.error is not None and not event.worker.is_cancelled:
            self._report("Background work failed", event.worker.error)
            if event.worker.group.startswith("suggest"):
                for pane in self.panes:
                    if event.worker.group == self._suggestion_group(pane):
                        pane.set_suggestions(pane.suggestions, None)

    def _shared_with(self, article_id: str, other_id: str, budget: Budget) -> tuple[list[tuple[int, int]], float]:
        """(In a worker thread) the passages of article_id shared with other_id, and the
        fraction of its text they make up."""
        from newsmark.analysis.align import align

        first, second = sorted((article_id, other_id))
        alignment = self._alignments.get((first, second))
        if alignment is None:
            alignment = align(self._prepared_text(first, budget), self._prepared_text(second, budget), budget)
            self._alignments[(first, second)] = alignment
        if article_id == first:
            return [(p.a_start, p.a_end) for p in alignment.shared], alignment.a_shared
        return [(p.b_start, p.b_end) for p in alignment.shared], alignment.b_shared

    def _article_name(self, article_id: str, story_ids: list[str], blind: bool) -> str:
        """How a label names another article: its outlet (else title); "article N" in
        blind mode, so no outlet is revealed."""
        number = story_ids.index(article_id) + 1 if article_id in story_ids else 0
        if blind:
            return f"article {number}"
        _, source, title = self._texts.get(article_id, ("", None, None))
        name = display_inline(source) or display_inline(title) or f"article {number}"
        return name if len(name) <= LABEL_NAME_WIDTH else name[: LABEL_NAME_WIDTH - 1] + "…"

    # --- claim suggestions (matching sentences of the other articles) ----------------------

    def _pane_key_hints(self) -> tuple[str, str]:
        """The key hints a pane shows, as the keymap has the keys: the suggestions
        panel's, and the "also in" line's ("" when the action has no key)."""
        keys = effective_keys(self.napp.keymap_overrides, self.napp.scheme)
        suggestions = (f"{key_display(keys['suggestion.next'])}/{key_display(keys['suggestion.previous'])} · "
                       f"{key_display(keys['suggestion.link'])} link · {key_display(keys['cluster.wording'])} wording")
        return suggestions, key_display(keys["story.other"]) if keys["story.other"] else ""

    def _suggest_for_current(self, pane: ArticlePane) -> None:
        """Find matches for the claim under the cursor unless they are known or coming."""
        claim = pane.current_claim()
        if claim is None:
            return
        if (pane.suggestions is not None and pane.suggestions.claim_id == claim.id) or pane.suggestions_pending == claim.id:
            return
        self._request_suggestions(pane, claim.id, claim.cluster, claim.start, claim.end)

    def _request_suggestions(self, pane: ArticlePane, claim_id: str, cluster: str | None, start: int, end: int) -> None:
        if pane.view is None or self.story is None:
            return
        article = pane.view.article
        self._texts.setdefault(article.id, (article.text, article.source, article.title))
        pane.set_suggestions(None, pending=claim_id)
        # One search per pane: a new claim's replaces (cancels) the one under way.
        work = partial(self._suggestion_worker, pane, article.id, claim_id, cluster, article.text[start:end],
                       list(self.story.article_ids))
        self.run_worker(work, thread=True, group=self._suggestion_group(pane), exclusive=True, exit_on_error=False)

    @staticmethod
    def _suggestion_group(pane: ArticlePane) -> str:
        return f"suggest-{id(pane)}"

    def _cancel_suggestions(self, pane: ArticlePane) -> None:
        """Stop finding matches for the pane's claim (it left the screen or claim mode)."""
        self.workers.cancel_group(self, self._suggestion_group(pane))
        if pane.suggestions_pending is not None:
            pane.set_suggestions(pane.suggestions, None)

    def _suggestion_worker(
        self, pane: ArticlePane, article_id: str, claim_id: str, cluster: str | None, claim_text: str, story_ids: list[str]
    ) -> None:
        """(In a worker thread) rank the sentences of the story's other articles against
        the claim, under SUGGESTION_SECONDS."""
        worker = get_current_worker()
        budget = Budget(SUGGESTION_SECONDS, cancelled=lambda: worker.is_cancelled)
        with self.analyses:
            try:
                state = self._find_suggestions(article_id, claim_id, cluster, claim_text, story_ids, budget)
                self._post(worker, self._apply_suggestions, pane, claim_id, state)
            except Cancelled:
                return
            except Exception as exc:  # a locked, damaged or vanished database
                self._post_report(worker, "Cannot find matching sentences", exc)
                failed = SuggestionState(claim_id, [], note="search failed")
                try:
                    self._post(worker, self._apply_suggestions, pane, claim_id, failed)
                except Cancelled:
                    return

    def _find_suggestions(
        self, article_id: str, claim_id: str, cluster: str | None, claim_text: str, story_ids: list[str], budget: Budget
    ) -> SuggestionState:
        from newsmark.analysis.clusters import search_matches

        others = [other for other in story_ids if other != article_id]
        self._ensure_texts(others, budget)
        candidates = [(other, self._texts[other][0]) for other in others if other in self._texts]
        search = search_matches(claim_text, candidates, SUGGESTIONS, per_article=SUGGESTIONS_PER_ARTICLE,
                                budget=budget, indexed=lambda other, text: self._indexed_text(other, text, budget))
        found = search.suggestions
        annotator = self.napp.annotator
        linked: set[tuple[str, int, int]] = set()
        if cluster is not None and found:
            ids = sorted({s.article_id for s in found})

            def read(store: Store) -> set[tuple[str, int, int]]:
                return {(c.article_id, c.start, c.end) for other in ids for c in store.claims(other, annotator)
                        if c.cluster == cluster}

            budget.check()
            linked = self.napp.slow_reader.submit(read).result()
        items = []
        for s in found:
            _, source, title = self._texts[s.article_id]
            number = story_ids.index(s.article_id) + 1
            items.append(SuggestionItem(
                article_id=s.article_id, start=s.start, end=s.end, text=s.text, score=s.score,
                name=f"{number} " + (display_inline(source) or display_inline(title) or f"article {number}"),
                blind_name=f"article {number}",
                linked=any(a == s.article_id and b < s.end and e > s.start for a, b, e in linked),
            ))
        note = None
        if not search.complete:
            note = f"searched {search.searched:,} of {search.total:,} articles in {SUGGESTION_SECONDS:.0f} s"
        return SuggestionState(claim_id, items, note=note)

    def _apply_suggestions(self, pane: ArticlePane, claim_id: str, state: SuggestionState) -> None:
        if pane.is_attached and pane.suggestions_pending == claim_id:
            pane.set_suggestions(state)

    def _current_suggestions(self, pane: ArticlePane | None) -> tuple[Any, SuggestionState] | None:
        if pane is None:
            return None
        claim = pane.current_claim()
        state = pane.suggestions
        if claim is None or state is None or state.claim_id != claim.id:
            return None
        return claim, state

    def action_suggestion(self, step: int) -> None:
        """Select the next / previous suggested match of the claim under the cursor."""
        pane = self.focused_pane
        found = self._current_suggestions(pane)
        if found is None or pane is None:
            return
        found[1].step(step)
        pane.refresh_modes()

    def action_link_suggestion(self) -> None:
        """Mark the selected suggestion as a claim of its article and link it into the
        cluster of the claim under the cursor (one action: one undo)."""
        pane = self.focused_pane
        found = self._current_suggestions(pane)
        if found is None or pane is None:
            self.notify("Put the sentence cursor on a claim with suggested matches first (c marks one).",
                        severity="warning", markup=False)
            return
        claim, state = found
        item = state.current
        if item is None:
            self.notify("No matching sentence to link.", severity="warning", markup=False)
            return
        annotator, story_id = self.napp.annotator, self.story_id
        claim_id = claim.id

        def linked(result: Any) -> str:
            item.linked = True
            following = [k for k, other in enumerate(state.items) if not other.linked]
            if following:
                after = [k for k in following if k > state.selected]
                state.selected = (after or following)[0]
            pane.refresh_modes()
            return f"Linked into the claim's cluster: {item.blind_name if self.blind else item.name}"

        self.save(pane, lambda s: s.add_linked_claim(claim_id, item.article_id, item.start, item.end, annotator, story_id=story_id),
                  linked)

    def action_cluster_wording(self) -> None:
        """Edit the short canonical wording of the cluster of the claim under the cursor."""
        from newsmark.tui.screens.cluster_wording import ClusterWordingScreen

        pane = self.focused_pane
        claim = pane.current_claim() if pane is not None else None
        if pane is None or claim is None or pane.annotation is None:
            self.notify("Put the sentence cursor on a claim first.", severity="warning", markup=False)
            return
        cluster = claim.cluster
        if cluster is None:
            self.notify("This claim is in no cluster yet: link it first (l, or L on a suggestion).",
                        severity="warning", markup=False)
            return
        annotator = self.napp.annotator
        current = pane.annotation.cluster_labels.get(cluster) or claim.exact

        def done(wording: str | None) -> None:
            cleaned = sanitize_inline(wording) if wording else None
            if not cleaned or cleaned == current:
                return
            self.save(pane, lambda s: s.set_cluster_label(cluster, annotator, cleaned), "Saved the cluster's wording.")

        self.app.push_screen(ClusterWordingScreen(current, claim.exact), done)

    # --- story overview (o) ---------------------------------------------------------------

    def action_overview(self) -> None:
        """Open the story overview: who copies whom, which outlets carry which claim."""
        from newsmark.tui.screens.overview import OverviewScreen

        if self.story is None or self.story.story is None:
            self.notify("No story to overview yet.", severity="warning", markup=False)
            return
        self.app.push_screen(OverviewScreen(self.story.story.id, self.blind))

    # --- search -----------------------------------------------------------------------

    def action_search(self) -> None:
        """Open the search box."""
        search = self.query_one("#search", Input)
        search.display = True
        search.focus()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        query = event.value
        pane = self._search_pane
        if pane is None:
            return
        if query != self._search_query:
            self._search_query = query
            for other in self.panes:
                self._apply_search(other)
        matches = pane.text._matches
        if not matches:
            self.notify(f"No match in this pane for: {query}", severity="warning", markup=False, timeout=3)
            return
        current = pane.text.cursor_span()
        after = current[1] if current else -1
        target = next((m for m in matches if m[0] >= after), matches[0])
        index = sentence_at(pane.text.sentences, target[0])
        if index is not None:
            pane.text.move_cursor(index)
            pane.refresh_modes()
        position = matches.index(target) + 1
        self.notify(f"Match {position} of {len(matches)}", markup=False, timeout=2)

    @property
    def _search_pane(self) -> ArticlePane | None:
        # The search box holds focus: act on the pane that had it before.
        pane = getattr(self, "_last_pane", None)
        return pane if pane is not None and pane.is_attached else (self.panes[0] if self.panes else None)

    def on_descendant_focus(self, event) -> None:
        """Remember the last focused pane (the search box acts on it)."""
        widget = event.widget
        while widget is not None and not isinstance(widget, ArticlePane):
            widget = widget.parent
        if widget is not None:
            self._last_pane = widget

    def _apply_search(self, pane: ArticlePane) -> None:
        if not self._search_query:
            pane.text.set_matches([])
            return
        pattern = re.compile(re.escape(self._search_query), re.IGNORECASE)
        pane.text.set_matches([(m.start(), m.end()) for m in pattern.finditer(pane.text.text) if m.end() > m.start()])

    # --- help and quit ----------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key with the scheme's wording."""
        from newsmark.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.napp.scheme, self.napp.keymap_overrides))

    async def action_quit(self) -> None:
        """Quit once the writer has committed everything queued."""
        await self.napp.writer.idle()
        self.app.exit()
