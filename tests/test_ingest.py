"""schema/ingest.py: what goes in, what is rejected and why, and that the database stays whole."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import sys
import time
import tomllib
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmark.schema import ingest
from newsmark.schema.ingest import (
    HTML_EXTRA_HINT,
    ImportReport,
    IngestError,
    Rejection,
    import_paths,
    normalise_date,
    slugify,
)
from newsmark.schema.sanitize import article_id_for, sanitize_text, text_sha256
from newsmark.schema.store import Store
from tests.conftest import SEEDS
from tests.hostile import ESCAPES, HOSTILE_CASES, MARKUP, broken_jsonl, write
from tests.installed import require
from tests.engines import assert_intact

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # no newline or tab either, in one-line values
COLUMNS = "id, story_id, source, url, title, byline, published, text, text_sha256, meta, origin"


def rows(store: Store, where: str = "true", params: tuple = ()) -> list[dict]:
    """Articles as dicts, in import order."""
    names = [c.strip() for c in COLUMNS.split(",")]
    cursor = store.conn.execute(f"SELECT {COLUMNS} FROM articles WHERE {where} ORDER BY seq", params)
    return [dict(zip(names, r, strict=True)) for r in cursor]


def reasons(report: ImportReport) -> list[tuple[str, int | None, str]]:
    return [(Path(r.origin).name, r.line, r.reason) for r in report.rejected]


def skipped(report: ImportReport) -> list[tuple[str, int | None, str]]:
    """The records skipped for their empty text (counted, not rejected)."""
    return [(Path(r.origin).name, r.line, r.reason) for r in report.empty]


def assert_whole(store: Store) -> None:
    """The database passes SQLite's check, and every stored string is control-free."""
    assert_intact(store)
    for row in rows(store):
        assert row["text"] == sanitize_text(row["text"]) and row["text"].strip() == row["text"]
        assert row["id"] == article_id_for(row["text"]) and row["text_sha256"] == text_sha256(row["text"])
        for key in ("title", "source", "byline", "url", "story_id"):
            value = row[key]
            assert value is None or (not CONTROL.search(value) and value == value.strip()), (key, value)


# --- the seeds ---------------------------------------------------------------------------


def test_seeds_import_as_one_story_with_story_toml_fields(store):
    report = import_paths(store, [SEEDS])
    assert (report.imported, report.duplicates, report.rejected, report.stories) == (5, 0, [], ["us-taliban-isisk"])
    assert report.warnings == [] and report.skipped == []
    toml = tomllib.loads((SEEDS / "story.toml").read_text(encoding="utf-8"))
    story = store.get_story("us-taliban-isisk")
    assert (story.title, story.proposition) == (toml["story"]["title"], toml["story"]["proposition"])
    got = rows(store)
    assert [Path(r["origin"]).name for r in got] == sorted(toml["articles"])
    for row in got:
        entry = toml["articles"][Path(row["origin"]).name]
        assert row["story_id"] == "us-taliban-isisk"
        assert row["title"] == entry["title"]
        assert row["source"] == entry.get("source")
        assert row["byline"] == entry.get("byline")
        assert row["published"] == entry.get("published")
        assert orjson.loads(row["meta"]) == {"notes": entry["notes"]}
        assert row["url"] is None
        raw = (SEEDS / Path(row["origin"]).name).read_text(encoding="utf-8")
        assert row["text"] == sanitize_text(raw).strip()
    assert_whole(store)


def test_reimporting_counts_duplicates_and_changes_nothing(store):
    import_paths(store, [SEEDS])
    before = rows(store)
    report = import_paths(store, [SEEDS, SEEDS / "000_8023a41841c69076.txt"])
    assert (report.imported, report.duplicates, report.rejected) == (0, 5, [])
    assert rows(store) == before


def test_a_seed_file_named_alone_still_uses_its_story_toml(store):
    report = import_paths(store, [SEEDS / "004_551fdc2a069bf514.txt"])
    assert report.stories == ["us-taliban-isisk"] and report.warnings == []
    (row,) = rows(store)
    assert (row["source"], row["published"]) == ("Military Review", "2021-09-03")


# --- hostile inputs ------------------------------------------------------------------------


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=[c.name for c in HOSTILE_CASES])
def test_each_hostile_file_is_imported_clean_or_rejected_with_its_reason(store, tmp_path, case):
    path = case.make(tmp_path / "in")
    good = write(tmp_path / "in" / "zz-good.txt", "A good article\n\nIt has text.\n")
    report = import_paths(store, [path, good])
    expected = [] if case.reason is None else [(path.name, case.line, case.reason)]
    assert reasons(report) == expected
    assert report.imported == case.imported + 1
    assert_whole(store)


def test_hostile_folder_imports_the_good_files_and_names_every_bad_one(store, tmp_path):
    folder = tmp_path / "hostile"
    for case in HOSTILE_CASES:
        case.make(folder)
    # Bad lines are rejected one by one; a file that is not UTF-8 is rejected whole.
    broken = broken_jsonl(folder)
    broken.write_bytes(broken.read_bytes().replace(b"caf\xe9", b"caf\xc3\xa9"))
    write(folder / "latin1.jsonl", b'{"text": "good line"}\n{"text": "caf\xe9"}\n')
    write(folder / "good.md", "# A markdown title\n\nSome *text*.\n")
    report = import_paths(store, [folder])
    assert reasons(report) == sorted(
        [(c.make(folder).name, c.line, c.reason) for c in HOSTILE_CASES if c.reason]
        + [
            ("broken.jsonl", 2, "not valid JSON: unexpected end of data (column 47)"),
            ("broken.jsonl", 3, "not a JSON object (found list)"),
            ("broken.jsonl", 6, "no text"),
            ("broken.jsonl", 7, "'title' must be a string, not a list"),
            ("latin1.jsonl", 2, "not valid UTF-8 (byte 35: b'\\xe9'); file not imported"),
        ],
        key=lambda r: (r[0], r[1] or 0),
    )
    titles = {r["title"] for r in rows(store)}
    assert {"Good one", "Bad bytes", "Raw controls", "Good two", "A markdown title", "Title with NUL"} <= titles
    assert report.imported == 4 + 1 + sum(c.imported for c in HOSTILE_CASES)
    assert store.conn.execute("SELECT count(*) FROM articles WHERE text = 'good line'").fetchone() == (0,)
    assert_whole(store)


def test_escape_sequences_are_removed_whole_and_markup_is_kept_as_text(store, tmp_path):
    path = HOSTILE_CASES[2].make(tmp_path)
    import_paths(store, [path])
    (row,) = rows(store)
    assert "\x1b" not in row["text"] and "\x9b" not in row["text"] and "\x07" not in row["text"]
    assert "pwned" not in row["text"] and "evil.example" not in row["text"] and "]0;" not in row["text"]
    assert MARKUP in row["text"]
    assert row["title"] == "Escaped red link title"
    assert ESCAPES not in row["text"]


def test_a_5_mb_single_line_imports_fast_with_a_short_title(store, tmp_path):
    path = HOSTILE_CASES[-1].make(tmp_path)
    started = time.perf_counter()
    report = import_paths(store, [path])
    elapsed = time.perf_counter() - started
    assert report.imported == 1
    (row,) = rows(store)
    assert len(row["text"]) == 5 * 1024 * 1024
    assert len(row["title"]) == ingest.TITLE_MAX and row["title"].endswith("…")
    assert elapsed < 3, f"5 MB line took {elapsed:.2f}s"


def test_binary_csv_and_jsonl_are_rejected_too(store, tmp_path):
    csv_path = write(tmp_path / "x.csv", b"title,text\n" + b"\x00" * 500)
    jsonl_path = write(tmp_path / "x.jsonl", b"\x00\x01\x02" * 300)
    report = import_paths(store, [csv_path, jsonl_path])
    assert reasons(report) == [("x.csv", None, "binary file (NUL bytes), not text"),
                               ("x.jsonl", None, "binary file (NUL bytes), not text")]


def test_a_database_error_rolls_back_that_file_only(store, tmp_path, monkeypatch):
    first = write(tmp_path / "a" / "one.jsonl", b'{"text": "one"}\n{"text": "two"}\n')
    second = write(tmp_path / "a" / "two.txt", "Second\n\nfile")
    real = Store.insert_articles
    calls = {"n": 0}

    def flaky(self, conn, batch):
        calls["n"] += 1
        if calls["n"] == 1:
            real(self, conn, batch)  # writes, then fails: the whole file must roll back
            raise sqlite3.OperationalError("disk I/O error")
        return real(self, conn, batch)

    monkeypatch.setattr(Store, "insert_articles", flaky)
    report = import_paths(store, [first, second])
    assert reasons(report) == [("one.jsonl", None, "not imported, the database refused it: disk I/O error")]
    assert [r["title"] for r in rows(store)] == ["Second"]
    assert store.get_story("one") is None
    assert report.stories == ["a"]


# --- text files, folders and stories -------------------------------------------------------


def test_folders_are_walked_recursively_with_nested_story_toml(store, tmp_path):
    root = tmp_path / "Corpus Root"
    write(root / "loose.txt", "Loose title\nbody")
    write(root / "Ukraine War" / "a.md", "\n\n## Heading as title\nbody a")
    write(root / "Ukraine War" / "deeper" / "b.txt", "Deep title\nbody b")
    write(root / "story-x" / "story.toml",
          '[story]\nid = "x"\ntitle = "X"\nproposition = "P"\n'
          '[articles."sub/c.txt"]\nsource = "Outlet C"\nextra = 3\n[articles."gone.txt"]\ntitle = "missing"\n')
    write(root / "story-x" / "sub" / "c.txt", "C title\nbody c")
    write(root / "story-x" / "notes.pdf", b"%PDF-1.4")
    write(root / ".hidden" / "h.txt", "hidden")
    write(root / ".dotfile.txt", "hidden too")
    report = import_paths(store, [root])
    assert report.rejected == []
    assert [Path(s).name for s in report.skipped] == ["notes.pdf"]
    assert [(w.line, w.reason) for w in report.warnings] == [
        (None, "[articles.'gone.txt'] names a file that is not in the folder")]
    got = {r["title"]: (r["story_id"], r["source"], orjson.loads(r["meta"])) for r in rows(store)}
    assert got == {
        "Loose title": ("corpus-root", None, {}),
        "Heading as title": ("ukraine-war", None, {}),
        "Deep title": ("deeper", None, {}),
        "C title": ("x", "Outlet C", {"extra": 3}),
    }
    assert report.stories == ["corpus-root", "ukraine-war", "deeper", "x"]
    assert store.get_story("ukraine-war").title == "Ukraine War"
    assert (store.get_story("x").title, store.get_story("x").proposition) == ("X", "P")


def test_story_and_source_options_apply_where_files_say_nothing(store, tmp_path):
    write(tmp_path / "in" / "a.txt", "A\nbody a")
    write(tmp_path / "in" / "rows.jsonl", b'{"text": "r1", "source": "Own"}\n{"text": "r2", "story": "other"}\n')
    report = import_paths(store, [tmp_path / "in"], story="mine", source="Given Outlet")
    got = [(r["story_id"], r["source"], r["text"]) for r in rows(store)]
    assert got == [("mine", "Given Outlet", "A\nbody a"), ("mine", "Own", "r1"), ("other", "Given Outlet", "r2")]
    assert report.stories == ["mine", "other"]


def test_story_toml_problems_reject_the_folder_with_the_line(store, tmp_path):
    write(tmp_path / "bad" / "story.toml", '[story]\nid = "ok"\ntitle = "unterminated\n')
    write(tmp_path / "bad" / "a.txt", "A\nbody")
    write(tmp_path / "bad" / "b.txt", "B\nbody")
    write(tmp_path / "typo" / "story.toml", '[storry]\nid = "x"\n')
    write(tmp_path / "typo" / "c.txt", "C\nbody")
    write(tmp_path / "badid" / "story.toml", '[story]\nid = "no spaces allowed"\n')
    write(tmp_path / "good.txt", "Good\nbody")
    report = import_paths(store, [tmp_path])
    got = reasons(report)
    assert [(name, line) for name, line, _ in got] == [("story.toml", 3), ("story.toml", None), ("story.toml", None)]
    assert got[0][2].startswith("story.toml is not valid TOML: ") and got[0][2].endswith(
        "; its folder's 2 files were not imported")
    assert "storry: Extra inputs are not permitted" in got[2][2] and got[2][2].endswith("1 file was not imported")
    assert "story.id: String should match pattern" in got[1][2]
    assert [r["title"] for r in rows(store)] == ["Good"]


def test_unsupported_and_missing_paths_named_on_the_command_line_are_rejected(store, tmp_path):
    pdf = write(tmp_path / "paper.pdf", b"%PDF")
    report = import_paths(store, [pdf, tmp_path / "nope.txt"])
    assert reasons(report) == [
        ("paper.pdf", None, "unsupported file type (use .csv, .htm, .html, .jsonl, .md, .ndjson, .tsv, .txt)"),
        ("nope.txt", None, "no such file or folder"),
    ]


def test_invalid_arguments_raise(store):
    with pytest.raises(IngestError, match="invalid story id"):
        import_paths(store, [SEEDS], story="has space")
    with pytest.raises(IngestError, match="cannot map 'body'"):
        import_paths(store, [SEEDS], mapping={"body": "x"})
    assert store.article_count() == 0


def test_same_text_with_other_line_endings_and_padding_is_a_duplicate(store, tmp_path):
    a = write(tmp_path / "a.txt", "Title\nline two\n")
    b = write(tmp_path / "b.txt", "\r\n  Title\r\nline two\r\n\r\n".replace("  Title", "Title"))
    report = import_paths(store, [a, b])
    assert (report.imported, report.duplicates) == (1, 1)


def test_progress_reports_bytes_up_to_the_total(store, tmp_path):
    paths = [write(tmp_path / f"{i}.txt", f"T{i}\nbody {i}") for i in range(3)]
    seen: list[tuple[int, int]] = []
    import_paths(store, paths, progress=lambda done, total: seen.append((done, total)))
    total = sum(p.stat().st_size for p in paths)
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# --- html ---------------------------------------------------------------------------------

HTML = (
    "<html><head><title>Page title</title><meta name='author' content='Jo Reporter'>"
    "<meta property='article:published_time' content='2024-03-05T10:00:00Z'>"
    "<meta property='og:site_name' content='Daily Example'></head><body><nav>Home | World</nav>"
    "<article><h1>Headline here</h1>"
    + "".join(f"<p>Paragraph {i} of the story, with enough words to count as main text.</p>" for i in range(8))
    + "<script>alert('x')</script></article><footer>Copyright</footer></body></html>"
)


def test_html_main_text_and_metadata_through_trafilatura(store, tmp_path):
    require("trafilatura")  # installed but not importable fails, not skips
    path = write(tmp_path / "page.html", HTML)
    report = import_paths(store, [path])
    assert report.rejected == []
    (row,) = rows(store)
    assert "Paragraph 7 of the story" in row["text"]
    assert "Home | World" not in row["text"] and "alert(" not in row["text"]
    assert (row["byline"], row["published"], row["source"]) == ("Jo Reporter", "2024-03-05", "Daily Example")
    assert row["title"] in ("Page title", "Headline here")


def test_html_without_the_extra_names_the_extra(store, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # import trafilatura -> ImportError
    monkeypatch.setattr(ingest, "_trafilatura", None)
    path = write(tmp_path / "page.htm", HTML)
    good = write(tmp_path / "good.txt", "Good\nbody")
    report = import_paths(store, [path, good])
    assert reasons(report) == [("page.htm", None, HTML_EXTRA_HINT)]
    assert HTML_EXTRA_HINT == "install the html extra: pip install 'newsmark[html]'"
    assert report.imported == 1


def test_html_with_no_main_text_is_rejected(store, tmp_path):
    require("trafilatura")  # installed but not importable fails, not skips
    path = write(tmp_path / "nav.html", "<html><head><title>t</title></head><body></body></html>")
    assert reasons(import_paths(store, [path])) == [("nav.html", None, "no main text found in the HTML")]


# --- jsonl --------------------------------------------------------------------------------


def test_jsonl_fields_meta_dates_and_row_stories(store, tmp_path):
    lines = [
        {"title": " Spaced \n title ", "text": "Body one\r\n", "source": "Outlet", "url": "https://www.ex.com/a",
         "published": "Tue, 07 Feb 2017 10:00:00 GMT", "byline": "A. Writer", "story": "s-1",
         "tags": ["x", "y\u001b[31m"], "score": 3},
        {"text": "Body two", "url": "https://www.ex.com/b", "published": "sometime soon", "id": 7},
        {"text": "Body three", "story": "bad story id"},
        {"text": "   ", "title": "blank"},
        {"text": "Body five", "published": "2017-02-07"},
    ]
    path = write(tmp_path / "feed.jsonl", b"\n".join(orjson.dumps(x) for x in lines))
    report = import_paths(store, [path])
    assert reasons(report) == [("feed.jsonl", 3, "invalid story id 'bad story id'")]
    assert skipped(report) == [("feed.jsonl", 4, "empty text")]
    got = rows(store)
    assert [(r["story_id"], r["title"], r["source"], r["published"], r["byline"], orjson.loads(r["meta"]))
            for r in got] == [
        ("s-1", "Spaced title", "Outlet", "2017-02-07", "A. Writer", {"tags": ["x", "y"], "score": 3}),
        ("feed", None, "ex.com", None, None, {"id": 7, "published_raw": "sometime soon"}),
        ("feed", None, None, "2017-02-07", None, {}),
    ]
    assert [r["text"] for r in got] == ["Body one", "Body two", "Body five"]
    assert [r["origin"] for r in got] == [f"{path}:1", f"{path}:2", f"{path}:5"]
    assert report.stories == ["s-1", "feed"]


def test_jsonl_with_a_bom_and_crlf_and_a_mapping(store, tmp_path):
    path = write(tmp_path / "m.jsonl", b'\xef\xbb\xbf{"headline": "H", "body": "B", "articleBody": "AB"}\r\n')
    import_paths(store, [path])
    (row,) = rows(store)
    assert (row["title"], row["text"], orjson.loads(row["meta"])) == ("H", "AB", {"body": "B"})
    store.conn.execute("DELETE FROM articles")
    import_paths(store, [path], mapping={"text": "body", "title": "articleBody"})
    (row,) = rows(store)
    assert (row["title"], row["text"], orjson.loads(row["meta"])) == ("AB", "B", {"headline": "H"})


# --- csv ----------------------------------------------------------------------------------


def test_csv_columns_extra_meta_crlf_and_huge_fields(store, tmp_path):
    huge = "word " * 60_000  # 300 KB: over csv's default field size limit
    body = (
        "title,text,source,url,published,byline,story,extra\r\n"
        f'"T1","Line one\r\nline two",Outlet,https://www.a.com/x,2016/12/30 7:11,By One,,e1\r\n'
        f'T2,"{huge}",,http://b.org/y,"March 5, 2017",,st,\r\n'
        "T3,,,,,,,\r\n"
        "T4,too,many,fields,here,x,y,z,w\r\n"
        "T5,short row\r\n"
    )
    path = write(tmp_path / "news.csv", body)
    report = import_paths(store, [path])
    assert reasons(report) == [("news.csv", 6, "9 fields where the header has 8")]
    assert skipped(report) == [("news.csv", 5, "empty text")]
    got = rows(store)
    assert [(r["title"], r["source"], r["published"], r["byline"], r["story_id"], orjson.loads(r["meta"]))
            for r in got] == [
        ("T1", "Outlet", "2016-12-30", "By One", "news", {"extra": "e1"}),
        ("T2", "b.org", "2017-03-05", None, "st", {}),
        ("T5", None, None, None, "news", {}),
    ]
    assert got[0]["text"] == "Line one\nline two" and got[1]["text"] == huge.strip()
    assert [r["origin"] for r in got] == [f"{path}:2", f"{path}:4", f"{path}:7"]


def test_csv_line_numbers_count_physical_lines(store, tmp_path):
    path = write(tmp_path / "l.csv", 'title,text\nA,"multi\nline\ntext"\nB,\nC,c\n')
    report = import_paths(store, [path])
    assert reasons(report) == [] and skipped(report) == [("l.csv", 5, "empty text")]
    assert [r["origin"].rsplit(":", 1)[1] for r in rows(store)] == ["2", "6"]


def test_csv_without_a_text_column_is_rejected_once(store, tmp_path):
    path = write(tmp_path / "stances.csv", "Headline,Body ID,Stance\nh,1,agree\n")
    assert reasons(import_paths(store, [path])) == [
        ("stances.csv", 1, "no text column (columns: Headline, Body ID, Stance); name one with --map text=COLUMN")]


def test_csv_invalid_utf8_late_in_the_file_rejects_the_whole_file(store, tmp_path):
    good_rows = "".join(f"t{i},text number {i}\n" for i in range(3000)).replace("t5,text number 5", "t5,")
    path = write(tmp_path / "late.csv", ("title,text\n" + good_rows).encode() + b"bad,caf\xe9\n")
    report = import_paths(store, [path])
    offset = len(("title,text\n" + good_rows).encode()) + 7
    assert reasons(report) == [("late.csv", 3002, f"not valid UTF-8 (byte {offset}: b'\\xe9'); file not imported")]
    assert store.article_count() == 0 and store.story_count() == 0


def test_csv_control_characters_are_stripped_and_tsv_works(store, tmp_path):
    hostile_row = '"Ti\x1b[1mtle","Bo\x00dy\x1b]0;x\x07 text that is long enough"\n'
    path = write(tmp_path / "c.csv", "title,text\n" + hostile_row + "x,y\n" * 60)
    tsv = write(tmp_path / "t.tsv", "title\ttext\nTab title\tTab body\n")
    report = import_paths(store, [path, tsv])
    assert report.rejected == []
    assert [(r["title"], r["text"]) for r in rows(store)] == [
        ("Title", "Body text that is long enough")] + [("x", "y")] + [("Tab title", "Tab body")]


def test_empty_and_header_only_csv(store, tmp_path):
    empty = write(tmp_path / "e.csv", "\n\n")
    header = write(tmp_path / "h.csv", "title,text\n")
    assert reasons(import_paths(store, [empty, header])) == [
        ("e.csv", None, "empty"), ("h.csv", None, "empty: no rows after the header")]


# --- dates and names ------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "iso"), [
    ("2017-02-07", "2017-02-07"), ("2017/2/7", "2017-02-07"), ("          2016/12/30 7:11", "2016-12-30"),
    ("2017-02-07T23:30:00-05:00", "2017-02-07"), ("2017-02-07T10:00:00Z", "2017-02-07"),
    ("Tue, 07 Feb 2017 10:00:00 GMT", "2017-02-07"), ("February 7, 2017", "2017-02-07"),
    ("7 Feb 2017", "2017-02-07"), ("Feb 7th, 2017", "2017-02-07"), ("20170207", "2017-02-07"),
    ("2017-02-30", None), ("02/07/2017", None), ("yesterday", None), ("", None), (None, None),
])
def test_normalise_date(raw, iso):
    assert normalise_date(raw) == iso


def test_slugify():
    assert slugify("Ukraine War") == "ukraine-war"
    assert slugify("Ünïcödé—stories!") == "unicode-stories"
    assert slugify("...") == "imported"
    assert slugify("competition_test_bodies") == "competition_test_bodies"


def test_rejection_str():
    assert str(Rejection(origin="a.csv", line=3, reason="empty text")) == "a.csv:3: empty text"
    assert str(Rejection(origin="a.txt", line=None, reason="empty")) == "a.txt: empty"


def test_file_names_with_control_characters_are_escaped(store, tmp_path):
    path = write(tmp_path / "evil\x1b]0;x\x07.txt", b"")
    (rejection,) = import_paths(store, [path]).rejected
    assert "\x1b" not in rejection.origin and "\\x1b" in rejection.origin


# --- the shared corpora ------------------------------------------------------------------------


def test_news_articles_csv_imports_with_outlets_from_link_hosts(store, shared_data):
    path = shared_data / "news-articles" / "NewsArticles.csv"
    report = import_paths(store, [path], mapping={"url": "article_source_link", "published": "publish_date"})
    # 3,824 rows: 36 have no text (skipped, not rejected); 3,781 distinct texts remain, so 7 rows repeat one.
    assert (report.imported, report.duplicates, len(report.rejected), len(report.empty)) == (3781, 7, 0, 36)
    assert {r.reason for r in report.empty} == {"empty text"}
    assert report.stories == ["newsarticles"]
    outlets = dict(store.conn.execute("SELECT source, count(*) FROM articles GROUP BY source"))
    assert outlets == {"aljazeera.com": 539, "tass.com": 483, "abcnews.go.com": 472, "rte.ie": 435,
                       "huffingtonpost.com": 432, "dw.com": 434, "europe.chinadaily.com.cn": 359,
                       "bbc.co.uk": 353, "cnn.com": 274}
    assert store.conn.execute("SELECT count(*) FROM articles WHERE published IS NULL").fetchone()[0] == 0
    first = rows(store, "origin = ?", (f"{path}:2",))[0]
    assert first["title"].startswith("Betsy DeVos Confirmed")
    assert orjson.loads(first["meta"]) == {"article_id": "1"}
    assert_whole(store)
    # The same file without --map: the column names are recognised; all duplicates now.
    again = import_paths(store, [path])
    assert (again.imported, again.duplicates, len(again.rejected), len(again.empty)) == (0, 3788, 0, 36)


def test_fnc1_bodies_import_with_a_mapping(store, shared_data):
    path = shared_data / "fnc1" / "competition_test_bodies.csv"
    report = import_paths(store, [path], mapping={"text": "articleBody"}, story="fnc1", source="FNC-1")
    # 904 bodies, 900 distinct texts.
    assert (report.imported, report.duplicates, report.rejected) == (900, 4, [])
    assert store.article_count("fnc1") == 900
    meta = orjson.loads(rows(store)[0]["meta"])
    assert meta == {"Body ID": "1"}
    assert_whole(store)


# --- random bytes never break an import --------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".txt", ".md", ".jsonl", ".csv", ".tsv"]))
def test_random_bytes_never_raise_and_leave_the_database_whole(store, tmp_path, data, suffix):
    path = write(tmp_path / f"fuzz{suffix}", data)
    report = import_paths(store, [path])
    assert report.imported + report.duplicates + len(report.rejected) >= 0
    assert_whole(store)


def test_a_locked_database_rejects_the_files_and_a_retry_imports_them(sqlite_store, db_path, tmp_path):
    store = sqlite_store
    paths = [write(tmp_path / "d" / f"{i}.txt", f"T{i}\nbody {i}") for i in range(3)]
    store.conn.execute("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        report = import_paths(store, paths)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert reasons(report) == [(f"{i}.txt", None, "not imported, the database refused it: database is locked")
                               for i in range(3)]
    assert (report.imported, report.stories) == (0, [])
    again = import_paths(store, paths)
    assert (again.imported, again.rejected) == (3, [])


def test_many_small_files_share_transactions_but_stay_atomic(store, tmp_path, monkeypatch):
    paths = [write(tmp_path / "m" / f"{i:03}.jsonl", f'{{"text": "a{i}"}}\n{{"text": "b{i}"}}\n') for i in range(30)]
    real = Store.insert_articles

    def refuse_file_7(self, conn, batch):
        new = real(self, conn, batch)
        if any(row[7] == "a7" for row in batch):
            raise sqlite3.IntegrityError("refused")
        return new

    monkeypatch.setattr(Store, "insert_articles", refuse_file_7)
    report = import_paths(store, paths)
    assert reasons(report) == [("007.jsonl", None, "not imported, the database refused it: refused")]
    assert report.imported == 58
    texts = {r["text"] for r in rows(store)}
    assert "a7" not in texts and "b7" not in texts and {"a6", "b6", "a8", "b8"} <= texts


def test_invalid_utf8_offsets_count_a_bom(store, tmp_path):
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbfTitle\nab\xff")
    assert reasons(import_paths(store, [path])) == [("bom.txt", 2, "not valid UTF-8 (byte 11: b'\\xff')")]


def test_utf16_text_gets_its_own_reason(store, tmp_path):
    path = write(tmp_path / "win.txt", "Title\r\nbody".encode("utf-16"))
    assert reasons(import_paths(store, [path])) == [
        ("win.txt", None, "UTF-16 text; only UTF-8 is read (convert it, e.g. iconv -f UTF-16 -t UTF-8)")]


record_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=st.lists(st.fixed_dictionaries(
    {"title": record_text, "text": record_text, "source": record_text, "story": record_text}), max_size=8))
def test_random_records_are_all_accounted_for_and_stored_clean(store, tmp_path, records):
    jsonl = write(tmp_path / "r.jsonl", b"\n".join(orjson.dumps(r) for r in records))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["title", "text", "source", "story"])
    writer.writeheader()
    writer.writerows(records)
    csv_path = write(tmp_path / "r.csv", buffer.getvalue())
    for path in (jsonl, csv_path):
        report = import_paths(store, [path])
        if not any(r.line is None for r in report.rejected):  # no whole-file rejection (say, binary)
            # every record is imported, a duplicate, rejected or skipped as empty: exactly once
            assert report.imported + report.duplicates + len(report.rejected) + len(report.empty) == len(records), report
        assert_whole(store)


# --- streaming: files are read in chunks; where a chunk ends must not matter ----------------

csv_cell = st.text(alphabet=st.sampled_from(list('ab ,"\r\n\t;é“€😀\u2028\x85\x1b')), max_size=12)


def read_with_chunks(tmp_path: Path, path: Path, chunk: int) -> tuple[list[str], list[tuple]]:
    """Import `path` into a fresh database reading `chunk` bytes at a time: its rejections
    and rows (without the origin's path)."""
    saved = ingest.CHUNK_BYTES
    ingest.CHUNK_BYTES = chunk
    try:
        with Store.open(tmp_path / f"chunks-{chunk}.db") as fresh:
            report = import_paths(fresh, [path])
            got = [(r["id"], r["title"], r["text"], r["meta"], r["origin"].rsplit(":", 1)[-1]) for r in rows(fresh)]
            assert_whole(fresh)
    finally:
        ingest.CHUNK_BYTES = saved
        for leftover in tmp_path.glob(f"chunks-{chunk}.db*"):
            leftover.unlink()
    return [f"{r.line}: {r.reason}" for r in report.rejected], got


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cells=st.lists(st.tuples(csv_cell, csv_cell, csv_cell), max_size=6), bom=st.booleans(),
       line_end=st.sampled_from(["\n", "\r\n", "\r"]), chunk=st.integers(1, 9), cut=st.integers(0, 3))
def test_csv_read_in_tiny_chunks_gives_the_same_rows_as_in_one(tmp_path, cells, bom, line_end, chunk, cut):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(["title", "text", "extra"])
    writer.writerows(cells)
    data = ("\ufeff" if bom else "") + buffer.getvalue()
    data = data[:len(data) - cut]  # sometimes without its last line end, or inside a quote
    path = write(tmp_path / "chunks.csv", data)
    assert read_with_chunks(tmp_path, path, chunk) == read_with_chunks(tmp_path, path, 1 << 20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=st.lists(st.fixed_dictionaries({"title": csv_cell, "text": csv_cell, "x": csv_cell}), max_size=6),
       chunk=st.integers(1, 9), tail=st.sampled_from([b"", b"\n", b"\n\n", b'{"text": "caf\xe9"}\n']))
def test_jsonl_read_in_tiny_chunks_gives_the_same_rows_as_in_one(tmp_path, records, chunk, tail):
    path = write(tmp_path / "chunks.jsonl", b"\xef\xbb\xbf" + b"\n".join(orjson.dumps(r) for r in records) + tail)
    assert read_with_chunks(tmp_path, path, chunk) == read_with_chunks(tmp_path, path, 1 << 20)


def test_csv_invalid_utf8_split_across_chunks_names_its_line_and_byte(store, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "CHUNK_BYTES", 4)
    # A three-byte sequence cut short: its first two bytes end a chunk (bytes 22, 23).
    path = write(tmp_path / "split.csv", "title,text\na,café\n".encode() + b"b,c\xe2\x80x\n")
    assert reasons(import_paths(store, [path])) == [
        ("split.csv", 3, "not valid UTF-8 (byte 22: b'\\xe2'); file not imported")]
    assert store.article_count() == 0


def test_a_csv_field_past_the_limit_rejects_its_file_naming_the_row(store, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "CSV_FIELD_MAX", 1000)
    path = write(tmp_path / "long.csv", 'title,text\na,short\nb,"' + "x" * 2000 + '",\nc,after\n')
    good = write(tmp_path / "good.csv", "title,text\nd,fine\n")
    report = import_paths(store, [path, good])
    assert [str(r) for r in report.rejected] == [
        f"{path}:3: a field of this row is longer than 1,000 characters (a quote never closed?); file not imported"]
    assert [r["text"] for r in rows(store)] == ["fine"]
    assert_whole(store)
