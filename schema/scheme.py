"""The annotation scheme: which fields an annotator fills in, their labels and keys."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from newsmark.schema.models import Model

Level = Literal["article", "claim"]
Kind = Literal["nominal", "ordinal", "interval"]
# Names an export record already uses for other things, so a field may not take them.
RESERVED_FIELD_NAMES = frozenset({"claims", "note", "flagged", "cluster"})


class SchemeError(ValueError):
    """A scheme file that cannot be used; the message says every problem found."""


class SchemeLabel(Model):
    """One label of a field: its stored value, its key, and its wording."""

    value: str = Field(min_length=1, max_length=100)
    key: str = Field(min_length=1, max_length=20)
    description: str = ""
    missing: bool = False


class SchemeField(Model):
    """A field of the scheme, filled in at the article level, the claim level, or both."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    level: list[Level]
    kind: Kind
    description: str = ""
    labels: list[SchemeLabel]

    @field_validator("level", mode="before")
    @classmethod
    def _level_as_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> SchemeField:
        if not self.level:
            raise ValueError(f"field {self.name!r}: level must name article, claim or both")
        if len(set(self.level)) != len(self.level):
            raise ValueError(f"field {self.name!r}: level repeats itself")
        if not self.labels:
            raise ValueError(f"field {self.name!r}: the list of labels is empty")
        if self.name in RESERVED_FIELD_NAMES:
            raise ValueError(f"field name {self.name!r} is reserved")
        _no_duplicates(f"field {self.name!r}: value", [lab.value for lab in self.labels])
        if self.kind == "interval":
            for lab in self.labels:
                if not lab.missing and not _is_number(lab.value):
                    raise ValueError(f"field {self.name!r}: interval labels must be numbers ({lab.value!r} is not)")
        _no_duplicates(f"field {self.name!r}: key", [lab.key for lab in self.labels])
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


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _no_duplicates(what: str, items: list[str]) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ValueError(f"duplicate {what} {item!r}")
        seen.add(item)


class Scheme(Model):
    """A whole annotation scheme."""

    name: str = "custom"
    fields: list[SchemeField]

    @model_validator(mode="after")
    def _check(self) -> Scheme:
        if not self.fields:
            raise ValueError("the scheme has no fields")
        _no_duplicates("field name", [f.name for f in self.fields])
        for level in ("article", "claim"):
            owners: dict[str, str] = {}
            for fld in self.fields_at(level):
                for lab in fld.labels:
                    if lab.key in owners:
                        raise ValueError(
                            f"duplicate key {lab.key!r} at the {level} level: "
                            f"{owners[lab.key]} and {fld.name}={lab.value}"
                        )
                    owners[lab.key] = f"{fld.name}={lab.value}"
        return self

    def fields_at(self, level: Level) -> list[SchemeField]:
        """The fields filled in at one level, in scheme order."""
        return [f for f in self.fields if level in f.level]

    def field(self, name: str) -> SchemeField | None:
        """The field with this name, or None."""
        return next((f for f in self.fields if f.name == name), None)

    def by_key(self, level: Level, key: str) -> tuple[SchemeField, SchemeLabel] | None:
        """The field and label a key sets at a level, or None."""
        for fld in self.fields_at(level):
            for lab in fld.labels:
                if lab.key == key:
                    return fld, lab
        return None

    def check_value(self, field_name: str, value: str, level: Level) -> str | None:
        """Why a value is not valid for a field at a level, or None when it is."""
        fld = self.field(field_name)
        if fld is None:
            return f"unknown field {field_name!r}"
        if level not in fld.level:
            return f"field {field_name!r} is not a {level}-level field"
        if fld.label(value) is None:
            return f"{value!r} is not a label of {field_name!r} (expected one of {', '.join(fld.values)})"
        return None


def parse_scheme(text: str, origin: str = "scheme") -> Scheme:
    """Parse and validate a scheme from TOML text, raising SchemeError with every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(f"{origin}: not valid TOML: {exc}") from None
    try:
        return Scheme.model_validate(data)
    except ValidationError as exc:
        raise SchemeError(f"{origin}: " + "; ".join(_describe(err) for err in exc.errors())) from None


def _describe(err: dict) -> str:
    where = ".".join(str(part) for part in err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def load_scheme(path: str | Path) -> Scheme:
    """Read and validate a scheme file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemeError(f"{path}: cannot read: {exc}") from None
    return parse_scheme(text, str(path))


def default_scheme_text() -> str:
    """The TOML text of the default scheme."""
    return resources.files("newsmark.schema").joinpath("default_scheme.toml").read_text(encoding="utf-8")


def default_scheme() -> Scheme:
    """The default scheme: stance, reliability, credibility, checkworthy."""
    return parse_scheme(default_scheme_text(), "default_scheme.toml")
