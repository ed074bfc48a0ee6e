"""The annotation scheme: which fields an annotator fills in, their labels and keys.

A scheme is validated once, where it is read (`parse_scheme`): every string it holds is
shown in terminals (labels, wording, keys in help and exports), so none may hold a control
or format character or run over several lines; they are refused, not cleaned, so that
what is stored is what the scheme's author wrote. Error messages show hostile input only
through `for_terminal`.
"""

from __future__ import annotations

import math
import re
import stat
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import ValidationError, field_validator, model_validator

from newsmark.schema.files import NotRegularFile, open_regular
from newsmark.schema.keynames import canonical_key, key_problem
from newsmark.schema.models import Model
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.structured import StructureError, load_toml

Level = Literal["article", "claim"]
Kind = Literal["nominal", "ordinal", "interval"]
Scope = Literal["story", "article"]
# Names an export record already uses for other things, so a field may not take them.
RESERVED_FIELD_NAMES = frozenset({"claims", "note", "flagged", "cluster"})
MAX_NAME_LENGTH = 64  # a scheme's name, a label's value
MAX_DESCRIPTION_LENGTH = 200  # a field's or label's wording: one line of help
MAX_CONFIG_BYTES = 1 << 20  # a scheme or keymap file; real ones are a few kilobytes
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")  # used with fullmatch: "$" would let "\n" through
# A plain decimal number: what float() reads minus "nan", "inf", "1_000" and padding.
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")  # used with fullmatch


class SchemeError(ValueError):
    """A scheme file that cannot be used; the message says every problem found."""


def shown(value: object, limit: int = 80) -> str:
    """A value as error messages show it: safe for a terminal, cut to `limit` characters
    (a hostile file may hold a megabyte where a word belongs)."""
    text = for_terminal(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: object) -> str:
    """A value as error messages quote it: 'value', shown safely (see `shown`)."""
    return f"'{shown(value)}'"


def _one_line(value: str, what: str, max_length: int, *, required: bool) -> str:
    """`value` when it is one line of at most `max_length` characters with no control or
    format character (and, if required, not blank); else ValueError saying why."""
    if len(value) > max_length:
        raise ValueError(f"{what} is longer than {max_length} characters")
    if for_terminal(value) != value:
        raise ValueError(f"{what} {quoted(value)} holds a control or format character (or a line break)")
    if required and (not value.strip() or value != value.strip()):
        raise ValueError(f"{what} {quoted(value)} must be non-empty, with no spaces at either end")
    return value


class SchemeLabel(Model):
    """One label of a field: its stored value, its key, and its wording."""

    value: str
    key: str
    description: str = ""
    missing: bool = False

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: str) -> str:
        return _one_line(value, "label value", MAX_NAME_LENGTH, required=True)

    @field_validator("key")
    @classmethod
    def _check_key(cls, key: str) -> str:
        problem = key_problem(key)
        if problem:
            raise ValueError(f"key {quoted(key)} {problem}")
        return key

    @field_validator("description")
    @classmethod
    def _check_description(cls, description: str) -> str:
        return _one_line(description, "description", MAX_DESCRIPTION_LENGTH, required=False)


class SchemeField(Model):
    """A field of the scheme, filled in at the article level, the claim level, or both."""

    name: str
    level: list[Level]
    kind: Kind
    # What an article-level value is judged against: the story's proposition ("story": one
    # value per story the article is in) or the article alone ("article": one value wherever
    # it appears). None: "story" for a field named stance, "article" for any other.
    scope: Scope | None = None
    description: str = ""
    labels: list[SchemeLabel]

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(
                f"field name {quoted(name)} must be a lower-case letter, then up to 39 lower-case letters, digits or _"
            )
        return name

    @field_validator("description")
    @classmethod
    def _check_description(cls, description: str) -> str:
        return _one_line(description, "description", MAX_DESCRIPTION_LENGTH, required=False)

    @field_validator("level", mode="before")
    @classmethod
    def _level_as_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> SchemeField:
        if not self.level:
            raise ValueError(f"field {quoted(self.name)}: level must name article, claim or both")
        if len(set(self.level)) != len(self.level):
            raise ValueError(f"field {quoted(self.name)}: level repeats itself")
        if not self.labels:
            raise ValueError(f"field {quoted(self.name)}: the list of labels is empty")
        if self.scope is None:
            self.scope = "story" if self.name == "stance" else "article"
        if self.name in RESERVED_FIELD_NAMES:
            raise ValueError(f"field name {quoted(self.name)} is reserved")
        _no_duplicates(f"field {quoted(self.name)}: value", [lab.value for lab in self.labels])
        if self.kind == "interval":
            for lab in self.labels:
                if not lab.missing and not _is_finite_number(lab.value):
                    raise ValueError(
                        f"field {quoted(self.name)}: interval labels must be finite numbers "
                        f"such as 1, 2.5 or -3 ({quoted(lab.value)} is not)"
                    )
        # "?" and "question_mark" are one key to Textual, so compare the spelling it matches.
        _no_duplicates(f"field {quoted(self.name)}: key", [lab.key for lab in self.labels], canonical_key)
        return self

    @property
    def values(self) -> list[str]:
        """The label values in scheme order."""
        return [lab.value for lab in self.labels]

    def label(self, value: str) -> SchemeLabel | None:
        """The label with this value, or None."""
        return next((lab for lab in self.labels if lab.value == value), None)

    def rank(self, value: str) -> int | None:
        """Position of a value in the scheme order, None for unknown or 'cannot be judged'."""
        for index, lab in enumerate(self.labels):
            if lab.value == value:
                return None if lab.missing else index
        return None


def _is_finite_number(value: str) -> bool:
    """A plain decimal number that is finite as a float (no nan, inf or 1e999)."""
    return _NUMBER.fullmatch(value) is not None and math.isfinite(float(value))


def _no_duplicates(what: str, items: list[str], same=lambda item: item) -> None:
    seen: dict[str, str] = {}
    for item in items:
        if same(item) in seen:
            first = seen[same(item)]
            also = "" if first == item else f" (the same key as {quoted(first)})"
            raise ValueError(f"duplicate {what} {quoted(item)}{also}")
        seen[same(item)] = item


class Scheme(Model):
    """A whole annotation scheme."""

    name: str = "custom"
    fields: list[SchemeField]

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        return _one_line(name, "scheme name", MAX_NAME_LENGTH, required=True)

    @model_validator(mode="after")
    def _check(self) -> Scheme:
        if not self.fields:
            raise ValueError("the scheme has no fields")
        _no_duplicates("field name", [f.name for f in self.fields])
        for level in ("article", "claim"):
            owners: dict[str, tuple[str, str]] = {}  # canonical key -> (key, field=value)
            for fld in self.fields_at(level):
                for lab in fld.labels:
                    key = canonical_key(lab.key)
                    if key in owners:
                        raise ValueError(
                            f"duplicate key {quoted(lab.key)} at the {level} level: "
                            f"{for_terminal(owners[key][1])} and {for_terminal(fld.name)}={for_terminal(lab.value)}"
                        )
                    owners[key] = (lab.key, f"{fld.name}={lab.value}")
        return self

    def story_fields(self) -> frozenset[str]:
        """Names of the article-level fields judged per story (scope "story")."""
        return frozenset(f.name for f in self.fields if f.scope == "story" and "article" in f.level)

    def fields_at(self, level: Level) -> list[SchemeField]:
        """The fields filled in at one level, in scheme order."""
        return [f for f in self.fields if level in f.level]

    def field(self, name: str) -> SchemeField | None:
        """The field with this name, or None."""
        return next((f for f in self.fields if f.name == name), None)

    def by_key(self, level: Level, key: str) -> tuple[SchemeField, SchemeLabel] | None:
        """The field and label a key sets at a level, or None ("?" and "question_mark"
        are the same key)."""
        key = canonical_key(key)
        for fld in self.fields_at(level):
            for lab in fld.labels:
                if canonical_key(lab.key) == key:
                    return fld, lab
        return None

    def check_value(self, field_name: str, value: str, level: Level) -> str | None:
        """Why a value is not valid for a field at a level, or None when it is."""
        fld = self.field(field_name)
        if fld is None:
            return f"unknown field {quoted(field_name)}"
        if level not in fld.level:
            return f"field {quoted(field_name)} is not a {level}-level field"
        if fld.label(value) is None:
            return f"{quoted(value)} is not a label of {quoted(field_name)} (expected one of {', '.join(fld.values)})"
        return None


def parse_scheme(text: str, origin: str = "scheme") -> Scheme:
    """Parse and validate a scheme from TOML text, raising SchemeError with every problem.

    The message starts with `origin` (a file name) and is safe to show in a terminal."""
    where = for_terminal(origin)
    try:
        data = load_toml(text)
    except StructureError as exc:
        raise SchemeError(f"{where}: {for_terminal(exc)}") from None
    try:
        return Scheme.model_validate(data)
    except ValidationError as exc:
        raise SchemeError(f"{where}: " + listed([_describe(err) for err in exc.errors()], "; ")) from None


def listed(items: list[str], separator: str = ", ", limit: int = 10) -> str:
    """Items joined, the first `limit` of them, then how many more there are."""
    more = f"{separator}and {len(items) - limit} more" if len(items) > limit else ""
    return separator.join(items[:limit]) + more


def _describe(err: dict) -> str:
    # loc holds the file's own keys (an unknown key is named by it): shown safely too.
    where = ".".join(shown(part) for part in err["loc"])
    message = for_terminal(err["msg"].removeprefix("Value error, "))
    return f"{where}: {message}" if where else message


def read_config_text(path: str | Path, what: str) -> str:
    """The UTF-8 text of a small configuration file (a scheme, a keymap), read only when
    it is a regular file (a symlink to one is fine) of at most MAX_CONFIG_BYTES: a FIFO
    would hang the read and /dev/zero would never end. Raises OSError or ValueError with
    a sentence saying why (without the path); callers name the file."""
    try:
        handle = open_regular(path)
    except NotRegularFile as exc:
        raise ValueError(f"not a regular file ({_file_kind(exc.mode)}); a {what} must be a regular file") from None
    with handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"larger than {MAX_CONFIG_BYTES // 1024} KiB; a {what} file is a few kilobytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte {exc.start})") from None


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def config_read_error(exc: OSError | ValueError) -> str:
    """Why a configuration file could not be read, in words (for `path: cannot read: …`)."""
    if isinstance(exc, OSError):
        return for_terminal(exc.strerror or exc)
    return for_terminal(exc)


def read_scheme_text(path: str | Path) -> str:
    """The text of a scheme file, or SchemeError naming the file and why it cannot be read."""
    try:
        return read_config_text(path, "scheme")
    except (OSError, ValueError) as exc:
        raise SchemeError(f"{for_terminal(path)}: cannot read: {config_read_error(exc)}") from None


def load_scheme(path: str | Path) -> Scheme:
    """Read and validate a scheme file."""
    return parse_scheme(read_scheme_text(path), str(path))


def default_scheme_text() -> str:
    """The TOML text of the default scheme."""
    return resources.files("newsmark.schema").joinpath("default_scheme.toml").read_text(encoding="utf-8")


def default_scheme() -> Scheme:
    """The default scheme: stance, reliability, credibility, checkworthy."""
    return parse_scheme(default_scheme_text(), "default_scheme.toml")
