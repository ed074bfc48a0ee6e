"""GoldModal: confirm a gold value (or type another one) and give the reason."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from newsmark.schema.sanitize import for_terminal
from newsmark.schema.scheme import SchemeField


@dataclass
class GoldChoice:
    """What the reviewer decided: a value (None for a claim) and the reason."""

    value: str | None
    reason: str


class GoldModal(ModalScreen[GoldChoice | None]):
    """Asks for the reason (and, without a fixed value, the value) of a gold decision."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: Text, field: SchemeField | None = None, value: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.field = field
        self.value = value  # fixed: taken from an annotator; None with a field: typed here

    def compose(self) -> ComposeResult:
        with Vertical(id="gold-dialog"):
            yield Static(self.title_text, id="gold-title")
            if self.field is not None and self.value is None:
                options = for_terminal(", ".join(f"{lab.value} ({lab.key})" for lab in self.field.labels))
                yield Static(Text(f"Labels: {options}", style="dim"))
                yield Input(placeholder=f"{for_terminal(self.field.name)} value or key", id="gold-value")
            yield Input(placeholder="reason (enter to save, escape to cancel)", id="gold-reason")
            yield Static("", id="gold-error")

    def on_mount(self) -> None:
        for box in self.query(Input):
            box.cursor_blink = getattr(self.app, "cursor_blink", True)
        first = self.query("#gold-value")
        (first.first() if first else self.query_one("#gold-reason", Input)).focus()

    @on(Input.Submitted, "#gold-value")
    def _value_entered(self) -> None:
        if self._checked_value() is not None:
            self.query_one("#gold-reason", Input).focus()

    @on(Input.Submitted, "#gold-reason")
    def _reason_entered(self) -> None:
        value = self.value
        if self.field is not None and value is None:
            value = self._checked_value()
            if value is None:
                self.query_one("#gold-value", Input).focus()
                return
        self.dismiss(GoldChoice(value, self.query_one("#gold-reason", Input).value.strip()))

    def _checked_value(self) -> str | None:
        """The typed value as a label of the field (a label's key works too), or None
        with the problem shown."""
        assert self.field is not None
        typed = self.query_one("#gold-value", Input).value.strip()
        for lab in self.field.labels:
            if typed == lab.value or typed == lab.key:
                self.query_one("#gold-error", Static).update("")
                return lab.value
        problem = for_terminal(f"{typed!r} is not a label of {self.field.name}") if typed else "type a value first"
        self.query_one("#gold-error", Static).update(Text(problem, style="bold red"))
        return None

    def action_cancel(self) -> None:
        self.dismiss(None)
