"""FNC-1 (Fake News Challenge, stage 1) in: its bodies CSV (`Body ID,articleBody`) and its
stances CSV (`Headline,Body ID,Stance`), told apart by their headers.

Each headline becomes a story whose title and proposition are the headline (sanitised as
`import` sanitises titles) and whose id is `fnc1-` + 12 hex digits of the SHA-256 of it,
so every database gives a headline the same story. Each body is an article (text and id
by the same rule as `import`) in the story of every headline it is paired with; bodies
with the same text are one article that keeps every Body ID. Each stance row is a label
of one annotator (or gold) for its (story, article).

What export needs to write FNC-1 back is kept in meta: the article's `fnc1_body_ids` (its
Body IDs, in the bodies file's order) and the story's `fnc1_rows` (for each of its
articles, the Body ID of each stance row that paired them, repeats included: the stances
file holds some pairs twice). Stories and articles are written first, as `import` writes
them; the stances then load as export records through `load_converted`, each file all or
nothing, every label an event.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, BinaryIO, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from newsmark.schema.importing.base import first_error
from newsmark.schema.ingest import CSV_FIELD_MAX
from newsmark.schema.load import (
    STDIN, STDIN_NAME, LoadReport, RejectedInput, Rejection, load_converted, open_input, read_lines,
)
from newsmark.schema.models import SCHEMA_VERSION, Story, utc_stamp
from newsmark.schema.sanitize import article_id_for, sanitize_inline, sanitize_text, text_sha256
from newsmark.schema.store import Store

BODIES_HEADER = ("Body ID", "articleBody")
STANCES_HEADER = ("Headline", "Body ID", "Stance")
STORY_PREFIX = "fnc1-"
STANCE_FIELD = "stance"
META_BODY_IDS = "fnc1_body_ids"  # article meta: its Body IDs
META_ROWS = "fnc1_rows"  # story meta: article id -> the Body ID of each of its stance rows
GOLD_REASON = "FNC-1 stance"


class Fnc1Error(ValueError):
    """A whole file that cannot be taken (not FNC-1, unreadable): `file` names it (None:
    the files given together), the message says why."""

    def __init__(self, reason: str, file: str | None = None) -> None:
        super().__init__(reason)
        self.file = file


# A Body ID or a stance: blank space around it is no part of it.
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class BodyRow(BaseModel):
    """A row of the bodies file (the body is sanitised as `import` does, not here)."""

    model_config = ConfigDict(frozen=True)
    body_id: Word = Field(alias="Body ID")
    article_body: str = Field(alias="articleBody")


class StanceRow(BaseModel):
    """A row of the stances file (the headline is sanitised as a title, not here)."""

    model_config = ConfigDict(frozen=True)
    headline: str = Field(alias="Headline")
    body_id: Word = Field(alias="Body ID")
    stance: Word = Field(alias="Stance")


def story_id_for(headline: str) -> str:
    """The story of a (sanitised) headline: `fnc1-` and 12 hex digits of its SHA-256."""
    return STORY_PREFIX + hashlib.sha256(headline.encode("utf-8")).hexdigest()[:12]


@dataclass
class Body:
    """One article made of one or more bodies with the same text."""

    text: str
    sha256: str
    body_ids: list[str]
    origin: str


@dataclass
class Pair:
    """One (story, article): its stance, the line it was first given on, and the Body ID
    of each stance row that paired them."""

    line: int
    stance: str
    body_ids: list[str] = field(default_factory=list)


@dataclass
class Fnc1Data:
    """Both files read: articles by id (bodies-file order), headlines by story id, pairs
    by (story id, article id) in stances-file order, and what could not be taken."""

    bodies_name: str
    stances_name: str
    articles: dict[str, Body] = field(default_factory=dict)
    headlines: dict[str, str] = field(default_factory=dict)
    pairs: dict[tuple[str, str], Pair] = field(default_factory=dict)
    body_rows: int = 0
    stance_rows: int = 0
    unpaired_bodies: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """What was read, with stable keys (for `--json`)."""
        return {"body_rows": self.body_rows, "articles": len(self.articles), "stance_rows": self.stance_rows,
                "headlines": len(self.headlines), "pairs": len(self.pairs), "unpaired_bodies": self.unpaired_bodies}

    def summary(self) -> str:
        """`FNC-1: B bodies (A articles), S stance rows (H headlines, P headline-body pairs)`,
        and `; U bodies in no stance row not taken` when there are such."""
        line = (f"FNC-1: {self.body_rows} bodies ({len(self.articles)} articles), {self.stance_rows} stance rows "
                f"({len(self.headlines)} headlines, {len(self.pairs)} headline-body pairs)")
        return line + (f"; {self.unpaired_bodies} bodies in no stance row not taken" if self.unpaired_bodies else "")


def _rows(stream: BinaryIO, name: str, kind: str, header: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(first line, {column: value} or why the row is not taken) for each row of a CSV
    whose header is `header`; a file that is not UTF-8 or whose CSV breaks raises
    Fnc1Error (all of the file or nothing)."""
    def decoded() -> Iterator[str]:
        for number, raw in read_lines(stream):
            if raw is None:
                raise Fnc1Error(f"line {number} is longer than the longest record newsmark reads", name)
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Fnc1Error(f"not valid UTF-8 (line {number})", name) from None

    reader = csv.reader(decoded())  # line by line: a bad byte is named by its line
    csv.field_size_limit(CSV_FIELD_MAX)
    try:
        names = next(reader, None)
        if names is None or tuple(n.strip() for n in names) != header:
            raise Fnc1Error(f"not an FNC-1 {kind} file: its header is not {','.join(header)}", name)
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row or row == [""]:
                continue
            if len(row) != len(header):
                yield line, f"{len(row)} fields where the header has {len(header)}"
                continue
            yield line, dict(zip(header, row))
    except csv.Error as exc:
        raise Fnc1Error(f"broken CSV at line {reader.line_num}: {exc}", name) from None


def kind_of(path: str) -> Literal["bodies", "stances"]:
    """Which FNC-1 file `path` is, by its header (Fnc1Error when neither)."""
    with _open(path) as stream:
        first = stream.readline(4096).decode("utf-8-sig", "replace")  # a header is short
    names = tuple(name.strip() for name in next(csv.reader([first]), []))
    if names == BODIES_HEADER:
        return "bodies"
    if names == STANCES_HEADER:
        return "stances"
    raise Fnc1Error(f"neither an FNC-1 bodies file ({','.join(BODIES_HEADER)}) "
                    f"nor a stances file ({','.join(STANCES_HEADER)}) by its header", str(path))


def _open(path: str) -> Any:
    if str(path) == STDIN:  # each file is opened twice: for its header, then to read it
        raise Fnc1Error("--from fnc1 reads two files, not standard input", STDIN_NAME)
    try:
        return open_input(path)
    except RejectedInput as exc:
        raise Fnc1Error(str(exc), str(path)) from None


def _checked(values: dict[str, str] | str) -> dict[str, str]:
    if isinstance(values, str):  # the reason the row is not one
        raise ValueError(values)
    return values


def _why(exc: ValueError) -> str:
    return first_error(exc) if isinstance(exc, ValidationError) else str(exc)


def _valid_rows(path: str, name: str, kind: str, header: tuple[str, ...], model: type[Any],
                rejected: list[Rejection]) -> Iterator[tuple[int, Any]]:
    """(line, the row as `model`) for every row of a file; None for a row that is not one,
    listed in `rejected` with its reason."""
    with _open(path) as stream:
        for line, values in _rows(stream, name, kind, header):
            try:
                row = model.model_validate(_checked(values))
            except ValueError as exc:
                rejected.append(Rejection(name, line, _why(exc)))
                row = None
            yield line, row


def read(bodies_path: str, stances_path: str) -> Fnc1Data:
    """Read both files (Fnc1Error when either cannot be taken as a whole). A row that
    cannot be taken is listed in `rejected` with its file and line; the rest are read."""
    data = Fnc1Data(str(bodies_path), str(stances_path))
    by_body_id: dict[str, str] = {}
    story_of: dict[str, str] = {}  # headline as given -> story id
    for line, row in _valid_rows(bodies_path, data.bodies_name, "bodies", BODIES_HEADER, BodyRow, data.rejected):
        data.body_rows += 1
        if row is None:
            continue
        text = sanitize_text(row.article_body).strip()  # as `import` takes a text
        if not text:
            data.rejected.append(Rejection(data.bodies_name, line, "empty text"))
            continue
        article_id = article_id_for(text)
        known = by_body_id.get(row.body_id)
        if known is not None:
            if known != article_id:
                data.rejected.append(Rejection(data.bodies_name, line, (
                    f"Body ID {row.body_id} is given again with another text; the first is kept")))
            continue
        by_body_id[row.body_id] = article_id
        body = data.articles.get(article_id)
        if body is None:
            data.articles[article_id] = Body(text, text_sha256(text), [row.body_id], f"{data.bodies_name}:{line}")
        else:
            body.body_ids.append(row.body_id)
    for line, row in _valid_rows(stances_path, data.stances_name, "stances", STANCES_HEADER, StanceRow, data.rejected):
        data.stance_rows += 1
        if row is None:
            continue
        story_id = story_of.get(row.headline)
        if story_id is None:  # a headline's first row (each has some thirty)
            headline = sanitize_inline(row.headline)
            if headline is None:
                data.rejected.append(Rejection(data.stances_name, line, "empty headline"))
                continue
            story_id = story_of[row.headline] = story_id_for(headline)
            data.headlines.setdefault(story_id, headline)
        article_id = by_body_id.get(row.body_id)
        if article_id is None:
            data.rejected.append(Rejection(data.stances_name, line, f"Body ID {row.body_id} is not in {data.bodies_name}"))
            continue
        pair = data.pairs.setdefault((story_id, article_id), Pair(line, row.stance))
        if pair.stance != row.stance:
            data.rejected.append(Rejection(data.stances_name, line, (
                f"gives stance {row.stance!r} where line {pair.line} gave {pair.stance!r} for the same "
                "headline and body text; the first is kept")))
            continue
        pair.body_ids.append(row.body_id)
    paired = {article_id for _, article_id in data.pairs}
    data.unpaired_bodies = sum(len(body.body_ids) for aid, body in data.articles.items() if aid not in paired)
    data.articles = {aid: body for aid, body in data.articles.items() if aid in paired}
    return data


def check_scheme(store: Store) -> None:
    """Fnc1Error unless the scheme has a story-scoped stance field to hold FNC-1's stances
    (a body has a stance per headline); checked before anything is written."""
    if STANCE_FIELD not in store.scheme.story_fields():
        raise Fnc1Error(f"the database's scheme has no story-scoped article field '{STANCE_FIELD}' "
                        "to hold FNC-1's stances (one per headline and body)")


_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp()  # records take no earlier time


def file_time(path: str) -> str:
    """When a file was last written: the stances' time, so loading the same file again
    changes nothing. Now for a time records cannot carry (in the future, or before 2000
    as in archives that zero their times)."""
    now = time.time()
    try:
        seconds = os.stat(path).st_mtime
    except OSError:
        seconds = now
    if not _EARLIEST <= seconds <= now:
        seconds = now
    return utc_stamp(dt.datetime.fromtimestamp(seconds, dt.UTC))


def write_stories_and_articles(store: Store, data: Fnc1Data, report: LoadReport) -> dict[str, dict[str, str]]:
    """One transaction: the headlines' stories (new ones titled by the headline), the
    bodies' articles (new ones as `import` stores them), every (story, article)
    membership, and the meta that export reads back (article Body IDs, story rows).
    Counts what it created in `report`; returns each story's {"id", "title", "proposition"}."""
    rows_by_story: dict[str, dict[str, list[str]]] = {}
    home: dict[str, str] = {}
    for (story_id, article_id), pair in data.pairs.items():
        rows_by_story.setdefault(story_id, {})[article_id] = pair.body_ids
        home.setdefault(article_id, story_id)
    stories: dict[str, dict[str, str]] = {}
    with store.transaction(bulk=True) as conn:
        for story_id, headline in data.headlines.items():
            story = store.get_story(story_id)
            if story is None:
                store.ensure_story(conn, Story.model_construct(
                    id=story_id, title=headline, proposition=headline, meta={META_ROWS: rows_by_story[story_id]}))
                report.stories_created += 1
                stories[story_id] = {"id": story_id, "title": headline, "proposition": headline}
                continue
            meta = dict(story.meta)
            meta[META_ROWS] = {**meta.get(META_ROWS, {}), **rows_by_story[story_id]}
            store.set_story_meta(conn, story_id, meta)
            stories[story_id] = {"id": story_id, "title": story.title, "proposition": story.proposition}
        existing = store.article_metas(conn, list(data.articles))
        for article_id, meta in existing.items():
            known = meta.get(META_BODY_IDS, [])
            meta[META_BODY_IDS] = known + [b for b in data.articles[article_id].body_ids if b not in known]
            store.set_article_meta(conn, article_id, meta)
        report.articles_created += store.insert_articles(conn, [
            (article_id, home[article_id], None, None, None, None, None, body.text, body.sha256,
             orjson.dumps({META_BODY_IDS: body.body_ids}).decode(), body.origin)
            for article_id, body in data.articles.items() if article_id not in existing
        ])
        store.add_to_stories(conn, list(data.pairs))
    return stories


def to_records(data: Fnc1Data, stories: dict[str, dict[str, str]], *, annotator: str, gold: bool,
               at: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(stances line, export record) for each (story, article): `annotator`'s stance, or
    with `gold` the gold stance decided by `annotator`. The articles are in the database
    already, so records carry no text."""
    for (story_id, article_id), pair in data.pairs.items():
        body = data.articles[article_id]
        record: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "article": {"id": article_id, "source": None, "url": None, "title": None, "byline": None,
                        "published": None, "text_sha256": body.sha256},
            "story": stories[story_id],
            "annotator": None if gold else annotator,
            "labels": {STANCE_FIELD: pair.stance},
            "claims": [],
            "note": None,
            "flagged": False,
            "updated_at": at,
        }
        if gold:
            record["gold"] = {STANCE_FIELD: {"by": annotator, "reason": GOLD_REASON, "at": at}}
        yield pair.line, record


def load_fnc1(store: Store, paths: Iterable[str], *, annotator: str = "fnc1", gold: bool = False) -> tuple[Fnc1Data | None, LoadReport]:
    """Load FNC-1's bodies and stances files (two paths, in either order): stories and
    articles first (see `write_stories_and_articles`), then one stance record per (story,
    article), `annotator`'s or gold. Returns what was read (None when the files could
    not be taken; the report says why) and the load report."""
    report = LoadReport()
    paths = list(paths)
    try:
        if len(paths) != 2:
            raise Fnc1Error(f"takes two files, the bodies and the stances, not {len(paths)}")
        kinds = {kind_of(path): path for path in paths}
        if len(kinds) != 2:
            raise Fnc1Error(f"both files are FNC-1 {next(iter(kinds))} files; give one bodies and one stances file")
        check_scheme(store)
        data = read(kinds["bodies"], kinds["stances"])
    except Fnc1Error as exc:
        report.rejected.append(Rejection(exc.file or "fnc1", None, str(exc)))
        return None, report
    except OSError as exc:  # a read failing half-way
        report.rejected.append(Rejection("fnc1", None, f"cannot read: {exc.strerror or exc}"))
        return None, report
    stories = write_stories_and_articles(store, data, report) if data.pairs else {}
    report.rejected += data.rejected
    records = to_records(data, stories, annotator=annotator, gold=gold, at=file_time(kinds["stances"]))
    load_converted(store, [(data.stances_name, records)], report)
    return data, report
