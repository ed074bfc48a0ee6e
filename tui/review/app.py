"""ReviewApp: the Textual app of `newsmark review` (separate from the annotate app)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import App

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

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(self.data, self.reviewer, self.story_id, self.blind))

    async def on_unmount(self) -> None:
        await asyncio.to_thread(self.data.close)
