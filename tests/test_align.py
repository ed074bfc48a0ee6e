"""Alignment on constructed copies: a real article (seed 003), a copy with paragraphs
dropped and words swapped, and unrelated articles."""

from __future__ import annotations

import random

import pytest

from newsmark.analysis.align import align, most_shared, prepare, shared_fraction, story_matrix, units
from tests.conftest import SEEDS

SYNONYMS = {
    "officials": "officers", "said": "stated", "would": "could", "group": "team", "about": "regarding",
    "attack": "assault", "country": "nation", "help": "aid", "former": "previous", "more": "additional",
    "with": "alongside", "against": "versus", "the": "a", "many": "numerous",
}
UNRELATED = (
    "The village fete returned this weekend after a two-year break, with a dog show, a cake stall and a "
    "tug of war between the two pubs on the green. Organisers said more than four hundred people came.\n\n"
    "Rain held off until late afternoon, when the brass band packed up early and the last raffle prizes "
    "were drawn in the church hall. The marrow contest was won, again, by a retired postman.\n\n"
    "Next year the committee hopes to add a vintage tractor parade and a second ice cream van."
)


def read_seed(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def make_copy(text: str, seed: int = 7) -> tuple[str, list[tuple[int, int, int, int]]]:
    """Drop every third paragraph, swap words for synonyms and some neighbours; return the
    copy and (orig_start, orig_end, copy_start, copy_end) of every kept paragraph."""
    rng = random.Random(seed)
    out: list[str] = []
    kept: list[tuple[int, int, int, int]] = []
    position = length = 0
    for number, paragraph in enumerate(text.split("\n")):
        start, position = position, position + len(paragraph) + 1
        if number % 3 == 2 or not paragraph.strip():
            continue
        words = [SYNONYMS.get(w, w) for w in paragraph.split(" ")]
        for k in range(1, len(words) - 1, 11):
            if rng.random() < 0.7:
                words[k], words[k + 1] = words[k + 1], words[k]
        new = " ".join(words)
        kept.append((start, start + len(paragraph), length, length + len(new)))
        out.append(new)
        length += len(new) + 2
    return "\n\n".join(out), kept


@pytest.fixture(scope="module")
def real() -> str:
    return read_seed("003")


@pytest.fixture(scope="module")
def copy(real: str) -> tuple[str, list[tuple[int, int, int, int]]]:
    return make_copy(real)


def test_copy_scores_high_and_spans_map_back(real, copy):
    text, kept = copy
    result = align(real, text)
    assert result.similarity > 0.6
    assert result.b_shared > 0.9  # nearly all of the copy comes from the original
    assert 0.45 < result.a_shared < 0.85  # a third of the original was dropped
    for passage in result.shared:
        assert 0 <= passage.a_start < passage.a_end <= len(real)
        assert 0 <= passage.b_start < passage.b_end <= len(text)
        assert 0.62 <= passage.score <= 1.0
        # Offsets map back: the passages start and end on text, not whitespace, and
        # share most of their words.
        a_words = set(real[passage.a_start : passage.a_end].lower().split())
        b_words = set(text[passage.b_start : passage.b_end].lower().split())
        assert not real[passage.a_start].isspace() and not text[passage.b_end - 1].isspace()
        assert len(a_words & b_words) / len(b_words) > 0.5
    # Every kept paragraph of real prose is found, in the right place on both sides.
    for o_start, o_end, c_start, c_end in kept:
        if len(real[o_start:o_end].split()) < 12:
            continue
        assert any(
            p.a_start < o_end and o_start < p.a_end and p.b_start < c_end and c_start < p.b_end
            for p in result.shared
        ), real[o_start:o_end][:60]


def test_dropped_paragraphs_are_not_claimed(real, copy):
    text, kept = copy
    kept_ranges = [(o_start, o_end) for o_start, o_end, _, _ in kept]
    for passage in align(real, text).shared:
        assert any(passage.a_start < o_end and o_start < passage.a_end for o_start, o_end in kept_ranges)


def test_unrelated_articles_score_near_zero(real):
    assert align(real, UNRELATED).similarity < 0.02
    assert align(real, UNRELATED).shared == []
    # Same event, different reporting (seed 004, a Russian outlet): nothing copied.
    assert align(real, read_seed("004")).similarity < 0.02


def test_identical_and_empty_texts(real):
    same = align(real, real)
    assert same.similarity == 1.0 and same.a_shared == 1.0 and same.b_shared == 1.0
    assert align(real, "").similarity == 0.0 and align("", "").shared == []


def test_shared_fraction_is_directional(real, copy):
    text, _ = copy
    assert shared_fraction(text, real) > 0.9
    assert shared_fraction(real, text) < shared_fraction(text, real)


def test_offsets_are_code_points():
    body = "Officials said the bridge will reopen in March after repairs to its cables and deck."
    a = "🙂🙂 Ünïcödé headline\n" + body + "\nOther closing words that differ entirely here."
    b = "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝔥𝔢𝔞𝔡 and more\n" + body
    [passage] = align(a, b).shared
    assert a[passage.a_start : passage.a_end] == body
    assert b[passage.b_start : passage.b_end] == body
    assert passage.score == 1.0


def test_units_keep_abbreviations_and_split_glued_sentences():
    text = "A former U.S. official said so.Following the withdrawal, talks began. Then more.\nNext line"
    pieces = [text[s:e] for s, e in units(text)]
    assert pieces == ["A former U.S. official said so.", "Following the withdrawal, talks began.",
                      "Then more.", "Next line"]


def test_story_matrix_and_most_shared(real, copy):
    text, _ = copy
    matrix = story_matrix([real, text, UNRELATED])
    assert [matrix[i][i] for i in range(3)] == [1.0, 1.0, 1.0]
    assert matrix[1][0] > 0.9 and matrix[0][1] > 0.45
    assert matrix[2][0] == matrix[0][2] == 0.0
    best = most_shared([prepare(real), prepare(text), UNRELATED])
    assert best[0][0] == 1 and best[1][0] == 0 and best[2] is None


def test_semantic_mode_finds_paraphrases_surface_matching_misses():
    from newsmark.analysis import semantic

    if not semantic.available():
        pytest.skip("the optional `semantic` extra is not installed")
    paraphrase, spun = read_seed("001"), read_seed("003")
    surface = align(paraphrase, spun)
    meaning = semantic.semantic_align(paraphrase, spun)
    assert len(meaning.shared) > len(surface.shared) and meaning.b_shared > surface.b_shared
    for passage in meaning.shared:
        assert paraphrase[passage.a_start : passage.a_end].strip() and spun[passage.b_start : passage.b_end].strip()
    assert semantic.semantic_align(read_seed("003"), UNRELATED).shared == []
