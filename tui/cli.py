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

# name -> module in tui.commands holding a click command of the same name (dashes -> _).
COMMANDS = {
    "init": "init",
    "import": "import_",
    "annotate": "annotate",
    "review": "review",
    "status": "status",
    "export": "export",
    "load-annotations": "load_annotations",
    "agreement": "agreement",
    "compare": "compare",
}
DEFAULT_COMMAND = "annotate"


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use; the default is `annotate`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._module_exists(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"newsmark.tui.commands.{module_name}")
        return getattr(module, "command")

    @staticmethod
    def _module_exists(name: str) -> bool:
        return importlib.util.find_spec(f"newsmark.tui.commands.{COMMANDS[name]}") is not None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `newsmark [--db PATH]` with no subcommand opens the default one.
        rest = list(args)
        index = 0
        while index < len(rest) and rest[index].startswith("-") and rest[index] not in ("--help", "-h"):
            index += 1 if "=" in rest[index] or rest[index] in ("--version",) else 2
        if index >= len(rest) and "--help" not in rest and "-h" not in rest and "--version" not in rest:
            rest.append(DEFAULT_COMMAND)
        return super().parse_args(ctx, rest)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    stance, Admiralty reliability and credibility, and the claims they make."""
    ctx.obj = {"db_path": db_path}


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
