"""The one rule for annotator names, used wherever a name enters newsmark: `--annotator`,
`$NEWSMARK_ANNOTATOR`, the OS user, records loaded from files, gold provenance.

A name is 1 to 64 characters after NFC normalisation; letters, digits, marks, punctuation,
symbols and single inner spaces; no control or format characters (bidi overrides,
zero-width spaces), no other whitespace, nothing private-use or unassigned, no leading or
trailing space. So a name that one command accepts, every other command accepts, and no
two names look alike through invisible characters.
"""

from __future__ import annotations

import unicodedata

from newsmark.schema.sanitize import for_terminal

MAX_NAME_LENGTH = 64
# Categories a name may not contain: controls, format characters, surrogates, private
# use, unassigned code points, and separators other than the plain space.
_FORBIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class InvalidName(ValueError):
    """A name that breaks the rule; the message says which part and why."""


def check_name(raw: str, *, what: str = "annotator name") -> str:
    """`raw` as a valid name (NFC-normalised), or InvalidName saying what is wrong."""
    if not isinstance(raw, str):
        raise InvalidName(f"{what} must be text, not {type(raw).__name__}")
    name = unicodedata.normalize("NFC", raw)
    shown = for_terminal(name)
    if not name:
        raise InvalidName(f"{what} is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"{what} {shown[:40]!s}… is {len(name)} characters long (at most {MAX_NAME_LENGTH})")
    if name != name.strip():
        raise InvalidName(f"{what} '{shown}' begins or ends with a space")
    if "  " in name:
        raise InvalidName(f"{what} '{shown}' has two spaces in a row")
    for ch in name:
        category = unicodedata.category(ch)
        if category in _FORBIDDEN or (category == "Zs" and ch != " "):
            raise InvalidName(
                f"{what} '{shown}' contains {_describe(ch)}: names are letters, digits, "
                "punctuation, symbols and single spaces"
            )
    return name


def _describe(ch: str) -> str:
    code = f"U+{ord(ch):04X}"
    name = unicodedata.name(ch, "")
    return f"{code} {name}" if name else code
