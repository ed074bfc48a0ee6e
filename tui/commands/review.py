"""`newsmark review [--annotator NAME] [--story ID] [--blind]`: the team review screen.
Textual is imported inside the command, so other commands never load it. Without a
terminal it checks its options, then refuses before the screen starts."""

from __future__ import annotations

import click

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import annotator_option, fail, open_store, resolve_annotator
from newsmark.tui.commands.terminal import terminal_problem


@click.command("review")
@annotator_option
@click.option("--story", "story_id", default=None, help="Open this story first (else the first story).")
@click.option("--blind", is_flag=True, help="Hide annotator names while adjudicating (b toggles).")
@click.pass_context
def command(ctx: click.Context, annotator: str | None, story_id: str | None, blind: bool) -> None:
    """See every annotator's labels and claims side by side and adjudicate gold values."""
    reviewer = resolve_annotator(annotator)
    with open_store(ctx, create=False) as store:
        if store.story_count() == 0:
            fail("the database holds no stories yet (import some with `newsmark import`)")
        if story_id is not None and store.get_story(story_id) is None:
            fail(f"no story '{for_terminal(story_id)}' (see `newsmark status`)")
        db_path = store.location
    problem = terminal_problem()
    if problem:
        fail(problem)
    from newsmark.tui.review.app import ReviewApp

    ReviewApp(db_path, reviewer, story_id=story_id, blind=blind).run()
