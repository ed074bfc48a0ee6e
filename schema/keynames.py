"""Key names as Textual spells them, checked without importing Textual (the data layer and
the headless commands never load it): which names a key binding may use, and the one
spelling Textual matches a pressed key against.

Textual matches a binding by exact name: a key it never reports ("shift+a", "ctrl+A",
"shift+ctrl+x", "escpae") is accepted by `Binding` and then silently never fires. So every
key a scheme or keymap gives is checked here once, where the file is read. Textual 8's
names are mirrored below; tests/test_keymap.py compares them with `textual.keys`.
"""

from __future__ import annotations

import functools
import itertools
import sys
import unicodedata

# Textual joins modifiers in alphabetical order ("ctrl+shift+up", "alt+shift+a").
MODIFIERS = ("alt", "ctrl", "hyper", "meta", "shift", "super")

# Named keys Textual reports: `textual.keys.Keys` and the kitty protocol's functional keys
# (`textual._keyboard_protocol.FUNCTIONAL_KEYS`) without the modifier keys themselves.
NAMED_KEYS = frozenset({
    "add", "backspace", "caps_lock", "decimal", "delete", "divide", "down", "end", "enter",
    "equal", "escape", "home", "insert", "kp_begin", "left", "lower_volume",
    "media_fast_forward", "media_pause", "media_play", "media_play_pause", "media_record",
    "media_reverse", "media_rewind", "media_stop", "media_track_next", "media_track_previous",
    "menu", "multiply", "mute_volume", "num_lock", "pagedown", "pageup", "pause",
    "print_screen", "raise_volume", "right", "scroll_lock", "separator", "space", "subtract",
    "tab", "up",
    *(f"f{number}" for number in range(1, 36)),
})
# Combinations Textual reports that the rules below would not allow.
SPECIAL_COMBINATIONS = frozenset({"ctrl+@"})
# Names Textual knows that most terminals never send: they send the same byte as another
# key, which Textual reports instead (only the kitty keyboard protocol tells them apart).
SAME_BYTE_AS = {"ctrl+h": "backspace", "ctrl+i": "tab", "ctrl+m": "enter"}

# textual.keys.KEY_NAME_REPLACEMENTS: Unicode names Textual shortens.
_NAME_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
_REPLACED = {short: long for long, short in _NAME_REPLACEMENTS.items()}
_MAX_KEY_LENGTH = 120  # the longest Unicode name is 88 characters
_MAX_NAME_WORDS = 12  # up to 2**11 lookups for a name


def character_key(character: str) -> str:
    """The name Textual gives the key that types `character` ("?" -> "question_mark",
    "+" -> "plus", "a" -> "a"), as `textual.keys._character_to_key` does."""
    if character.isalnum():
        return character
    try:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        name = "tab" if character == "\t" else character
    return _NAME_REPLACEMENTS.get(name, name)


def _character_named(name: str) -> str | None:
    """The printable character whose key Textual calls `name` ("question_mark" -> "?"),
    or None when `name` is no character's key name."""
    words = _REPLACED.get(name, name).upper().split("_")
    if len(words) > _MAX_NAME_WORDS:
        return _long_names().get(name)
    # Textual wrote both spaces and hyphens of the Unicode name as "_": try each way back.
    for joints in itertools.product(" -", repeat=len(words) - 1):
        unicode_name = words[0] + "".join(joint + word for joint, word in zip(joints, words[1:]))
        try:
            character = unicodedata.lookup(unicode_name)
        except KeyError:
            continue
        if len(character) == 1 and character.isprintable() and character_key(character) == name:
            return character
    return None


@functools.cache
def _long_names() -> dict[str, str]:
    """Key name -> character for characters whose names have too many words to try every
    way back (built once, in about a third of a second, only if such a name is met)."""
    names = {}
    for code in range(0x20, sys.maxunicode + 1):
        character = chr(code)
        if character.isprintable() and not character.isalnum():
            key = character_key(character)
            if key.count("_") >= _MAX_NAME_WORDS:
                names[key] = character
    return names


def canonical_key(key: str) -> str:
    """The spelling Textual matches a pressed key against: a single character becomes its
    key name ("?" -> "question_mark"); a name stays as it is."""
    return character_key(key) if len(key) == 1 else key


def _unsafe(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in text)


def key_problem(key: str) -> str | None:
    """Why `key` is not a key Textual can report, or None when it is.

    Allowed: one printable character ("a", "A", "?", "+", "é"; " " is the space key); a
    named key ("tab", "escape", "f1", "pagedown", "question_mark"); modifiers from
    MODIFIERS joined with "+" in alphabetical order before a named key or a lower-case
    letter or digit ("ctrl+x", "alt+shift+a", "ctrl+shift+up", "ctrl+slash").
    """
    if not key:
        return "is empty"
    if _unsafe(key):
        return "holds a control or format character"
    if len(key) == 1:
        if key.isprintable():
            return None
        return "is not a printable character"
    if len(key) > _MAX_KEY_LENGTH:
        return f"is longer than {_MAX_KEY_LENGTH} characters"
    if key != key.strip() or any(ch.isspace() for ch in key):
        return "holds white space (the space bar is 'space')"
    if key in SAME_BYTE_AS:
        return f"arrives as {SAME_BYTE_AS[key]} in most terminals (they send the same byte)"
    if key in NAMED_KEYS or key in SPECIAL_COMBINATIONS:
        return None
    *modifiers, base = key.split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            return f"has an unknown modifier (modifiers are {', '.join(MODIFIERS)})"
    if len(set(modifiers)) != len(modifiers):
        return "repeats a modifier"
    if modifiers != sorted(modifiers):
        return f"is spelled {'+'.join([*sorted(modifiers), base])} by Textual (modifiers in alphabetical order)"
    if not base:
        return "has no key after its modifiers (the + key is 'plus')"
    character = base if len(base) == 1 else _character_named(base)
    if base not in NAMED_KEYS and character is None:
        return "is not a key name (see textual.keys; e.g. tab, escape, f1, pagedown, question_mark, ctrl+x)"
    if len(base) == 1 and character_key(base) != base:
        return f"is spelled {'+'.join([*modifiers, character_key(base)])} by Textual"
    if not modifiers:
        return None  # a character's name on its own ("question_mark")
    if len(base) == 1 and base != base.lower():
        spelled = "+".join([*sorted({*modifiers, "shift"}), base.lower()])
        return f"never arrives: with a modifier a letter is lower case ({spelled})"
    if modifiers == ["shift"] and base not in NAMED_KEYS:
        return "never arrives: shift with a character is reported as the character it types ('A', '!')"
    return None
