"""The story overview's rough edges (issue 13) at 80x24: the legend keeps a space between
number and outlet from article 10 on, the stance row shows whole values, and claims not
linked yet have rows of their own."""

from __future__ import annotations

import re
from pathlib import Path

from newsmark.schema.store import Store
from tests.test_tui_annotate import make_app, ready, screen_text
from newsmark.tui.screens.overview import abbreviate
from tests.test_tui_compare import _overview, add_articles

OUTLETS = ["Alpha News", "Bravo Times", "Charlie Daily", "Delta Wire", "Echo Herald", "Foxtrot Star",
           "Golf Tribune", "Hotel Post", "India Ledger", "Julietgazette", "Kilocourier", "Limasentinel"]
TOPICS = ["harbour", "election", "vaccine", "drought", "railway", "budget", "festival", "bridge", "strike",
          "satellite", "museum", "wildfire"]


def _story(db_path: Path) -> list[str]:
    articles = [(outlet, f"On the {topic}", f"The {topic} was discussed by the council on Monday. "
                 f"Officials said the {topic} plan would be voted on next week in {outlet}'s town.")
                for outlet, topic in zip(OUTLETS, TOPICS)]
    ids = add_articles(db_path, articles)
    with Store.open(db_path) as store:
        for article_id, stance in zip(ids, ["agree", "disagree", "discuss", "unrelated"]):
            store.set_label(article_id, "alice", "stance", stance)
        text = store.get_article(ids[2]).text
        store.add_claim(ids[2], "alice", 0, text.index(".") + 1)  # marked, not linked to anything
    return ids


async def test_overview_of_twelve_articles_at_80x24(db_path: Path):
    _story(db_path)
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        screen = await _overview(app, pilot)
        table = screen.query_one("#claims-table")
        rows = [[cell.plain for cell in table.get_row_at(k)] for k in range(table.row_count)]
        assert rows[0][1:5] == ["agree", "disagree", "discuss", "unrelated"]
        # Twelve columns leave the wording its minimum: cut at a word.
        assert rows[2] == ["The vaccine was… (not linked)"] + ["·"] * 2 + ["●"] + ["·"] * 9
        await pilot.press("end")
        await pilot.pause()
        text = screen_text(app)
    app.close_stores()
    # One-word outlets are abbreviated to five letters: "10 Julie" is as wide as the old column.
    shorts = abbreviate(OUTLETS)
    assert shorts[9:] == ["Julie", "Kiloc", "Limas"]
    for number in (9, 10, 12):
        heading, outlet = f"{number} {shorts[number - 1]}", OUTLETS[number - 1]
        assert re.search(rf"^ *{heading}  +{outlet}", text, re.MULTILINE), (heading, outlet)
