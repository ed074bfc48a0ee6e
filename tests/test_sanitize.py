"""Text sanitising: nothing that could drive a terminal survives import."""

from __future__ import annotations

import pytest

from newsmark.schema.sanitize import DecodeError, article_id_for, decode_bytes, looks_binary, sanitize_inline, sanitize_text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain\r\nwindows\rmac", "plain\nwindows\nmac"),
        ("bell\x07 and nul\x00", "bell and nul"),
        ("red \x1b[31mtext\x1b[0m", "red text"),
        ("title \x1b]0;PWNED\x07 set", "title  set"),
        ("osc with st \x1b]8;;http://x\x1b\\link", "osc with st link"),
        ("c1 \x9b31m csi", "c1  csi"),
        ("tab\tand newline\n", "tab\tand newline\n"),
        ("cafe\u0301", "caf\u00e9"),
        ("[@click=app.quit] [/", "[@click=app.quit] [/"),  # markup is harmless text here; the screen never parses it
    ],
)
def test_sanitize_text(raw, clean):
    assert sanitize_text(raw) == clean


def test_no_control_characters_survive_any_input():
    raw = "".join(chr(i) for i in range(0, 0xA0)) * 3
    clean = sanitize_text(raw)
    assert all(ch in "\n\t" or 0x20 <= ord(ch) < 0x7F or ord(ch) >= 0xA0 for ch in clean)


def test_inline_values_are_one_line():
    assert sanitize_inline("  BBC\n News\t\x1b[1m ") == "BBC News"
    assert sanitize_inline("\x00\x1b") is None


def test_invalid_utf8_names_the_offset():
    with pytest.raises(DecodeError, match="byte 3"):
        decode_bytes(b"abc\xff\xfe")
    assert decode_bytes("\ufeffhi".encode()) == "hi"
    with pytest.raises(DecodeError, match="byte 5"):
        decode_bytes("\ufeffhi".encode() + b"\xff")


def test_binary_detection_and_ids():
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert not looks_binary(b"text with one stray NUL in a long line " * 10 + b"\x00")
    assert article_id_for("hello") == "2cf24dba5fb0a30e"
