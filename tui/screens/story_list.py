"""The story list (`g` in the annotate screen): every story with its article count and
this annotator's progress, filterable, over a virtual list that reads SQLite page by page.

    enter        open the story under the cursor (the screen dismisses with its id)
    escape / q   close without choosing (dismisses with None)
    u            show only stories this annotator has not finished (again: all)
    /            filter by story id or title prefix (enter: back to the list,
                 escape: clear the filter)
    up/down, pgup/pgdn, home/end   move the cursor
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.widgets.story_list_view import StoryFilter, StoryListView


class StoryListScreen(Screen[str | None]):
    """Choose a story; dismisses with its id, or None when closed without choosing."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("u", "toggle_unfinished", "Unfinished only"),
        # priority: handled as the key arrives, so focus is in the box before the keys
        # typed right after it are routed (tmux send-keys "/abc", a fast typist).
        Binding("slash", "filter", "Filter", priority=True),
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
        yield Input(placeholder="story id or title starts with…", id="story-list-filter", compact=False)
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
        """`Stories · annotator · 1,234 shown · unfinished only · starting "abc"`, as plain
        text (the annotator name and the filter are untrusted)."""
        view_filter = self.query_one(StoryListView).story_filter if self.is_mounted else StoryFilter()
        parts = ["Stories", f"annotator {for_terminal(self.annotator)}"]
        parts.append("counting…" if total is None else f"{total:,} shown")
        if view_filter.unfinished_only:
            parts.append("unfinished only")
        if view_filter.text:
            parts.append(f"starting {for_terminal(repr(view_filter.text))}")
        return Text(" · ".join(parts))

    @on(StoryListView.Counted)
    def _counted(self, message: StoryListView.Counted) -> None:
        self.query_one("#story-list-title", Static).update(self._title_text(message.total))

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
        view.set_filter(StoryFilter(not view.story_filter.unfinished_only, view.story_filter.text))
        self.query_one("#story-list-title", Static).update(self._title_text(None))

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
        view.set_filter(StoryFilter(view.story_filter.unfinished_only, event.value.strip()))
        self.query_one("#story-list-title", Static).update(self._title_text(None))

    @on(Input.Submitted, "#story-list-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.filter_input.display = False
        self.set_focus(self.list_view)
