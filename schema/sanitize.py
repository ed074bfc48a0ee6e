"""Text sanitising at the edge: everything untrusted passes through here once, at import.

After `sanitize_text` a string holds no C0/C1 control characters other than newline and
tab, is NFC-normalised and uses `\\n` line endings, so no escape sequence can reach a
terminal from article text, titles or outlet names.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# C0 controls except \t (0x09) and \n (0x0a); DEL; C1 controls (0x80-0x9f).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_INLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# An ESC-introduced sequence (CSI, OSC, ...) whose introducer we strip would otherwise
# leave its parameters behind as visible junk such as "]0;title"; drop the whole thing.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL | ST
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x9c]*(?:\x07|\x9c)?"  # 8-bit OSC
)


class DecodeError(ValueError):
    """Raised when bytes are not valid UTF-8 text."""


def decode_bytes(data: bytes) -> str:
    """Decode UTF-8 (a BOM is allowed), raising DecodeError with the offending offset."""
    skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip  # offsets count from the file's first byte
        raise DecodeError(f"not valid UTF-8 (byte {offset}: {data[offset:offset + 1]!r})") from None


def sanitize_text(text: str) -> str:
    """Normalise newlines and NFC, strip control characters other than newline and tab."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text) is not None:
        text = _ESCAPE_SEQUENCE.sub("", text)
        text = _CONTROL.sub("", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def sanitize_inline(value: str | None) -> str | None:
    """Sanitise a one-line value (title, outlet, byline, URL): no newlines or tabs either."""
    if value is None:
        return None
    value = _ESCAPE_SEQUENCE.sub("", value)
    value = _CONTROL_INLINE.sub(" ", value)
    value = unicodedata.normalize("NFC", value)
    value = " ".join(value.split())
    return value or None


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the UTF-8 bytes of already sanitised text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_id_for(text: str) -> str:
    """An article's id: the first 16 hex digits of the SHA-256 of its sanitised text."""
    return text_sha256(text)[:16]


def looks_binary(data: bytes) -> bool:
    """Heuristic for binaries: NUL bytes make up 1% or more of the first 8 KiB.

    A stray NUL in a text file is stripped as a control character instead.
    """
    head = data[:8192]
    return bool(head) and head.count(0) * 100 >= len(head)


# --- what reaches a terminal ------------------------------------------------------------
#
# The one rule for every string newsmark shows in a terminal that did not come from an
# article body sanitised at import: names, scheme and keymap values, story fields, file
# names, paths, ids, error messages, notes, wording. Control characters (C0, C1, DEL) and
# format characters (bidi overrides and isolates, zero-width spaces, the BOM, ...) never
# reach the terminal: they are written out visibly as `\x1b`, `\u202e`, so a message about
# a hostile value still shows what was wrong with it. A few format characters that
# ordinary text needs stay: the zero-width joiner and non-joiner (emoji sequences,
# Persian and Indic words), the soft hyphen, and the tag characters of flag emoji.
# Callers never parse the result as markup.

_KEEP_FORMAT = {"\u200c", "\u200d", "\u00ad"}


def _unsafe_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return True
    return category == "Cf" and ch not in _KEEP_FORMAT and not "\U000e0020" <= ch <= "\U000e007f"


def _visible_escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def for_terminal(value: object, *, multiline: bool = False) -> str:
    """`value` as text safe to show in a terminal: every control or format character
    written out visibly (`\\x1b`, `\\u202e`); with `multiline`, newlines and tabs stay.

    Never parse the result as Rich or Textual markup: show it as plain text.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and not any(unicodedata.category(ch) == "Cf" for ch in text if ord(ch) > 0x7F):
        return text
    kept = "\n\t" if multiline else ""
    return "".join(
        ch if ch in kept or not _unsafe_char(ch) else _visible_escape(ch) for ch in text
    )


# --- offsets through sanitising -----------------------------------------------------------
#
# Annotations made in other tools carry offsets into the raw text; the article newsmark
# stores is the sanitised text. `sanitize_with_offsets` gives both, and a map that moves a
# raw offset onto the sanitised text (a CRLF, an escape sequence or a decomposed accent
# before a span shifts it; the map follows).


def _nfc_boundary(ch: str) -> bool:
    """Whether NFC may start a new cluster at `ch`: a character of combining class 0 that
    does not compose with what precedes it (Hangul medial and final jamo do)."""
    return unicodedata.combining(ch) == 0 and not ("\u1161" <= ch <= "\u11c2")


class OffsetMap:
    """Moves code-point offsets in a raw text onto its sanitised text."""

    def __init__(self, starts: list[int], clean_starts: list[int], raw_length: int, clean_length: int) -> None:
        self._starts = starts  # raw offset where each kept cluster begins
        self._clean = clean_starts  # where that cluster begins in the clean text
        self._raw_length = raw_length
        self._clean_length = clean_length

    def start(self, raw: int) -> int:
        """A span's start: the cluster it falls in begins the span."""
        import bisect

        index = bisect.bisect_right(self._starts, raw) - 1
        return self._clean[index] if index >= 0 else 0

    def end(self, raw: int) -> int:
        """A span's end (exclusive): a span ending inside a cluster takes the whole cluster."""
        import bisect

        if raw >= self._raw_length:
            return self._clean_length
        index = bisect.bisect_left(self._starts, raw)
        return self._clean[index] if index < len(self._clean) else self._clean_length


def sanitize_with_offsets(raw: str) -> tuple[str, OffsetMap]:
    """`sanitize_text(raw)` and the map of raw offsets onto it.

    The text is cut into clusters (a CRLF; an escape sequence; a control character; a
    starter with the marks that follow it); each is sanitised alone and the pieces joined,
    which gives exactly `sanitize_text(raw)` (checked: a text where it would not raises
    ValueError rather than misplace spans).
    """
    removed = [(m.start(), m.end()) for m in _ESCAPE_SEQUENCE.finditer(raw)] if _CONTROL.search(raw) else []
    pieces: list[str] = []
    starts: list[int] = []
    clean_starts: list[int] = []
    length = 0
    i = 0
    n = len(raw)
    removed_index = 0
    while i < n:
        if removed_index < len(removed) and removed[removed_index][0] == i:
            i = removed[removed_index][1]  # an escape sequence: gone, whole
            removed_index += 1
            continue
        ch = raw[i]
        if ch == "\r":
            j = i + 2 if raw.startswith("\r\n", i) else i + 1
            piece = "\n"
        elif _CONTROL.match(ch):
            i += 1
            continue
        else:
            j = i + 1
            while j < n and not _nfc_boundary(raw[j]) and raw[j] not in "\r" and not _CONTROL.match(raw[j]):
                if removed_index < len(removed) and removed[removed_index][0] == j:
                    break
                j += 1
            piece = unicodedata.normalize("NFC", raw[i:j])
        starts.append(i)
        clean_starts.append(length)
        pieces.append(piece)
        length += len(piece)
        i = j
    clean = "".join(pieces)
    if clean != sanitize_text(raw):
        raise ValueError("the text's normalisation joins characters across clusters; offsets cannot be moved")
    return clean, OffsetMap(starts, clean_starts, n, length)


def utf16_to_code_points(text: str) -> list[int]:
    """For each UTF-16 code-unit offset into `text` (0 … its UTF-16 length), the code-point
    offset (Label Studio and browsers count UTF-16 units; newsmark counts code points).
    An offset inside a surrogate pair maps to the character it splits."""
    table = []
    for index, ch in enumerate(text):
        table.append(index)
        if ord(ch) > 0xFFFF:
            table.append(index)
    table.append(len(text))
    return table
