"""The story list (`g` in the annotate screen), a finder: every story with its articles,
outlets, date range and this annotator's progress, sortable by any of them, searchable by
words anywhere in titles and texts, over a virtual list that reads SQLite page by page;
and curating from the list (edit a story, merge stories, undo). The keys are data
(STORY_LIST_KEYS), shown in the footer and by `?`:

    enter        open the story under the cursor (the screen dismisses with its id)
    escape / q   close without choosing (dismisses with None)
    /            search: words anywhere in titles and texts, or an id/title prefix
                 (enter: open the first hit under the cursor, tab: to the list,
                 escape: clear the search)
    s / r        sort by the next column / reverse the order
    U            show only stories this annotator has not finished (again: all)
    e            edit the story's title and proposition
    m / M        mark a story / merge the marked stories into the one under the cursor
    u, ctrl+z    undo this annotator's latest action
    up/down, pgup/pgdn, home/end   move the cursor
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from newsmark.schema.models import Story
from newsmark.schema.operations import undo_message
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.store import STORY_SORTS, Store
from newsmark.tui.widgets.story_list_view import StoryFilter, StoryListView
from newsmark.tui.widgets.story_modals import ConfirmModal, KeysModal, StoryEditModal

# The list's keys as data: (binding id, keys, action, description, shown in the footer).
# None of them is one the app takes first (ctrl+q, ctrl+p); u / ctrl+z / ? / q / / mean
# what they mean in the annotate screen.
STORY_LIST_KEYS: tuple[tuple[str, str, str, str, bool], ...] = (
    ("story_list.open", "enter", "open", "Open the story under the cursor", False),
    ("story_list.close", "escape,q", "close", "Close the list", True),
    ("story_list.search", "slash", "filter", "Search titles and texts (or an id prefix)", True),
    ("story_list.sort", "s", "sort", "Sort by the next column", True),
    ("story_list.reverse", "r", "reverse", "Reverse the order", False),
    ("story_list.unfinished", "U", "toggle_unfinished", "Only stories I have not finished", False),
    ("story_list.edit", "e", "edit", "Edit the story's title and proposition", True),
    ("story_list.mark", "m", "mark", "Mark / unmark the story (for a merge)", True),
    ("story_list.merge", "M", "merge", "Merge the marked stories into this one", True),
    ("story_list.undo", "u,ctrl+z", "undo", "Undo my latest action", True),
    ("story_list.help", "question_mark", "help", "These keys", True),
)
SORT_NAMES = {"id": "story id", "articles": "articles", "outlets": "outlets", "dates": "first published",
              "progress": "my progress"}


class StoryListScreen(Screen[str | None]):
    """Choose a story; dismisses with its id, or None when closed without choosing."""

    # priority for `/`: handled as the key arrives, so focus is in the box before the keys
    # typed right after it are routed (tmux send-keys "/abc", a fast typist). Enter is the
    # list's own binding (StoryListView), so it is not repeated here.
    BINDINGS = [
        Binding(keys, action, description, show=show, id=binding_id, priority=action == "filter")
        for binding_id, keys, action, description, show in STORY_LIST_KEYS if action != "open"
    ]

    DEFAULT_CSS = """
    StoryListScreen {
        layout: vertical;
    }
    StoryListScreen > #story-list-title {
        height: 1;
        padding: 0 1;
        background: $primary;
        color: $text;
        text-style: bold;
    }
    StoryListScreen > #story-list-filter {
        display: none;
        height: 3;
    }
    """

    def __init__(self, store_path: str, annotator: str, current: str | None = None) -> None:
        super().__init__()
        self.store_path = str(store_path)
        self.annotator = annotator
        self.current = current
        self._dismissing = False

    def compose(self) -> ComposeResult:
        yield Static(self._title_text(None), id="story-list-title", markup=False)
        yield Input(placeholder="words in titles and texts, or a story id…", id="story-list-filter", compact=False)
        yield StoryListView(self.store_path, self.annotator, self.current, id="story-list")
        yield Footer()

    @property
    def list_view(self) -> StoryListView:
        """The virtual list of stories."""
        return self.query_one(StoryListView)

    @property
    def filter_input(self) -> Input:
        """The text filter box (hidden until `/`)."""
        return self.query_one("#story-list-filter", Input)

    def on_mount(self) -> None:
        self.set_focus(self.list_view)

    def _title_text(self, total: int | None) -> Text:
        """`Stories · annotator · 1,234 shown · unfinished only · matching "abc" · by
        articles ▼ · indexing 40%`, as plain text (the annotator name and the search are
        untrusted)."""
        view = self.query_one(StoryListView) if self.is_mounted else None
        view_filter = view.story_filter if view is not None else StoryFilter()
        parts = ["Stories", f"annotator {for_terminal(self.annotator)}"]
        parts.append("counting…" if total is None else f"{total:,} shown")
        if view_filter.unfinished_only:
            parts.append("unfinished only")
        if view_filter.text:
            parts.append(f"matching {for_terminal(repr(view_filter.text))}")
        if view_filter.sort != "id" or view_filter.descending:
            parts.append(f"by {SORT_NAMES[view_filter.sort]} {'▼' if view_filter.descending else '▲'}")
        if view is not None and view.marked:
            parts.append(f"{len(view.marked)} marked")
        if view is not None and view.indexing is not None:
            parts.append(f"indexing {view.indexing}%")
        return Text(" · ".join(parts))

    def _update_title(self) -> None:
        self.query_one("#story-list-title", Static).update(self._title_text(self.list_view.shown_total))

    @on(StoryListView.Counted)
    def _counted(self, message: StoryListView.Counted) -> None:
        self._update_title()

    @on(StoryListView.Indexing)
    def _indexing(self) -> None:
        self._update_title()

    @on(StoryListView.Written)
    def _written(self, message: StoryListView.Written) -> None:
        self.notify(message.message, severity="error" if message.error else "information", markup=False)

    @on(StoryListView.Chosen)
    def _chosen(self, message: StoryListView.Chosen) -> None:
        self._close(message.story_id)

    def _close(self, story_id: str | None) -> None:
        """Dismiss once (keys typed after the first choice must not pop another screen)."""
        if not self._dismissing:
            self._dismissing = True
            self.dismiss(story_id)

    def action_close(self) -> None:
        """Escape/q: leave the filter box if it has focus (escape clears it), else close."""
        box = self.filter_input
        if self.focused is box:
            box.value = ""
            box.display = False
            self.set_focus(self.list_view)
            return
        self._close(None)

    def action_toggle_unfinished(self) -> None:
        """Show only unfinished stories, or all of them again."""
        view = self.list_view
        view.set_filter(replace(view.story_filter, unfinished_only=not view.story_filter.unfinished_only))
        self._update_title()

    def action_sort(self) -> None:
        """Sort by the next column (story id, articles, outlets, dates, progress), ascending."""
        view = self.list_view
        sorts = list(STORY_SORTS)
        following = sorts[(sorts.index(view.story_filter.sort) + 1) % len(sorts)]
        view.set_filter(replace(view.story_filter, sort=following, descending=False))
        self._update_title()

    def action_reverse(self) -> None:
        """Reverse the order of the list."""
        view = self.list_view
        view.set_filter(replace(view.story_filter, descending=not view.story_filter.descending))
        self._update_title()

    def action_help(self) -> None:
        """Show the list's keys."""
        keys = [(", ".join(self.app.get_key_display(Binding(key, "")) for key in keys.split(",")), description)
                for _id, keys, _action, description, _show in STORY_LIST_KEYS]
        self.app.push_screen(KeysModal("Story list keys", keys))

    def action_edit(self) -> None:
        """Edit the title and proposition of the story under the cursor (a modal)."""
        view = self.list_view
        story_id = view.cursor_story_id
        if story_id is None:
            self.app.bell()
            return

        def edited(values: tuple[str, str] | None) -> None:
            if values is None:
                return
            title, proposition = values

            def edit(store: Store) -> str:
                store.edit_story(story_id, self.annotator, title=title, proposition=proposition)
                return f"Story {for_terminal(story_id)} edited."

            view.write(edit, keep=story_id)

        def read(story: Story | None) -> None:
            if story is not None:
                self.app.push_screen(StoryEditModal(story.id, story.title, story.proposition), edited)

        view.read_story(story_id, read)

    def action_mark(self) -> None:
        """Mark the story under the cursor for a merge (again: unmark), and move down."""
        view = self.list_view
        story_id = view.cursor_story_id
        if story_id is None:
            self.app.bell()
            return
        view.marked.symmetric_difference_update({story_id})
        view.refresh()
        view.action_cursor_down()
        self._update_title()

    def action_merge(self) -> None:
        """Merge the marked stories into the one under the cursor, once confirmed."""
        view = self.list_view
        target = view.cursor_story_id
        sources = sorted(view.marked - {target})
        if target is None or not sources:
            self.notify("Mark stories with m, then press M on the story to merge them into.", markup=False)
            return
        names = ", ".join(for_terminal(source) for source in sources)

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            def merge(store: Store) -> str:
                store.merge_stories(target, sources, self.annotator)
                return f"Merged {names} into {for_terminal(target)}."

            view.write(merge, keep=target)

        self.app.push_screen(ConfirmModal(f"Merge {names} into {for_terminal(target)}?"), confirmed)

    def action_undo(self) -> None:
        """Undo this annotator's latest action (a curating one or any other)."""
        self.list_view.write(lambda store: undo_message(store.undo(self.annotator), True),
                             keep=self.list_view.cursor_story_id)

    def action_filter(self) -> None:
        """Open the text filter box (in the box, `/` is just a character)."""
        box = self.filter_input
        if self.focused is box:
            # Behind any keys already queued for the box, so the text keeps its order.
            box.post_message(events.Key("slash", "/"))
            return
        box.display = True
        # set_focus, not box.focus(): focus must move before the next key is handled
        # (focus() waits for the queue, and fast typing would go to the list).
        self.set_focus(box)

    @on(Input.Changed, "#story-list-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        view = self.list_view
        view.set_filter(replace(view.story_filter, text=event.value.strip()))
        self._update_title()

    @on(Input.Submitted, "#story-list-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box opens the story under the cursor (the best hit unless
        the cursor was moved); an empty box just goes back to the list."""
        if not event.value.strip():
            self.filter_input.display = False
            self.set_focus(self.list_view)
            return
        self.list_view.action_choose()
