"""The `newsmark` command line: a thin click layer over the library.

Subcommands live one per module in `tui/commands/` and are imported only when invoked,
so headless commands (`export`, `status`, ...) never import Textual.
"""

from __future__ import annotations

import importlib
import io
import sqlite3
import sys

import click

# name -> (module in tui.commands holding its click `command` — or `module:attribute` —, the one line `newsmark
# --help` shows). The line lives here so that listing the commands imports none of them.
COMMANDS = {
    "init": ("init", "Create the database, or set its annotation scheme."),
    "import": ("import_", "Import article files or folders of them."),
    "annotate": ("annotate", "Annotate a story's articles by keyboard (the default)."),
    "review": ("review", "Compare annotators' work and adjudicate gold labels."),
    "status": ("status", "What the database holds; each annotator's progress."),
    "export": ("export", "Write the annotations (or gold) as a dataset."),
    "load-annotations": ("load_annotations", "Load a teammate's export (or gold)."),
    "agreement": ("agreement", "Agreement between annotators (α, κ, claim F1)."),
    "compare": ("compare", "The passages two articles share."),
    "story": ("story", "Curate stories: edit, merge, split, move articles."),
    "undo": ("history:undo", "Undo your latest action (label, claim, story change)."),
    "redo": ("history:redo", "Redo the action you undid last."),
    "team": ("team", "The analysts of a PostgreSQL database and their rights."),
    "db": ("db", "Copy a whole database between SQLite and PostgreSQL."),
}
DEFAULT_COMMAND = "annotate"


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, with a default command.

    `newsmark` alone, or `newsmark [--db P] --annotator X` (options the group does not know
    come first), runs `annotate` with those options. Everything else is click's own
    parsing, so shell completion and `--help` work as click made them.
    """

    # Options the group does not know (`--annotator`) are left for the default command.
    ignore_unknown_options = True

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._module_exists(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, _, attribute = entry[0].partition(":")
        module = importlib.import_module(f"newsmark.tui.commands.{module_name}")
        return getattr(module, attribute or "command")

    @staticmethod
    def _module_exists(name: str) -> bool:
        module_name = COMMANDS[name][0].partition(":")[0]
        return importlib.util.find_spec(f"newsmark.tui.commands.{module_name}") is not None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # An option where the command name should be belongs to the default command,
        # if it has that option; else it is the group's usage error.
        if args and args[0].startswith("-") and args[0] != "--":
            default = self.get_command(ctx, DEFAULT_COMMAND)
            option = args[0].split("=", 1)[0]
            if default is not None and any(option in p.opts + p.secondary_opts for p in default.params):
                return DEFAULT_COMMAND, default, args
            if not ctx.resilient_parsing:
                raise click.NoSuchOption(option, ctx=ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list:
        from click.shell_completion import CompletionItem

        # Command names from the table (importing none of them), then the group's options.
        items = [
            CompletionItem(name, help=COMMANDS[name][1])
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
        ]
        return items + click.Command.shell_complete(self, ctx, incomplete)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    envvar="NEWSMARK_DB",
    default="newsmark.db",
    show_default=True,
    help="The database file (also $NEWSMARK_DB).",
)
@click.version_option(package_name="newsmark")
@click.pass_context
def cli(ctx: click.Context, db_path: str) -> None:
    """newsmark: read several outlets' articles on one story side by side and annotate
    stance, Admiralty reliability and credibility, and the claims they make.

    With no command, runs `annotate`; its options may follow directly:
    `newsmark --db team.db --annotator alice`.
    """
    ctx.obj = {"db_path": db_path}
    if ctx.invoked_subcommand is None:
        default = ctx.command.get_command(ctx, DEFAULT_COMMAND)
        with default.make_context(DEFAULT_COMMAND, [], parent=ctx) as sub_ctx:
            default.invoke(sub_ctx)


def main() -> None:
    """Console-script entry point. Click's own messages (usage errors, a bad --db path, an
    unknown option) quote what was typed: they go out through `for_terminal`, as every
    other error line does."""
    try:
        code = cli.main(prog_name="newsmark", standalone_mode=False)
    except click.ClickException as exc:
        from newsmark.schema.sanitize import for_terminal

        shown = io.StringIO()
        exc.show(file=shown)
        sys.stderr.write(for_terminal(shown.getvalue(), multiline=True))
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("Error: interrupted", err=True)
        sys.exit(130)
    except sqlite3.DatabaseError as exc:
        # A full or read-only disk, or a damaged file, met outside a command's open_store
        # (which says the same): a sentence, not a traceback.
        from newsmark.schema.sanitize import for_terminal
        from newsmark.tui.commands.common import database_fault

        click.echo(f"Error: {for_terminal(database_fault(exc, _db_path_of(sys.argv)))}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _db_path_of(argv: list[str]) -> str:
    """The database named on the command line (for messages), else $NEWSMARK_DB or the default."""
    import os

    for index, arg in enumerate(argv):
        if arg == "--db" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--db="):
            return arg.split("=", 1)[1]
    return os.environ.get("NEWSMARK_DB") or "newsmark.db"


if __name__ == "__main__":
    main()
