"""`newsmark annotate [--annotator NAME] [--story ID] [--keymap FILE]`: the annotate screen
(the default command). Textual is imported inside the command, so other commands never
load it. Without a terminal it checks its options, then refuses before the screen starts,
and never creates a database."""

from __future__ import annotations

import os

import click

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import annotator_option, fail, open_store, resolve_annotator
from newsmark.tui.commands.terminal import terminal_problem


@click.command("annotate")
@annotator_option
@click.option("--story", "story_id", default=None, help="Open this story first (else the first story).")
@click.option(
    "--keymap",
    "keymap_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="A keymap file (TOML [keys] table); default $XDG_CONFIG_HOME/newsmark/keymap.toml.",
)
@click.pass_context
def command(ctx: click.Context, annotator: str | None, story_id: str | None, keymap_path: str | None) -> None:
    """Read a story's articles side by side and annotate them by keyboard."""
    from newsmark.tui.keymap import KeymapError, load_keymap

    problem = terminal_problem()
    if problem and not os.path.exists(ctx.obj["db_path"]):
        fail(problem)
    name = resolve_annotator(annotator)
    with open_store(ctx, create=problem is None) as store:
        scheme = store.scheme
        if story_id is not None and store.get_story(story_id) is None:
            fail(f"no story '{for_terminal(story_id)}' (see `newsmark status`)")
        db_path = store.location
    try:
        overrides = load_keymap(keymap_path, scheme)
    except KeymapError as exc:
        fail(for_terminal(str(exc)))
    if problem:
        fail(problem)

    from newsmark.tui.app import NewsmarkApp

    app = NewsmarkApp(db_path, name, story_id=story_id, scheme=scheme, keymap_overrides=overrides)
    try:
        app.run()
    finally:
        app.close_stores()
