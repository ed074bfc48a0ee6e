"""The annotate screen's keys as data: actions with binding ids, default keys from
tui/default_keymap.toml, user overrides from a config file, and label keys from the scheme.

Every binding has an id (as in Posting and Harlequin); a keymap file maps ids to keys and
is applied with Textual's `App.set_keymap`, so overriding one id moves that action alone.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from newsmark.schema.scheme import Scheme


class KeymapError(ValueError):
    """A keymap file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class KeyAction:
    """One remappable action of the annotate screen."""

    id: str
    action: str  # a Textual action string run on the screen
    description: str  # what the footer, help and command palette call it
    group: str = "keys"  # heading in the help screen
    short: str = ""  # the footer's wording (else description)
    # A default key of this action that the scheme uses for a label goes to the label
    # (schemes written before the action existed keep working); the action then has
    # only its other keys, the command palette, or a key from the user's keymap.
    yields: bool = False

    @property
    def footer_label(self) -> str:
        """The short wording for the footer."""
        return self.short or self.description


# In the order the help screen lists them.
ACTIONS: tuple[KeyAction, ...] = (
    KeyAction("pane.next", "focus_pane(1)", "Next pane", "Panes and stories"),
    KeyAction("pane.previous", "focus_pane(-1)", "Previous pane", "Panes and stories"),
    KeyAction("article.previous", "article(-1)", "Previous article in this pane", "Panes and stories"),
    KeyAction("article.next", "article(1)", "Next article in this pane", "Panes and stories", short="next article"),
    KeyAction("story.next", "story(1)", "Next story", "Panes and stories", short="next story"),
    KeyAction("story.previous", "story(-1)", "Previous story", "Panes and stories"),
    KeyAction("story.list", "story_list", "Story list", "Panes and stories", short="stories"),
    KeyAction("cursor.down", "cursor(1)", "Sentence cursor down", "Claims"),
    KeyAction("cursor.up", "cursor(-1)", "Sentence cursor up", "Claims"),
    KeyAction("claim.toggle", "toggle_claim", "Mark / unmark claim", "Claims", short="claim"),
    KeyAction("span.refine", "refine", "Refine the span word by word", "Claims"),
    KeyAction("span.end_right", "span_end(1)", "Span: end one word later", "Claims"),
    KeyAction("span.end_left", "span_end(-1)", "Span: end one word earlier", "Claims"),
    KeyAction("span.start_right", "span_start(1)", "Span: start one word later", "Claims"),
    KeyAction("span.start_left", "span_start(-1)", "Span: start one word earlier", "Claims"),
    KeyAction("claim.link", "link", "Link claim to the claim in another pane", "Claims", short="link"),
    KeyAction("suggestion.next", "suggestion(1)", "Select the next suggested match of the claim", "Claims", yields=True),
    KeyAction("suggestion.previous", "suggestion(-1)", "Select the previous suggested match", "Claims", yields=True),
    KeyAction("suggestion.link", "link_suggestion", "Link the selected suggestion into the claim's cluster", "Claims", yields=True),
    KeyAction("cluster.wording", "cluster_wording", "Edit the wording of the claim's cluster", "Claims", yields=True),
    KeyAction("shared.toggle", "toggle_shared", "Highlight passages shared with the other panes", "Compare", short="shared", yields=True),
    KeyAction("overview", "overview", "Story overview: who copies whom, who carries which claim", "Compare", short="overview", yields=True),
    KeyAction("flag", "flag", "Flag the article", "Article"),
    KeyAction("note", "note", "Write a note", "Article", short="note"),
    KeyAction("undo", "undo", "Undo", "Article", short="undo"),
    KeyAction("redo", "redo", "Redo", "Article"),
    KeyAction("blind", "blind", "Blind mode (hide outlet, byline, URL)", "Article"),
    KeyAction("search", "search", "Search the text", "Article"),
    KeyAction("cancel", "cancel", "Leave claim / span / search mode", "Article"),
    KeyAction("help", "help", "Help", "App", short="help"),
    KeyAction("quit", "quit", "Quit", "App", short="quit"),
)
ACTION_IDS = frozenset(a.id for a in ACTIONS)
# The footer's keys, most needed first (at 80 columns the last ones are cut off).
FOOTER_ORDER = ("help", "claim.toggle", "claim.link", "note", "undo", "quit", "story.next", "story.list")


def default_keymap_text() -> str:
    """The TOML text of the default keymap."""
    return resources.files("newsmark.tui").joinpath("default_keymap.toml").read_text(encoding="utf-8")


def _parse(text: str, origin: str) -> dict[str, str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KeymapError(f"{origin}: not valid TOML: {exc}") from None
    unknown_tables = set(data) - {"keys"}
    if unknown_tables:
        raise KeymapError(f"{origin}: unknown table(s) {', '.join(sorted(unknown_tables))} (expected [keys])")
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise KeymapError(f"{origin}: [keys] must be a table of binding id = \"key\"")
    result: dict[str, str] = {}
    for binding_id, value in keys.items():
        if not isinstance(value, str) or not value.strip() or any(not k.strip() for k in value.split(",")):
            raise KeymapError(f"{origin}: {binding_id}: expected a key or comma-separated keys, got {value!r}")
        result[binding_id] = ",".join(k.strip() for k in value.split(","))
    return result


def default_keymap() -> dict[str, str]:
    """Binding id -> keys, as shipped."""
    return _parse(default_keymap_text(), "default_keymap.toml")


def user_keymap_path() -> Path:
    """Where a user's keymap lives: $XDG_CONFIG_HOME/newsmark/keymap.toml (~/.config/...)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "newsmark" / "keymap.toml"


def label_binding_id(field: str, value: str) -> str:
    """The binding id of a scheme label's key."""
    return f"label.{field}.{value}"


def label_keys(scheme: Scheme) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """The scheme's label keys: (key, binding id, [(level, field, value), ...]) in scheme order.

    One key may set an article field and a different claim field (the claim one when the
    sentence cursor is on a claim); it then has one binding, named after its first label.
    """
    by_key: dict[str, list[tuple[str, str, str]]] = {}
    for level in ("article", "claim"):
        for fld in scheme.fields_at(level):  # type: ignore[arg-type]
            for lab in fld.labels:
                by_key.setdefault(lab.key, []).append((level, fld.name, lab.value))
    return [(key, label_binding_id(owners[0][1], owners[0][2]), owners) for key, owners in by_key.items()]


def load_keymap(path: str | Path | None, scheme: Scheme | None = None) -> dict[str, str]:
    """User overrides (binding id -> keys) from path, or from the default user file when it
    exists; {} when there is none. Raises KeymapError naming unknown ids."""
    explicit = path is not None
    path = Path(path) if explicit else user_keymap_path()
    if not path.exists():
        if explicit:
            raise KeymapError(f"{path}: no such keymap file")
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeymapError(f"{path}: cannot read: {exc}") from None
    overrides = _parse(text, str(path))
    known = set(ACTION_IDS)
    if scheme is not None:
        known |= {binding_id for _, binding_id, _ in label_keys(scheme)}
    unknown = sorted(set(overrides) - known) if scheme is not None else sorted(
        i for i in overrides if i not in ACTION_IDS and not i.startswith("label.")
    )
    if unknown:
        raise KeymapError(f"{path}: unknown binding id(s): {', '.join(unknown)}")
    return overrides


def effective_keys(overrides: dict[str, str], scheme: Scheme) -> dict[str, str]:
    """Binding id -> keys as they will work: defaults, scheme label keys, then overrides."""
    keys = default_keymap()
    taken = set()
    for key, binding_id, _ in label_keys(scheme):
        keys[binding_id] = key
        taken.add(key)
    for action in ACTIONS:
        if action.yields and action.id in keys:
            keys[action.id] = ",".join(k for k in keys[action.id].split(",") if k not in taken)
    keys.update(overrides)
    return keys


def key_display(keys: str) -> str:
    """How keys read in help: 'u,ctrl+z' -> 'u / ctrl+z' ('' -> '–': no key)."""
    return " / ".join(keys.split(",")) if keys else "–"


def label_description(scheme: Scheme, owners: list[tuple[str, str, str]]) -> str:
    """What a label key does, with the scheme's wording: 'reliability B usually reliable'.

    A label set at both levels reads once, with "(article or claim)"; a key that sets
    different fields at the two levels names both.
    """
    levels: dict[tuple[str, str], list[str]] = {}
    for level, field_name, value in owners:
        levels.setdefault((field_name, value), []).append(level)
    parts = []
    for (field_name, value), where in levels.items():
        fld = scheme.field(field_name)
        lab = fld.label(value) if fld else None
        wording = f" {lab.description}" if lab and lab.description else ""
        suffix = " (article or claim)" if len(where) > 1 else " (claim)" if where == ["claim"] else ""
        parts.append(f"{field_name} {value}{wording}{suffix}")
    return "; ".join(parts)
