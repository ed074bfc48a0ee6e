"""Loading export records (a teammate's `newsmark export` file) into the database.

Each line is validated once, here at the edge: its nesting depth, the pydantic models of
the export format (strict types, the one name rule, timestamps that are real instants and
not in the future), then the database's scheme and its articles. A line that fails is
rejected with its file, line number and reason; the rest of the file goes on. A record
whose article (and story) the database lacks creates them from the record's text, so a
teammate's file is self-contained; an article may be in several stories.

Only regular files are read (FIFOs, devices and directories are named and skipped), `-`
is standard input, and files are read line by line: memory holds one batch of records
(BATCH_RECORDS, at most BATCH_BYTES of lines) and the article texts already checked (at
most VERIFIED_CHARS), never the file, and a line longer than MAX_RECORD_BYTES is rejected
without being held whole.

A batch reads what the database holds of its records with one query per table (`_Known`).
A record with nothing local to compare (the common case: loading into a fresh database,
or another annotator's) is decided from the record alone and written with the batch, one
executemany per table (an annotation record without claims through one short path,
`FreshAnnotation`); any other record is applied reading the database for its rows.

A file of PIPELINE_BYTES and up is read by a forked child process (schema.reader_process)
that parses and checks its lines while this process applies the previous batch: a record
the child could check whole (an annotation record without claims: models, scheme values,
the text's hash, id and cleanliness) comes over as a `_ReadRecord`, any other line as it
is, to be parsed here (and rejected here, with the same reason).

Conflicts are settled per (article, annotator) record, or per article for gold records:
the newer `updated_at` wins. A record that wins replaces the local labels, claims, note
and flag (or gold values and gold claims) through the store's event log (op "load", not
undoable, stamped with the record's `updated_at`), so the replaced values stay in the
events table and export -> load into an empty database -> export gives the same bytes.
Loading the same file twice changes nothing the second time.

A gold record's values and claims that the gold policy derived from the annotators
(source `agreed` or `majority`) are not loaded: the annotations they came from are, and
export derives them again. They are counted (`derived_values`), and a gold record that
holds nothing else is skipped (`derived`).

Each file is loaded all or nothing, and without keeping other writers (an analyst's
keystrokes) waiting: it is applied, reads and re-anchoring included, into TEMP tables of
this connection that shadow the store's (no write lock, invisible to anyone else, gone if
the process dies), then published in one short transaction (see `_Shadow`).
"""

from __future__ import annotations

import contextlib
import copy
import heapq
import os
import re
import sqlite3
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import ValidationError

from newsmark.schema.files import NotRegularFile, open_regular
from newsmark.schema.models import (
    AnnotationRecord, AnnotationRecordV1, AnyRecord, ExportArticleV1, ExportClaim, GoldExportClaim, GoldRecord,
    GoldRecordV1, Story, instant,
)
from newsmark.schema.sanitize import for_terminal, sanitize_inline, sanitize_text, text_sha256
from newsmark.schema.store import (
    ANNOTATION_TABLES, CONTEXT_CHARS, Change, FreshAnnotation, LoadedAction, Store, claim_context, visible,
)
from newsmark.schema.reader_process import ReaderDied, batches_from_child
from newsmark.schema.structured import MAX_DEPTH, StructureError, check_depth

BATCH_RECORDS = 1000  # records applied together into a file's shadow (see _Shadow)
BATCH_BYTES = 64 * 1024 * 1024  # and at most this much of the file's lines held parsed at once
# A file this big is read, parsed and checked in a child process while this one applies
# what it read (schema.reader_process): most records come over checked (_ReadRecord).
PIPELINE_BYTES = 16 * 1024 * 1024
VERIFIED_CHARS = 8 * 1024 * 1024  # article text kept once checked (in characters), so that its next records skip the check
_BOM = b"\xef\xbb\xbf"
# One record (one line) at most: an exported article of a 100 MB text fits; a longer line
# (a file of zeros, a binary) is rejected after reading past it in _SKIP_CHUNK pieces.
MAX_RECORD_BYTES = 128 * 1024 * 1024
_SKIP_CHUNK = 1024 * 1024
STDIN = "-"  # the path that means standard input
STDIN_NAME = "<stdin>"  # how standard input is named in messages and as articles' origin
# A new cluster named by a version-1 record (which has no wording) is worded by its claim's
# text, cut as the store cuts it when a claim starts a cluster.
CLUSTER_WORDING_CHARS = 200


@dataclass
class Rejection:
    """A line that was not loaded, and why."""

    file: str
    line: int | None  # None: the whole file
    reason: str

    def __post_init__(self) -> None:
        # Reasons quote the input (key names, values): never let its control characters
        # (an ESC sequence) reach the terminal that shows them.
        self.file = for_terminal(self.file)
        self.reason = for_terminal(self.reason)

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.reason}"


@dataclass
class LoadReport:
    """What a load did. Every record read is counted once: loaded (new here), replaced
    (a local one, older, was replaced), unchanged (already as the record says),
    kept_newer_local (the local one is newer, or as new, and differs), rejected, or derived
    (a gold record whose every value the gold policy derived: skipped). derived_values
    counts the derived gold values and claims left out of gold records."""

    read: int = 0
    loaded: int = 0
    replaced: int = 0
    unchanged: int = 0
    kept_newer_local: int = 0
    stories_created: int = 0
    articles_created: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    derived: int = 0  # gold records holding only derived gold: skipped
    derived_values: int = 0  # derived gold values and claims left out (of any record)

    def as_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict with stable keys; `rejected` lists the rejections
        as {"file", "line", "reason"} (line null: the whole file), as `import --json` does."""
        return {
            "read": self.read,
            "loaded": self.loaded,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
            "kept_newer_local": self.kept_newer_local,
            "rejected": [{"file": r.file, "line": r.line, "reason": r.reason} for r in self.rejected],
            "stories_created": self.stories_created,
            "articles_created": self.articles_created,
            "derived": self.derived,
            "derived_values": self.derived_values,
        }


class _Reject(Exception):
    """Raised while checking or applying one record; the record is skipped."""


RejectedInput = _Reject  # what `open_input` raises for a file that is not read


def load_converted(store: Store, sources: Iterable[tuple[str, Iterable[tuple[int, dict[str, Any] | str]]]],
                   report: LoadReport | None = None) -> LoadReport:
    """Load what converters made of other tools' files: for each source, its name (for
    messages) and its (line, record dict or the reason it is none) items; see
    `_Loader.load_items`."""
    report = report if report is not None else LoadReport()
    loader = _Loader(store, report)
    for name, items in sources:
        # Items are read once: one try, holding the write lock while they are applied.
        loader.load_whole(name, lambda: loader.load_items(name, items), size=0, again=False)
    return report


def load_annotations(store: Store, paths: Iterable[str | Path]) -> LoadReport:
    """Load annotation and gold records from JSONL files (`-`: standard input); see the
    module docstring."""
    report = LoadReport()
    loader = _Loader(store, report)
    for path in paths:
        loader.load_whole(STDIN_NAME if str(path) == STDIN else str(path), lambda: loader.load_file(path),
                          size=_size_of(path), again=str(path) != STDIN)
    return report


# --- the loader -----------------------------------------------------------------------


@dataclass
class _Claim:
    """A claim in the form compared and written: everything but its id, with its cluster's
    wording (the cluster's label)."""

    start: int
    end: int
    exact: str
    prefix: str
    suffix: str
    labels: dict[str, str]
    cluster: str | None
    wording: str | None


@dataclass
class _Part:
    """One part of an annotation (or gold) as compared and decided on its own: what the
    record's story alone holds (story-scoped labels, note and flag), or what every story
    of the article shares (article-scoped labels and claims). `at` is when its local side
    last changed (None: nothing local)."""

    labels: dict[str, Any]
    claims: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    flagged: bool = False
    at: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.labels or self.claims or self.note is not None or self.flagged)

    def same(self, other: _Part) -> bool:
        return (self.labels, self.claims, self.note, self.flagged) == (other.labels, other.claims, other.note, other.flagged)


def _outcome(incoming: _Part, local: _Part, incoming_at: str) -> str:
    """What a record does to one part: unchanged, loaded (nothing local), replaced (the
    record is newer) or kept_newer_local."""
    if incoming.same(local):
        return "unchanged"
    if local.empty or local.at is None:
        return "loaded"
    return "replaced" if instant(incoming_at) > instant(local.at) else "kept_newer_local"


def _combined(outcomes: Iterable[str], created: bool) -> str:
    """A record's outcome from its parts' (`created`: it made its annotations row)."""
    outcomes = set(outcomes)
    if "replaced" in outcomes:
        return "replaced"
    if "loaded" in outcomes or created:
        return "loaded"
    return "kept_newer_local" if "kept_newer_local" in outcomes else "unchanged"


_APPLIED = ("loaded", "replaced")


class _Loader:
    def __init__(self, store: Store, report: LoadReport) -> None:
        self.store = store
        self.report = report
        self.scheme = store.scheme
        self.story_fields = self.scheme.story_fields()
        self._shadow: _Shadow | None = None
        self._fresh: _Known | None = None  # the batch's reads, while a fresh record of it is applied
        self._verified: dict[str, tuple[str, str]] = {}  # articles whose text was checked: text_sha256, text
        self._verified_chars = 0
        self._valid: set[tuple[str, str, str]] = set()  # (field, value, level) found valid in the scheme

    def load_whole(self, name: str, load: Callable[[], None], *, size: int, again: bool) -> None:
        """Run `load` (one file's records) all of it or nothing: applied out of the write
        lock into shadow tables, then published in one short transaction (see _Shadow);
        tried again if someone changed a row it read meanwhile, the last time with the lock
        held. What can be read only once (stdin, converted items) gets that last try alone."""
        if self.store.postgres:
            # One transaction: PostgreSQL's snapshots keep it from readers until it commits,
            # and its row locks keep writers of other rows going meanwhile.
            with self.store.transaction(bulk=True):
                load()
            return
        before = copy.deepcopy(self.report)
        attempts = range(FILE_ATTEMPTS) if again else range(FILE_ATTEMPTS - 1, FILE_ATTEMPTS)
        for attempt in attempts:
            if attempt and again:
                self.report.__dict__.update(copy.deepcopy(before.__dict__))
            self._shadow = _Shadow(self.store, locked=attempt == FILE_ATTEMPTS - 1)
            try:
                self._shadow.open(size)
                load()
                if self._shadow.publish():
                    return
            finally:
                self._shadow.close()
                self._shadow = None

    def load_file(self, path: str | Path) -> None:
        name = STDIN_NAME if str(path) == STDIN else str(path)
        try:
            handle = open_input(path)
        except _Reject as exc:
            self.report.rejected.append(Rejection(name, None, str(exc)))
            return
        with handle as stream:
            if _size_of(path) >= PIPELINE_BYTES:  # (0 for stdin)
                # The child reads the stream it inherits; this process reads none of it.
                with batches_from_child(partial(self._read_ahead, stream)) as batches:
                    if batches is not None:
                        self._load(name, _received_entries(batches))
                        return
            self._load(name, _file_entries(stream))

    def _read_ahead(self, stream: BinaryIO, send: Callable[[list[tuple]], None]) -> None:
        """In the reading process: parse and check each line, sending batches of what
        `_received_entries` takes: a fresh-looking annotation record (no claims) whose
        labels and text passed every check of its own, as a `_ReadRecord`'s fields; any
        other line as it is, to be parsed (and rejected, if it must be) by the loader."""
        batch: list[tuple] = []
        sent: dict[str, str] = {}  # articles whose checked text went over: their text_sha256
        for number, raw in read_lines(stream):
            if raw is None:
                batch.append((number, 0, None))
            elif raw.strip():
                batch.append(self._pre_read(number, raw, sent))
            else:
                continue
            if len(batch) >= BATCH_RECORDS:
                send(batch)
                batch = []
        if batch:
            send(batch)

    def _pre_read(self, number: int, raw: bytes, sent: dict[str, str]) -> tuple:
        try:
            record = _parse(raw)
            if type(record) is not AnnotationRecord or record.claims:
                return number, len(raw), raw
            for name, value in record.labels.items():
                self._check(name, value, "article", "labels")
        except _Reject:
            return number, len(raw), raw
        article, story = record.article, record.story
        text = article.text
        if text is not None:
            if self._verified.get(article.id) != (article.text_sha256, text):
                if _text_problem(article):
                    return number, len(raw), raw
                self._remember_text(article.id, article.text_sha256, text)
            if sent.get(article.id) == article.text_sha256:
                # The same checked text went over with an earlier record of this article:
                # the loader has it (created by that record), or rejected that record for
                # the article itself (then this one too, for the same reason).
                text = None
            else:
                sent[article.id] = article.text_sha256
        return (number, len(raw), (article.id, sanitize_inline(article.source), sanitize_inline(article.url),
                                   sanitize_inline(article.title), sanitize_inline(article.byline),
                                   article.published, article.text_sha256, text),
                (story.id, story.title, story.proposition), record.annotator, record.labels, record.note,
                record.flagged, record.updated_at, *self._split(record.labels))

    def load_items(self, name: str, items: Iterable[tuple[int, dict[str, Any] | str]]) -> None:
        """Records that a converter made from another tool's file (`schema.importing`):
        each a dict in the export record's shape, validated and applied exactly like a
        line of an export file, or the reason its item could not become one."""
        self._load(name, ((line, partial(_validate_item, item), 0) for line, item in items))

    def _load(self, name: str, entries: Iterator[tuple[int, Callable[[], AnyRecord], int]]) -> None:
        """Validate and apply one source's entries (line, parse, size) in batches."""
        # (line, record, whether its outcome is counted: not for a gold record of derived and
        # undecided gold alone, applied only for the story and article it names)
        pending: list[tuple[int, AnyRecord, bool]] = []
        pending_bytes = 0
        first_rejection = len(self.report.rejected)
        try:
            for number, parse, size in entries:
                self.report.read += 1
                try:
                    record = parse()
                    parsed = self._without_derived(record)
                    counted = parsed is not None
                    if parsed is None:
                        # Nothing to load but where it is: its story, its article and the
                        # article's membership of the story, as any record brings them.
                        self.report.derived += 1
                        parsed = record.model_copy(update={"labels": {}, "claims": [], "gold": {}})
                    pending.append((number, parsed, counted))
                    pending_bytes += size
                except _Reject as exc:
                    self.report.rejected.append(Rejection(name, number, str(exc)))
                    continue
                if len(pending) >= BATCH_RECORDS or pending_bytes >= BATCH_BYTES:
                    self._apply_batch(name, pending)
                    pending, pending_bytes = [], 0
        except OSError as exc:
            self.report.rejected.append(Rejection(name, None, f"cannot read: {exc.strerror or exc}"))
        if pending:
            self._apply_batch(name, pending)
        # Parse errors are found before the batch they sit in is applied: list by line.
        self.report.rejected[first_rejection:] = sorted(self.report.rejected[first_rejection:], key=lambda r: r.line or 0)

    def _without_derived(self, record: AnyRecord) -> AnyRecord | None:
        """A gold record without the values and claims the gold policy derived (counted in
        the report); None when nothing adjudicated is left. Other records as they are."""
        if not isinstance(record, GoldRecord):
            return record
        derived = {name for name, p in record.gold.items() if p.derived}
        claims = [c for c in record.claims if not (isinstance(c, GoldExportClaim) and c.gold and c.gold.derived)]
        if not derived and len(claims) == len(record.claims):
            return record
        # (An undecided field has no value to count: only its entry in `gold` goes.)
        self.report.derived_values += len(derived & record.labels.keys()) + len(record.claims) - len(claims)
        labels = {name: value for name, value in record.labels.items() if name not in derived}
        if not labels and not claims:
            return None
        gold = {name: p for name, p in record.gold.items() if name not in derived}
        return record.model_copy(update={"labels": labels, "claims": claims, "gold": gold})

    def _apply_batch(self, name: str, pending: list[tuple[int, AnyRecord, bool]]) -> None:
        origin = name
        if self._shadow is None and self.store.conn.in_transaction:  # inside load_whole on PostgreSQL
            batch = contextlib.nullcontext(self.store.conn)
        elif self._shadow is None:  # outside load_whole: straight into the store
            batch = self.store.transaction(bulk=True)
        else:  # into the file's shadow tables, no write lock (see _Shadow)
            batch = self._shadow.batch([record for _, record, _ in pending])
        with batch as conn:
            known = _Known(self, conn, [record for _, record, _ in pending])
            for number, record, counted in pending:
                gold = isinstance(record, GoldRecord)
                try:
                    if known.fresh(record):
                        # Nothing local to compare with or replace: decided from what the
                        # batch read, written with the batch (nothing is written if rejected).
                        if not gold and not record.claims:
                            outcome = self._apply_fresh_annotation(record, origin, known)
                        else:
                            self._fresh = known
                            try:
                                outcome = (self._apply_gold if gold else self._apply_annotation)(conn, record, origin)
                            finally:
                                self._fresh = None
                    else:
                        known.flush()  # the records before it, which it may read
                        if self._shadow is not None:
                            self._shadow.unstage()
                        outcome = self._apply_read(conn, record, origin)
                        known.refresh(record)
                except _Reject as exc:
                    self.report.rejected.append(Rejection(name, number, str(exc)))
                    continue
                finally:
                    known.applied(record)
                if not counted:
                    continue  # counted as derived
                setattr(self.report, outcome, getattr(self.report, outcome) + 1)
            known.flush()

    def _apply_read(self, conn: sqlite3.Connection, record: AnyRecord, origin: str) -> str:
        """Apply one record reading the database for what it holds of it, in a savepoint:
        a rejection half-way leaves no trace of it."""
        conn.execute("SAVEPOINT record")
        try:
            if isinstance(record, GoldRecord):
                outcome = self._apply_gold(conn, record, origin)
            else:
                outcome = self._apply_annotation(conn, record, origin)
        except _Reject:
            conn.execute("ROLLBACK TO record")
            conn.execute("RELEASE record")
            raise
        conn.execute("RELEASE record")
        return outcome

    # --- annotation records -------------------------------------------------------------

    def _apply_fresh_annotation(self, record: AnnotationRecord, origin: str, known: _Known) -> str:
        """Apply a fresh annotation record without claims (most records of a file): what
        `_apply_annotation` decides for it when nothing is local, held as one FreshAnnotation."""
        read = type(record) is _ReadRecord  # (its values checked and split by the reading process)
        if not read:
            for name, value in record.labels.items():
                self._check(name, value, "article", "labels")
        self._article_text(known.conn, record, origin, need_text=False, known=known)
        note = (sanitize_text(record.note) or None) if record.note is not None else None
        if not (record.labels or note is not None or record.flagged):
            known.add(record, origin)  # nothing to load but where it is
            return "unchanged"
        story_labels, shared_labels = (record.story_labels, record.shared_labels) if read else self._split(record.labels)
        known.add(record, origin, FreshAnnotation(record.article.id, record.story.id, record.annotator,
                                                  record.updated_at, story_labels, shared_labels, note, record.flagged))
        return "loaded"

    def _apply_annotation(self, conn: sqlite3.Connection, record: AnnotationRecord, origin: str) -> str:
        """Apply an annotation record (a fresh one while `_fresh` is set: see _apply_batch)."""
        known = self._fresh
        annotator = record.annotator  # checked by the one name rule (models.Name)
        for name, value in record.labels.items():
            self._check(name, value, "article", "labels")
        text = self._article_text(conn, record, origin, need_text=bool(record.claims), known=known)
        article_id, story_id, at = record.article.id, record.story.id, record.updated_at
        claims = self._claims(conn, text, record)
        if known is None:
            self._check_claim_ids(conn, "claims", claims, article_id, annotator)
        story_labels, shared_labels = self._split(record.labels)
        incoming_story = _Part(story_labels, note=(sanitize_text(record.note) or None) if record.note is not None else None,
                               flagged=record.flagged)
        incoming_shared = _Part(shared_labels, claims)
        if known is None:
            local_story, local_shared = _read_annotation(conn, article_id, story_id, annotator)
        else:
            local_story, local_shared = _Part({}), _Part({})
        story_outcome = _outcome(incoming_story, local_story, at)
        shared_outcome = _outcome(incoming_shared, local_shared, at)
        # A record new to this story makes its annotations row (an empty one, as export
        # leaves such rows out, makes none).
        created = local_story.at is None and not (incoming_story.empty and incoming_shared.empty)
        outcome = _combined((story_outcome, shared_outcome), created=created)
        if outcome not in _APPLIED:
            if known is not None:
                known.add(record, origin)
            return outcome
        changes: list[Change] = []
        key = {"article_id": article_id, "story_id": story_id, "annotator": annotator}
        after = {"note": local_story.note, "flagged": local_story.flagged}
        if story_outcome in _APPLIED:
            changes += _label_changes("labels", key, local_story.labels, incoming_story.labels)
            after = {"note": incoming_story.note, "flagged": incoming_story.flagged}
        if shared_outcome in _APPLIED:
            changes += _label_changes("labels", {**key, "story_id": ""}, local_shared.labels, incoming_shared.labels)
            changes += self._claim_changes(conn, local_shared.claims, claims, article_id, story_id, annotator, at, known)
        changes.append(Change("annotations", key, after))  # creates the row when it is missing
        if known is not None:  # the row is stamped with the record's time as it is written
            known.add(record, origin, (annotator, changes, at))
            return outcome
        self.store.commit_loaded(conn, annotator, changes, [(story_id, article_id, annotator)], at=at)
        # commit_loaded stamps updated_at only when a row changed; the record's time must
        # hold either way, so that a second export gives the same bytes.
        conn.execute("UPDATE annotations SET updated_at = ? WHERE article_id = ? AND story_id = ? AND annotator = ?",
                     (at, article_id, story_id, annotator))
        return outcome

    def _claim_changes(self, conn: sqlite3.Connection, local: dict[str, _Claim], incoming: dict[str, _Claim],
                       article_id: str, story_id: str, annotator: str, at: str, known: _Known | None) -> list[Change]:
        """Replace an annotator's claims of an article (and their labels) by the record's,
        creating or rewording the clusters they name."""
        changes: list[Change] = []
        for claim_id, claim in local.items():
            if claim_id not in incoming:
                changes += [Change("claim_labels", {"claim_id": claim_id, "field": f}, None) for f in claim.labels]
                changes.append(Change("claims", {"id": claim_id}, None))
        changes += _cluster_changes(_cluster_reader(conn, known), incoming.values(), story_id, annotator, at)
        for claim_id, claim in incoming.items():
            after = {
                "article_id": article_id, "annotator": annotator, "start": claim.start, "end": claim.end,
                "exact": claim.exact, "prefix": claim.prefix, "suffix": claim.suffix, "cluster": claim.cluster,
            }
            if claim_id not in local:
                after["created_at"] = at
            changes.append(Change("claims", {"id": claim_id}, after))
            old = local[claim_id].labels if claim_id in local else {}
            changes += _label_changes("claim_labels", {"claim_id": claim_id}, old, claim.labels)
        return changes

    # --- gold records -------------------------------------------------------------------

    def _apply_gold(self, conn: sqlite3.Connection, record: GoldRecord, origin: str) -> str:
        """Apply a gold record (a fresh one while `_fresh` is set: see _apply_batch)."""
        known = self._fresh
        provenance = record.gold
        for name, value in record.labels.items():
            self._check(name, value, "article", "labels")
            if name not in provenance:
                raise _Reject(f"gold label {name!r} has no provenance in \"gold\"")
        extra = provenance.keys() - record.labels.keys() - {"claims"}
        if extra:
            raise _Reject(f"\"gold\" names {', '.join(sorted(extra))} but \"labels\" has no such gold label")
        if any(_claim_gold(claim) is None for claim in record.claims) and "claims" not in provenance:
            raise _Reject('gold claims need their provenance under "gold": {"claims": {...}}')
        text = self._article_text(conn, record, origin, need_text=bool(record.claims), known=known)
        article_id, story_id = record.article.id, record.story.id
        labels = {}
        for name, value in record.labels.items():
            p = provenance[name]
            labels[name] = (value, p.by, sanitize_text(p.reason), p.at)
        claims = {}
        if record.claims:
            # A claim's own source when it has one (exports since sources were named), else
            # the record's "claims" entry, as files written before that have it.
            sources = {claim.id: _claim_gold(claim) or provenance["claims"] for claim in record.claims}
            claims = {cid: (claim, sources[cid].by, sanitize_text(sources[cid].reason), sources[cid].at)
                      for cid, claim in self._claims(conn, text, record).items()}
        if known is None:
            self._check_claim_ids(conn, "gold_claims", claims, article_id, None)
        story_labels, shared_labels = self._split(labels)
        incoming_story, incoming_shared = _Part(story_labels), _Part(shared_labels, claims)
        if known is None:
            local_story, local_shared = _read_gold(conn, article_id, story_id)
        else:
            local_story, local_shared = _Part({}), _Part({})
        # Each part is as new as its latest decision (the record's time when it has none).
        outcomes = {part: _outcome(incoming, local, _latest(incoming) or record.updated_at)
                    for part, incoming, local in (("story", incoming_story, local_story),
                                                  ("shared", incoming_shared, local_shared))}
        outcome = _combined(outcomes.values(), created=False)
        if outcome not in _APPLIED:
            if known is not None:
                known.add(record, origin)
            return outcome
        changes: list[Change] = []
        applied: list[tuple[str, str]] = []  # the (at, by) of every decision written
        for part, scope, incoming, local in (("story", story_id, incoming_story, local_story),
                                             ("shared", "", incoming_shared, local_shared)):
            if outcomes[part] not in _APPLIED:
                continue
            key = {"article_id": article_id, "story_id": scope}
            for name in local.labels.keys() - incoming.labels.keys():
                changes.append(Change("gold", {**key, "field": name}, None))
            for name, (value, by, reason, at) in incoming.labels.items():
                changes.append(Change("gold", {**key, "field": name}, {"value": value, "by": by, "reason": reason, "at": at}))
                applied.append((at, by))
        if outcomes["shared"] in _APPLIED:
            for claim_id in local_shared.claims.keys() - claims.keys():
                changes.append(Change("gold_claims", {"id": claim_id}, None))
            if claims:
                _, by, _, at = next(iter(claims.values()))
                changes += _cluster_changes(_cluster_reader(conn, known), [c for c, *_ in claims.values()], story_id, by, at)
            for claim_id, (claim, by, reason, at) in claims.items():
                changes.append(Change("gold_claims", {"id": claim_id}, {
                    "article_id": article_id, "start": claim.start, "end": claim.end, "exact": claim.exact,
                    "prefix": claim.prefix, "suffix": claim.suffix, "labels": self._labels_json(claim.labels),
                    "cluster": claim.cluster, "by": by, "reason": reason, "at": at,
                }))
                applied.append((at, by))
        # The event log names the person behind the latest decision written.
        who = max(applied, key=lambda d: instant(d[0]))[1] if applied else "load"
        if known is not None:
            known.add(record, origin, (who, changes, record.updated_at))
            return outcome
        self.store.commit_loaded(conn, who, changes, (), at=record.updated_at)
        return outcome

    # --- shared checks ------------------------------------------------------------------

    def _split(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Values of story-scoped fields, and of article-scoped ones."""
        story = {name: value for name, value in values.items() if name in self.story_fields}
        return story, {name: value for name, value in values.items() if name not in story}

    def _check(self, name: str, value: str, level: str, where: str) -> None:
        if (name, value, level) in self._valid:
            return
        why = self.scheme.check_value(name, value, level)  # type: ignore[arg-type]
        if why:
            raise _Reject(f"{where}: {why}")
        self._valid.add((name, value, level))

    def _article_text(self, conn: sqlite3.Connection, record: AnyRecord, origin: str, *, need_text: bool,
                      known: _Known | None = None) -> str | None:
        """Make sure the record's story and article are in the database (creating them from
        the record when missing) and the article is in the story; return the article's
        text when claims need it. With `known`, they are checked against the batch's reads
        and written with the record (`_Known.add`)."""
        article, story = record.article, record.story
        if isinstance(article, ExportArticleV1) and article.story_id != story.id:
            raise _Reject(f"article.story_id {article.story_id!r} differs from story.id {story.id!r}")
        if (article.text is not None and type(article) is not _ReadArticle
                and self._verified.get(article.id) != (article.text_sha256, article.text)):
            problem = _text_problem(article)
            if problem:
                raise _Reject(problem)
            # The next records of the same article (one per annotator or story) skip this.
            self._remember_text(article.id, article.text_sha256, article.text)
        if known is not None:
            stored, hidden = known.article(article.id)
        else:
            row = conn.execute("SELECT text_sha256 FROM articles WHERE id = ?", (article.id,)).fetchone()
            stored = None if row is None else row[0]
            hidden = row is not None and conn.execute(
                f"SELECT 1 FROM main.articles m WHERE m.id = ? AND NOT {visible('m')}", (article.id,)).fetchone() is not None
        if hidden:
            # Still hidden: its labels would be lost with it if that import failed.
            raise _Reject(f"article {article.id} is being imported by another process; load this again when it has finished")
        if stored is not None and stored != article.text_sha256:
            raise _Reject(f"article {article.id}: text_sha256 differs from the database's article")
        if stored is None and article.text is None:
            raise _Reject(f"article {article.id} is not in the database and the record has no text (exported with --no-text)")
        if known is not None:
            return (article.text if article.text is not None else known.text(article.id)) if need_text else None
        if conn.execute("SELECT 1 FROM stories WHERE id = ?", (story.id,)).fetchone() is None:
            self.store.ensure_story(conn, _new_story(record))
            self.report.stories_created += 1
        if stored is None:
            # Its first story is the record's (its home story); insert_articles adds the membership.
            self.store.insert_articles(conn, [_new_article(record, origin)])
            self.report.articles_created += 1
        else:
            self.store.add_to_stories(conn, [(story.id, article.id)])
        self.note_member(story.id, article.id)
        if not need_text:
            return None
        return article.text if article.text is not None else conn.execute(
            "SELECT text FROM articles WHERE id = ?", (article.id,)).fetchone()[0]

    def _remember_text(self, article_id: str, digest: str, text: str) -> None:
        """Note an article text found sound (`_text_problem`): its next records skip the check."""
        if self._verified_chars + len(text) > VERIFIED_CHARS:
            self._verified, self._verified_chars = {}, 0
        self._verified[article_id] = (digest, text)
        self._verified_chars += len(text)

    def note_member(self, story_id: str, article_id: str) -> None:
        """Note for the file's shadow that a record reads `article_id` in `story_id`."""
        if self._shadow is not None:
            self._shadow.note_member(story_id, article_id)

    def _claims(self, conn: sqlite3.Connection, text: str | None, record: AnyRecord) -> dict[str, _Claim]:
        """The record's claims, re-anchored in the text. A version-1 claim carries no
        cluster wording: it keeps the cluster's (or, for a new cluster, its own text)."""
        found: dict[str, _Claim] = {}
        for index, claim in enumerate(record.claims):
            where = f"claims[{index}]"
            if claim.id in found:
                raise _Reject(f"{where}: claim id {claim.id!r} appears twice")
            for name, value in claim.labels.items():
                self._check(name, value, "claim", f"{where}.labels")
            assert text is not None  # _article_text returns the text when there are claims
            span = anchor(text, claim.start, claim.end, claim.exact, claim.prefix, claim.suffix)
            if span is None:
                raise _Reject(
                    f"{where}: text[{claim.start}:{claim.end}] is not {_clip(claim.exact)!r} "
                    "and that text is nowhere else in the article"
                )
            start, end = span
            exact, prefix, suffix = claim_context(text, start, end)
            if isinstance(claim, ExportClaim):
                wording = claim.cluster_wording
            elif claim.cluster is None:
                wording = None
            else:
                row = conn.execute("SELECT label FROM clusters WHERE id = ?", (claim.cluster,)).fetchone()
                wording = row[0] if row else exact[:CLUSTER_WORDING_CHARS]
            found[claim.id] = _Claim(start, end, exact, prefix, suffix, dict(claim.labels), claim.cluster, wording)
        return found

    @staticmethod
    def _check_claim_ids(
        conn: sqlite3.Connection, table: str, claims: dict[str, Any], article_id: str, annotator: str | None
    ) -> None:
        for claim_id in claims:
            if table == "claims":
                row = conn.execute("SELECT article_id, annotator FROM claims WHERE id = ?", (claim_id,)).fetchone()
                clash = row is not None and (row[0], row[1]) != (article_id, annotator)
            else:
                row = conn.execute("SELECT article_id FROM gold_claims WHERE id = ?", (claim_id,)).fetchone()
                clash = row is not None and row[0] != article_id
            if clash:
                raise _Reject(f"claim id {claim_id!r} already belongs to another article or annotator here")

    @staticmethod
    def _labels_json(labels: dict[str, str]) -> str:
        # Sorted by field name, as Store.set_gold_claim stores them (export reorders).
        return orjson.dumps(dict(sorted(labels.items()))).decode()


def _text_problem(article: Any) -> str | None:
    """Why a record's article text cannot be loaded as it is (None: it is sound): its hash,
    its id, or text that newsmark import would have cleaned."""
    text = article.text
    digest = text_sha256(text)
    if digest != article.text_sha256:
        return "article.text_sha256 is not the SHA-256 of article.text"
    if digest[:16] != article.id:
        return "article.id is not the first 16 hex digits of the SHA-256 of article.text"
    if sanitize_text(text) != text:
        return "article.text holds control characters or \\r, or is not NFC (newsmark import cleans such text)"
    return None


def _claim_gold(claim: Any) -> Any:
    """A gold record's claim's own source (a ClaimProvenance), or None if it has none."""
    return claim.gold if isinstance(claim, GoldExportClaim) else None


def _new_story(record: AnyRecord) -> Story:
    """The story a record creates when the database lacks it."""
    story = record.story
    return Story.model_construct(id=story.id, title=sanitize_inline(story.title) or "",
                                 proposition=sanitize_inline(story.proposition) or "", meta={})


def _new_article(record: AnyRecord, origin: str) -> tuple:
    """The article row (Store.ARTICLE_INSERT's order) a record creates when the database
    lacks its article; its first story (home story) is the record's."""
    article = record.article
    if type(article) is _ReadArticle:  # (sanitized by the reading process)
        return (article.id, record.story.id, article.source, article.url, article.title, article.byline,
                article.published, article.text, article.text_sha256, "{}", origin)
    return (article.id, record.story.id, sanitize_inline(article.source), sanitize_inline(article.url),
            sanitize_inline(article.title), sanitize_inline(article.byline), article.published,
            article.text, article.text_sha256, "{}", origin)


class _Known:
    """What the database holds of one batch's records, read with one query per table, and
    the writes of the batch's fresh records, made with one executemany per table.

    A record is fresh when nothing local can be compared with it: no annotations row,
    label or claim of its (article, annotator) (for gold: no gold of its article in its
    story, no shared gold of the article), none of its claim ids taken, and no earlier
    record of the batch on the same keys. A fresh record's outcome and rows follow from
    the record alone (and the article, story and clusters read here, kept up to date by
    the batch's own writes). Any other record is applied reading the database
    (`_Loader._apply_read`), after the writes held so far (`flush`)."""

    def __init__(self, loader: _Loader, conn: sqlite3.Connection, records: list[AnyRecord]) -> None:
        self.loader = loader
        self.store = loader.store
        self.conn = conn
        self.shadow = loader._shadow
        gold = [r for r in records if isinstance(r, GoldRecord)]
        notes = [r for r in records if not isinstance(r, GoldRecord)]
        articles = _keys_json({(r.article.id,) for r in records})
        self.articles: dict[str, tuple[str, bool]] = {
            article: (digest, bool(hidden)) for article, digest, hidden in conn.execute(
                f"SELECT t.id, t.text_sha256, EXISTS (SELECT 1 FROM main.articles m WHERE m.id = t.id AND NOT {visible('m')}) "
                f"FROM {_each_key('articles', ('id',))}", (articles,))}
        if self.shadow is not None:  # the file's new articles held apart (see _Shadow.unstage)
            held = self.shadow.fresh_articles
            self.articles.update((r.article.id, (held[r.article.id], False)) for r in records if r.article.id in held)
        self.texts: dict[str, str] = {}  # of articles created by this batch
        self.stories = {row[0] for row in conn.execute(
            f"SELECT t.id FROM {_each_key('stories', ('id',))}", (_keys_json({(r.story.id,) for r in records}),))}
        pairs = _keys_json({(r.article.id, r.annotator) for r in notes})
        self.busy: set[tuple[str, str | None]] = set()  # (article, annotator) held; gold: (article, story)
        self.gold_shared: set[str] = set()  # articles with article-scoped gold or gold claims
        if notes:
            if self.shadow is not None:  # rows of these may be held apart: read them after unstaging
                self.busy.update(self.shadow.earlier_pairs)
            self.busy.update(conn.execute(" UNION ".join(
                f"SELECT t.article_id, t.annotator FROM {_each_key(table, ('article_id', 'annotator'))}"
                for table in ("annotations", "labels", "claims")), (pairs, pairs, pairs)))
        if gold:
            gold_articles = _keys_json({(r.article.id,) for r in gold})
            for article, story in conn.execute(
                    f"SELECT DISTINCT t.article_id, t.story_id FROM {_each_key('gold', ('article_id',))}", (gold_articles,)):
                (self.busy.add((article, story)) if story else self.gold_shared.add(article))
            self.gold_shared.update(row[0] for row in conn.execute(
                f"SELECT DISTINCT t.article_id FROM {_each_key('gold_claims', ('article_id',))}", (gold_articles,)))
        self.claim_ids = self._ids("claims", {c.id for r in notes for c in r.claims})
        self.gold_claim_ids = self._ids("gold_claims", {c.id for r in gold for c in r.claims})
        self.clusters: dict[str, dict[str, Any] | None] = {}
        self._read_clusters({c.cluster for r in records for c in r.claims if c.cluster is not None})
        # Held writes, in the order of the records.
        self.new_stories: list[Story] = []
        self.new_articles: list[tuple] = []
        self.memberships: list[tuple[str, str]] = []
        self.joined: set[tuple[str, str]] = set()  # memberships the batch's records made (held or written)
        self.actions: list[LoadedAction] = []

    def _ids(self, table: str, ids: set[str]) -> set[str]:
        if not ids:
            return set()
        return {row[0] for row in self.conn.execute(
            f"SELECT t.id FROM {_each_key(table, ('id',))}", (_keys_json((i,) for i in ids),))}

    def _read_clusters(self, ids: set[str]) -> None:
        if not ids:
            return
        self.clusters.update(dict.fromkeys(ids))
        for cluster, story_id, label, by, at in self.conn.execute(
                f"SELECT t.id, t.story_id, t.label, t.created_by, t.created_at FROM {_each_key('clusters', ('id',))}",
                (_keys_json((i,) for i in ids),)):
            self.clusters[cluster] = {"story_id": story_id, "label": label, "created_by": by, "created_at": at}

    def fresh(self, record: AnyRecord) -> bool:
        """Whether the record is fresh (see the class)."""
        if isinstance(record, (AnnotationRecordV1, GoldRecordV1)) and any(c.cluster for c in record.claims):
            return False  # a version-1 claim takes its wording from the database's cluster
        if isinstance(record, GoldRecord):
            taken = self.gold_claim_ids
            if (record.article.id, record.story.id) in self.busy or record.article.id in self.gold_shared:
                return False
        else:
            taken = self.claim_ids
            if (record.article.id, record.annotator) in self.busy:
                return False
        return not any(claim.id in taken for claim in record.claims)

    def applied(self, record: AnyRecord) -> None:
        """Note that a record of the batch was applied (or tried): the next records on its
        keys are not fresh."""
        ids = [claim.id for claim in record.claims]
        if isinstance(record, GoldRecord):
            self.busy.add((record.article.id, record.story.id))
            if ids or any(name not in self.loader.story_fields for name in record.labels):
                self.gold_shared.add(record.article.id)
            self.gold_claim_ids.update(ids)
        else:
            self.busy.add((record.article.id, record.annotator))
            self.claim_ids.update(ids)

    def refresh(self, record: AnyRecord) -> None:
        """After a record applied reading the database: what it wrote of the article, story
        and clusters."""
        self.articles[record.article.id] = (record.article.text_sha256, False)
        self.stories.add(record.story.id)
        self._read_clusters({c.cluster for c in record.claims if c.cluster is not None})

    def article(self, article_id: str) -> tuple[str | None, bool]:
        """The stored article's text_sha256 (None: no such article) and whether it is hidden."""
        return self.articles.get(article_id, (None, False))

    def text(self, article_id: str) -> str:
        """The text of a stored article."""
        if article_id in self.texts:
            return self.texts[article_id]
        if self.shadow is not None and article_id in self.shadow.fresh_articles:
            return self.shadow.fresh_text(article_id)
        return self.conn.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()[0]

    def cluster_label(self, cluster: str) -> str | None | bool:
        """A cluster's label (False: no such cluster); see `_cluster_changes`."""
        row = self.clusters.get(cluster)
        return False if row is None else row["label"]

    def add(self, record: AnyRecord, origin: str,
            action: FreshAnnotation | tuple[str, list[Change], str] | None = None) -> None:
        """Hold a fresh record's writes: its story and article when missing, its membership,
        and its action: a FreshAnnotation, or (annotator, changes, at)."""
        article, story = record.article, record.story
        report = self.loader.report
        if story.id not in self.stories:
            self.stories.add(story.id)
            self.new_stories.append(_new_story(record))
            report.stories_created += 1
        if self.articles.get(article.id) is None:
            self.articles[article.id] = (article.text_sha256, False)
            self.texts[article.id] = article.text  # (a missing article comes with its text)
            self.new_articles.append(_new_article(record, origin))  # insert_articles adds the membership
            self.joined.add((story.id, article.id))
            report.articles_created += 1
        elif (story.id, article.id) not in self.joined:  # (the batch's other records of it add none)
            self.joined.add((story.id, article.id))
            self.memberships.append((story.id, article.id))
        self.loader.note_member(story.id, article.id)
        if action is None:
            return
        if isinstance(action, FreshAnnotation):
            self.actions.append(action)
            return
        annotator, changes, at = action
        if not changes:
            return
        written = []
        for change in changes:
            before = None
            if change.tbl == "clusters":  # the only rows a fresh record may find
                before = self.clusters.get(change.key["id"])
                self.clusters[change.key["id"]] = {**before, **change.after} if before else dict(change.after)
            written.append((change, before))
        self.actions.append((annotator, written, at))

    def flush(self) -> None:
        """Write the held writes."""
        conn = self.conn
        for story in self.new_stories:
            self.store.ensure_story(conn, story)
        if self.new_articles and self.shadow is not None:
            self.shadow.hold_articles(self.new_articles)
            self.store.add_to_stories(conn, [(row[1], row[0]) for row in self.new_articles])  # (home stories)
        elif self.new_articles:
            self.store.insert_articles(conn, self.new_articles)
        if self.memberships:
            self.store.add_to_stories(conn, self.memberships)
        if self.actions:
            if self.shadow is None:
                self.store.write_loaded(conn, self.actions)
            else:
                self.shadow.last_event = self.store.write_loaded(conn, self.actions, fresh_into=self.shadow.fresh_into,
                                                                 after_event=self.shadow.last_event)
                self.shadow.holding = True
        self.new_stories, self.new_articles, self.memberships, self.actions = [], [], [], []


# --- applying a file: all of it or none, the write lock held only to publish it ----------------

# Tables a load reads and writes, shadowed by TEMP tables of the same name while a file is
# applied, with the columns that key their rows.
_SHADOWED: dict[str, tuple[str, ...]] = {
    "stories": ("id",),
    "articles": ("id",),
    "story_articles": ("story_id", "article_id"),
    **{table: keys for table, (keys, _) in ANNOTATION_TABLES.items()},
}
FILE_ATTEMPTS = 3  # tries of a file; the last one holds the write lock throughout
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?", re.I)
_CREATE_INDEX = re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?", re.I)
_CREATE_UNIQUE = re.compile(r"^\s*CREATE\s+UNIQUE\s", re.I)
# Shadowed tables that loading reads only by their primary key (or a prefix of it): their
# other indexes, which would slow every row written (the bulk of a load), are not built.
_READ_BY_KEY = {"labels", "annotations"}
_WRITES = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}


def _no_main_writes(action: int, arg1: str | None, arg2: str | None, database: str | None, trigger: str | None) -> int:
    """An authorizer for applying a file into the shadow: a write to the store itself (a
    table the shadow does not cover) fails loudly instead of escaping the file's atomicity."""
    if action in _WRITES and database == "main" and arg1 != "sqlite_master":
        # (sqlite_master: json_each's first use on a connection declares its table.)
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class _Conflict(Exception):
    """Someone changed a row the file read while it was applied: apply it again."""


class _Shadow:
    """A file's changes, made out of the write lock and published in one transaction.

    While a file is applied, TEMP tables named like the store's own (stories, articles,
    labels, ..., events) shadow them on the loader's connection: every read and write of
    the unchanged loading code (`_apply_*`, `Store._commit`) goes to them. Before each
    batch, the main rows its records can read are copied in ("seeded": once per key and
    file, so a row changed or deleted by an earlier batch is never brought back). Triggers
    note every row the file changes. Nothing of this takes the database's write lock or
    is visible to another connection, and a killed process leaves nothing behind (TEMP
    tables go with the connection).

    `publish` then, in one short transaction: checks that nobody changed a seeded row
    meanwhile (the events logged since the file began name every change an annotator or
    another load made; imports add articles only, which INSERT OR IGNORE settles), and
    copies the changed rows and the file's events (renumbered after any events logged
    meanwhile) into the store. With `locked`, the write lock is held from `open` to
    `publish` (the last resort after conflicts)."""

    def __init__(self, store: Store, *, locked: bool = False) -> None:
        self.store = store
        self.conn = store.conn
        self.locked = locked
        self.mark = 0
        self._journal: str | None = None  # the temp database's journal mode before open()
        self._cache: int | None = None  # and its cache size, when open() changed it
        # Each story's articles in the order the file's records name them (see _file_order).
        self.members: dict[str, list[str]] = {}
        # Fresh records' new rows are held apart (see unstage): the articles' ids and hashes,
        # whether any rows are held, and where write_loaded appends their labels and notes.
        self.fresh_articles: dict[str, str] = {}
        self.holding = False
        self.fresh_into = {table: f"temp.newsmark_fresh_{table}" for table in _FRESH_COLUMNS}
        self.earlier_pairs: set[tuple[str, str]] = set()  # the batch's (article, annotator) met before it
        self.last_event = 0  # the last event id given (held rows' events are not in temp.events yet)

    def note_member(self, story_id: str, article_id: str) -> None:
        """Note that a record of the file reads `article_id` in `story_id`."""
        sequence = self.members.setdefault(story_id, [])
        if not sequence or sequence[-1] != article_id:
            sequence.append(article_id)

    # --- setting up and tearing down -------------------------------------------------------

    def open(self, size_hint: int = 0) -> None:
        """Create the shadow tables, for a file of about `size_hint` bytes: in memory up to
        Store.STAGE_MEMORY_BYTES of it (its shadow rows take a few times its size)."""
        conn = self.conn
        self.close()
        # (Changing temp_store drops this connection's TEMP objects; close() left none.)
        in_memory = size_hint * 3 <= Store.STAGE_MEMORY_BYTES
        conn.execute(f"PRAGMA temp_store = {'MEMORY' if in_memory else 'FILE'}")
        # The shadow's rollback journal (a batch's, a rejected record's savepoint) in memory:
        # it holds only the pages a batch changes that existed before it, and on a file
        # shadow it would double the temp file's writes. (close() puts the default back.)
        self._journal = conn.execute("PRAGMA temp.journal_mode").fetchone()[0]
        conn.execute("PRAGMA temp.journal_mode = MEMORY")
        if not in_memory:
            # A file shadow keeps up to the same budget of its pages cached: rows go into its
            # keyed tables and indexes all over them (article ids are random), not at the end.
            self._cache = conn.execute("PRAGMA temp.cache_size").fetchone()[0]
            conn.execute(f"PRAGMA temp.cache_size = {-(Store.STAGE_MEMORY_BYTES // 1024)}")
        if self.locked:
            self.store.begin_bulk_write()
        ddl = dict(conn.execute(
            "SELECT name, sql FROM main.sqlite_master WHERE type = 'table' AND name IN (%s)"
            % ",".join("?" * (len(_SHADOWED) + 1)), [*_SHADOWED, "events"]).fetchall())
        for table in [*_SHADOWED, "events"]:
            temp_ddl, found = _CREATE_TABLE.subn("CREATE TEMP TABLE ", ddl[table], count=1)
            if not found:
                raise RuntimeError(f"cannot shadow table {table}: {ddl[table][:80]}")
            conn.execute(temp_ddl)
        for table, sql in conn.execute(
            "SELECT tbl_name, sql FROM main.sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (%s)"
            % ",".join("?" * len(_SHADOWED)), list(_SHADOWED)).fetchall():
            if table in _READ_BY_KEY and not _CREATE_UNIQUE.match(sql):
                continue
            conn.execute(_CREATE_INDEX.sub(r"\g<0>temp.", sql, count=1))
        conn.execute("CREATE TEMP TABLE newsmark_load_state (tracking INTEGER NOT NULL)")
        conn.execute("INSERT INTO temp.newsmark_load_state VALUES (0)")
        for table, keys in _SHADOWED.items():
            cols = ", ".join(f'"{k}"' for k in keys)
            # Not unique: the outer statement's conflict policy (an upsert) would override a
            # trigger's INSERT OR IGNORE; the readers of these tables do not mind repeats.
            # (Its index is built once the file is applied, in _prepare: kept up to date row by
            # row it would cost as much as the shadow table's own.)
            conn.execute(f"CREATE TEMP TABLE newsmark_dirty_{table} ({cols})")
            for when, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                values = ", ".join(f'{row}."{k}"' for k in keys)
                conn.execute(
                    f"CREATE TEMP TRIGGER newsmark_dirty_{table}_{when.lower()} AFTER {when} ON {table} "
                    f"WHEN (SELECT tracking FROM newsmark_load_state) "  # (a trigger names no schema)
                    f"BEGIN INSERT INTO newsmark_dirty_{table} VALUES ({values}); END"
                )
        for name, cols in _SEEDED.items():
            conn.execute(f"CREATE TEMP TABLE newsmark_seeded_{name} ({cols}, PRIMARY KEY ({cols})) WITHOUT ROWID")
        article_cols = ", ".join("id TEXT PRIMARY KEY" if c == "id" else c for c in _ARTICLE_COLUMNS.split(", "))
        conn.execute(f"CREATE TEMP TABLE newsmark_fresh_articles ({article_cols})")
        for table, cols in Store.FRESH_COLUMNS.items():
            conn.execute(f"CREATE TEMP TABLE newsmark_fresh_{table} ({', '.join(cols)})")
        # The file's events follow the store's: ids from the store's sequence on.
        row = conn.execute("SELECT seq FROM main.sqlite_sequence WHERE name = 'events'").fetchone()
        self.mark = max(row[0] if row else 0,
                        conn.execute("SELECT coalesce(max(id), 0) FROM main.events").fetchone()[0])
        conn.execute("DELETE FROM temp.sqlite_sequence WHERE name = 'events'")
        conn.execute("INSERT INTO temp.sqlite_sequence (name, seq) VALUES ('events', ?)", (self.mark,))

    def close(self) -> None:
        """Drop the shadow tables (and their triggers and indexes with them)."""
        conn = self.conn
        if self.locked and conn.in_transaction:
            conn.execute("ROLLBACK")
        names = [row[0] for row in conn.execute(
            "SELECT name FROM temp.sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'")]
        if (not conn.in_transaction and conn.execute("PRAGMA temp_store").fetchone()[0] != 0
                and not any(name.startswith("newsmark_staged") for name in names)):
            # Leaving the temp_store open() chose discards the whole temp database at once,
            # far cheaper than dropping its tables one by one (freeing every page of them).
            conn.execute("PRAGMA temp_store = DEFAULT")
            names = []
        for name in names:
            if name in _SHADOWED or name == "events" or name.startswith("newsmark_"):
                if name.startswith("newsmark_staged"):
                    continue  # an import's staging table, not ours
                conn.execute(f"DROP TABLE temp.{name}")
        conn.execute("PRAGMA temp_store = DEFAULT")
        if self._journal is not None:
            conn.execute(f"PRAGMA temp.journal_mode = {self._journal}")
            self._journal = None
        if self._cache is not None:
            conn.execute(f"PRAGMA temp.cache_size = {int(self._cache)}")
            self._cache = None

    # --- one batch ------------------------------------------------------------------------

    @contextmanager
    def batch(self, records: list[AnyRecord]) -> Iterator[sqlite3.Connection]:
        """Seed the rows these records can read, then apply them (in the temp database's
        own transaction, or the locked one), noting every row changed."""
        conn = self.conn
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            self._seed(records)
            conn.execute("UPDATE temp.newsmark_load_state SET tracking = 1")
            conn.set_authorizer(_no_main_writes)
            try:
                yield conn
            finally:
                conn.set_authorizer(None)
            conn.execute("UPDATE temp.newsmark_load_state SET tracking = 0")
        except BaseException:
            if own and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if own:
            conn.execute("COMMIT")

    def _seed(self, records: list[AnyRecord]) -> None:
        articles, stories, pairs, claims, gold, gold_claims, clusters = set(), set(), set(), set(), set(), set(), set()
        for record in records:
            article_id = record.article.id
            articles.add(article_id)
            stories.add(record.story.id)
            ids = {claim.id for claim in record.claims}
            clusters.update(claim.cluster for claim in record.claims if claim.cluster is not None)
            if isinstance(record, GoldRecord):
                gold.add((article_id,))
                gold_claims.update(ids)
            else:
                pairs.add((article_id, record.annotator))
                claims.update(ids)
        conn = self.conn
        # Claims: those named by the records, and the local claims of their (article,
        # annotator) pairs (read before the pairs are marked as seeded).
        new_pairs = self._new("pairs", pairs)
        self.earlier_pairs = pairs.difference(new_pairs)
        local = set(conn.execute(f"SELECT t.id, t.cluster FROM {_each_key('main.claims', ('article_id', 'annotator'))}",
                                 (_keys_json(new_pairs),)))
        clusters.update(cluster for _, cluster in local if cluster is not None)  # their wording is compared
        claims = self._new("claims", {(c,) for c in claims} | {(c,) for c, _ in local})
        self._copy("claims", "id", claims)
        self._copy("claim_labels", "claim_id", claims)
        self._mark("claims", claims)
        self._mark("pairs", new_pairs)
        for table in ("labels", "annotations"):
            self._copy(table, ("article_id", "annotator"), new_pairs)
        self._copy("articles", "id", self._mark("articles", self._new("articles", {(a,) for a in articles})))
        self._copy("stories", "id", self._mark("stories", self._new("stories", {(s,) for s in stories})))
        new_gold = self._mark("gold", self._new("gold", gold))
        self._copy("gold", "article_id", new_gold)
        local = set(conn.execute(f"SELECT t.id, t.cluster FROM {_each_key('main.gold_claims', ('article_id',))}",
                                 (_keys_json(new_gold),)))
        clusters.update(cluster for _, cluster in local if cluster is not None)
        gold_ids = self._new("gold_claims", {(c,) for c in gold_claims} | {(c,) for c, _ in local})
        self._copy("gold_claims", "id", self._mark("gold_claims", gold_ids))
        self._copy("clusters", "id", self._mark("clusters", self._new("clusters", {(c,) for c in clusters})))

    def _new(self, name: str, keys: set[tuple]) -> list[tuple]:
        """The keys not seeded yet."""
        if not keys:
            return []
        cols = _SEEDED[name].split(", ")
        taken = " AND ".join(f"s.{c} = j.value ->> {i}" for i, c in enumerate(cols))
        picked = ", ".join(f"j.value ->> {i}" for i in range(len(cols)))
        # (In the keys' sorted order: json_each reads the array in order.)
        return self.conn.execute(
            f"SELECT {picked} FROM json_each(?) AS j WHERE NOT EXISTS "
            f"(SELECT 1 FROM temp.newsmark_seeded_{name} AS s WHERE {taken})", (_keys_json(keys),)).fetchall()

    def _mark(self, name: str, keys: list[tuple]) -> list[tuple]:
        if keys:
            picked = ", ".join(f"j.value ->> {i}" for i in range(len(_SEEDED[name].split(", "))))
            self.conn.execute(f"INSERT OR IGNORE INTO temp.newsmark_seeded_{name} SELECT {picked} FROM json_each(?) AS j",
                              (_keys_json(keys),))
        return keys

    def _copy(self, table: str, cols: str | tuple[str, ...], keys: list[tuple]) -> None:
        """Copy the main rows with these keys into the shadow table."""
        if not keys:
            return
        cols = (cols,) if isinstance(cols, str) else cols
        self.conn.execute(f"INSERT OR IGNORE INTO temp.{table} SELECT t.* FROM {_each_key(f'main.{table}', cols)}",
                          (_keys_json(keys),))

    # --- fresh rows, held apart -----------------------------------------------------------
    # Most records of a file are fresh (nothing local on their keys: _Known): their new
    # articles, labels and annotations rows are appended to plain tables, without the
    # shadow tables' keys, upserts and change triggers, and published from there. A record
    # that reads the database first has them moved into the shadow tables (unstage), as
    # has a record of a pair met in an earlier batch (earlier_pairs: busy for _Known).

    def hold_articles(self, rows: list[tuple]) -> None:
        """Append new article rows (Store.ARTICLE_INSERT's order)."""
        self.conn.executemany(f"INSERT INTO temp.newsmark_fresh_articles VALUES ({', '.join('?' * len(rows[0]))})", rows)
        self.fresh_articles.update((row[0], row[8]) for row in rows)
        self.holding = True

    def fresh_text(self, article_id: str) -> str:
        """The text of an article held apart."""
        return self.conn.execute("SELECT text FROM temp.newsmark_fresh_articles WHERE id = ?", (article_id,)).fetchone()[0]

    def unstage(self) -> None:
        """Move the rows held apart into the shadow tables (noted as changed there)."""
        if not self.holding:
            return
        conn = self.conn
        tracking = conn.execute("SELECT tracking FROM temp.newsmark_load_state").fetchone()[0]
        if not tracking:
            conn.execute("UPDATE temp.newsmark_load_state SET tracking = 1")
        conn.execute(f"INSERT OR IGNORE INTO temp.articles ({_ARTICLE_COLUMNS}) "
                     f"SELECT {_ARTICLE_COLUMNS} FROM temp.newsmark_fresh_articles ORDER BY rowid")
        conn.execute("DELETE FROM temp.newsmark_fresh_articles")
        for table, cols in _FRESH_COLUMNS.items():
            conn.execute(f"INSERT OR REPLACE INTO temp.{table} ({cols}) SELECT {cols} FROM temp.newsmark_fresh_{table}")
        self._log_held_events()
        for table in _FRESH_COLUMNS:
            conn.execute(f"DELETE FROM temp.newsmark_fresh_{table}")
        if not tracking:
            conn.execute("UPDATE temp.newsmark_load_state SET tracking = 0")
        self.fresh_articles.clear()
        self.holding = False

    def _log_held_events(self) -> None:
        """Write the held rows' events (made from the rows: Store.fresh_events_select) into
        the shadow's log, in the order of their ids."""
        for table in _FRESH_COLUMNS:
            self.conn.execute(f"INSERT INTO temp.events ({_EVENT_COLUMNS}) "
                              f"{Store.fresh_events_select(table, f'temp.newsmark_fresh_{table}')} ORDER BY rowid", (0,))

    # --- publishing -----------------------------------------------------------------------

    def publish(self) -> bool:
        """Copy the file's changes and events into the store in one transaction; False (and
        nothing written) when someone changed a row the file read, since it began."""
        conn = self.conn
        self._prepare()
        if self.locked:
            self._write()
            conn.execute("COMMIT")
            return True
        try:
            with self.store.transaction(bulk=True):
                if self._conflict():
                    raise _Conflict
                self._write()
        except _Conflict:
            return False
        return True

    def _prepare(self) -> None:
        """Out of the lock: gather what publishing writes, in the order the store's tables
        keep their keys (the articles and memberships it made; the keys it deleted), so that
        the locked part is mostly plain appends."""
        conn = self.conn
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        for table, keys in _SHADOWED.items():
            cols = ", ".join(f'"{k}"' for k in keys)
            conn.execute(f"CREATE INDEX temp.newsmark_dirty_{table}_keys ON newsmark_dirty_{table} ({cols})")
        conn.execute("CREATE TEMP TABLE newsmark_out_stories AS SELECT * FROM temp.stories "
                     "WHERE id IN (SELECT id FROM temp.newsmark_dirty_stories) ORDER BY id")
        conn.execute("CREATE TEMP TABLE newsmark_article_rank (id TEXT PRIMARY KEY, rank INTEGER NOT NULL)")
        created = {row[0] for row in conn.execute("SELECT id FROM temp.newsmark_dirty_articles")}
        if created and self.fresh_articles:
            self.unstage()  # new articles both ways: ordered together in the shadow table
            created = {row[0] for row in conn.execute("SELECT id FROM temp.newsmark_dirty_articles")}
        created.update(self.fresh_articles)
        conn.executemany("INSERT INTO temp.newsmark_article_rank VALUES (?, ?)",
                         [(article, rank) for rank, article in enumerate(_file_order(self.members, created))])
        # The ids alone, in the order they are published (_write reads each row by its id):
        # the texts are not copied once more.
        if self.fresh_articles:
            conn.execute("CREATE TEMP TABLE newsmark_out_articles AS SELECT id FROM temp.newsmark_fresh_articles a "
                         "ORDER BY (SELECT r.rank FROM temp.newsmark_article_rank r WHERE r.id = a.id), rowid")
        else:
            conn.execute("CREATE TEMP TABLE newsmark_out_articles AS SELECT id FROM temp.articles a "
                         "WHERE id IN (SELECT id FROM temp.newsmark_dirty_articles) "
                         "ORDER BY (SELECT r.rank FROM temp.newsmark_article_rank r WHERE r.id = a.id), seq")
        # The rows held apart, sorted by key, and their events made, here: the locked part
        # then copies them in order (a sort or 100,000s of JSON objects under the lock would
        # hold an analyst's keystroke for seconds).
        self._log_held_events()
        for table, row_cols in _FRESH_COLUMNS.items():
            key_cols = ", ".join(f'"{k}"' for k in ANNOTATION_TABLES[table][0])
            conn.execute(f"CREATE TEMP TABLE newsmark_out_{table} AS SELECT {row_cols} "
                         f"FROM temp.newsmark_fresh_{table} ORDER BY {key_cols}")
        conn.execute("CREATE TEMP TABLE newsmark_out_story_articles AS SELECT story_id, article_id "
                     "FROM temp.newsmark_dirty_story_articles")
        for table, (keys, _) in ANNOTATION_TABLES.items():
            key_cols = ", ".join(f'"{k}"' for k in keys)
            same = " AND ".join(f't."{k}" = d."{k}"' for k in keys)
            conn.execute(f"CREATE TEMP TABLE newsmark_gone_{table} AS SELECT DISTINCT {key_cols} "
                         f"FROM temp.newsmark_dirty_{table} AS d "
                         f"WHERE NOT EXISTS (SELECT 1 FROM temp.{table} AS t WHERE {same})")
        if own:
            conn.execute("COMMIT")

    def _conflict(self) -> bool:
        conn = self.conn
        rows = conn.execute("SELECT action, tbl, key, before, after FROM main.events WHERE id > ?", (self.mark,)).fetchall()
        for action, tbl, key, before, after in rows:
            if tbl == "events":  # an undo or redo: the rows of the action it replayed
                replayed = conn.execute(
                    "SELECT tbl, key, before, after FROM main.events WHERE action = ? AND tbl != 'events'",
                    (orjson.loads(key).get("action"),)).fetchall()
            else:
                replayed = [(tbl, key, before, after)]
            for tbl, key, before, after in replayed:
                if self._touches(tbl, orjson.loads(key), [orjson.loads(v) for v in (before, after) if v]):
                    return True
        return False

    def _touches(self, tbl: str, key: dict, values: list[dict]) -> bool:
        def seen(name: str, *key_values: Any) -> bool:
            cols = _SEEDED[name].split(", ")
            where = " AND ".join(f"{c} = ?" for c in cols)
            return self.conn.execute(f"SELECT 1 FROM temp.newsmark_seeded_{name} WHERE {where}", key_values).fetchone() is not None

        def dirty(table: str) -> bool:
            keys = _SHADOWED[table]
            if any(k not in key for k in keys):
                return False
            where = " AND ".join(f'"{k}" = ?' for k in keys)
            return self.conn.execute(f"SELECT 1 FROM temp.newsmark_dirty_{table} WHERE {where}",
                                     [key[k] for k in keys]).fetchone() is not None

        if tbl in ("labels", "annotations"):
            return seen("pairs", key.get("article_id"), key.get("annotator")) or dirty(tbl)
        if tbl == "claims":
            pairs = [seen("pairs", v.get("article_id"), v.get("annotator")) for v in values]
            return seen("claims", key.get("id")) or dirty(tbl) or any(pairs)
        if tbl == "claim_labels":
            return seen("claims", key.get("claim_id")) or dirty(tbl)
        if tbl == "clusters":
            return seen("clusters", key.get("id")) or dirty(tbl)
        if tbl == "gold":
            return seen("gold", key.get("article_id")) or dirty(tbl)
        if tbl == "gold_claims":
            return (seen("gold_claims", key.get("id")) or dirty(tbl)
                    or any(seen("gold", v.get("article_id")) for v in values))
        return False

    def _write(self) -> None:
        conn = self.conn
        conn.execute("INSERT OR IGNORE INTO main.stories SELECT * FROM temp.newsmark_out_stories")
        cols = Store.ARTICLE_COPY_COLUMNS
        picked = ", ".join(f"a.{c.strip()}" for c in cols.split(","))
        source = "temp.newsmark_fresh_articles" if self.fresh_articles else "temp.articles"
        conn.execute(f"INSERT OR IGNORE INTO main.articles ({cols}) SELECT {picked} FROM temp.newsmark_out_articles o "
                     f"CROSS JOIN {source} a ON a.id = o.id ORDER BY o.rowid")
        conn.execute("INSERT OR IGNORE INTO main.story_articles (story_id, article_id) "
                     "SELECT story_id, article_id FROM temp.newsmark_out_story_articles")
        for table, (keys, _) in ANNOTATION_TABLES.items():
            key_cols = ", ".join(f'"{k}"' for k in keys)
            if conn.execute(f"SELECT 1 FROM temp.newsmark_gone_{table} LIMIT 1").fetchone():
                conn.execute(f"DELETE FROM main.{table} WHERE ({key_cols}) IN "
                             f"(SELECT {key_cols} FROM temp.newsmark_gone_{table})")
            # The rows the file left changed, read in key order from the shadow table itself
            # (a copy made out of the lock would cost more than the lookups it saves here).
            same = " AND ".join(f'd."{k}" = t."{k}"' for k in keys)
            conn.execute(f"INSERT OR REPLACE INTO main.{table} SELECT * FROM temp.{table} AS t WHERE EXISTS "
                         f"(SELECT 1 FROM temp.newsmark_dirty_{table} AS d WHERE {same}) ORDER BY {key_cols}")
            if table in _FRESH_COLUMNS:  # and the fresh rows held apart (none of them among those), sorted
                cols = _FRESH_COLUMNS[table]
                conn.execute(f"INSERT OR REPLACE INTO main.{table} ({cols}) SELECT {cols} "
                             f"FROM temp.newsmark_out_{table} ORDER BY rowid")
        now = conn.execute("SELECT coalesce(max(id), 0) FROM main.events").fetchone()[0]
        row = conn.execute("SELECT seq FROM main.sqlite_sequence WHERE name = 'events'").fetchone()
        shift = max(now, row[0] if row else 0) - self.mark
        conn.execute(
            "INSERT INTO main.events (id, action, at, annotator, op, tbl, key, before, after, undoable, undone) "
            "SELECT id + ?, action + ?, at, annotator, op, tbl, key, before, after, undoable, undone "
            "FROM temp.events WHERE id > ? ORDER BY id", (shift, shift, self.mark))


def _file_order(members: dict[str, list[str]], created: set[str]) -> list[str]:
    """The articles a file created, in an order that keeps each story's order in the file.

    An export lists each story's articles in import order, so creating them in an order
    that agrees with every story's (a topological order; several stories per article make
    the file's own order unfit) makes export -> load -> export give the same bytes. Ties,
    and contradictions (files joined in different orders), go by first appearance.
    """
    first: dict[str, int] = {}
    follows: dict[str, set[str]] = {article: set() for article in created}
    waiting = dict.fromkeys(created, 0)
    for sequence in members.values():
        previous = None
        for article in sequence:
            if article not in created:
                continue
            first.setdefault(article, len(first))
            if previous is not None and previous != article and article not in follows[previous]:
                follows[previous].add(article)
                waiting[article] += 1
            previous = article
    unseen = len(first)
    rank = {article: first.get(article, unseen) for article in created}
    ready = [(rank[a], a) for a, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while waiting:
        if ready:
            _, article = heapq.heappop(ready)
        else:  # a cycle: the earliest seen goes first
            article = min(waiting, key=lambda a: (rank[a], a))
        del waiting[article]
        order.append(article)
        for later in follows[article]:
            if later in waiting:
                waiting[later] -= 1
                if waiting[later] == 0:
                    heapq.heappush(ready, (rank[later], later))
    return order


# The tables whose fresh rows are held apart (_Shadow.unstage), with their columns.
_FRESH_COLUMNS = {table: ", ".join(f'"{c}"' for c in cols[:-2]) for table, cols in Store.FRESH_COLUMNS.items()}
_EVENT_COLUMNS = "id, action, at, annotator, op, tbl, key, before, after, undoable, undone"
_ARTICLE_COLUMNS = Store.ARTICLE_COPY_COLUMNS

# Keys seeded into the shadow (per file): what a record can read, by the columns that find it.
_SEEDED: dict[str, str] = {
    "pairs": "article_id, annotator",
    "claims": "id",
    "articles": "id",
    "stories": "id",
    "clusters": "id",
    "gold": "article_id",
    "gold_claims": "id",
}


def _keys_json(keys: Iterable[tuple]) -> str:
    """Keys (tuples of column values) as the JSON array `_each_key` reads."""
    return orjson.dumps(sorted(keys)).decode()


def _each_key(table: str, cols: Sequence[str]) -> str:
    """A FROM clause of the rows of `table` (aliased t) whose `cols` equal one of the keys
    bound as a `_keys_json` array: a loop over the keys, each found by the table's index."""
    match = " AND ".join(f't."{c}" = j.value ->> {i}' for i, c in enumerate(cols))
    return f"json_each(?) AS j CROSS JOIN {table} AS t ON {match}"


# --- parsing and reading --------------------------------------------------------------


def open_input(path: str | Path) -> contextlib.AbstractContextManager[BinaryIO]:
    """The opened file (standard input for `-`), or _Reject when it cannot be read or is
    not a regular file (`files.open_regular`)."""
    if str(path) == STDIN:
        if sys.stdin is None:  # started with standard input closed
            raise _Reject("cannot read: standard input is closed")
        return contextlib.nullcontext(sys.stdin.buffer)  # not ours to close
    try:
        return open_regular(path)
    except NotRegularFile as exc:
        raise _Reject(f"not a regular file ({_kind(exc.mode)})") from None
    except ValueError as exc:  # a NUL byte in the path
        raise _Reject(f"cannot read: {exc}") from None
    except OSError as exc:
        kind = _kind_at(path)  # a directory cannot be opened for reading: say what it is
        raise _Reject(f"not a regular file ({kind})" if kind else f"cannot read: {exc.strerror or exc}") from None

def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return kind
    return "special file"


def _kind_at(path: str | Path) -> str | None:
    """What is at `path` when it exists and is not a regular file, else None."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return None if stat.S_ISREG(mode) else _kind(mode)


def read_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line of `stream`, a BOM on the first removed; the line
    is None when longer than MAX_RECORD_BYTES (read past in pieces, never held whole)."""
    number = 0
    while True:
        raw = stream.readline(MAX_RECORD_BYTES + 1)
        if not raw:
            return
        number += 1
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM):]
        if len(raw) > MAX_RECORD_BYTES and not raw.endswith(b"\n"):
            del raw
            while True:
                rest = stream.readline(_SKIP_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, raw


def _size_of(path: str | Path) -> int:
    """A file's size for the shadow's sizing (0 when unknown: stdin, unreadable)."""
    if str(path) == STDIN:
        return 0
    try:
        return os.stat(path).st_size
    except (OSError, ValueError):
        return 0


@dataclass(slots=True)
class _ReadArticle:
    """An export record's article, its text (if any) checked and its one-line fields
    sanitized in the reading process."""

    id: str
    source: str | None
    url: str | None
    title: str | None
    byline: str | None
    published: str | None
    text_sha256: str
    text: str | None


@dataclass(slots=True)
class _ReadStory:
    id: str
    title: str
    proposition: str


@dataclass(slots=True)
class _ReadRecord:
    """An annotation record without claims as the reading process validated and checked it
    (AnnotationRecord's models, the scheme's values, the text's hash, id and cleanliness):
    what the loader reads of an AnnotationRecord, without building the models again."""

    article: _ReadArticle
    story: _ReadStory
    annotator: str
    labels: dict[str, str]
    note: str | None
    flagged: bool
    updated_at: str
    story_labels: dict[str, str]  # labels split by scope (_Loader._split)
    shared_labels: dict[str, str]
    claims: tuple = ()


def _received_entries(batches: Iterator[list[tuple]]) -> Iterator[tuple[int, Callable[[], AnyRecord], int]]:
    """`_file_entries` from the batches the reading process sent (see _Loader._read_ahead);
    a reading process that died is a read error of the file."""
    try:
        for batch in batches:
            for item in batch:
                if len(item) == 3:
                    number, size, raw = item
                    yield number, (_too_long if raw is None else partial(_parse, raw)), size
                else:
                    number, size, article, story, *rest = item
                    record = _ReadRecord(_ReadArticle(*article), _ReadStory(*story), *rest)
                    yield number, partial(_identity, record), size
    except ReaderDied as exc:
        raise OSError(str(exc)) from None


def _identity(record: _ReadRecord) -> _ReadRecord:
    return record


def _file_entries(stream: BinaryIO) -> Iterator[tuple[int, Callable[[], AnyRecord], int]]:
    """(line number, its parser, its size) for each non-blank line of an export file."""
    for number, raw in read_lines(stream):
        if raw is None:
            yield number, _too_long, 0
        elif raw.strip():
            yield number, partial(_parse, raw), len(raw)


def _too_long() -> AnyRecord:
    raise _Reject(f"line longer than {MAX_RECORD_BYTES // (1024 * 1024)} MiB; not read")


def _validate_item(item: dict[str, Any] | str) -> AnyRecord:
    if isinstance(item, str):
        raise _Reject(item)
    return _validate(item)


def _parse(raw: bytes) -> AnyRecord:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):  # orjson's own limit (1024), far past ours
            raise _Reject(f"not a valid record: nested more than {MAX_DEPTH} levels deep") from None
        raise _Reject(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _Reject("not a JSON object")
    return _validate(data)


def _validate(data: dict[str, Any]) -> AnyRecord:
    """A decoded record checked by the export models (and, when it fails them, by depth)."""
    gold = "gold" in data or ("annotator" in data and data["annotator"] is None)
    # Version 1 (one story per article) still loads; anything else is read as the current one.
    version_1 = type(data.get("schema_version")) is int and data["schema_version"] == 1
    model = (GoldRecordV1 if version_1 else GoldRecord) if gold else (AnnotationRecordV1 if version_1 else AnnotationRecord)
    try:
        record = model.model_validate(data)
    except (ValidationError, RecursionError) as exc:
        # The models nest a few levels at most: only a record that fails them can be too
        # deep (and a message quoting a deep value can recurse too far).
        try:
            check_depth(data)
        except StructureError as deep:
            raise _Reject(f"not a valid record: {deep}") from None
        if not isinstance(exc, ValidationError):
            raise
        kind = "gold record" if gold else "annotation record"
        problems = "; ".join(_describe(err) for err in exc.errors()[:3])
        more = len(exc.errors()) - 3
        raise _Reject(f"not a valid {kind}: {problems}" + (f" (and {more} more)" if more > 0 else "")) from None
    return record


def _describe(err: Any) -> str:
    where = ".".join(str(part) for part in err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    if err["type"].endswith("_type") and isinstance(err.get("input"), (bool, int, float, str)):
        # Strict types: say what was there (true, 100.0, "100", a float from a huge number).
        message += f" (not {_clip(orjson.dumps(err['input']).decode())})"
    return f"{where}: {message}" if where else message


def _read_annotation(conn: sqlite3.Connection, article_id: str, story_id: str, annotator: str) -> tuple[_Part, _Part]:
    """An annotator's local annotation of an article as read in a story: the story's part
    (dated by its annotations row) and the shared part (dated by the latest of the
    annotator's annotations rows of the article, in any story: every action stamps one)."""
    story = _Part({})
    shared = _Part({})
    for row_story, note, flagged, updated_at in conn.execute(
        "SELECT story_id, note, flagged, updated_at FROM annotations WHERE article_id = ? AND annotator = ?",
        (article_id, annotator),
    ):
        if row_story == story_id:
            story.note, story.flagged, story.at = note, bool(flagged), updated_at
        if shared.at is None or instant(updated_at) > instant(shared.at):
            shared.at = updated_at
    for row_story, name, value in conn.execute(
        "SELECT story_id, field, value FROM labels WHERE article_id = ? AND story_id IN ('', ?) AND annotator = ?",
        (article_id, story_id, annotator),
    ):
        (story if row_story else shared).labels[name] = value
    for cid, start, end, exact, prefix, suffix, cluster, wording, labels in conn.execute(
        'SELECT c.id, c.start, c."end", c.exact, c.prefix, c.suffix, c.cluster, '
        "(SELECT k.label FROM clusters k WHERE k.id = c.cluster), "
        "(SELECT coalesce(json_group_object(l.field, l.value), '{}') FROM claim_labels l WHERE l.claim_id = c.id) "
        "FROM claims c WHERE c.article_id = ? AND c.annotator = ?",
        (article_id, annotator),
    ):
        shared.claims[cid] = _Claim(start, end, exact, prefix, suffix, orjson.loads(labels), cluster, wording)
    return story, shared


def _read_gold(conn: sqlite3.Connection, article_id: str, story_id: str) -> tuple[_Part, _Part]:
    """An article's local gold as read in a story: the story's gold values, and the
    article-scoped values with the gold claims; each part dated by its latest decision."""
    story = _Part({})
    shared = _Part({})
    for row_story, name, value, by, reason, at in conn.execute(
        "SELECT story_id, field, value, by, reason, at FROM gold WHERE article_id = ? AND story_id IN ('', ?)",
        (article_id, story_id),
    ):
        (story if row_story else shared).labels[name] = (value, by, reason, at)
    for cid, start, end, exact, prefix, suffix, labels_json, cluster, by, reason, at, wording in conn.execute(
        'SELECT g.id, g.start, g."end", g.exact, g.prefix, g.suffix, g.labels, g.cluster, g.by, g.reason, g.at, '
        "(SELECT k.label FROM clusters k WHERE k.id = g.cluster) FROM gold_claims g WHERE g.article_id = ?",
        (article_id,),
    ):
        claim = _Claim(start, end, exact, prefix, suffix, orjson.loads(labels_json or "{}"), cluster, wording)
        shared.claims[cid] = (claim, by, reason, at)
    story.at, shared.at = _latest(story), _latest(shared)
    return story, shared


def _latest(part: _Part) -> str | None:
    """The time of a gold part's latest decision (None when it has none)."""
    stamps = [v[3] for v in part.labels.values()] + [v[3] for v in part.claims.values()]
    return max(stamps, key=instant) if stamps else None


def _label_changes(table: str, key: dict[str, str], local: dict[str, str], incoming: dict[str, str]) -> list[Change]:
    """Changes that make one row set of labels (keyed by `key` and a field) the incoming one."""
    changes = [Change(table, {**key, "field": name}, None) for name in local.keys() - incoming.keys()] if local else []
    changes += [Change(table, {**key, "field": name}, {"value": value}) for name, value in incoming.items()]
    return changes


def _cluster_reader(conn: sqlite3.Connection, known: _Known | None) -> Callable[[str], str | None | bool]:
    """How `_cluster_changes` reads a cluster's label (False: no such cluster): from the
    batch's reads with `known`, else from the database."""
    if known is not None:
        return known.cluster_label

    def read(cluster: str) -> str | None | bool:
        row = conn.execute("SELECT label FROM clusters WHERE id = ?", (cluster,)).fetchone()
        return False if row is None else row[0]
    return read


def _cluster_changes(read_label: Callable[[str], str | None | bool], claims: Iterable[_Claim], story_id: str,
                     by: str, at: str) -> list[Change]:
    """Create the clusters the claims name that the database lacks, and give each its
    claims' wording."""
    changes: list[Change] = []
    seen: set[str] = set()
    for claim in claims:
        cluster = claim.cluster
        if cluster is None or cluster in seen:
            continue
        seen.add(cluster)
        label = read_label(cluster)
        if label is False:
            changes.append(Change("clusters", {"id": cluster}, {
                "story_id": story_id, "label": claim.wording, "created_by": by, "created_at": at,
            }))
        elif label != claim.wording:
            changes.append(Change("clusters", {"id": cluster}, {"label": claim.wording}))
    return changes


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- re-anchoring ---------------------------------------------------------------------


def anchor(text: str, start: int, end: int, exact: str, prefix: str = "", suffix: str = "") -> tuple[int, int] | None:
    """Where a quoted span is in a text: (start, end) as given when text[start:end] is
    `exact`; else the occurrence of `exact` whose surroundings best match `prefix` and
    `suffix` (the nearest to `start` among equals); None when `exact` is not in the text."""
    if 0 <= start < end <= len(text) and text[start:end] == exact:
        return start, end
    if not exact:
        return None
    prefix = prefix[-CONTEXT_CHARS:]
    suffix = suffix[:CONTEXT_CHARS]
    best: tuple[int, int, int] | None = None
    position = text.find(exact)
    while position != -1:
        after = position + len(exact)
        score = 0
        if prefix:
            score += _common_suffix(text[max(0, position - len(prefix)):position], prefix)
        if suffix:
            score += _common_prefix(text[after:after + len(suffix)], suffix)
        candidate = (-score, abs(position - start), position)
        if best is None or candidate < best:
            best = candidate
        position = text.find(exact, position + 1)
    if best is None:
        return None
    return best[2], best[2] + len(exact)


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count


def _common_suffix(a: str, b: str) -> int:
    return _common_prefix(a[::-1], b[::-1])
