"""The annotate screen's keys as data: actions with binding ids, default keys from
tui/default_keymap.toml, user overrides from a config file, and label keys from the scheme.

Every binding has an id (as in Posting and Harlequin); a keymap file maps ids to keys and
is applied with Textual's `App.set_keymap`, so overriding one id moves that action alone.

Keys are checked where they enter, so none silently stops working: every key must be one
Textual reports (`newsmark.schema.keynames`), no two bindings may share a key, and no
binding may use a key that the app or the focused article text takes first
(RESERVED_KEYS). `check_scheme_keys` checks a scheme against the default keymap at
`init --scheme`; `load_keymap` checks the effective keys when annotate starts.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from newsmark.schema.keynames import canonical_key, key_problem
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.scheme import (
    Scheme,
    SchemeError,
    config_read_error,
    listed,
    quoted,
    read_config_text,
    shown,
)
from newsmark.schema.structured import StructureError, load_toml


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
    KeyAction("article.unfinished", "next_unfinished", "Next article you have not finished (in this pane)",
              "Panes and stories", short="unfinished"),
    KeyAction("auto_advance", "toggle_auto_advance", "Auto-advance: a finished article makes way for the next unfinished",
              "Panes and stories"),
    KeyAction("story.next", "story(1)", "Next story", "Panes and stories", short="next story"),
    KeyAction("story.previous", "story(-1)", "Previous story", "Panes and stories"),
    KeyAction("story.list", "story_list", "Story list", "Panes and stories", short="stories"),
    KeyAction("story.other", "other_story", "Read this pane's article in its next other story (\"also in\")",
              "Panes and stories", yields=True),
    KeyAction("cursor.down", "cursor(1)", "Sentence cursor down", "Claims"),
    KeyAction("cursor.up", "cursor(-1)", "Sentence cursor up", "Claims"),
    KeyAction("claim.toggle", "toggle_claim", "Mark / unmark claim", "Claims", short="claim"),
    KeyAction("span.refine", "refine", "Refine the span word by word", "Claims"),
    KeyAction("span.end_right", "span_end(1)", "Next sentence; refining a span: end one word later", "Claims"),
    KeyAction("span.end_left", "span_end(-1)", "Previous sentence; refining a span: end one word earlier", "Claims"),
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
FOOTER_ORDER = ("help", "claim.toggle", "claim.link", "note", "undo", "article.unfinished", "quit", "story.next", "story.list")

# Keys the annotate screen never sees, so no label or action may use them: the app's
# priority bindings (Textual's ctrl+q quit, ctrl+p command palette) run before any
# screen, and the focused article text (tui/widgets/article_text.py) binds its scroll keys
# before the screen's. Canonical key -> (who takes it, for what); tests/test_keymap.py
# checks this against the Textual classes.
RESERVED_KEYS: dict[str, tuple[str, str]] = {
    "ctrl+q": ("the app", "quit"),
    "ctrl+p": ("the app", "the command palette"),
    "space": ("the article text", "page down"),
    "pagedown": ("the article text", "page down"),
    "pageup": ("the article text", "page up"),
    "home": ("the article text", "top"),
    "end": ("the article text", "bottom"),
    "down": ("the article text", "scroll down"),
    "up": ("the article text", "scroll up"),
}


def default_keymap_text() -> str:
    """The TOML text of the default keymap."""
    return resources.files("newsmark.tui").joinpath("default_keymap.toml").read_text(encoding="utf-8")


def _parse(text: str, origin: str) -> dict[str, str]:
    """Binding id -> keys ("u,ctrl+z") from keymap TOML, every key checked by name."""
    where = for_terminal(origin)
    try:
        data = load_toml(text)
    except StructureError as exc:
        raise KeymapError(f"{where}: {for_terminal(exc)}") from None
    unknown_tables = sorted(set(data) - {"keys"})
    if unknown_tables:
        names = ", ".join(shown(name) for name in unknown_tables)
        raise KeymapError(f"{where}: unknown table(s) {names} (expected [keys])")
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise KeymapError(f"{where}: [keys] must be a table of binding id = \"key\"")
    result: dict[str, str] = {}
    for binding_id, value in keys.items():
        named = shown(binding_id)
        if not isinstance(value, str):
            raise KeymapError(f"{where}: {named}: expected a key or comma-separated keys, got {_kind(value)}")
        parts = [part.strip() for part in value.split(",")]
        if not value.strip() or any(not part for part in parts):
            raise KeymapError(
                f"{where}: {named}: expected a key or comma-separated keys, got {quoted(value)} (the , key is 'comma')"
            )
        for part in parts:
            problem = key_problem(part)
            if problem:
                raise KeymapError(f"{where}: {named}: key {quoted(part)} {problem}")
        result[binding_id] = ",".join(parts)
    return result


def _kind(value: object) -> str:
    """What a TOML value is, in words (the value itself may be huge or hostile)."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"{value} (a number)"
    return {dict: "a table", list: "a list"}.get(type(value), type(value).__name__)


def default_keymap() -> dict[str, str]:
    """Binding id -> keys, as shipped (a fresh dict: callers may change it)."""
    return dict(_default_keymap())


@functools.cache
def _default_keymap() -> dict[str, str]:
    # parsed once: the annotate screen asks for its keys on every palette and claim change
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
    Keys are grouped as Textual matches them ("?" and "question_mark" are one key).
    """
    by_key: dict[str, tuple[str, list[tuple[str, str, str]]]] = {}
    for level in ("article", "claim"):
        for fld in scheme.fields_at(level):  # type: ignore[arg-type]
            for lab in fld.labels:
                by_key.setdefault(canonical_key(lab.key), (lab.key, []))[1].append((level, fld.name, lab.value))
    return [(key, label_binding_id(owners[0][1], owners[0][2]), owners) for key, owners in by_key.values()]


def load_keymap(path: str | Path | None, scheme: Scheme | None = None) -> dict[str, str]:
    """User overrides (binding id -> keys) from path, or from the default user file when it
    exists; {} when there is none.

    Raises KeymapError (a message naming the file, the binding ids and the key, safe for a
    terminal) for a file that cannot be read, unknown ids, keys Textual does not know, and,
    given the scheme, any key two bindings share or one the app keeps (`key_clashes`)."""
    explicit = path is not None
    path = Path(path) if explicit else user_keymap_path()
    where = for_terminal(path)
    overrides: dict[str, str] = {}
    if path.exists() or path.is_symlink():
        try:
            text = read_config_text(path, "keymap")
        except (OSError, ValueError) as exc:
            raise KeymapError(f"{where}: cannot read: {config_read_error(exc)}") from None
        overrides = _parse(text, str(path))
    elif explicit:
        raise KeymapError(f"{where}: no such keymap file")
    known = set(ACTION_IDS)
    if scheme is not None:
        known |= {binding_id for _, binding_id, _ in label_keys(scheme)}
    unknown = sorted(set(overrides) - known) if scheme is not None else sorted(
        i for i in overrides if i not in ACTION_IDS and not i.startswith("label.")
    )
    if unknown:
        raise KeymapError(f"{where}: unknown binding id(s): {listed([shown(i) for i in unknown])}")
    if scheme is not None:
        problems = key_clashes(scheme, overrides, path)
        if problems:
            raise KeymapError(listed(problems, "; "))
    return overrides


def effective_keys(overrides: dict[str, str], scheme: Scheme) -> dict[str, str]:
    """Binding id -> keys as they will work: defaults, scheme label keys, then overrides."""
    keys = default_keymap()
    taken = set()
    for key, binding_id, _ in label_keys(scheme):
        keys[binding_id] = key
        taken.add(canonical_key(key))
    for action in ACTIONS:
        if action.yields and action.id in keys:
            keys[action.id] = ",".join(k for k in keys[action.id].split(",") if canonical_key(k) not in taken)
    keys.update(overrides)
    return keys


def key_clashes(scheme: Scheme, overrides: dict[str, str], keymap_path: str | Path | None) -> list[str]:
    """Why some keys would silently not work with this scheme and these overrides (from
    the file at keymap_path; None: the default keymap alone), one sentence each; [] when
    every binding has a key of its own that reaches the annotate screen.

    A clash is two binding ids (actions or labels) whose keys are the same key as Textual
    matches it, or a binding on a key in RESERVED_KEYS. Two labels of different levels on
    one key are one binding (see `label_keys`), not a clash.
    """
    labels = {binding_id: owners[0] for _, binding_id, owners in label_keys(scheme)}
    keys = effective_keys(overrides, scheme)
    owners: dict[str, list[tuple[str, str]]] = {}  # canonical key -> [(binding id, key as written)]
    for binding_id, value in keys.items():
        for key in filter(None, value.split(",")):
            holders = owners.setdefault(canonical_key(key), [])
            if binding_id not in (held for held, _ in holders):
                holders.append((binding_id, key))
    file = for_terminal(keymap_path) if keymap_path is not None else None

    def name(binding_id: str) -> str:
        if binding_id in labels:
            _, field_name, value = labels[binding_id]
            return f"scheme label {for_terminal(field_name)}={for_terminal(value)}"
        return for_terminal(binding_id)

    problems: list[str] = []
    for canonical, holders in owners.items():
        from_file = [held for held, _ in holders if held in overrides]
        written = quoted(holders[0][1])
        if canonical in RESERVED_KEYS:
            for binding_id, key in holders:
                in_file = binding_id in overrides and file
                where = f"{file}: {for_terminal(binding_id)} = {quoted(key)}: " if in_file else ""
                what = name(binding_id) if binding_id in labels else f"the action {name(binding_id)}"
                who, purpose = RESERVED_KEYS[canonical]
                problems.append(
                    f"{where}{what} uses key {quoted(key)}, which {who} takes first (for {purpose}), so it "
                    f"would never work; choose another key"
                )
            continue
        if len(holders) < 2:
            continue
        label_ids = [held for held, _ in holders if held in labels]
        action_ids = [held for held, _ in holders if held not in labels]
        if not from_file and label_ids and action_ids:
            actions = ", ".join(name(a) for a in action_ids)
            if keymap_path is None:  # init: every teammate starts from the default keymap
                remedy = f"which the default keymap gives to {actions}; choose another key in the scheme"
            else:
                remedy = (f"which the keymap gives to {actions}; choose another key in the scheme or remap "
                          f"{name(action_ids[0])} in {file}")
            label_key = next(key for held, key in holders if held == label_ids[0])
            problems.append(f"{name(label_ids[0])} uses key {quoted(label_key)}, {remedy}")
            continue
        prefix = f"{file}: " if from_file and file else ""
        problems.append(
            f"{prefix}key {written} is bound to both {' and '.join(name(held) for held, _ in holders)}; "
            f"give one of them another key"
        )
    return problems


def check_scheme_keys(scheme: Scheme, origin: str | Path) -> None:
    """Refuse (SchemeError, naming the file, the label, the key and the action) a scheme
    whose label keys clash with the default keymap or with keys the app keeps, so labels
    that could never be set are caught at `init --scheme`."""
    problems = key_clashes(scheme, {}, None)
    if problems:
        raise SchemeError(f"{for_terminal(origin)}: " + listed(problems, "; "))


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
