"""Pydantic models of newsmark's data: stories, articles, claims, gold, events, and the
export records. Validation happens here, once, where data enters (import, load, config).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from newsmark.schema.names import MAX_NAME_LENGTH, check_name
from newsmark.schema.sanitize import for_terminal

SCHEMA_VERSION = 2  # of the export record; version 1 files still load
STORY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
ARTICLE_ID_PATTERN = r"^[0-9a-f]{16}$"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def _check_iso_date(value: str | None) -> str | None:
    if value is None:
        return None
    if not _ISO_DATE.match(value):
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {value!r}")
    dt.date.fromisoformat(value)
    return value


# Loaded records are settled by newer-wins on these stamps: one from the far future would
# win every later conflict, so a stamp may run ahead of this machine's clock by at most a
# day (clock skew between teammates), and none predates this one (no annotation does).
CLOCK_SKEW = dt.timedelta(days=1)
EARLIEST_TIMESTAMP = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def instant(stamp: str) -> dt.datetime:
    """The aware datetime of a timestamp of the `Timestamp` shape."""
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# Timestamps and names found valid are remembered (a file repeats a few of them on every
# record): a valid stamp stays valid (the clock only moves on), the name rule is a pure
# function, and lru_cache keeps no failure.
@functools.lru_cache(maxsize=4096)
def _check_timestamp(value: str) -> str:
    if not _ISO_TIMESTAMP.match(value):
        raise ValueError(f"not a UTC timestamp like 2026-11-21T10:00:00Z: {value!r}")
    try:
        when = instant(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real date and time ({exc})") from None
    if when < EARLIEST_TIMESTAMP:
        raise ValueError(f"{value!r} is before {EARLIEST_TIMESTAMP:%Y-%m-%d}")
    latest = dt.datetime.now(dt.timezone.utc) + CLOCK_SKEW
    if when > latest:
        raise ValueError(
            f"{value!r} is in the future (later than this machine's clock plus one day); "
            "it would win every conflict"
        )
    return value


@functools.lru_cache(maxsize=4096)
def _check_name(value: str) -> str:
    return check_name(value, what="name")


def _check_identifier(value: str) -> str:
    if not value.isprintable() or any(ch.isspace() for ch in value):
        raise ValueError(f"id '{for_terminal(value)}' holds spaces, control or format characters")
    return value


def _exactly(kind: type) -> BeforeValidator:
    """Refuse values merely equal to a literal (True or 1.0 for 1, 0 for False)."""

    def check(value: Any) -> Any:
        if type(value) is not kind:
            shown = json.dumps(value, ensure_ascii=False, default=repr)[:40]
            raise ValueError(f"must be a JSON {'boolean' if kind is bool else 'integer'}, not {shown}")
        return value

    return BeforeValidator(check)


IsoDate = Annotated[
    Annotated[str, Field(pattern=_ISO_DATE.pattern)] | None, AfterValidator(_check_iso_date)
]
Timestamp = Annotated[str, Field(pattern=_ISO_TIMESTAMP.pattern), AfterValidator(_check_timestamp)]
# Claim and cluster ids (newsmark writes hex): shown in the app, so printable, no spaces.
Identifier = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_identifier)]
# The one name rule (schema/names.py); the JSON Schema states its length only.
Name = Annotated[
    str, AfterValidator(_check_name), Field(json_schema_extra={"minLength": 1, "maxLength": MAX_NAME_LENGTH})
]


class Model(BaseModel):
    """Base: unknown keys are errors, so typos in files are caught at the edge."""

    model_config = ConfigDict(extra="forbid")


# --- stories and articles -------------------------------------------------------------


class Story(Model):
    """A set of articles on one event, judged against one proposition."""

    id: str = Field(pattern=STORY_ID_PATTERN)
    title: str = ""
    proposition: str = ""
    meta: dict[str, Any] = Field(default_factory=dict)


class Article(Model):
    """One outlet's article; `id` is derived from the sanitised text."""

    id: str = Field(pattern=ARTICLE_ID_PATTERN)
    story_id: str = Field(pattern=STORY_ID_PATTERN)
    source: str | None = None
    url: str | None = None
    title: str | None = None
    byline: str | None = None
    published: IsoDate = None
    text: str
    meta: dict[str, Any] = Field(default_factory=dict)
    origin: str | None = None


# --- annotations ----------------------------------------------------------------------


class Claim(Model):
    """A span of one article's text marked by one annotator (code points, end exclusive)."""

    id: str
    article_id: str
    annotator: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    exact: str
    prefix: str = ""
    suffix: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    cluster: str | None = None

    @model_validator(mode="after")
    def _span_order(self) -> Claim:
        if self.end <= self.start:
            raise ValueError(f"claim end ({self.end}) must be after start ({self.start})")
        return self


class Gold(Model):
    """The adjudicated value of one field for one article."""

    article_id: str
    field: str
    value: str
    by: str
    reason: str = ""
    at: str


class Event(Model):
    """One row change in the event log; events sharing `action` were one user action."""

    id: int
    action: int
    at: str
    annotator: str
    op: str
    tbl: str
    key: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    undoable: bool
    undone: bool


# --- export records (JSONL): schema_version 2, and 1 for loading older files ----------


class ExportModel(Model):
    """Base of the export records: strict types, as in the file. A number is not text, and
    an offset is an integer (not true, 100.0 or "100"): what a teammate's file says is
    either taken as it is or rejected, never converted."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ExportArticle(ExportModel):
    """The article as carried by an export record; `text` is absent with --no-text. The
    record's story says which story it was read in (an article may be in several)."""

    id: str = Field(pattern=ARTICLE_ID_PATTERN)
    source: str | None
    url: str | None
    title: str | None
    byline: str | None
    published: IsoDate
    text_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    text: str | None = None


class ExportArticleV1(ExportArticle):
    """The article of a version-1 record, which names its (one) story."""

    story_id: str = Field(pattern=STORY_ID_PATTERN)


class ExportStory(ExportModel):
    """The story as carried by an export record."""

    id: str = Field(pattern=STORY_ID_PATTERN)
    title: str
    proposition: str


class ExportClaimV1(ExportModel):
    """A claim as carried by a version-1 record (no cluster wording)."""

    id: Identifier
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    exact: str
    prefix: str
    suffix: str
    labels: dict[str, str]
    cluster: Identifier | None

    @model_validator(mode="after")
    def _span_order(self) -> ExportClaimV1:
        if self.end <= self.start:
            raise ValueError(f"claim end ({self.end}) must be after start ({self.start})")
        return self


class ExportClaim(ExportClaimV1):
    """A claim as carried by an export record, with its cluster's canonical wording (the
    cluster's label, edited with `w`; null without a cluster or a wording)."""

    cluster_wording: str | None

    @model_validator(mode="after")
    def _wording_needs_a_cluster(self) -> ExportClaim:
        if self.cluster is None and self.cluster_wording is not None:
            raise ValueError("cluster_wording is given but the claim has no cluster")
        return self


class AnnotationRecord(ExportModel):
    """One annotator's annotation of one article as read in one story: a line of the JSONL
    export. `labels` holds the story's story-scoped values and the article-scoped ones."""

    schema_version: Annotated[Literal[2], _exactly(int)]
    article: ExportArticle
    story: ExportStory
    annotator: Name
    labels: dict[str, str]
    claims: list[ExportClaim]
    note: str | None
    flagged: bool
    updated_at: Timestamp


class AnnotationRecordV1(AnnotationRecord):
    """A line of a version-1 export (one story per article), still loaded."""

    schema_version: Annotated[Literal[1], _exactly(int)]  # type: ignore[assignment]
    article: ExportArticleV1
    claims: list[ExportClaimV1]  # type: ignore[assignment]


GoldSource = Literal["adjudicated", "agreed", "majority", "undecided"]


class GoldProvenance(ExportModel):
    """Where a gold value came from: `adjudicated` by a reviewer (`by`, `reason`, `at`), or
    derived by the gold policy from the annotators' values: `agreed` (all `of` annotators
    who gave the field a value gave it) or `majority` (`agreed` of `of`). `undecided`: `of`
    annotators gave the field a value and neither a reviewer nor the policy decided it (the
    record's labels have no value for it). A file written before sources were named has
    only by, reason and at: adjudicated."""

    # The JSON Schema says what the validator below checks: which keys go with which source.
    model_config = ConfigDict(json_schema_extra={"allOf": [
        {"if": {"properties": {"source": {"enum": ["agreed", "majority"]}}, "required": ["source"]},
         "then": {"required": ["agreed", "of"],
                  "properties": {"of": {"minimum": 2}, "by": False, "reason": False, "at": False}}},
        {"if": {"properties": {"source": {"const": "undecided"}}, "required": ["source"]},
         "then": {"required": ["of"], "properties": {"agreed": False, "by": False, "reason": False, "at": False}}},
        {"if": {"properties": {"source": {"const": "adjudicated"}}},
         "then": {"required": ["by", "reason", "at"], "properties": {"agreed": False, "of": False}}},
    ]})

    source: GoldSource = "adjudicated"
    by: Name | None = None
    reason: str | None = None
    at: Timestamp | None = None
    agreed: int | None = Field(default=None, ge=1)
    of: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _fits_source(self) -> GoldProvenance:
        if self.source == "adjudicated":
            if self.by is None or self.reason is None or self.at is None or self.agreed is not None or self.of is not None:
                raise ValueError("an adjudicated gold value has by, reason and at (and no agreed or of)")
        elif self.source == "undecided":
            if self.of is None or self.agreed is not None or self.by is not None or self.reason is not None \
                    or self.at is not None:
                raise ValueError("an undecided gold field has of, and no agreed, by, reason or at")
        elif self.agreed is None or self.of is None or self.of < 2 or self.by is not None or self.reason is not None \
                or self.at is not None or self.agreed > self.of:
            raise ValueError(f"{'an' if self.source == 'agreed' else 'a'} {self.source} gold value has agreed and of "
                             "(agreed <= of, of >= 2), and no by, reason or at")
        return self

    @property
    def derived(self) -> bool:
        """Whether the gold policy derived it from the annotators' values, or left it
        undecided (not a reviewer's)."""
        return self.source != "adjudicated"


class ClaimProvenance(GoldProvenance):
    """Where a gold claim came from (as GoldProvenance), and each of its gold labels."""

    labels: dict[str, GoldProvenance] = {}


class GoldExportClaim(ExportClaim):
    """A gold claim as carried by a gold record: the claim, and its source (`gold`; absent in
    files written before sources were named, whose claims are all adjudicated)."""

    gold: ClaimProvenance | None = None


class GoldRecord(ExportModel):
    """The gold labels and claims of one article as read in one story: a line of
    `export --gold`, under the gold policy.

    `gold` maps each gold field to its source (GoldProvenance), and each field annotators
    labelled that nothing decided to `undecided`; the key "claims" holds the
    provenance of the latest adjudicated gold claim when there is one. Each gold claim
    carries its own source and its labels' sources.
    """

    schema_version: Annotated[Literal[2], _exactly(int)]
    article: ExportArticle
    story: ExportStory
    annotator: None
    labels: dict[str, str]
    claims: list[GoldExportClaim]
    note: None
    flagged: Annotated[Literal[False], _exactly(bool)]
    updated_at: Timestamp
    gold: dict[str, GoldProvenance]


class GoldRecordV1(GoldRecord):
    """A line of a version-1 `export --gold`, still loaded."""

    schema_version: Annotated[Literal[1], _exactly(int)]  # type: ignore[assignment]
    article: ExportArticleV1
    claims: list[ExportClaimV1]  # type: ignore[assignment]


AnyAnnotationRecord = AnnotationRecord | AnnotationRecordV1
AnyGoldRecord = GoldRecord | GoldRecordV1
AnyRecord = AnyAnnotationRecord | AnyGoldRecord


def utc_stamp(instant: dt.datetime) -> str:
    """A UTC instant in the timestamp format used everywhere (millisecond precision)."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def utc_now(*, minus: dt.timedelta | None = None) -> str:
    """The current UTC time (or `minus` ago) as a timestamp (see utc_stamp)."""
    return utc_stamp(dt.datetime.now(dt.timezone.utc) - (minus or dt.timedelta()))
