"""What a sentence says, as a set of terms, so that two outlets' wordings of one claim can
be compared by meaning-bearing words rather than by characters: "without DNA from a next
of kin, they won't hand over Kim Jong Nam's body" and "police will not release the body
... until his family has provided a DNA sample" share few characters in order, but their
terms (dna, body, release, family) overlap.

A term is a word of `analysis.grouping.words` (Unicode-aware, casefolded) or a number,
stopwords dropped, cut to its stem by a light suffix stripper and truncated to STEM_CHARS
characters (so "cooperation" and "cooperate", "deliberating" and "deliberation" meet),
then mapped through hand-made groups of near-synonyms common in news reports: reporting
verbs ("said", "told", "stated", "mentioned"), release/hand over/return, kin/family/
relatives, menace/threat/risk, and the pairs a word spinner swaps ("officers" for
"officials", "team" for "group"). Number words become digits ("seven" -> "7").

Nothing here is downloaded or trained: the base install's paraphrase matching; the
optional `semantic` extra (analysis.semantic) goes further when installed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from newsmark.analysis.grouping import STOPWORDS, words

STEM_CHARS = 7  # a stem is cut to this many characters
NAME_DISCOUNT = 0.25  # weight of another sentence's names that the claim lacks (see `overlap`)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# ASCII text (the common case) in one pass: the words `grouping.words` finds, and numbers.
_ASCII_TOKEN = re.compile(r"[a-z][a-z0-9]+|\d+(?:[.,]\d+)*")
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                             "\u2014": "-", "\u00a0": " ", "\u2026": "..."})
_NUMBER_WORDS = {
    word: str(value) for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split())
}
# Stopwords that carry a claim's meaning: a negation, and the numbers ("one" is in STOPWORDS).
# Contractions come apart at the apostrophe ("won't" -> "won", "t"): their first halves
# are negations too (at the cost of the rarer "won" of winning).
_KEPT = frozenset({"not", "no", "never", "without"} | set(_NUMBER_WORDS))
_NEGATIONS = {"not": "not", "no": "not", "never": "not", "without": "not", "won": "not", "don": "not",
              "didn": "not", "doesn": "not", "isn": "not", "wasn": "not", "aren": "not", "weren": "not",
              "cannot": "not"}
_STOP = (STOPWORDS - _KEPT) | frozenset("mr mrs ms dr also just however".split())

# Near-synonyms in news reports, each group mapped to its first word's stem. Inflections
# need no entry: the groups are stemmed like the text.
SYNONYM_GROUPS = """
say said says told tell stated mention mentioned explain explained add added
    note noted announce announced affirm affirmed declare declared insist insisted assert asserted quote quoted
release hand return handed returned surrender give
refuse refused decline declined reject rejected resist resisted oppose opposed
family kin relative relatives child children son daughter sons daughters
official officials officer officers authority authorities formal
police policeman
threat menace risk danger peril
cooperation cooperate collaboration collaborate partnership partner
attack attacks assault assaults strike raid
kill killed killing murder murdered assassinate assassinated assassination slay slain
death dead die died dying
debate discuss discussion deliberate deliberation weigh consider considering
former previous ex erstwhile
group team organisation organization
branch department offshoot affiliate wing
information data intelligence
weaken weakened diminish diminished reduce reduced erode
capability capacity ability
global worldwide international
major key significant important big large huge
help aid assist support
seek seeking sought search hunt want wanted
arrest arrested detain detained custody
charge charged accuse accused indict indicted
confirm confirmed verify verified identify identified
body remains corpse
women woman
men man
people persons folks
show shows showed reveal revealed indicate indicated
""".strip().split("\n")


def stem(word: str) -> str:
    """A light stem: plural, -ing, -ed, -ly and -ment endings stripped, then the first
    STEM_CHARS characters."""
    if len(word) > 4:
        if word.endswith("ies"):
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        for suffix in ("ing", "ed", "ly", "ment"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
    return word[:STEM_CHARS]


def _synonyms() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in SYNONYM_GROUPS:
        group = [stem(word) for word in line.split()]
        for member in group:
            table.setdefault(member, group[0])
    return table


_SYNONYMS = _synonyms()


@lru_cache(maxsize=200_000)
def term(word: str) -> str | None:
    """The term a word (casefolded) stands for, or None for a stopword."""
    if word[0].isdigit():
        return word.replace(",", "")
    if word in _NEGATIONS:
        return "not"
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    if word in _STOP:
        return None
    stemmed = stem(word)
    return _SYNONYMS.get(stemmed, stemmed)


def tokens(text: str) -> list[str]:
    """The words (as `analysis.grouping.words` finds them) and numbers of a text."""
    if not text.isascii():
        # Typographic quotes and dashes are the only non-ASCII characters of most English
        # lines: folded, such a line takes the fast path.
        text = text.translate(_TYPOGRAPHY)
    if text.isascii():  # one regex pass: a third of the time of the Unicode-aware words
        return _ASCII_TOKEN.findall(text.lower())
    return words(text) + _NUMBER.findall(text)


def terms(text: str) -> frozenset[str]:
    """The set of terms of a text (a sentence, a claim)."""
    found = set(map(term, set(tokens(text))))
    found.discard(None)
    return frozenset(found)  # type: ignore[arg-type]  # None discarded


_NAME = re.compile(r"(?<![.!?:\"\u201c]\s)(?<!^)\b[A-Z][\w]+")


def names(text: str) -> frozenset[str]:
    """The terms of a text's capitalised words that do not open a sentence: the names of
    people, places and bodies ("Selangor Police Chief Abdul Samah Mat")."""
    found = {term(word.casefold()) for word in _NAME.findall(text)}
    found.discard(None)
    return frozenset(found)  # type: ignore[arg-type]  # None discarded


def idf(document_frequency: Mapping[str, int], documents: int) -> dict[str, float]:
    """Smoothed inverse document frequencies: a term in every document still weighs a
    little, one in none (only in the claim) the most."""
    return {t: math.log((documents + 1) / (df + 0.5)) for t, df in document_frequency.items()}


def overlap(claim: frozenset[str], other: Iterable[str] | frozenset[str], weights: Mapping[str, float],
            other_names: frozenset[str] = frozenset()) -> float:
    """How much of the claim's meaning `other` carries, 0..1: the geometric mean of the
    claim's weighted share found in `other` and `other`'s weighted share found in the
    claim (a long sentence that says much else scores lower). `weights`: idf of every
    term of both; `other_names`: `names(other)`."""
    other = other if isinstance(other, frozenset) else frozenset(other)
    if not claim or not other:
        return 0.0
    shared = sum(weights[t] for t in claim & other)
    if not shared:
        return 0.0
    claim_weight = sum(weights[t] for t in claim)
    # Who said it ("Selangor Police Chief Abdul Samah Mat said") differs between outlets
    # reporting one claim: names the claim lacks weigh NAME_DISCOUNT of their idf.
    other_weight = sum(weights[t] * (NAME_DISCOUNT if t in other_names and t not in claim else 1.0) for t in other)
    return math.sqrt(shared / claim_weight * shared / other_weight)
