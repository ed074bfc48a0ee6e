"""What a foreign label means in our scheme: `AGREE = "stance=agree"` (an article-level
label), `CLAIM = "claim"` (a span becomes a claim), `CHECK = "claim checkworthy=yes"` (a
claim with claim-level labels). Given as a TOML file (`[labels]` table) or as options
(`--label AGREE=stance=agree`). Labels that are not mapped are reported, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from newsmark.schema.sanitize import for_terminal
from newsmark.schema.scheme import Scheme
from newsmark.schema.structured import StructureError, load_toml


class MappingError(ValueError):
    """A mapping that cannot be used; the message names the entry."""


@dataclass(frozen=True)
class Meaning:
    """What one foreign label stands for."""

    claim: bool = False
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class LabelMap:
    """Foreign label name -> Meaning, checked against the scheme."""

    meanings: dict[str, Meaning]

    @classmethod
    def parse(cls, entries: dict[str, str], scheme: Scheme) -> LabelMap:
        """Entries `{"AGREE": "stance=agree", "CLAIM": "claim credibility=3"}` checked
        against `scheme`: the fields exist at the right level and the values are labels."""
        meanings = {}
        for name, meaning in entries.items():
            if not isinstance(meaning, str):
                raise MappingError(f"label '{for_terminal(name)}': its meaning must be text like 'stance=agree' or 'claim'")
            words = meaning.split()
            claim = bool(words) and words[0] == "claim"
            pairs = words[1:] if claim else words
            if not pairs and not claim:
                raise MappingError(f"label '{for_terminal(name)}' maps to nothing")
            labels = {}
            level = "claim" if claim else "article"
            for pair in pairs:
                field_name, sep, value = pair.partition("=")
                if not sep:
                    raise MappingError(f"label '{for_terminal(name)}': '{for_terminal(pair)}' is not FIELD=VALUE")
                scheme_field = scheme.field(field_name)
                if scheme_field is None or level not in scheme_field.level:
                    raise MappingError(
                        f"label '{for_terminal(name)}': the scheme has no {level}-level field '{for_terminal(field_name)}'"
                    )
                if scheme_field.label(value) is None:
                    known = ", ".join(label.value for label in scheme_field.labels)
                    raise MappingError(
                        f"label '{for_terminal(name)}': '{for_terminal(value)}' is not a label of {field_name} ({known})"
                    )
                labels[field_name] = value
            meanings[name] = Meaning(claim=claim, labels=labels)
        return cls(meanings)

    @classmethod
    def from_sources(cls, scheme: Scheme, file: Path | None, options: list[str]) -> LabelMap:
        """A mapping from a TOML file's `[labels]` table and `NAME=MEANING` options (an
        option overrides the file)."""
        entries: dict[str, str] = {}
        if file is not None:
            try:
                data = load_toml(file.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, StructureError) as exc:
                raise MappingError(f"{for_terminal(file)}: {for_terminal(exc)}") from None
            table = data.get("labels")
            if not isinstance(table, dict):
                raise MappingError(f"{for_terminal(file)}: needs a [labels] table, e.g. AGREE = \"stance=agree\"")
            entries.update(table)
        for option in options:
            name, sep, meaning = option.partition("=")
            if not sep or not name:
                raise MappingError(f"--label '{for_terminal(option)}': give NAME=MEANING, e.g. AGREE=stance=agree")
            entries[name] = meaning
        return cls.parse(entries, scheme)

    def meaning(self, label: str) -> Meaning | None:
        """What `label` means, or None when it is not mapped."""
        return self.meanings.get(label)
