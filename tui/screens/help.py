"""The help screen: every key of the annotate screen, as the keymap has it, with the
scheme's wording for each label (e.g. "B usually reliable")."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from newsmark.schema.scheme import Scheme
from newsmark.tui.keymap import ACTIONS, effective_keys, key_display, label_keys
from newsmark.tui.text import display_inline


def help_table(scheme: Scheme, overrides: dict[str, str]) -> Table:
    """Every key and what it does, grouped; label keys with the scheme's wording."""
    keys = effective_keys(overrides, scheme)
    table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
    table.add_column("key", style="bold cyan", no_wrap=True, width=16)
    table.add_column("what it does", ratio=1)
    group = None
    for action in ACTIONS:
        if action.group != group:
            group = action.group
            table.add_row(Text(""), Text(group, style="bold underline"))
        table.add_row(Text(display_inline(key_display(keys[action.id]))), Text(action.description))
    owners_by_key = {key: (binding_id, owners) for key, binding_id, owners in label_keys(scheme)}
    for level in ("article", "claim"):
        table.add_row(Text(""), Text(""))
        heading = "Labels of the article" if level == "article" else (
            "Labels of a claim (while the sentence cursor is on a claim: CLAIM mode)"
        )
        table.add_row(Text(""), Text(heading, style="bold underline"))
        for fld in scheme.fields_at(level):  # type: ignore[arg-type]
            table.add_row(Text(display_inline(fld.name), style="bold"), Text(display_inline(fld.description), style="dim italic"))
            for lab in fld.labels:
                binding_id, _ = owners_by_key[lab.key]
                shown_key = keys.get(binding_id, lab.key)
                line = Text(display_inline(lab.value), style="bold")
                if lab.description:
                    line.append(f"  {display_inline(lab.description)}")
                if lab.missing:
                    line.append("  (counts as missing in agreement)", style="dim")
                table.add_row(Text(display_inline(key_display(shown_key))), line)
    table.add_row(Text(""), Text(""))
    table.add_row(Text("ctrl+p", style="bold cyan"), Text("Command palette: every action by name"))
    return table


class HelpScreen(ModalScreen[None]):
    """Every key, with the scheme's wording."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help"),
    ]

    def __init__(self, scheme: Scheme, overrides: dict[str, str]) -> None:
        super().__init__()
        self.scheme = scheme
        self.overrides = overrides

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text("newsmark keys  (esc, q or ? closes)", style="bold"), id="help-title")
            yield Static(help_table(self.scheme, self.overrides), id="help-table")
