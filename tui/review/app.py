"""ReviewApp: the Textual app of `newsmark review` (separate from the annotate app)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import App

from newsmark.tui.live import Watcher, post_to_screens
from newsmark.tui.review.data import ReviewData
from newsmark.tui.review.screen import ReviewScreen


class ReviewApp(App):
    """Team review and adjudication on one database."""

    CSS_PATH = "review.tcss"
    TITLE = "newsmark review"

    def __init__(self, db_path: str | Path, reviewer: str, *, story_id: str | None = None, blind: bool = False) -> None:
        super().__init__()
        self.data = ReviewData(db_path)
        self.reviewer = reviewer
        self.story_id = story_id
        self.blind = blind
        self.cursor_blink = True  # tests turn it off, with animations
        # Teammates' labels, claims and gold, reported to the screen (see tui/live.py).
        self.watcher = Watcher(db_path, lambda events: post_to_screens(self, events), busy=self.data.busy)
        self.data.wrote = self.watcher.ignore

    def on_mount(self) -> None:
        try:
            self.watcher.start()
        except Exception:  # noqa: BLE001 - review works without live updates
            pass
        self.push_screen(ReviewScreen(self.data, self.reviewer, self.story_id, self.blind))

    async def on_unmount(self) -> None:
        await asyncio.to_thread(self.watcher.stop)
        await asyncio.to_thread(self.data.close)
