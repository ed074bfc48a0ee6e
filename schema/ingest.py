"""Import files into a newsmark database: `.txt`, `.md`, `.html`/`.htm`, `.jsonl`/`.ndjson`,
`.csv`/`.tsv`, and folders of them (recursively; a folder holding `story.toml` is a story).

Every file is decoded (UTF-8 only) and sanitised (schema.sanitize), then stored all or
nothing (a savepoint of its own; small files share a transaction, so a folder of many
files does not pay a disk sync per file), so a bad file or line never stops the run and
never leaves half a file behind. Everything not imported is named in
`ImportReport.rejected` with its file, line (when there is one) and reason.

What is rejected alone and what takes its file with it: a JSONL line or CSV row that is
bad (not JSON, not an object, nested deeper than structured.MAX_DEPTH, a field of
`FIELDS` that is not a string, no text, too many fields) is rejected alone and the file's
other records are imported. A file that is not UTF-8 (anywhere), a CSV whose quoted
field is never closed, a file that cannot be read, and a broken story.toml (for the files
of its folder) are rejected whole. Only regular files are read, symlinks followed; FIFOs,
devices, sockets, broken symlinks and symlink loops are named and passed over, and
symlinked folders inside a folder are not followed. `-` reads standard input.

CSV, TSV and JSONL files are read in chunks (CHUNK_BYTES), so memory follows the longest
record, not the file; a `.txt`/`.md`/`.html` file is one article, read whole, at most
ARTICLE_FILE_MAX bytes.

A big CSV/TSV/JSONL file (PIPELINE_BYTES and up) is read in a child process (forked, on
Linux; elsewhere it is read in-process like any file) that hands its rows over in batches
while this process stores them, so reading and storing overlap and the file's rows are
never all in memory at once. It is still stored all or nothing, in a transaction of its own.

Which story an article goes to, first match wins:
1. the `story` field of its JSONL/CSV record;
2. the `story.toml` of the nearest folder holding one (for a file named on the command
   line: a `story.toml` beside it);
3. `story=` (`--story ID`);
4. otherwise a story named after where the article came from: the folder holding a
   `.txt`/`.md`/`.html` file (its slug), or the stem of a `.jsonl`/`.csv` file.

The outlet (`source`), first match wins: the record's own `source` field; the file's entry
in `story.toml`; `source=` (`--source NAME`); the host name of the article's URL (without
a leading `www.`), so a corpus with a link column and no outlet column still gets outlets.

Column and key names: `title, text, source, url, published, byline, story`; every other
non-empty column or key goes into the article's `meta`. `mapping` ({dest: src}, `--map
dest=src`) reads a field from another column; in JSONL `src` may be a dotted path into
nested objects (`text=data.text`; a key named `data.text` itself wins), and the value
read leaves its object (an object left empty goes), so meta does not hold it twice.
Without a mapping, a few common names are recognised (e.g. `articleBody` or `body` for
text, `publish_date` or `date` for published, `link` or `article_source_link` for url,
`author` for byline, `headline` for title); see FIELD_ALIASES.

A record whose text is empty is skipped and counted in `ImportReport.empty`, not
rejected: corpora hold such rows, and importing a clean corpus should succeed.

Titles: a `.txt`/`.md` file's first non-empty line (markdown `#` marks removed, at most
TITLE_MAX characters) unless its `story.toml` entry gives one; an HTML page's own title;
a record's `title` field (none otherwise). `story.toml` entries ([articles."file"]:
source, title, byline, url, published; `notes` and any other key go to meta) name files
relative to the story folder; for a JSONL/CSV file they are defaults for its records.

Text is sanitised, then stripped of leading and trailing blank space; the article id is
the first 16 hex digits of the SHA-256 of that text. Dates are normalised to YYYY-MM-DD;
a date that cannot be read is kept as written in `meta["published_raw"]`. `origin` is
the file as named in the run, with `:LINE` for a record of a JSONL/CSV file.

In folders, hidden files and folders are passed over, and files of other types are listed
in `ImportReport.skipped`; `story.toml` entries naming no file are `warnings`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import email.utils
import errno
import hashlib
import itertools
import os
import re
import sqlite3
import stat
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsmark.schema.files import NotRegularFile, open_regular
from newsmark.schema.models import STORY_ID_PATTERN, Story
from newsmark.schema.reader_process import DEPTH, ReaderDied, batches_from_child
from newsmark.schema.reader_process import fork_context as _fork_context
from newsmark.schema.sanitize import (
    DecodeError,
    decode_bytes,
    looks_binary,
    sanitize_inline,
    sanitize_text,
    text_sha256,
)
from newsmark.schema.store import Store
from newsmark.schema.structured import MAX_DEPTH, StructureError, depth_of, load_toml

FIELDS = ("title", "text", "source", "url", "published", "byline", "story")
EMPTY_TEXT = "empty text"  # a record's reason for being skipped (ImportReport.empty), not rejected
# Column or key names read as a field when the file has no column of the field's own name
# and no mapping names one; tried in this order.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("articleBody", "article_body", "body", "content", "article"),
    "title": ("headline",),
    "source": ("outlet", "publisher", "site_name", "sitename"),
    "url": ("link", "article_source_link", "source_url", "article_url"),
    "published": ("publish_date", "published_at", "date", "pubdate", "publication_date"),
    "byline": ("author", "authors"),
}
ARTICLE_SUFFIXES = {".txt": "text", ".md": "markdown", ".html": "html", ".htm": "html"}
COLLECTION_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
SUPPORTED = ", ".join(sorted(ARTICLE_SUFFIXES | COLLECTION_SUFFIXES))
HTML_EXTRA_HINT = "install the html extra: pip install 'newsmark[html]'"
STORY_FILE = "story.toml"
TITLE_MAX = 300  # characters kept of a title taken from the first line of a text
BATCH_ROWS = 2000  # rows per executemany
# ...or fewer: a batch also ends after this much of the file, so the batches in flight (and
# the reader's memory) stay small when articles are long.
BATCH_BYTES = 2 * 1024 * 1024
IMPORT_CACHE_KIB = 64 * 1024  # SQLite page cache while importing
# Read files are stored in groups, one transaction per group (one savepoint per file),
# committed when a group reaches any of these (small enough that the write lock is held for
# a fraction of a second: an analyst's keystroke waits for at most one group).
GROUP_ROWS = 5_000
GROUP_BYTES = 16 * 1024 * 1024
GROUP_SECONDS = 0.5
READ_SHARE = 0.6  # share of a file's progress given to reading it (the rest: inserting)
# A CSV/TSV/JSONL file at least this big is read in a child process that sends its rows
# in batches while this process stores them, so reading and storing overlap on two cores.
PIPELINE_BYTES = 16 * 1024 * 1024
PIPELINE_KINDS = ("csv", "tsv", "jsonl")
PIPELINE_DEPTH = DEPTH  # batches the child may have ready ahead of the one being stored
# Files are read in chunks of this size, so memory follows the largest record (a JSONL
# line, a CSV row), not the file.
CHUNK_BYTES = 1024 * 1024
ARTICLE_FILE_MAX = 64 * 1024 * 1024  # a .txt/.md/.html file is one article: at most this big
STORY_FILE_MAX = 4 * 1024 * 1024  # story.toml
# A CSV field longer than this (in characters) rejects its file: the csv module holds a
# field at 4 bytes a character, so this bounds what a quote never closed can cost.
CSV_FIELD_MAX = 128 * 1024 * 1024
STDIN = "-"  # the path argument that reads standard input
STDIN_DISPLAY = "<stdin>"  # how standard input is named in rejections and origins
# --format values and the kinds they read as.
FORMATS = {"jsonl": "jsonl", "ndjson": "jsonl", "csv": "csv", "tsv": "tsv", "txt": "text", "md": "markdown",
           "html": "html"}
_STORY_ID = re.compile(STORY_ID_PATTERN)
_EMPTY_META = "{}"
_sha256 = hashlib.sha256
_MISSING: Any = object()
_dumps = orjson.dumps


# --- the report -----------------------------------------------------------------------


class Rejection(BaseModel):
    """A file or line not imported (or, in `warnings`, a problem that skipped nothing).
    In JSON the file is `file`, as in every report's rejections."""

    origin: str = Field(serialization_alias="file")
    line: int | None = None
    reason: str

    def __str__(self) -> str:
        where = self.origin if self.line is None else f"{self.origin}:{self.line}"
        return f"{where}: {self.reason}"


class ImportReport(BaseModel):
    """What an import did. `stories` lists the ids of the stories it put articles into
    (new or duplicate) or created, in the order first met."""

    imported: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = Field(default_factory=list)
    stories: list[str] = Field(default_factory=list)
    warnings: list[Rejection] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)  # files in folders of unsupported types
    empty: list[Rejection] = Field(default_factory=list)  # records skipped: their text is empty


class IngestError(ValueError):
    """An invalid argument to `import_paths` (a bad story id or mapping)."""


# --- story.toml -----------------------------------------------------------------------


class _StorySection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, pattern=STORY_ID_PATTERN)
    title: str = ""
    proposition: str = ""


class _ArticleEntry(BaseModel):
    """One file's entry in story.toml; keys other than these (and `notes`) go to meta."""

    model_config = ConfigDict(extra="allow")
    source: str | None = None
    title: str | None = None
    byline: str | None = None
    url: str | None = None
    published: str | dt.datetime | dt.date | int | None = None


class _StoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    story: _StorySection = Field(default_factory=_StorySection)
    articles: dict[str, _ArticleEntry] = Field(default_factory=dict)


@dataclass
class _StoryContext:
    """A folder's story.toml, parsed; `broken` holds why it could not be used."""

    folder: Path
    toml_display: str
    story: Story | None = None
    articles: dict[str, _ArticleEntry] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    broken: str | None = None
    blocked_files: int = 0
    walked: bool = False  # the whole folder was imported, so unused entries mean typos


def _load_story_file(folder: Path, toml_display: str) -> tuple[_StoryContext, Rejection | None]:
    """Parse `folder/story.toml`; on failure the context is marked broken and a rejection
    (with the line of a TOML syntax error) says why. Only a regular file is read (a FIFO
    or device named story.toml breaks the story, it never hangs or floods the import),
    and at most STORY_FILE_MAX bytes of it; nesting is bounded (structured.load_toml)."""
    context = _StoryContext(folder=folder, toml_display=toml_display)
    line = None
    try:
        with _open_regular(folder / STORY_FILE) as handle:
            raw = handle.read(STORY_FILE_MAX + 1)
        if len(raw) > STORY_FILE_MAX:
            raise _Unreadable(f"larger than {STORY_FILE_MAX // (1024 * 1024)} MB")
        parsed = load_toml(sanitize_text(decode_bytes(raw)))
        model = _StoryFile.model_validate(parsed)
    except _Unreadable as exc:
        context.broken = f"story.toml: {exc.reason}"
    except OSError as exc:
        context.broken = f"cannot read story.toml: {exc.strerror or exc}"
    except DecodeError as exc:
        context.broken = f"story.toml is {exc}"
    except StructureError as exc:
        message = str(exc).removeprefix("invalid TOML: ")
        if message != str(exc):
            found = re.search(r"line (\d+)", message)
            line = int(found.group(1)) if found else None
            context.broken = f"story.toml is not valid TOML: {message}"
        else:
            context.broken = f"story.toml is {message}"
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'story.toml'}: {err['msg']}" for err in exc.errors()
        )
        context.broken = f"story.toml is invalid: {problems}"
    else:
        section = model.story
        story_id = section.id or slugify(folder.resolve().name)
        context.story = Story(
            id=story_id,
            title=sanitize_inline(section.title) or "",
            proposition=sanitize_inline(section.proposition) or "",
        )
        context.articles = {
            PurePosixPath(key.replace("\\", "/")).as_posix(): entry for key, entry in model.articles.items()
        }
        return context, None
    return context, Rejection(origin=toml_display, line=line, reason=_safe(context.broken))


# --- small helpers --------------------------------------------------------------------


def slugify(name: str) -> str:
    """A valid story id from a folder or file name: lower case ASCII letters, digits, `.`,
    `_` and `-`; "imported" when nothing is left."""
    base = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9._-]+", "-", base.lower())
    slug = re.sub(r"-{2,}", "-", slug).lstrip("._-")[:100].rstrip("-")
    return slug if slug and _STORY_ID.match(slug) else "imported"


def check_story_id(story_id: str) -> str:
    """Return `story_id` if it is a valid slug, else raise IngestError."""
    if not _STORY_ID.match(story_id):
        raise IngestError(
            f"invalid story id {story_id!r}: use letters, digits, '.', '_' and '-' "
            "(starting with a letter or digit, at most 100 characters)"
        )
    return story_id


def _safe(value: str) -> str:
    """A string fit for a terminal and for UTF-8: control characters and undecodable
    bytes of file names are shown as escapes, never passed through. Stricter than
    sanitize.for_terminal (every non-printable character is escaped, so a reason is
    always one printable line); the command line still passes it through for_terminal."""
    if value.isprintable():
        return value
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in value
    )


class _Unreadable(Exception):
    """A path that is not read: `reason` says why (not a regular file, cannot open)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_FILE_TYPES = (
    (stat.S_ISDIR, "folder"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
    (stat.S_ISFIFO, "named pipe"), (stat.S_ISSOCK, "socket"), (stat.S_ISLNK, "symbolic link"),
)


def _not_regular(mode: int) -> str:
    """The reason for a path whose (followed) mode is not a regular file's."""
    kind = next((name for test, name in _FILE_TYPES if test(mode)), "special file")
    return f"not a regular file ({kind})"


def _stat_reason(path: str | os.PathLike[str], exc: OSError) -> str:
    """Why `path` cannot be looked at, from the error of stat() following its symlinks."""
    if exc.errno == errno.ENOENT:
        return "broken symbolic link" if os.path.islink(path) else "no such file or folder"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return f"cannot read: {exc.strerror or exc}"


def _open_regular(path: Path) -> Any:
    """Open `path` for reading (unbuffered) if it is a regular file (`files.open_regular`);
    raise _Unreadable, in the import's words, otherwise."""
    try:
        return open_regular(path, buffering=0)
    except NotRegularFile as exc:
        raise _Unreadable(_not_regular(exc.mode)) from None
    except OSError as exc:
        raise _Unreadable(_stat_reason(path, exc)) from None

def _title_from_text(text: str, *, markdown: bool = False) -> str | None:
    """The first non-empty line of a text, as a title (markdown heading marks removed)."""
    for line in text.split("\n", 50):
        line = line[: TITLE_MAX * 4]  # a 5 MB one-line text must not become a 5 MB title
        if markdown:
            line = line.lstrip().lstrip("#")
        title = " ".join(line.split())
        if title:
            return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1].rstrip() + "…"
    return None


_URL_HOST = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#\s]+)")
_host_cache: dict[str, str | None] = {}


def _url_host(url: str | None) -> str | None:
    """The host of a URL without a leading `www.`, as an outlet name; None if there is none."""
    if not url:
        return None
    # Cached by scheme and authority: a corpus has many URLs but few hosts.
    authority_end = url.find("/", url.find("://") + 3)
    key = url if authority_end < 0 else url[:authority_end]
    host = _host_cache.get(key, _MISSING)
    if host is _MISSING:
        found = _URL_HOST.match(key)
        host = found.group(1).lower() if found else None
        if host is not None and host.startswith("www.") and len(host) > 4:
            host = host[4:]
        if len(_host_cache) < 10_000:
            _host_cache[key] = host
    return host


_YMD = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[T\s])")
_DATE_FORMATS = (
    "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y",
    "%A, %B %d, %Y", "%a, %d %b %Y", "%Y%m%d",
)
_date_cache: dict[Any, str | None] = {}


def normalise_date(raw: Any) -> str | None:
    """An ISO date (YYYY-MM-DD) from a date, datetime or a string in a common format
    (2017-02-07, 2017/2/7 7:11, ISO timestamps, RFC 2822, "February 7, 2017", ...);
    None when it cannot be read. The date is taken as written, not converted to UTC."""
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if not isinstance(raw, str):
        return None
    cached = _date_cache.get(raw, _MISSING)
    if cached is not _MISSING:
        return cached
    result = _parse_date(raw)
    if len(_date_cache) < 100_000:
        _date_cache[raw] = result
    return result


def _parse_date(raw: str) -> str | None:
    text = raw.strip()
    if not text:
        return None
    found = _YMD.match(text)
    if found:
        try:
            return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3))).isoformat()
        except ValueError:
            return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", " ".join(text.split()))
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _sanitize_value(value: Any) -> Any:
    """Sanitise every string inside a JSON value (keys too)."""
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, dict):
        return {sanitize_text(str(k)): _sanitize_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sanitize_value(v) for v in value]
    return value


def _bad_utf8(data: bytes) -> tuple[int, str]:
    """(line number, reason) for the first invalid UTF-8 in `data`; the offset counts from
    the file's first byte (a BOM included)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start
    else:
        offset = 0
    return data.count(b"\n", 0, offset) + 1, f"not valid UTF-8 (byte {offset}: {data[offset:offset + 1]!r})"


# --- planning: which files, in which story context --------------------------------------


@dataclass
class _Task:
    path: Path | None  # None: standard input
    display: str
    kind: str
    size: int
    context: _StoryContext | None
    rel_key: str | None  # the file's key in its story.toml [articles] table
    index: int  # position in the run
    # Standard input: what was read of it to tell its format, and the descriptor the rest
    # is read from (a duplicate of 0, so a forked reader still has it); None when `head`
    # is all of it.
    head: bytes = b""
    stdin_fd: int | None = None


@dataclass
class _Plan:
    tasks: list[_Task] = field(default_factory=list)
    # Rejections keyed by where they belong in the run: 2 * (tasks planned so far), so
    # they sort before the next file's (2 * index + 1) and are listed in argument order.
    rejected: list[tuple[int, Rejection]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    contexts: list[_StoryContext] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)

    def reject(self, rejection: Rejection) -> None:
        self.rejected.append((2 * len(self.tasks), rejection))


def _kind_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return ARTICLE_SUFFIXES.get(suffix) or COLLECTION_SUFFIXES.get(suffix)


def _sniff(head: bytes, mapping: dict[str, str]) -> str:
    """The kind of standard input from its first bytes: JSONL if it starts with `{`, HTML
    with `<`, CSV/TSV if its first line is a header naming a text column, else text."""
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if start.startswith(b"{"):
        return "jsonl"
    if start.startswith(b"<"):
        return "html"
    first_line = start.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
    text_names = {"text", mapping.get("text", "text"), *FIELD_ALIASES["text"]}
    for kind, delimiter in (("tsv", "\t"), ("csv", ",")):
        names = [name.strip().strip('"') for name in first_line.split(delimiter)]
        if len(names) > 1 and text_names.intersection(names):
            return kind
    return "text"


def _plan_stdin(plan: _Plan, kind: str | None, mapping: dict[str, str]) -> None:
    """Plan standard input as one file: read enough of it to tell its format."""
    stream = sys.stdin
    try:
        fd = stream.fileno() if stream is not None else None
    except (OSError, ValueError, AttributeError):  # not a real descriptor (a test runner's, an embedding's)
        fd = None
    try:
        if fd is not None:
            fd = os.dup(fd)  # the reader's own: a forked reader's stdin is closed by multiprocessing
            chunks: list[bytes] = []
            size = 0
            while size < CHUNK_BYTES and (chunk := os.read(fd, CHUNK_BYTES - size)):
                chunks.append(chunk)
                size += len(chunk)
            head = b"".join(chunks)
            if size < CHUNK_BYTES:  # all of it
                os.close(fd)
                fd = None
        elif stream is not None:
            data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
            head = data.encode() if isinstance(data, str) else data
        else:
            raise OSError(errno.EBADF, "no standard input")
    except OSError as exc:
        if fd is not None:
            os.close(fd)
        plan.reject(Rejection(origin=STDIN_DISPLAY, reason=_safe(f"cannot read: {exc.strerror or exc}")))
        return
    kind = kind or _sniff(head, mapping)
    plan.tasks.append(_Task(None, STDIN_DISPLAY, kind, len(head) if fd is None else 0, None, None,
                            len(plan.tasks), head=head, stdin_fd=fd))


def _plan(paths: Sequence[str | os.PathLike[str]], kind: str | None = None,
          mapping: dict[str, str] | None = None) -> _Plan:
    """The files to read, in order, with their story contexts; paths that are not read
    (missing, special files, unsupported types) are rejected or skipped. `kind` (from
    --format) is the kind of standard input and of every file named in `paths`."""
    plan = _Plan()
    contexts: dict[Path, _StoryContext | None] = {}
    stdin_planned = False

    def context_for(folder: Path, display_folder: str) -> _StoryContext | None:
        if folder not in contexts:
            contexts[folder] = None
            if os.path.lexists(folder / STORY_FILE):
                ctx, rejection = _load_story_file(folder, _safe(os.path.join(display_folder, STORY_FILE)))
                contexts[folder] = ctx
                plan.contexts.append(ctx)
                if rejection is not None:
                    plan.reject(rejection)
        return contexts[folder]

    def add(path: Path, display: str, context: _StoryContext | None, size: int, explicit: bool) -> None:
        kind = (explicit and plan_kind) or _kind_of(path)
        if kind is None:
            if explicit:
                reason = f"unsupported file type (use {SUPPORTED})"
                plan.reject(Rejection(origin=_safe(display), reason=reason))
            elif path.name != STORY_FILE:
                plan.skipped.append(_safe(display))
            return
        try:
            key = path.resolve()
        except OSError:
            key = path.absolute()
        if key in plan.seen:
            return
        plan.seen.add(key)
        rel_key = None
        if context is not None:
            try:
                rel_key = path.relative_to(context.folder).as_posix()
            except ValueError:
                rel_key = path.name
        plan.tasks.append(_Task(path, _safe(display), kind, size, context, rel_key, len(plan.tasks)))

    plan_kind = kind
    for given in paths:
        display = os.fspath(given)
        if display == STDIN:
            if not stdin_planned:
                stdin_planned = True
                _plan_stdin(plan, kind, mapping or {})
            continue
        path = Path(display)
        try:
            mode, size = _stat_mode_size(path)
        except OSError as exc:
            plan.reject(Rejection(origin=_safe(display), reason=_stat_reason(path, exc)))
            continue
        if stat.S_ISDIR(mode):
            inherited: dict[str, _StoryContext | None] = {}
            def unreadable(exc: OSError, display: str = display) -> None:
                reason = f"cannot read folder: {exc.strerror or exc}"
                plan.reject(Rejection(origin=_safe(exc.filename or display), reason=reason))

            for dirpath, dirnames, filenames in os.walk(path, onerror=unreadable):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                folder = Path(dirpath)
                ctx = context_for(folder, dirpath)
                if ctx is not None:
                    ctx.walked = True
                else:
                    ctx = inherited.get(os.path.dirname(dirpath))
                inherited[dirpath] = ctx
                for name in dirnames:
                    if os.path.islink(os.path.join(dirpath, name)):  # os.walk does not follow these
                        reason = "symbolic link to a folder, not followed"
                        plan.reject(Rejection(origin=_safe(os.path.join(dirpath, name)), reason=reason))
                for name in sorted(filenames):
                    if name.startswith("."):
                        continue
                    entry, entry_display = folder / name, os.path.join(dirpath, name)
                    try:
                        entry_mode, entry_size = _stat_mode_size(entry)
                    except OSError as exc:
                        plan.reject(Rejection(origin=_safe(entry_display), reason=_stat_reason(entry, exc)))
                        continue
                    if not stat.S_ISREG(entry_mode):
                        if name != STORY_FILE:  # a special story.toml breaks its story instead
                            plan.reject(Rejection(origin=_safe(entry_display), reason=_not_regular(entry_mode)))
                        continue
                    add(entry, entry_display, ctx, entry_size, explicit=False)
        elif stat.S_ISREG(mode):
            parent = path.parent
            add(path, display, context_for(parent, os.path.dirname(display)), size, explicit=True)
        else:
            plan.reject(Rejection(origin=_safe(display), reason=_not_regular(mode)))
    return plan


def _stat_mode_size(path: Path) -> tuple[int, int]:
    """The mode and size of what `path` names, symlinks followed (OSError if none)."""
    found = os.stat(path)
    return found.st_mode, found.st_size


# --- reading files into rows ------------------------------------------------------------


@dataclass
class _Defaults:
    """What applies to every article of one file: its story and the fallbacks."""

    story_id: str
    story: Story
    story_is_authoritative: bool  # from story.toml: update title and proposition
    source: str | None
    entry: _ArticleEntry | None
    origin: str


class _Rows:
    """Collects the rows of one file (ARTICLE_INSERT order) and its rejected lines."""

    def __init__(self, task: _Task, defaults: _Defaults) -> None:
        self.task = task
        self.defaults = defaults
        self.rows: list[tuple] = []
        self.rejected: list[Rejection] = []
        self.stories: dict[str, Story] = {}
        # Rejected whole after rows were produced (so rows already handed on are void too).
        self.void = False
        # Rows for another process (see _read_in_child): text as UTF-8 bytes, not yet hashed.
        self.text_as_utf8 = False

    def reject(self, line: int | None, reason: str) -> None:
        self.rejected.append(Rejection(origin=self.task.display, line=line, reason=_safe(reason)))


_TOML_PLAIN = (str, int, float, bool, list, dict)  # TOML values kept as they are in meta (dates become text)


def _entry_meta(entry: _ArticleEntry | None) -> dict[str, Any]:
    if entry is None or not entry.model_extra:
        return {}
    return {
        sanitize_inline(str(key)) or "?": _sanitize_value(value if isinstance(value, _TOML_PLAIN) else str(value))
        for key, value in entry.model_extra.items()
    }


def _single_article(out: _Rows, text: str, *, title: str | None, source: str | None = None,
                    url: str | None = None, byline: str | None = None, published: Any = None,
                    meta: dict[str, Any] | None = None) -> None:
    """Add the one article of a .txt/.md/.html file; story.toml's entry wins over what the
    file itself says."""
    d = out.defaults
    entry = d.entry
    meta = dict(meta or {})
    meta.update(_entry_meta(entry))
    if entry is not None:
        title = sanitize_inline(entry.title) or title
        source = sanitize_inline(entry.source) or source
        byline = sanitize_inline(entry.byline) or byline
        url = sanitize_inline(entry.url) or url
        if entry.published is not None:
            published = entry.published
    text = text.strip()
    if not text:
        out.reject(None, "no text left after sanitising (only blank space or control characters)")
        return
    iso = normalise_date(published) if published is not None else None
    if published is not None and iso is None and str(published).strip():
        meta["published_raw"] = sanitize_inline(str(published))
    source = source or d.source or _url_host(url)
    sha = text_sha256(text)
    out.rows.append((sha[:16], d.story_id, source, url, title, byline, iso, text, sha,
                     orjson.dumps(meta).decode() if meta else _EMPTY_META, d.origin))
    out.stories.setdefault(d.story_id, d.story)


def _read_text_file(out: _Rows, text: str, markdown: bool) -> None:
    text = sanitize_text(text)
    _single_article(out, text, title=_title_from_text(text, markdown=markdown))


_trafilatura: Any = None


def _load_trafilatura() -> Any:
    global _trafilatura
    if _trafilatura is None:
        import trafilatura  # the `html` extra

        _trafilatura = trafilatura
    return _trafilatura


def _read_html_file(out: _Rows, html: str) -> None:
    try:
        trafilatura = _load_trafilatura()
    except ImportError:
        out.reject(None, HTML_EXTRA_HINT)
        return
    try:
        doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    except Exception as exc:  # trafilatura raises many kinds on malformed documents
        out.reject(None, f"cannot read the HTML: {type(exc).__name__}")
        return

    def get(name: str) -> Any:
        if doc is None:
            return None
        return doc.get(name) if isinstance(doc, dict) else getattr(doc, name, None)

    text = get("text")
    if not text or not text.strip():
        out.reject(None, "no main text found in the HTML")
        return
    text = sanitize_text(text)
    title = sanitize_inline(get("title")) or _title_from_text(text)
    meta = {}
    if get("sitename"):
        meta["sitename"] = sanitize_inline(get("sitename"))
    _single_article(out, text, title=title, source=sanitize_inline(get("sitename")),
                    url=sanitize_inline(get("url")), byline=sanitize_inline(get("author")),
                    published=get("date"), meta=meta)


def _resolve_columns(names: Sequence[str], mapping: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """For each field, the column or key it is read from; and the names left for meta."""
    present = set(names)
    chosen: dict[str, str] = {}
    for name in FIELDS:
        src = mapping.get(name)
        if src is not None and src in present:
            chosen[name] = src
        elif name in present and name not in mapping.values():
            chosen[name] = name
        else:
            for alias in FIELD_ALIASES.get(name, ()):
                if alias in present and alias not in mapping.values() and alias not in chosen.values():
                    chosen[name] = alias
                    break
    used = set(chosen.values())
    return chosen, [n for n in names if n not in used]


class _RecordBuilder:
    """Turns one record's field values into a row; shared by CSV and JSONL. Kept lean:
    it runs once per row of files with millions of rows."""

    def __init__(self, out: _Rows) -> None:
        self.out = out
        d = out.defaults
        self.story_id = d.story_id
        self.default_story = d.story
        self.default_story_used = False
        e = d.entry
        self.entry_meta = _entry_meta(e)
        self.default_source = (sanitize_inline(e.source) if e else None) or d.source
        self.default_title = sanitize_inline(e.title) if e else None
        self.default_byline = sanitize_inline(e.byline) if e else None
        self.default_published = e.published if e else None
        self.default_iso = normalise_date(self.default_published)
        self.known_stories: dict[str, str | None] = {}
        self.origin = d.origin + ":"
        self.rows = out.rows
        self.text_as_utf8 = out.text_as_utf8

    def add(self, line: int, text: str, title: str | None, source: str | None, url: str | None,
            published: str | None, byline: str | None, story: str | None, meta: dict[str, Any] | None) -> None:
        """Values must be sanitised already (text by sanitize_text, the rest inline)."""
        text = text.strip()
        if not text:
            self.out.reject(line, EMPTY_TEXT)
            return
        if story and story != self.story_id:
            why = self.known_stories.get(story, "")
            if why == "":
                why = None if _STORY_ID.match(story) else f"invalid story id {story!r}"
                self.known_stories[story] = why
                if why is None and story not in self.out.stories:
                    self.out.stories[story] = Story(id=story, title=story)
            if why:
                self.out.reject(line, why)
                return
            story_id = story
        else:
            story_id = self.story_id
            if not self.default_story_used:
                self.default_story_used = True
                self.out.stories.setdefault(story_id, self.default_story)
        if published is None:
            published, iso = self.default_published, self.default_iso
        else:
            iso = _date_cache.get(published, _MISSING)
            if iso is _MISSING:
                iso = normalise_date(published)
        if iso is None and published is not None and str(published).strip():
            meta = dict(meta or {})
            meta["published_raw"] = sanitize_inline(str(published))
        if self.entry_meta:
            meta = {**self.entry_meta, **(meta or {})}
        if self.text_as_utf8:  # the process storing the row hashes it (see _hashed)
            key = sha = None
            text = text.encode()  # type: ignore[assignment]
        else:
            sha = _sha256(text.encode()).hexdigest()
            key = sha[:16]
        self.rows.append((
            key, story_id, source or self.default_source or _url_host(url), url,
            title or self.default_title, byline or self.default_byline, iso, text, sha,
            _dumps(meta).decode() if meta else _EMPTY_META, self.origin + str(line),
        ))


# Control bytes that can only come from control characters in UTF-8: C0 other than tab,
# newline and carriage return, and DEL. C1 controls are \xc2\x80-\xc2\x9f in UTF-8.
_CONTROL_BYTES = {b for b in range(32) if b not in (9, 10, 13)} | {0x7F, 0xC2}
_DELETE_ALL_BUT_CONTROLS = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_C1_BYTES = re.compile(rb"\xc2[\x80-\x9f]")
# Raw control bytes are not allowed in JSON strings; written as escapes they parse, and
# are then stripped (whole escape sequences at once) like everywhere else.
_JSON_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f]")


def _escape_raw_controls(raw: bytes) -> bytes:
    raw = raw.rstrip(b"\r").replace(b"\t", b" ")
    return _JSON_RAW_CONTROL.sub(lambda m: b"\\u%04x" % m[0][0], raw)


def _has_controls(data: bytes) -> bool:
    """Whether UTF-8 `data` holds control characters other than tab, newline and CR
    (one C pass; most files hold none, and then their fields need no stripping)."""
    residue = data.translate(None, _DELETE_ALL_BUT_CONTROLS)
    if not residue:
        return False
    if residue.count(b"\xc2") != len(residue):
        return True
    return _C1_BYTES.search(data) is not None


def _nfc(value: str) -> str:
    """NFC of a string already free of control characters (ASCII strings cost nothing)."""
    if value.isascii() or unicodedata.is_normalized("NFC", value):
        return value
    return unicodedata.normalize("NFC", value)


def _nfc_crlf(value: str) -> str:
    """`_nfc` plus newline normalising, for fields of files holding carriage returns."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _nfc(value)


def _inline_nfc(value: str | None) -> str | None:
    """A one-line value free of control characters: NFC, blank space collapsed."""
    if not value:
        return None
    if not value.isascii():
        value = _nfc(value)
    return " ".join(value.split()) or None


class _Source:
    """A file read chunk by chunk (CHUNK_BYTES); `consumed` counts the bytes handed out,
    `first` is the first chunk (already read, to tell empty or binary files)."""

    def __init__(self, read: Callable[[int], bytes], first: bytes, size: int) -> None:
        self._read = read
        self._pending: bytes | None = first
        self.first = first
        self.size = size
        self.consumed = 0

    def read(self) -> bytes:
        """The next chunk; b"" at the end."""
        if self._pending is not None:
            chunk, self._pending = self._pending, None
        else:
            chunk = self._read(CHUNK_BYTES)
        self.consumed += len(chunk)
        return chunk

    def fraction(self) -> float:
        """How much of the file has been read (0 when its size is not known)."""
        return self.consumed / self.size if self.size else 0.0


class _BadUtf8(Exception):
    """Invalid UTF-8 met while reading: `line`, and the reason (with the byte offset)."""

    def __init__(self, line: int, offset: int, byte: bytes) -> None:
        super().__init__(line, offset, byte)
        self.line = line
        self.reason = f"not valid UTF-8 (byte {offset}: {byte!r})"


_CSV_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"


class _TextLines:
    """The lines of a UTF-8 file read chunk by chunk, split where a CSV reader splits them
    (\n, \r\n, \r), each with its line end; a last line without one gets "\n". Validates
    the UTF-8 on the way (raising _BadUtf8 with the file's line and byte offset), and
    notes whether any chunk held control characters or carriage returns (`mode`: 0 none,
    1 CRs, 2 control characters), so fields of clean files can skip the full sanitiser.
    `exhausted` turns true when the last line has been handed out and more is asked for."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.mode = 0
        self.exhausted = False

    def __iter__(self) -> Iterator[str]:
        # Lines are handed out by chain (in C); this object's code runs once a chunk.
        return itertools.chain.from_iterable(self._chunks())

    def _chunks(self) -> Iterator[list[str]]:
        decode = codecs.getincrementaldecoder("utf-8")().decode
        offset = newlines = 0
        pending: list[str] = []
        last_byte = b""
        first = self.source.read()
        while first and len(first) < 3 and _BOM.startswith(first) and (more := self.source.read()):
            first += more  # enough to tell a BOM
        if first.startswith(_BOM):
            first, offset = first[3:], 3
        for chunk in itertools.chain([first], iter(self.source.read, b"")):
            if not chunk:
                continue
            controls = _has_controls(chunk) or (last_byte == b"\xc2" and 0x80 <= chunk[0] <= 0x9F)
            if controls:
                self.mode = 2
            elif self.mode == 0 and b"\r" in chunk:
                self.mode = 1
            last_byte = chunk[-1:]
            try:
                text = decode(chunk)
            except UnicodeDecodeError as exc:
                carried = len(exc.object) - len(chunk)  # bytes of a character begun in the last chunk
                at = exc.start - carried
                raise _BadUtf8(newlines + chunk.count(b"\n", 0, max(at, 0)) + 1, offset + at,
                               exc.object[exc.start:exc.start + 1]) from None
            offset += len(chunk)
            newlines += chunk.count(b"\n")
            if not text:
                continue
            # str.splitlines also breaks at a few characters a CSV reader does not: all but
            # U+2028 and U+2029 are control characters, so a clean chunk needs no search.
            if not controls and "\u2028" not in text and "\u2029" not in text:
                lines = text.splitlines(keepends=True)
            else:
                lines = _CSV_LINES.findall(text)
            if pending:
                if pending[-1][-1] == "\r" and text[0] != "\n":  # it was a whole line after all
                    yield ["".join(pending)]
                else:
                    pending.append(lines[0])
                    lines[0] = "".join(pending)
                pending.clear()
            if lines[-1][-1] != "\n":  # no line end yet, or a \r that a \n may follow: wait
                pending.append(lines.pop())
            yield lines
        try:
            rest = decode(b"", final=True)
        except UnicodeDecodeError as exc:
            at = offset - len(exc.object) + exc.start
            raise _BadUtf8(newlines + 1, at, exc.object[exc.start:exc.start + 1]) from None
        pending.append(rest)
        last = "".join(pending)
        if last:
            yield [last if last[-1] in "\r\n" else last + "\n"]
        self.exhausted = True


def _read_csv(out: _Rows, source: _Source, delimiter: str, mapping: dict[str, str],
              advance: Callable[[float], None]) -> None:
    """Read a CSV/TSV file row by row. A bad row is rejected alone; invalid UTF-8, a
    quoted field never closed and a broken CSV reject the whole file (its rows so far
    void), since nothing after them can be trusted to be what the file meant."""
    lines = _TextLines(source)
    csv.field_size_limit(CSV_FIELD_MAX)
    reader = csv.reader(lines, delimiter=delimiter)
    rows_before = len(out.rows)

    def reject_file(line: int | None, reason: str) -> None:
        del out.rows[rows_before:]
        out.void = True
        out.stories.clear()
        out.rejected.clear()  # its lines' own problems no longer matter
        out.reject(line, f"{reason}; file not imported")

    def unclosed(row: list[str]) -> None:
        # The row ran to the end inside a quoted field: its last field holds every line
        # from the one where the quote opened.
        reject_file(reader.line_num - len(_LINE_ENDS.findall(row[-1])) + 1,
                    "a quoted field opened here is never closed")

    try:
        header: list[str] = []
        while not any(name.strip() for name in header):  # blank lines before the header
            header = next(reader)
            if lines.exhausted:
                unclosed(header)
                return
    except StopIteration:
        out.reject(None, "empty")
        return
    except csv.Error as exc:
        out.reject(reader.line_num or 1, f"cannot read the CSV header: {exc}")
        return
    except _BadUtf8 as bad:
        reject_file(bad.line, bad.reason)
        return
    mode = -1
    clean: Callable[[str], str] = _nfc
    inline: Callable[[str | None], str | None] = _inline_nfc

    def choose() -> None:
        # Fields of chunks without control characters need only NFC (free for ASCII) and,
        # with carriage returns about, newline normalising; otherwise the full sanitiser.
        nonlocal mode, clean, inline
        mode = lines.mode
        if mode == 2:
            clean, inline = sanitize_text, sanitize_inline
        elif mode == 1:
            clean, inline = _nfc_crlf, _inline_nfc  # split() takes CR as blank
        else:
            clean, inline = _nfc, _inline_nfc

    choose()
    names = [inline(n) or "" for n in header]
    header_line = reader.line_num
    chosen, extra = _resolve_columns(names, mapping)
    if "text" not in chosen:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        out.reject(header_line, f"no text column (columns: {shown}); name one with --map text=COLUMN")
        return
    index = {name: i for i, name in reversed(list(enumerate(names)))}
    col = {f: index[c] for f, c in chosen.items()}
    extra_cols = [(name, index[name]) for name in dict.fromkeys(extra) if name]
    width = len(names)
    i_text = col["text"]
    i_title, i_source, i_url = col.get("title"), col.get("source"), col.get("url")
    i_pub, i_byline, i_story = col.get("published"), col.get("byline"), col.get("story")
    add = _RecordBuilder(out).add
    line = reader.line_num + 1
    count = 0
    batch_end = source.consumed + BATCH_BYTES
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                reject_file(line, f"a field of this row is longer than {CSV_FIELD_MAX:,} characters "
                                  "(a quote never closed?)")
            else:
                reject_file(line, f"broken CSV ({exc})")
            return
        except _BadUtf8 as bad:
            # Not UTF-8 here, so probably nowhere: the whole file is rejected.
            reject_file(bad.line, bad.reason)
            return
        if lines.exhausted:
            unclosed(row)
            return
        start, line = line, reader.line_num + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            if len(row) > width:
                out.reject(start, f"{len(row)} fields where the header has {width}")
                continue
            row += [""] * (width - len(row))
        if lines.mode != mode:
            choose()
        add(
            start, clean(row[i_text]),
            inline(row[i_title]) if i_title is not None else None,
            inline(row[i_source]) if i_source is not None else None,
            inline(row[i_url]) if i_url is not None else None,
            (row[i_pub] or None) if i_pub is not None else None,
            inline(row[i_byline]) if i_byline is not None else None,
            inline(row[i_story]) if i_story is not None else None,
            {name: clean(row[i]) for name, i in extra_cols if row[i]} if extra_cols else None,
        )
        count += 1
        if count % BATCH_ROWS == 0 or source.consumed >= batch_end:
            advance(source.fraction())
            batch_end = source.consumed + BATCH_BYTES
    if count == 0 and not out.rejected:
        out.reject(None, "empty: no rows after the header")


_JSON_CONTROL_ESCAPE = re.compile(rb"\\[ubfr]")


def _line_is_clean(raw: bytes) -> bool:
    """Whether every string of this JSON line is free of control characters: those can
    only be escapes (\\u, \\r, \\b, \\f), DEL or raw C1 bytes. A false alarm (say
    "C:\\\\bin") only costs the full sanitiser."""
    if b"\x7f" in raw:
        return False
    if b"\\" in raw and _JSON_CONTROL_ESCAPE.search(raw) is not None:
        return False
    return b"\xc2" not in raw or _C1_BYTES.search(raw) is None


_STR_OR_NONE = {str, type(None)}


def _record_values(record: dict[str, Any], keys: tuple[str | None, ...]) -> list[str | None] | str:
    """The values of FIELDS read from `keys` of a JSON record, or why not: each must be a
    string (or null). A number is refused, not turned into text: JSON numbers are read as
    floats, and 123456789012345678901234567890 would come back as 1.2345678901234568e+29."""
    values = [None if key is None else record[key] for key in keys]
    if {value.__class__ for value in values} <= _STR_OR_NONE:
        return values  # type: ignore[return-value]
    for key, value in zip(keys, values):
        if value is not None and not isinstance(value, str):
            kind = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}
            return f"{key!r} must be a string, not {kind.get(type(value), type(value).__name__)}"
    return values  # type: ignore[return-value]


def _lift_paths(record: dict[str, Any], paths: list[str]) -> None:
    """For each dotted path ("data.text") that the record has no key of that name for,
    move the value at the path, if there is one, to a key of that name: it leaves its
    object, and objects left empty leave theirs."""
    for path in paths:
        if path in record:
            continue
        *steps, leaf = path.split(".")
        chain = [record]
        for step in steps:
            inner = chain[-1].get(step)
            if inner.__class__ is not dict:
                break
            chain.append(inner)
        else:
            if leaf in chain[-1]:
                value = chain[-1].pop(leaf)
                for parent, step, inner in reversed(list(zip(chain, steps, chain[1:]))):
                    if not inner:
                        del parent[step]
                record[path] = value


def _json_error(exc: orjson.JSONDecodeError) -> str:
    """orjson's message for one line, without its "line 1" (every line is line 1 to it)."""
    message = str(exc)
    if message.startswith("depth limit exceeded"):  # orjson's own limit (1024 levels)
        return f"nested more than {MAX_DEPTH} levels deep"
    found = re.match(r"^(.*): line \d+ column (\d+) \(char \d+\)$", message)
    if found:
        return f"not valid JSON: {found.group(1)} (column {found.group(2)})"
    return f"not valid JSON: {message}"


_BLANK_BYTES = b" \t\r\x0b\x0c"
_NESTED = (dict, list)


def _line_blocks(source: _Source) -> Iterator[bytes]:
    """The file in blocks of whole lines (each ending in a newline but maybe the last): a
    chunk cut after its last newline, the rest carried on; a line longer than a chunk is
    gathered whole, so memory follows the longest line, not the file."""
    pending: list[bytes] = []
    while chunk := source.read():
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            pending.append(chunk)
            continue
        if pending:
            pending.append(chunk[:cut])
            block = b"".join(pending)
            pending.clear()
        else:
            block = chunk if cut == len(chunk) else chunk[:cut]
        yield block
        if cut < len(chunk):
            pending.append(chunk[cut:])
    if pending:
        yield b"".join(pending)


def _read_jsonl(out: _Rows, source: _Source, mapping: dict[str, str],
                advance: Callable[[float], None]) -> None:
    """Read a JSONL file line by line: a bad line is rejected alone (not JSON, not an
    object, nested deeper than MAX_DEPTH, a field that is not a string, no text);
    invalid UTF-8 rejects the whole file, as for every file."""
    # Lines are parsed from zero-copy views of each block; the control-character test
    # runs once over a block, and per line only when the block as a whole fails it.
    loads = orjson.loads
    add = _RecordBuilder(out).add
    columns_cache: dict[tuple[str, ...], tuple[tuple[str | None, ...], list[str]]] = {}
    paths = [src for src in mapping.values() if "." in src.strip(".")]  # --map text=data.text
    rows_before = len(out.rows)
    number = 0
    count = 0
    records = 0  # non-blank lines
    base = 0  # the file offset of the block's first byte
    batch_end = source.consumed + BATCH_BYTES
    for data in _line_blocks(source):
        file_is_clean = _line_is_clean(data)
        view = memoryview(data)
        find = data.find
        size = len(data)
        pos = 3 if base == 0 and data.startswith(_BOM) else 0
        while pos < size:
            end = find(b"\n", pos)
            if end < 0:
                end = size
            number += 1
            line_start, pos = pos, end + 1
            if end == line_start or (data[line_start] in _BLANK_BYTES and data[line_start:end].isspace()):
                continue
            records += 1
            line_is_clean = file_is_clean
            try:
                record = loads(view[line_start:end])
            except orjson.JSONDecodeError as exc:
                raw = data[line_start:end]
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as bad:
                    # Not UTF-8 here, so probably nowhere: the whole file is rejected.
                    byte = raw[bad.start:bad.start + 1]
                    del out.rows[rows_before:]
                    out.void = True
                    out.stories.clear()
                    out.rejected.clear()
                    out.reject(number, f"not valid UTF-8 (byte {base + line_start + bad.start}: {byte!r}); "
                                       "file not imported")
                    return
                try:  # raw control characters are not JSON, but are stripped everywhere else
                    record = loads(_escape_raw_controls(raw))
                except orjson.JSONDecodeError:
                    out.reject(number, _json_error(exc))
                    continue
                line_is_clean = False
            if record.__class__ is not dict:
                out.reject(number, f"not a JSON object (found {type(record).__name__})")
                continue
            if paths:
                _lift_paths(record, paths)
            keys = tuple(record)
            resolved = columns_cache.get(keys)
            if resolved is None:
                chosen, extra_keys = _resolve_columns(keys, mapping)
                resolved = columns_cache[keys] = (tuple(chosen.get(f) for f in FIELDS), extra_keys)
            field_keys, extra = resolved
            values = _record_values(record, field_keys)
            if values.__class__ is str:
                out.reject(number, values)  # type: ignore[arg-type]
                continue
            title, text, source_name, url, published, byline, story = values
            if text is None:
                out.reject(number, "no text" if field_keys[1] is None else EMPTY_TEXT)
                continue
            # Fields are strings by now: only meta can nest, and only then is it measured.
            if extra and any(record[k].__class__ in _NESTED for k in extra) and depth_of(record) > MAX_DEPTH:
                out.reject(number, f"nested more than {MAX_DEPTH} levels deep")
                continue
            if not line_is_clean and not file_is_clean:
                line_is_clean = _line_is_clean(data[line_start:end])
            if line_is_clean:
                clean, inline = _nfc, _inline_nfc
                meta = {k: record[k] for k in extra if record[k] not in (None, "")} if extra else None
            else:
                clean, inline = sanitize_text, sanitize_inline
                meta = {sanitize_text(k): _sanitize_value(record[k]) for k in extra if record[k] not in (None, "")}
            add(number, clean(text), inline(title), inline(source_name), inline(url),
                published, inline(byline), inline(story), meta or None)
            count += 1
            if count % BATCH_ROWS == 0 or source.consumed >= batch_end:
                advance(source.fraction())
                batch_end = source.consumed + BATCH_BYTES
        base += size
    if records == 0:
        out.reject(None, "empty")


# --- the import -------------------------------------------------------------------------


class _Progress:
    """Byte progress over all planned files; each file has a fixed slot (its offset and
    size), and what is reported never goes backwards."""

    def __init__(self, callback: Callable[[int, int], None] | None, tasks: Sequence[_Task]) -> None:
        self.callback = callback
        self.total = sum(t.size for t in tasks)
        self.base: dict[int, int] = {}
        offset = 0
        for task in tasks:
            self.base[id(task)] = offset
            offset += task.size
        self.reported = 0

    def at(self, task: _Task, fraction: float) -> None:
        """Report that `fraction` (0..1) of `task` is done."""
        if self.callback is None:
            return
        done = min(self.total, self.base[id(task)] + int(task.size * min(max(fraction, 0.0), 1.0)))
        if done >= self.reported:
            self.reported = done
            self.callback(done, self.total)


def _defaults_for(task: _Task, story_arg: str | None, source_arg: str | None) -> _Defaults:
    ctx = task.context
    if ctx is not None and ctx.story is not None:
        entry = ctx.articles.get(task.rel_key or "")
        if entry is not None:
            ctx.used.add(task.rel_key or "")
        return _Defaults(ctx.story.id, ctx.story, True, source_arg, entry, task.display)
    if story_arg is not None:
        story = Story(id=story_arg, title=story_arg)
        return _Defaults(story_arg, story, False, source_arg, None, task.display)
    if task.path is None:
        name = "stdin"
    elif task.kind in COLLECTION_SUFFIXES.values():
        name = task.path.stem
    else:
        # The folder the file was found in (a symlink's, not its target's).
        name = Path(os.path.abspath(task.path)).parent.name or "imported"
    story_id = slugify(name)
    story = Story(id=story_id, title=sanitize_inline(name) or story_id)
    return _Defaults(story_id, story, False, source_arg, None, task.display)


def _read_task(task: _Task, defaults: _Defaults, mapping: dict[str, str],
               advance: Callable[[float], None], out: _Rows | None = None) -> _Rows:
    """Read one file (or standard input) into rows and rejections, streaming CSV and
    JSONL: what is held at once is a chunk and the longest record, not the file."""
    if out is None:
        out = _Rows(task, defaults)
    handle = None
    try:
        if task.path is None:
            if task.stdin_fd is None:
                read: Callable[[int], bytes] = lambda size: b""  # noqa: E731 - the head was all of it
            else:
                read = lambda size: os.read(task.stdin_fd, size)  # type: ignore[arg-type]  # noqa: E731
            source = _Source(read, task.head, task.size)
        else:
            handle = _open_regular(task.path)
            source = _Source(handle.read, handle.read(CHUNK_BYTES), task.size)
        _read_source(out, task, source, mapping, advance)
    except _Unreadable as exc:
        out.reject(None, exc.reason)
    except MemoryError:  # a record too big for this machine: the file, not the run, fails
        out.rows.clear()
        out.stories.clear()
        out.rejected.clear()
        out.void = True
        out.reject(None, "not imported: out of memory while reading it (a record too big for this machine?)")
    except OSError as exc:
        out.reject(None, f"cannot read: {exc.strerror or exc}")
    finally:
        if handle is not None:
            handle.close()
    return out


def _read_source(out: _Rows, task: _Task, source: _Source, mapping: dict[str, str],
                 advance: Callable[[float], None]) -> None:
    first = source.first
    if not first:
        out.reject(None, "empty")
        return
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        out.reject(None, "UTF-16 text; only UTF-8 is read (convert it, e.g. iconv -f UTF-16 -t UTF-8)")
        return
    if looks_binary(first):
        out.reject(None, "binary file (NUL bytes), not text")
        return
    if task.kind == "jsonl":
        _read_jsonl(out, source, mapping, advance)
        return
    if task.kind in ("csv", "tsv"):
        _read_csv(out, source, "\t" if task.kind == "tsv" else ",", mapping, advance)
        return
    # One article: read whole, up to ARTICLE_FILE_MAX.
    chunks = [source.read()]
    size = len(chunks[0])
    while size <= ARTICLE_FILE_MAX and (chunk := source.read()):
        chunks.append(chunk)
        size += len(chunk)
    if size > ARTICLE_FILE_MAX:
        out.reject(None, f"too big for one article (more than {ARTICLE_FILE_MAX // (1024 * 1024)} MB)")
        return
    data = b"".join(chunks)
    del chunks
    if data.isspace():
        out.reject(None, "empty")
        return
    try:
        text = decode_bytes(data)
    except DecodeError:
        out.reject(*_bad_utf8(data))  # decode_bytes counts offsets after a BOM
        return
    if task.kind in ("text", "markdown"):
        _read_text_file(out, text, markdown=task.kind == "markdown")
    else:
        _read_html_file(out, text)


def import_paths(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    *,
    story: str | None = None,
    source: str | None = None,
    mapping: dict[str, str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    format: str | None = None,  # noqa: A002 - the option's name
) -> ImportReport:
    """Import files and folders into `store`; see the module docstring for the rules.

    story: the story of files that name none (a slug; IngestError if invalid).
    source: the outlet of articles whose file does not name one.
    mapping: {field: column or key to read it from}, e.g. {"text": "articleBody"}.
    progress: called as progress(done_bytes, total_bytes) as files are read and stored,
        in bytes of the planned files (within a file, an estimate: reading it counts for
        60% of its size, storing its rows for the rest).
    format: a key of FORMATS: how to read standard input (`-` in `paths`) and every file
        named in `paths` whatever its suffix; standard input's format is otherwise
        sniffed (see _sniff).

    Per line for JSONL and per row for CSV: a bad record is rejected alone and the file's
    good records go in together. Per file: a file that is not UTF-8, cannot be parsed as
    a whole (a CSV quote never closed) or cannot be read at all is rejected whole. Only
    regular files are read (symlinks followed). Never raises for bad input files; raises
    IngestError for an invalid `story`, `mapping` or `format`.
    """
    if story is not None:
        check_story_id(story)
    if format is not None and format not in FORMATS:
        raise IngestError(f"unknown format {format!r}: use {', '.join(FORMATS)}")
    mapping = dict(mapping or {})
    for dest, src in mapping.items():
        if dest not in FIELDS:
            raise IngestError(f"cannot map {dest!r}: fields are {', '.join(FIELDS)}")
        if not src:
            raise IngestError(f"empty column name for {dest!r}")
    source = sanitize_inline(source) if source else None

    report = ImportReport()
    plan = _plan(paths, FORMATS[format] if format is not None else None, mapping)
    try:
        _import_plan(store, plan, report, story, source, mapping, progress)
    finally:
        for task in plan.tasks:
            if task.stdin_fd is not None:
                os.close(task.stdin_fd)
    return report


def _import_plan(store: Store, plan: _Plan, report: ImportReport, story: str | None, source: str | None,
                 mapping: dict[str, str], progress: Callable[[int, int], None] | None) -> None:
    report.skipped.extend(plan.skipped)
    touched: dict[str, None] = {}
    meter = _Progress(progress, plan.tasks)
    with store.import_cache(IMPORT_CACHE_KIB):
        _import_tasks(store, plan, report, touched, meter, story, source, mapping)
    ordered = [rejection for _, rejection in sorted(plan.rejected, key=lambda keyed: keyed[0])]
    report.rejected = [r for r in ordered if r.reason != EMPTY_TEXT or r.line is None]
    report.empty = [r for r in ordered if r.reason == EMPTY_TEXT and r.line is not None]
    _note_story_files(plan, report)
    report.stories = list(touched)


@dataclass
class _ReadFile:
    """A file read and waiting to be stored."""

    task: _Task
    defaults: _Defaults
    out: _Rows


def _pipelines(task: _Task) -> bool:
    """Whether `task` is read in a child process: a big CSV/TSV/JSONL file, or one on
    standard input of unknown size (more than its first chunk)."""
    big = task.size >= PIPELINE_BYTES or task.stdin_fd is not None
    return task.kind in PIPELINE_KINDS and big


def _import_tasks(store: Store, plan: _Plan, report: ImportReport, touched: dict[str, None], meter: _Progress,
                  story: str | None, source: str | None, mapping: dict[str, str]) -> None:
    """Read each file (outside any transaction), then store read files in groups: one
    transaction per group, one savepoint per file, so each file is still all or nothing
    while a folder of many small files does not pay one disk sync per file."""
    group: list[_ReadFile] = []
    group_rows = group_bytes = 0
    group_started = 0.0
    for task in plan.tasks:
        ctx = task.context
        if ctx is not None and ctx.broken is not None:
            ctx.blocked_files += 1
            meter.at(task, 1.0)
            continue
        defaults = _defaults_for(task, story, source)
        if _pipelines(task) and _fork_context() is not None:
            if group:  # stored first, so files are still stored in the order named
                _store_group(store, group, plan, report, touched, meter)
                group, group_rows, group_bytes = [], 0, 0
            small = _import_pipelined(store, task, defaults, mapping, plan, report, touched, meter)
            if small is not _NOT_STARTED:
                if small is not None:  # one batch after all: stored like any small file
                    group_started = time.monotonic()
                    group.append(small)
                    group_rows, group_bytes = len(small.out.rows), task.size
                continue
        out = _read_task(task, defaults, mapping, lambda fraction, t=task: meter.at(t, READ_SHARE * fraction))
        plan.rejected.extend((2 * task.index + 1, rejection) for rejection in out.rejected)
        if not out.rows:
            meter.at(task, 1.0)
            continue
        if not group:
            group_started = time.monotonic()
        group.append(_ReadFile(task, defaults, out))
        group_rows += len(out.rows)
        group_bytes += task.size
        if (group_rows >= GROUP_ROWS or group_bytes >= GROUP_BYTES
                or time.monotonic() - group_started >= GROUP_SECONDS):
            _store_group(store, group, plan, report, touched, meter)
            group, group_rows, group_bytes = [], 0, 0
    if group:
        _store_group(store, group, plan, report, touched, meter)


def _store_group(store: Store, group: list[_ReadFile], plan: _Plan, report: ImportReport,
                 touched: dict[str, None], meter: _Progress) -> None:
    stored: list[tuple[_ReadFile, int]] = []
    refused: list[tuple[_ReadFile, Exception]] = []
    try:
        with store.transaction(bulk=True) as conn:
            for item in group:
                conn.execute("SAVEPOINT newsmark_import_file")
                try:
                    new = _store_file(store, conn, item, meter)
                except Exception as exc:  # the database refused this file: undo it, go on
                    if not conn.in_transaction:
                        raise  # SQLite rolled everything back itself (a full disk): say that
                    conn.execute("ROLLBACK TO newsmark_import_file")
                    conn.execute("RELEASE newsmark_import_file")
                    refused.append((item, exc))
                else:
                    conn.execute("RELEASE newsmark_import_file")
                    stored.append((item, new))
    except Exception as exc:  # the transaction itself failed (locked, disk full, ...)
        refused = [(item, exc) for item in group]
        stored = []
    for item, new in stored:
        report.imported += new
        report.duplicates += len(item.out.rows) - new
        touched.update(dict.fromkeys(item.out.stories))
    for item, exc in refused:
        reason = _safe(f"not imported, the database refused it: {exc}")
        plan.rejected.append((2 * item.task.index + 1, Rejection(origin=item.task.display, reason=reason)))
    for item in group:
        meter.at(item.task, 1.0)


def _store_file(store: Store, conn: sqlite3.Connection, item: _ReadFile, meter: _Progress) -> int:
    """Insert one read file's stories and articles; return how many articles were new."""
    defaults, rows = item.defaults, item.out.rows
    for story_obj in item.out.stories.values():
        _create_story(store, conn, defaults, story_obj)
    new = 0
    for start in range(0, len(rows), BATCH_ROWS):
        new += store.insert_articles(conn, rows[start:start + BATCH_ROWS])
        meter.at(item.task, READ_SHARE + (1 - READ_SHARE) * (start + BATCH_ROWS) / len(rows))
    return new


def _create_story(store: Store, conn: sqlite3.Connection, defaults: _Defaults, story_obj: Story) -> None:
    if defaults.story_is_authoritative and story_obj.id == defaults.story_id:
        store.upsert_story(defaults.story, conn)  # story.toml is the truth about its story
    else:
        store.ensure_story(conn, story_obj)


# --- big files: read in a child process while this one stores ------------------------------


_NOT_STARTED: Any = object()  # _import_pipelined could not start its child


class _ReaderFailed(Exception):
    """The child reading a file raised `error` (a bug, not bad input: re-raised here) or
    stopped without a word (`error` is None: the file is rejected)."""

    def __init__(self, error: BaseException | None, exitcode: int | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.exitcode = exitcode


def _read_for_parent(task: _Task, defaults: _Defaults, mapping: dict[str, str], send: Callable[[Any], None]) -> None:
    """The child's side (see schema.reader_process): read the file, sending each batch of
    rows as it is ready with the stories first met since the previous batch, as (kind,
    rows, stories, payload): ("rows", ..., fraction of the file read), then ("done", ...,
    (rejected, void)). A row's text goes as UTF-8 bytes, not yet hashed (see _hashed):
    pickling bytes is a copy, where pickling str is an encoding and unpickling it a
    decoding, and the hashing is work taken off the busier process (reading)."""
    out = _Rows(task, defaults)
    out.text_as_utf8 = True
    stories_sent = 0

    def ship(kind: str, payload: Any) -> None:
        nonlocal stories_sent
        stories = list(out.stories.values())[stories_sent:]
        stories_sent = len(out.stories)
        send((kind, out.rows, stories, payload))  # (pickled there and then)
        out.rows.clear()  # in place: the row builder appends to this very list

    def flush(fraction: float) -> None:
        if out.rows:
            ship("rows", fraction)

    _read_task(task, defaults, mapping, flush, out)
    ship("done", (out.rejected, out.void))


def _hashed(rows: list[tuple], *, decode: bool = False) -> list[tuple]:
    """Rows as the child sent them (text as UTF-8 bytes, no id or hash) made whole: the
    text's id and hash filled in, the text decoded to str if `decode`."""
    whole = []
    append = whole.append
    for r in rows:
        data = r[7]
        sha = _sha256(data).hexdigest()
        append((sha[:16], r[1], r[2], r[3], r[4], r[5], r[6], data.decode() if decode else data, sha, r[9], r[10]))
    return whole


def _import_pipelined(store: Store, task: _Task, defaults: _Defaults, mapping: dict[str, str], plan: _Plan,
                      report: ImportReport, touched: dict[str, None], meter: _Progress) -> _ReadFile | None:
    """Import one big file read by a child process; see `_store_pipelined`. The child is
    ended and waited for whatever happens (errors, KeyboardInterrupt)."""
    with batches_from_child(partial(_read_for_parent, task, defaults, mapping)) as batches:
        if batches is None:  # cannot fork now (out of memory or processes): read it here
            return _NOT_STARTED

        def receive() -> tuple[str, list[tuple], list[Story], Any]:
            try:
                return next(batches)
            except ReaderDied as died:
                raise _ReaderFailed(None, died.exitcode) from None
            except BaseException as exc:  # raised by the child (or ^C here, while waiting)
                raise _ReaderFailed(exc) from None

        try:
            return _store_pipelined(store, task, defaults, receive, plan, report, touched, meter)
        except _ReaderFailed as failed:
            if failed.error is not None:
                raise failed.error from None
            reason = f"not imported: its reader process stopped unexpectedly (exit code {failed.exitcode})"
            plan.rejected.append((2 * task.index + 1, Rejection(origin=task.display, reason=reason)))
            meter.at(task, 1.0)
            return None


def _store_pipelined(store: Store, task: _Task, defaults: _Defaults,
                     receive: Callable[[], tuple[str, list[tuple], list[Story], Any]], plan: _Plan,
                     report: ImportReport, touched: dict[str, None], meter: _Progress) -> _ReadFile | None:
    """Store the batches of a file as `receive` hands them over: published chunk by chunk in
    short transactions while the child reads on (Store.stage_articles), hidden from readers
    until a last short one creates the file's stories and shows every row at once
    (Store.publish_staged_chunked), unless the database refuses a chunk or the reader
    rejects the whole file at the end (then its rows are removed: Store.stage_close).

    A file of one batch is returned as read, for the caller to store with the small files."""
    kind, rows, stories, payload = receive()
    if kind == "done":
        out = _Rows(task, defaults)
        out.rows, out.rejected = _hashed(rows, decode=True), payload[0]
        out.stories = {story_obj.id: story_obj for story_obj in stories}
        plan.rejected.extend((2 * task.index + 1, rejection) for rejection in out.rejected)
        if not rows:
            meter.at(task, 1.0)
            return None
        return _ReadFile(task, defaults, out)
    stored = new = 0
    met: dict[str, None] = {}
    file_stories: list[Story] = []
    refused: Exception | None = None
    # Published in short hidden chunks while the child reads on, then shown by a last short
    # transaction: the file is all or nothing, and other writers (an analyst's keystrokes)
    # wait for one chunk at most.
    store.stage_open(task.size)
    try:
        utf8 = store.utf8_text
        try:
            while True:
                file_stories += stories
                if rows:
                    # As UTF-8 bytes, cast to TEXT (see Store.insert_articles_utf8); the cast
                    # needs a UTF-8 database, which newsmark always creates.
                    store.stage_articles(_hashed(rows, decode=not utf8), utf8=utf8)
                    stored += len(rows)
                if kind == "done":
                    break
                meter.at(task, payload)
                kind, rows, stories, payload = receive()
        except _ReaderFailed:
            raise
        except Exception as exc:  # staging failed (a full disk): the file is not imported
            refused = exc
        else:
            if not payload[1]:  # not rejected whole at the end (bad UTF-8 late in a CSV)
                def create_stories(conn: sqlite3.Connection) -> None:
                    for story_obj in file_stories:
                        _create_story(store, conn, defaults, story_obj)
                        met[story_obj.id] = None

                try:
                    new = store.publish_staged_chunked(create_stories)
                except Exception as exc:  # a transaction failed (locked, disk full, ...)
                    met.clear()
                    refused = exc
    finally:
        store.stage_close()
    while kind != "done":  # after a refusal: the reader's own rejections still count
        kind, rows, stories, payload = receive()
    rejected, void = payload
    plan.rejected.extend((2 * task.index + 1, rejection) for rejection in rejected)
    if refused is not None:
        reason = _safe(f"not imported, the database refused it: {refused}")
        plan.rejected.append((2 * task.index + 1, Rejection(origin=task.display, reason=reason)))
    elif not void:
        report.imported += new
        report.duplicates += stored - new
        touched.update(met)
    meter.at(task, 1.0)
    return None


def _note_story_files(plan: _Plan, report: ImportReport) -> None:
    """Name the files a broken story.toml kept out, and warn of entries naming no file."""
    for ctx in plan.contexts:
        if ctx.broken is not None and ctx.blocked_files:
            for rejection in report.rejected:
                if rejection.origin == ctx.toml_display:
                    files = "1 file was" if ctx.blocked_files == 1 else f"{ctx.blocked_files} files were"
                    rejection.reason += f"; its folder's {files} not imported"
        elif ctx.story is not None and ctx.walked:
            for key in sorted(set(ctx.articles) - ctx.used):
                if (ctx.folder / key).exists():
                    continue  # there, but not an article file: listed in `skipped`
                report.warnings.append(Rejection(
                    origin=ctx.toml_display,
                    reason=_safe(f"[articles.{key!r}] names a file that is not in the folder")))
