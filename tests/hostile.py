"""Hostile input files, written on demand into a test's tmp_path (nothing binary is
committed). Each writer returns the path it wrote; HOSTILE_CASES pairs every case with
what the import must report for it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MARKUP = "[@click=app.quit]quit[/] [bold]not bold[/bold] [/"
# Terminal escapes: CSI colour, OSC window title, OSC 8 hyperlink, 8-bit CSI, bell.
ESCAPES = "\x1b[31mred\x1b[0m \x1b]0;pwned title\x07 \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ \x9b2J \x07"
HUGE_LINE_BYTES = 5 * 1024 * 1024


def write(path: Path, data: bytes | str) -> Path:
    """Write bytes (or UTF-8 text) to `path`, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def invalid_utf8(folder: Path) -> Path:
    """Valid text, then a Latin-1 byte at offset 20 of line 2."""
    return write(folder / "latin1.txt", b"A fine headline\ncaf\xe9 au lait is 0xE9 in Latin-1\n")


def control_characters(folder: Path) -> Path:
    """A text with a NUL, a backspace, a form feed, DEL and a C1 control among words (long
    enough that one NUL is not taken for a binary file)."""
    body = "Body\x08 with\x0c controls\x7f and C1\u0085 too. " + "Plain words follow. " * 10
    return write(folder / "controls.txt", f"Title with\x00 NUL\n{body}\n")


def escape_sequences(folder: Path) -> Path:
    """A text whose title and body carry ESC/OSC sequences and Textual/Rich markup."""
    return write(folder / "escapes.txt", f"Escaped {ESCAPES} title\n\nBody {ESCAPES} and {MARKUP}.\n")


def binary_file(folder: Path) -> Path:
    """A PNG-like binary: a header, then mostly NUL bytes and noise."""
    noise = random.Random(7).randbytes(4096)
    return write(folder / "image.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048 + noise)


def empty_file(folder: Path) -> Path:
    """Zero bytes."""
    return write(folder / "empty.txt", b"")


def only_controls(folder: Path) -> Path:
    """Text that is nothing but blank space and escapes: empty after sanitising."""
    return write(folder / "blank.txt", "\x1b[2J\x1b[H \x07\n\t\x1b]0;x\x07\n")


def huge_single_line(folder: Path, size: int = HUGE_LINE_BYTES) -> Path:
    """About `size` bytes of words on one line, no newline anywhere."""
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit ".encode()
    return write(folder / "huge.txt", (words * (size // len(words) + 1))[:size])


def broken_jsonl(folder: Path) -> Path:
    """Line 1 good, 2 not JSON, 3 not an object, 4 invalid UTF-8, 5 blank, 6 no text,
    7 a list as title, 8 raw control characters (stripped, imported), 9 good."""
    lines = [
        b'{"title": "Good one", "text": "First good article."}',
        b'{"title": "Broken", "text": "no closing brace"',
        b'["a", "list"]',
        b'{"title": "Bad bytes", "text": "caf\xe9"}',
        b"",
        b'{"title": "No text here"}',
        b'{"title": ["not", "a", "string"], "text": "typed wrong"}',
        b'{"title": "Raw\x1b[31m controls", "text": "Tab\tand ESC\x1b[0m raw in a string."}',
        b'{"title": "Good two", "text": "Second good article."}',
    ]
    return write(folder / "broken.jsonl", b"\n".join(lines) + b"\n")


@dataclass(frozen=True)
class HostileCase:
    """A hostile file and what importing it must report."""

    name: str
    make: Callable[[Path], Path]
    imported: int
    line: int | None  # line of the rejection, None for a whole-file rejection without one
    reason: str | None  # the rejection's reason; None when nothing is rejected


HOSTILE_CASES = [
    HostileCase("invalid-utf8", invalid_utf8, 0, 2, "not valid UTF-8 (byte 19: b'\\xe9')"),
    HostileCase("control-characters", control_characters, 1, None, None),
    HostileCase("escape-sequences", escape_sequences, 1, None, None),
    HostileCase("binary", binary_file, 0, None, "binary file (NUL bytes), not text"),
    HostileCase("empty", empty_file, 0, None, "empty"),
    HostileCase("only-controls", only_controls, 0, None,
                "no text left after sanitising (only blank space or control characters)"),
    HostileCase("huge-line", huge_single_line, 1, None, None),
]


# --- strings that reach a terminal -------------------------------------------------------
#
# Names, story fields, outlets, notes, wordings, ids, paths: whatever newsmark prints or
# draws. Each is injected where it enters (a crafted database written with sqlite3, as an
# old version or a teammate's tool would leave it; a loaded file; the command line), and
# every output is checked by `assert_terminal_safe`.

HOSTILE_STRINGS: dict[str, str] = {
    "csi": "red\x1b[31mX\x1b[0m",
    "osc-title": "t\x1b]0;pwned\x07",
    "osc8-link": "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "bell": "ding\x07dong",
    "c1-csi": "c1\x9b2J",
    "c1-osc": "c1\x9d0;title\x9c",
    "markup-close": "[/]",
    "markup-link": "[link=http://evil]x[/link]",
    "markup-click": "[@click=app.quit]q[/]",
    "bidi-override": "ali\u202eecb",
    "zero-width-space": "al\u200bice",
    "bom": "\ufeffbob",
    "nul": "nu\x00l",
    "very-long": "L" * 300,
}

# Characters that must never reach a terminal from data: ESC, BEL, NUL, the 8-bit CSI and
# OSC introducers, a bidi override, invisible spaces and the BOM.
FORBIDDEN_ON_TERMINAL = ("\x1b", "\x07", "\x00", "\x9b", "\x9d", "\x9c", "\u202e", "\u200b", "\ufeff")


def assert_terminal_safe(output: str | bytes, where: str = "output") -> str:
    """Fail if `output` (text, or bytes decoded as UTF-8) holds a forbidden character or a
    traceback; return it as text."""
    text = output.decode("utf-8", "surrogateescape") if isinstance(output, bytes) else output
    for ch in FORBIDDEN_ON_TERMINAL:
        assert ch not in text, f"{where} holds a raw {ch!r}: {text[:2000]!r}"
    assert "Traceback" not in text, f"{where} holds a traceback: {text[-2000:]}"
    return text
