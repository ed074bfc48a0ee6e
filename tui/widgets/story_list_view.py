"""A virtual list of stories over SQLite: renders only the rows on screen.

The widget is a Line API `ScrollView`: its virtual height is the number of stories that
pass the filters, and `render_line` draws a row from a cache of pages (PAGE_SIZE rows
each). A row whose page is not cached draws as a placeholder and asks for the page; pages
are read by `Store.story_page` in thread workers (the event loop never waits on SQLite)
and arrive as messages. The whole table is never read: opening the list costs one count
and one page, whatever the size of the database.

Sorting by a column other than the id, or searching, first reads the ids of the stories
to show, in order (`ordered_story_ids`: the sort reads the store's per-story summary, a
search asks the full-text index for its best-ranked articles only; the list keeps the
index caught up in a background worker while it is open), then pages through that list.

Curating (edit, merge, undo) runs in a worker on the list's connection and re-reads the
list, keeping the cursor on its story.

Titles and ids are untrusted: they are drawn as `rich.text.Text` built from plain
strings (never markup), through `for_terminal` (control and format characters written out
visibly, e.g. `\\x1b`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import set_cell_size
from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from newsmark.schema.sanitize import for_terminal
from newsmark.schema.search import SearchIndex, open_search_index, ordered_story_ids
from newsmark.schema.store import Store, StoreError, StoryRow

PAGE_SIZE = 100
MAX_PAGES = 64  # cached pages kept (LRU): 6,400 rows, a few hundred KB
INDEX_CHUNK = 2000  # articles indexed per short transaction of the search index


# The fixed columns right of the title: sort name -> header, and width.
_HEADERS = {"articles": "articles", "outlets": "outlets", "dates": "published", "progress": "labelled"}
_FIXED_WIDTHS = {"articles": 9, "outlets": 8, "dates": 21, "progress": 14}


def _dates(row: StoryRow) -> str:
    """The days a story's articles were published, `2017-02-13–2017-02-20` (one day once;
    empty when none has a date); the dates are untrusted text, cut to the day."""
    first, last = (_safe(value)[:10] if value else "" for value in (row.first_published, row.last_published))
    return first if first == last else f"{first}–{last}"


def _safe(value: str | None) -> str:
    """A one-line display string: every control or format character (newline and tab too)
    written out visibly, by the one rule (`for_terminal`)."""
    return for_terminal(value or "")


@dataclass(frozen=True)
class StoryFilter:
    """What the list shows: only stories not finished by the annotator, and/or stories
    matching `text` (id or title starting with it, or articles holding its words), in the
    order of the `sort` column of STORY_SORTS."""

    unfinished_only: bool = False
    text: str = ""
    sort: str = "id"
    descending: bool = False

    @property
    def by_id(self) -> bool:
        """The plain list (id order, no search): paged by SQL alone, no list of ids."""
        return not self.text and self.sort == "id" and not self.descending


class StoryListView(ScrollView, can_focus=True):
    """Stories with their article counts and the annotator's progress, one per line."""

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "choose", "Open story"),
    ]

    COMPONENT_CLASSES = {
        "story-list--header",
        "story-list--cursor",
        "story-list--current",
        "story-list--finished",
        "story-list--pending",
        "story-list--marked",
    }

    DEFAULT_CSS = """
    StoryListView {
        height: 1fr;
        background: $surface;
    }
    StoryListView > .story-list--header {
        text-style: bold;
        background: $panel;
        color: $text;
    }
    StoryListView > .story-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    StoryListView:blur > .story-list--cursor {
        background: $block-cursor-blurred-background;
        text-style: none;
    }
    StoryListView > .story-list--current {
        color: $accent;
        text-style: bold;
    }
    StoryListView > .story-list--finished {
        color: $success;
    }
    StoryListView > .story-list--marked {
        color: $warning;
        text-style: bold;
    }
    StoryListView > .story-list--pending {
        color: $text-muted;
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Chosen(Message):
        """The user chose a story (enter)."""

        def __init__(self, story_id: str) -> None:
            super().__init__()
            self.story_id = story_id

    class Counted(Message):
        """The list was (re)counted for a filter: how many rows it now has."""

        def __init__(self, total: int, story_filter: StoryFilter) -> None:
            super().__init__()
            self.total = total
            self.story_filter = story_filter

    class Recounted(Message):
        """(Internal) a count and first page read by a worker."""

        def __init__(self, generation: int, total: int, finished: list[str] | None, cursor: int,
                     first_page: int, rows: list[StoryRow], order: list[str] | None = None) -> None:
            super().__init__()
            self.generation = generation
            self.order = order
            self.total = total
            self.finished = finished
            self.cursor = cursor
            self.first_page = first_page
            self.rows = rows

    class PageLoaded(Message):
        """(Internal) a page of rows read by a worker."""

        def __init__(self, generation: int, page: int, rows: list[StoryRow]) -> None:
            super().__init__()
            self.generation = generation
            self.page = page
            self.rows = rows

    class Indexing(Message):
        """The search index caught up a step: `percent` done (None: done, or no index)."""

        def __init__(self, percent: int | None) -> None:
            super().__init__()
            self.percent = percent

    class Written(Message):
        """A curating action finished: what to tell the user, and whether it failed."""

        def __init__(self, message: str, error: bool = False) -> None:
            super().__init__()
            self.message = message
            self.error = error

    def __init__(
        self,
        store_path: str,
        annotator: str,
        current: str | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.store_path = store_path
        self.annotator = annotator
        self.current = current  # the story open in the annotate screen, marked and preselected
        self.story_filter = StoryFilter()
        self.total: int | None = None  # None until the first count arrives
        self._store: Store | None = None
        self._db_lock = threading.Lock()  # one query at a time on the list's connection
        self._list_closed = False
        self._generation = 0
        self._finished: list[str] | None = None
        self._pages: OrderedDict[int, list[StoryRow]] = OrderedDict()
        self._order: list[str] | None = None  # the ids shown, when not the plain list
        self._index: SearchIndex | None = None
        self._index_lock = threading.Lock()  # one catch-up step or search at a time
        self.indexing: int | None = None  # percent of the search index built, while building
        self.marked: set[str] = set()  # stories marked (m) for a merge
        self._pending: set[int] = set()
        self._wanted: set[int] = set()
        self._choose_when_loaded = False
        self._shown_generation = 0  # the generation whose rows are shown
        self._deferred: list[Callable[[], None]] = []  # keys typed while a recount runs
        self.error: str | None = None

    # --- data -----------------------------------------------------------------------------

    def _db(self) -> Store:
        """The list's own connection (opened in a worker thread on first use)."""
        if self._store is None:
            self._store = Store.open(self.store_path, create=False)
        return self._store

    def on_mount(self) -> None:
        self._refilter(keep=self.current)
        self._catch_up_index()

    def on_unmount(self) -> None:
        self._list_closed = True
        self._generation += 1
        # A plain thread, not a worker: the widget's workers are cancelled as it goes, and
        # the close may have to wait for a query still running.
        threading.Thread(target=self._close_store, name="story-list-close", daemon=True).start()

    def _close_store(self) -> None:
        with self._db_lock, self._index_lock:
            if self._index is not None:
                self._index.close()
                self._index = None
            if self._store is not None:
                self._store.close()
                self._store = None

    def set_filter(self, story_filter: StoryFilter) -> None:
        """Show the stories that pass `story_filter`, keeping the cursor on its story if it
        still passes."""
        if story_filter == self.story_filter:
            return
        self.story_filter = story_filter
        self._refilter(keep=self.cursor_story_id or self.current)

    def _refilter(self, keep: str | None) -> None:
        self._generation += 1
        self._pending.clear()
        self._wanted.clear()
        self._count(self._generation, self.story_filter, keep)

    @work(thread=True, exclusive=True, group="story-list-count", exit_on_error=False)
    def _count(self, generation: int, story_filter: StoryFilter, keep: str | None) -> None:
        """Count the rows under a filter, find `keep`'s row, and read the page it is on."""
        with self._db_lock:
            if self._list_closed or generation != self._generation:
                return
            try:
                store = self._db()
                # The finished set costs a pass over the annotator's own annotations: read it
                # once per list (labels do not change while the list is open) and only if asked.
                finished = self._finished
                if story_filter.unfinished_only and finished is None:
                    finished = store.finished_story_ids(self.annotator)
                order = None
                cursor = 0
                if story_filter.by_id:
                    args = (self.annotator, story_filter.unfinished_only, story_filter.text, finished)
                    total = store.story_list_count(*args)
                    if keep is not None:
                        found = store.story_list_index(keep, *args)
                        cursor = found if found is not None else 0
                else:
                    order = self._ordered_ids(store, story_filter, finished)
                    total = len(order)
                    if keep in order:
                        cursor = order.index(keep)
                page = cursor // PAGE_SIZE
                rows = self._page_rows(store, page, story_filter, finished, order)
            except Exception as exc:  # a broken database: say so in the list, do not crash
                self.error = f"  Cannot read stories: {for_terminal(exc)}"
                self.post_message(self.Recounted(generation, 0, None, 0, 0, []))
                return
        self.error = None
        self.post_message(self.Recounted(generation, total, finished, cursor, page, rows, order))

    def _page_rows(self, store: Store, page: int, story_filter: StoryFilter, finished: list[str] | None,
                   order: list[str] | None) -> list[StoryRow]:
        """Page `page` of the list: by SQL for the plain list, else a slice of `order`."""
        if order is not None:
            return store.story_rows(order[page * PAGE_SIZE:(page + 1) * PAGE_SIZE], self.annotator)
        return store.story_page(page * PAGE_SIZE, PAGE_SIZE, self.annotator, story_filter.unfinished_only,
                                story_filter.text, finished)

    def _ordered_ids(self, store: Store, story_filter: StoryFilter, finished: list[str] | None) -> list[str]:
        """The ids shown under a filter that is not the plain list (`ordered_story_ids`)."""
        index = self._search_index() if story_filter.text else None
        with self._index_lock:
            return ordered_story_ids(store, index, self.annotator, story_filter.text, story_filter.sort,
                                     story_filter.descending, story_filter.unfinished_only, finished)

    def _search_index(self) -> SearchIndex | None:
        """The search index beside the database (opened on first use, with the list's
        database lock held); None when it cannot be opened (searching then falls back to
        id and title prefixes)."""
        if self._index is None:
            try:
                self._index = open_search_index(self._db())
            except (StoreError, sqlite3.Error):
                return None
        return self._index

    @work(thread=True, group="story-list-index", exit_on_error=False)
    def _catch_up_index(self) -> None:
        """Index the articles not indexed yet, a short step at a time, telling the list
        how far it is; a search typed meanwhile is run again when it is done."""
        with self._db_lock:
            if self._list_closed:
                return
            index = self._search_index()
        if index is None:
            return
        with self._index_lock:
            total = index.pending() if not self._list_closed else 0
        done = 0
        while total and not self._list_closed:
            self.post_message(self.Indexing(min(99, 100 * done // total)))
            with self._index_lock:
                if self._list_closed:
                    return
                added = index.catch_up(INDEX_CHUNK)
            if added == 0:
                break
            done += added
        self.post_message(self.Indexing(None))

    def on_story_list_view_indexing(self, message: Indexing) -> None:
        was_indexing = self.indexing is not None
        self.indexing = message.percent
        if was_indexing and message.percent is None and self.story_filter.text:
            self._refilter(keep=self.cursor_story_id)

    def write(self, action: Callable[[Store], str], keep: str | None) -> None:
        """Run a curating action on the list's connection in a worker (`action` returns
        the message to show); then read the list again, the cursor on `keep`."""
        self._write(action, keep)

    @work(thread=True, group="story-list-write", exit_on_error=False)
    def _write(self, action: Callable[[Store], str], keep: str | None) -> None:
        with self._db_lock:
            if self._list_closed:
                return
            try:
                message, error = action(self._db()), False
            except StoreError as exc:
                message, error = for_terminal(str(exc)), True
        self.post_message(self.Written(message, error))
        self.app.call_from_thread(self._after_write, keep)

    def _after_write(self, keep: str | None) -> None:
        self._finished = None  # progress may have changed (an undo of a label, a merge)
        self.marked.clear()
        self._refilter(keep=keep)

    def read_story(self, story_id: str, then: Callable[[object], None]) -> None:
        """Read a story in a worker and call `then(story)` on the event loop (None if gone)."""
        self._read_story(story_id, then)

    @work(thread=True, group="story-list-read", exit_on_error=False)
    def _read_story(self, story_id: str, then: Callable[[object], None]) -> None:
        with self._db_lock:
            if self._list_closed:
                return
            story = self._db().get_story(story_id)
        self.app.call_from_thread(then, story)

    @work(thread=True, group="story-list-pages", exit_on_error=False)
    def _load_page(self, generation: int, page: int, story_filter: StoryFilter, finished: list[str] | None,
                   order: list[str] | None) -> None:
        with self._db_lock:
            if self._list_closed or generation != self._generation:
                return
            try:
                rows = self._page_rows(self._db(), page, story_filter, finished, order)
            except Exception as exc:
                self.error = f"  Cannot read stories: {for_terminal(exc)}"
                rows = []
        self.post_message(self.PageLoaded(generation, page, rows))

    def on_story_list_view_recounted(self, message: Recounted) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self.total = message.total
        self._order = message.order
        if message.finished is not None:
            self._finished = message.finished
        self._pages.clear()
        self._pending.clear()
        self._pages[message.first_page] = message.rows
        self._update_virtual_size()
        self.cursor = min(message.cursor, max(0, message.total - 1))
        self._scroll_to_cursor(center=True)
        self._shown_generation = message.generation
        self.refresh()
        self.post_message(self.Counted(message.total, self.story_filter))
        deferred, self._deferred = self._deferred, []
        for action in deferred:
            action()

    def on_story_list_view_page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._pending.discard(message.page)
        self._pages[message.page] = message.rows
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        self.refresh()
        if self._choose_when_loaded and self.cursor // PAGE_SIZE == message.page:
            self.action_choose()

    def _row(self, index: int) -> StoryRow | None:
        """Row `index` if its page is cached; otherwise None, and the page is asked for."""
        page = index // PAGE_SIZE
        rows = self._pages.get(page)
        if rows is None:
            if page not in self._pending and page not in self._wanted:
                self._wanted.add(page)
                if len(self._wanted) == 1:
                    self.call_later(self._fetch_wanted)
            return None
        self._pages.move_to_end(page)
        offset = index - page * PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    def _fetch_wanted(self) -> None:
        for page in sorted(self._wanted):
            if page not in self._pages and page not in self._pending:
                self._pending.add(page)
                self._load_page(self._generation, page, self.story_filter, self._finished, self._order)
        self._wanted.clear()

    @property
    def cursor_story_id(self) -> str | None:
        """The id of the story under the cursor, if its row is loaded."""
        if not self.total:
            return None
        rows = self._pages.get(self.cursor // PAGE_SIZE)
        offset = self.cursor % PAGE_SIZE
        return rows[offset].id if rows is not None and offset < len(rows) else None

    @property
    def shown_total(self) -> int | None:
        """How many rows the list shows under its current filter (None while counting)."""
        return self.total if self._generation == self._shown_generation else None

    @property
    def loaded(self) -> bool:
        """The count has arrived and every row on screen is drawn from data."""
        if self.total is None:
            return False
        height = max(0, self.scrollable_content_region.height - 1)
        first = int(self.scroll_y)
        last = min(self.total, first + height)
        return all((i // PAGE_SIZE) in self._pages for i in range(first, last))

    # --- cursor and scrolling -----------------------------------------------------------------

    @property
    def _rows_visible(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)  # minus the header line

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, (self.total or 0) + 1)

    def on_resize(self) -> None:
        self._update_virtual_size()
        self._scroll_to_cursor()

    def validate_cursor(self, value: int) -> int:
        if not self.total:
            return 0
        return max(0, min(value, self.total - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._choose_when_loaded = False
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self, center: bool = False) -> None:
        height = self._rows_visible
        top = int(self.scroll_y)
        if center and not (top <= self.cursor < top + height):
            top = self.cursor - height // 2
        elif self.cursor < top:
            top = self.cursor
        elif self.cursor >= top + height:
            top = self.cursor - height + 1
        top = max(0, min(top, max(0, (self.total or 0) + 1 - self.scrollable_content_region.height)))
        if top != int(self.scroll_y):
            self.scroll_to(y=top, animate=False, force=True, immediate=True)

    def _deferred_until_counted(self, action: Callable[[], None]) -> bool:
        """True (and `action` kept for later) while the rows shown are not yet those of
        the current filter: keys typed before a recount arrives act on its result."""
        if self._generation == self._shown_generation:
            return False
        self._deferred.append(action)
        return True

    def action_cursor_up(self) -> None:
        if not self._deferred_until_counted(self.action_cursor_up):
            self.cursor -= 1

    def action_cursor_down(self) -> None:
        if not self._deferred_until_counted(self.action_cursor_down):
            self.cursor += 1

    def action_page_up(self) -> None:
        if not self._deferred_until_counted(self.action_page_up):
            self.cursor -= self._rows_visible

    def action_page_down(self) -> None:
        if not self._deferred_until_counted(self.action_page_down):
            self.cursor += self._rows_visible

    def action_first(self) -> None:
        if not self._deferred_until_counted(self.action_first):
            self.cursor = 0

    def action_last(self) -> None:
        if not self._deferred_until_counted(self.action_last):
            self.cursor = (self.total or 1) - 1

    def action_choose(self) -> None:
        """Choose the story under the cursor (once its row has loaded)."""
        if self._deferred_until_counted(self.action_choose):
            return
        if not self.total:
            self.app.bell()
            return
        story_id = self.cursor_story_id
        if story_id is None:
            self._choose_when_loaded = True
            self._row(self.cursor)
            return
        self._choose_when_loaded = False
        self.post_message(self.Chosen(story_id))

    def on_click(self, event) -> None:
        row = event.y - 1 + int(self.scroll_y)
        if event.y >= 1 and self.total and 0 <= row < self.total:
            if row == self.cursor and event.chain >= 2:
                self.action_choose()
            else:
                self.cursor = row

    # --- drawing ------------------------------------------------------------------------------

    def _columns(self, width: int) -> tuple[int, int]:
        """Widths of the id and title columns for a line width (the others are fixed)."""
        id_w = max(8, min(26, width // 6))
        fixed = sum(w + 1 for w in _FIXED_WIDTHS.values())
        title_w = max(0, width - id_w - fixed - 4)  # 2 marker + 2 gaps
        return id_w, title_w

    def _header(self, id_w: int, title_w: int) -> str:
        """The header line: column names, the sorted one with ▲ (ascending) or ▼."""
        arrow = "▼" if self.story_filter.descending else "▲"
        sort = self.story_filter.sort

        def name(column: str, label: str) -> str:
            return f"{label}{arrow}" if column == sort else label

        header = "  " + set_cell_size(name("id", "story"), id_w) + " " + set_cell_size("title", title_w) + " "
        for column, label in _HEADERS.items():
            header += " " + name(column, label).rjust(_FIXED_WIDTHS[column])
        return header

    def _strip(self, text: Text, width: int, style: Style) -> Strip:
        segments = list(text.render(self.app.console))
        strip = Strip(segments).crop_extend(0, width, style)
        return strip.apply_style(style) if style else strip

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        id_w, title_w = self._columns(width)
        if y == 0:
            style = base + self.get_component_rich_style("story-list--header")
            return self._strip(Text(self._header(id_w, title_w)), width, style)
        index = int(self.scroll_y) + y - 1
        if self.total is None:
            if y == 1:
                return self._strip(Text(self.error or "  Loading stories…"), width,
                                   base + self.get_component_rich_style("story-list--pending"))
            return Strip.blank(width, base)
        if self.total == 0:
            if y == 1:
                filtered = self.story_filter.text or self.story_filter.unfinished_only
                message = self.error or ("  No stories match." if filtered else "  No stories yet.")
                return self._strip(Text(message), width, base + self.get_component_rich_style("story-list--pending"))
            return Strip.blank(width, base)
        if index >= self.total:
            return Strip.blank(width, base)
        row = self._row(index)
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("story-list--cursor")
        if row is None:
            line = Text("  " + set_cell_size("…", id_w), style=self.get_component_rich_style("story-list--pending"))
            return self._strip(line, width, style)
        is_current = row.id == self.current
        current_style = self.get_component_rich_style("story-list--current") if is_current else Style()
        line = Text("▶" if is_current else " ", style=current_style)
        line.append("•" if row.id in self.marked else " ", style=self.get_component_rich_style("story-list--marked"))
        line.append(set_cell_size(_safe(row.id), id_w), style=current_style)
        line.append(" ")
        line.append(set_cell_size(_safe(row.title), title_w))
        line.append(" ")
        line.append(" " + f"{row.articles:,}".rjust(_FIXED_WIDTHS["articles"]))
        line.append(" " + f"{row.outlets:,}".rjust(_FIXED_WIDTHS["outlets"]))
        line.append(" " + _dates(row).rjust(_FIXED_WIDTHS["dates"]))
        line.append(" ")
        line.append_text(self._progress(row, _FIXED_WIDTHS["progress"]))
        return self._strip(line, width, style)

    def _progress(self, row: StoryRow, width: int) -> Text:
        """`labelled/articles` and a small bar, e.g. ` 3/10 ███░░░░ `, or ✓ when finished."""
        bar_w = 6
        count = f"{row.labelled}/{row.articles}"
        if row.articles and row.labelled >= row.articles:
            return Text(f"{count} ✓".rjust(width), style=self.get_component_rich_style("story-list--finished"))
        filled = round(bar_w * row.labelled / row.articles) if row.articles else 0
        if row.labelled and not filled:
            filled = 1
        text = Text(count.rjust(width - bar_w - 1) + " ")
        text.append("█" * filled + "░" * (bar_w - filled), style=Style(dim=not row.labelled))
        return text

    def refresh_row(self, index: int) -> None:
        """Redraw one row if it is on screen."""
        y = index - int(self.scroll_y) + 1
        if 1 <= y < self.scrollable_content_region.height:
            self.refresh(Region(0, y, self.scrollable_content_region.width, 1))

