"""Complete gold: what a dataset records for each field of each article, and where it came from.

A reviewer's adjudication always decides. Where there is none, the gold policy does:

- `adjudicated`: nothing else — only what a reviewer decided is gold;
- `unanimous` (the default): a value every annotator who gave the field a value gave, when
  at least two did ("agreed by 3 of 3");
- `majority`: also a value more than half of them gave ("majority 2 of 3").

Units follow the field's scope (see the scheme): a story-scoped field (stance) is decided
per (story, article), an article-scoped one per article, and shows in each of its stories.
Claims the same way: a span marked identically by every annotator who worked on the article
(at least two) is a gold claim by agreement, by more than half of them under `majority`; its
labels are decided among those who marked it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from typing import Literal

from newsmark.schema.store import Store

Policy = Literal["adjudicated", "unanimous", "majority"]
POLICIES: tuple[Policy, ...] = ("adjudicated", "unanimous", "majority")
DEFAULT_POLICY: Policy = "unanimous"
POLICY_SETTING = "gold_policy"  # the database's policy, in `settings`


@dataclass(frozen=True)
class GoldValue:
    """A gold value and its source: `adjudicated` (by, reason, at), or `agreed` /
    `majority` (`agreed` annotators of the `of` who gave the field a value)."""

    value: str
    source: Literal["adjudicated", "agreed", "majority"]
    by: str | None = None
    reason: str | None = None
    at: str | None = None
    agreed: int | None = None
    of: int | None = None

    def provenance(self) -> dict[str, object]:
        """The source as the export record's `gold` entry holds it."""
        if self.source == "adjudicated":
            return {"source": "adjudicated", "by": self.by, "reason": self.reason, "at": self.at}
        return {"source": self.source, "agreed": self.agreed, "of": self.of}

    def describe(self) -> str:
        """The source in words: `adjudicated by lead`, `agreed by 3 of 3`, `majority 2 of 3`."""
        if self.source == "adjudicated":
            return f"adjudicated by {self.by}" + (f": {self.reason}" if self.reason else "")
        if self.source == "agreed":
            return f"agreed by {self.agreed} of {self.of}"
        return f"majority {self.agreed} of {self.of}"


@dataclass(frozen=True)
class GoldClaim:
    """A gold claim (a span of the article) and its source, with its gold labels."""

    start: int
    end: int
    exact: str
    labels: dict[str, GoldValue]
    source: GoldValue


def database_policy(store: Store) -> Policy:
    """The database's gold policy (`newsmark init --gold-policy`), else the default."""
    value = store.get_setting(POLICY_SETTING)
    return value if value in POLICIES else DEFAULT_POLICY  # type: ignore[return-value]


def decide(values: Mapping[str, str], policy: Policy) -> GoldValue | None:
    """The gold value the policy gives to annotators' values of one field of one unit
    ({annotator: value}), or None when it gives none."""
    if not values:
        return None
    value, count = Counter(values.values()).most_common(1)[0]
    return _by_count(value, count, len(values), policy)


def _by_count(value: str, count: int, total: int, policy: Policy) -> GoldValue | None:
    """`value`, given by `count` of `total` annotators, as gold under the policy, or None."""
    if policy == "adjudicated" or total < 2:
        return None
    if count == total:
        return GoldValue(value, "agreed", agreed=count, of=total)
    if policy == "majority" and 2 * count > total:
        return GoldValue(value, "majority", agreed=count, of=total)
    return None


@dataclass(frozen=True)
class GoldUnit:
    """One article as read in one story: its gold values by field, and the fields that
    annotators labelled but that still need a decision under the policy."""

    story_id: str
    article_id: str
    values: dict[str, GoldValue]
    undecided: tuple[str, ...]
    given: dict[str, int] = field(default_factory=dict)  # annotators who gave each labelled field a value


def gold_units(store: Store, policy: Policy, story_id: str | None = None) -> Iterator[GoldUnit]:
    """Every (story, article) with labels or gold, in story and article order, with its gold
    values under the policy."""
    labels = groupby(store.unit_labels(story_id), key=lambda row: (row[0], row[1]))
    golds = {(s, a): list(rows) for (s, a), rows in groupby(store.unit_gold(story_id), key=lambda row: (row[0], row[1]))}
    seen: set[tuple[str, str]] = set()
    for unit, rows in labels:
        seen.add(unit)
        by_field: dict[str, dict[str, str]] = {}
        for _, _, fld, annotator, value in rows:
            by_field.setdefault(fld, {})[annotator] = value
        yield _unit(unit, by_field, golds.get(unit, []), policy)
    for unit in sorted(set(golds) - seen):
        yield _unit(unit, {}, golds[unit], policy)


def _unit(unit: tuple[str, str], by_field: dict[str, dict[str, str]], gold_rows: list[tuple], policy: Policy) -> GoldUnit:
    values = {fld: GoldValue(value, "adjudicated", by=by, reason=reason, at=at)
              for _, _, fld, value, by, reason, at in gold_rows}
    undecided = []
    for fld, given in sorted(by_field.items()):
        if fld in values:
            continue
        decided = decide(given, policy)
        if decided is None:
            undecided.append(fld)
        else:
            values[fld] = decided
    return GoldUnit(unit[0], unit[1], dict(sorted(values.items())), tuple(undecided),
                    {fld: len(given) for fld, given in by_field.items()})


def gold_claims(store: Store, article_id: str, policy: Policy) -> list[GoldClaim]:
    """An article's gold claims: the adjudicated ones, and under `unanimous` or `majority`
    the spans annotators agreed on (see the module's docstring), in text order."""
    claims: list[GoldClaim] = []
    adjudicated = set()
    for row in store.gold_claims(article_id):
        adjudicated.add((row["start"], row["end"]))
        source = GoldValue("claim", "adjudicated", by=row["by"], reason=row["reason"], at=row["at"])
        labels = {fld: GoldValue(value, "adjudicated", by=row["by"], reason=row["reason"], at=row["at"])
                  for fld, value in sorted(row["labels"].items())}
        claims.append(GoldClaim(row["start"], row["end"], row["exact"], labels, source))
    if policy != "adjudicated":
        workers = len(store.article_annotators(article_id))
        spans: dict[tuple[int, int], list[tuple[str, str, dict[str, str]]]] = {}
        for annotator, start, end, exact, labels in store.claim_spans(article_id):
            spans.setdefault((start, end), []).append((annotator, exact, labels))
        for (start, end), marks in spans.items():
            if (start, end) in adjudicated:
                continue
            markers = len({annotator for annotator, _, _ in marks})
            source = _by_count("claim", markers, max(workers, markers), policy)
            if source is None:
                continue
            fields = sorted({fld for _, _, labels in marks for fld in labels})
            labels = {}
            for fld in fields:
                decided = decide({annotator: lab[fld] for annotator, _, lab in marks if fld in lab}, policy)
                if decided is not None:
                    labels[fld] = decided
            claims.append(GoldClaim(start, end, marks[0][1], labels, source))
    return sorted(claims, key=lambda claim: (claim.start, claim.end))


def gold_progress(store: Store, policy: Policy | None = None, story_id: str | None = None) -> dict[str, object]:
    """How far gold has got: {"policy", "units": labelled (story, article) units, "decided":
    those whose every labelled field has gold under the policy}."""
    policy = policy or database_policy(store)
    units = decided = 0
    for unit in gold_units(store, policy, story_id):
        units += 1
        decided += not unit.undecided
    return {"policy": policy, "units": units, "decided": decided}
