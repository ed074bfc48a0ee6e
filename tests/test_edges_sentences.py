"""The sentence splitter on what pysbd and its long-line regex got wrong (issue 13): a
date, a title or an abbreviation is not a sentence end, in short lines and deep inside
a whole article on one line; and the claim marked on screen is the whole sentence."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from newsmark.analysis.sentences import WINDOW, split_sentences
from tests.test_tui_annotate import make_app, ready, reopen, saved
from tests.test_tui_compare import add_articles, put_cursor_on

SENTENCES = [
    "Kim Jong-nam was killed at the airport on Feb. 13.",
    "New York Gov. Andrew Cuomo shared a photo of the site.",
    '"It is a disgrace,"?Rep. Bennie Thompson said of the decision.',
    "Growth in the U.S. economy was 2.5 percent, Mr. Lee said on Nov. 16.",
    "The Taliban sees ISIS-K as a menace to its rule.",
    "It was a former U.S. official.",
    "Talks resume in Doha on Monday.",
]
FILLER = "Officials in the capital discussed the matter again at length on Tuesday. "


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_dates_titles_and_abbreviations_do_not_end_a_sentence():
    assert _sentences(" ".join(SENTENCES)) == SENTENCES


def test_a_whole_article_on_one_long_line_is_split_the_same_way():
    # Longer than a window of Punkt, and longer than the line the old splitter gave to a regex.
    line = FILLER * (3 * WINDOW // len(FILLER)) + " ".join(SENTENCES * 3) + " " + FILLER * 50
    assert len(line) > 3 * WINDOW
    found = _sentences(line)
    assert set(found) == {FILLER.strip(), *SENTENCES}
    assert found.count(SENTENCES[0]) == 3 and len(found) == len(re.findall(r"Tuesday\.", line)) + 3 * len(SENTENCES)


def test_no_sentence_of_the_corpus_ends_on_a_title_or_a_month_before_a_day(shared_data: Path):
    csv.field_size_limit(1 << 30)
    with open(shared_data / "news-articles" / "NewsArticles.csv", encoding="utf-8", errors="replace") as handle:
        texts = [row["text"] for row in csv.DictReader(handle) if "Feb. 13." in row["text"] or "Gov. " in row["text"]]
    assert len(texts) >= 20
    wrong = []
    for text in texts:
        spans = split_sentences(text)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            before, after = text[max(0, end - 5) : end], text[start : start + 3]
            if re.search(r"\b(?:Gov|Rep|Sen|Mr|Dr)\.$", before) or (before.endswith("Feb.") and after[:1].isdigit()):
                wrong.append(f"{before}|{after}")
    assert wrong == []


async def test_c_on_a_dated_sentence_marks_all_of_it(db_path: Path):
    long_line = FILLER * (WINDOW // len(FILLER)) + " ".join(SENTENCES)  # one line, as in NewsArticles.csv
    ids = add_articles(db_path, [("Capital Cities", "Report", long_line), ("Echo Daily", "Other", FILLER)])
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(app, pilot)
        await put_cursor_on(pilot, screen.panes[0], "killed at the airport")
        await pilot.press("c")
        await saved(app, pilot)
    app.close_stores()
    with reopen(db_path) as store:
        (claim,) = store.claims(ids[0], "alice")
    assert claim.exact == SENTENCES[0]


@pytest.mark.parametrize("text", ["", " \n\n ", "no stop at all", "...", "U.S."])
def test_odd_lines_give_their_text_or_nothing(text: str):
    assert "".join(_sentences(text)) == "".join(text.split("\n")).strip()
