"""What a gold export holds besides its undecided fields: the part a gold file brings on its
own (undecided fields come from the annotations, as derived gold does)."""

from __future__ import annotations

import orjson


def without_undecided(data: bytes) -> bytes:
    """Gold export lines without their undecided fields, and without the records that held
    nothing else."""
    kept = []
    for line in data.splitlines():
        record = orjson.loads(line)
        record["gold"] = {name: p for name, p in record["gold"].items() if p.get("source") != "undecided"}
        if record["labels"] or record["claims"]:
            kept.append(orjson.dumps(record) + b"\n")
    return b"".join(kept)
