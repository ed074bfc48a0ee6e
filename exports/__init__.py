"""Dataset formats out. FORMATS maps a format's name (as `newsmark export --format NAME`
takes it) to its writer.

Every writer has the signature of `exports.jsonl.write_jsonl`:
`writer(store, out: BinaryIO, *, annotators=None, story=None, gold=False, text=True, policy=None) -> int`
(the number of records written). To add a format, write `exports/<name>.py` with such a
function (reusing `exports.jsonl.iter_records` for the records) and add one line below.
"""

from __future__ import annotations

from collections.abc import Callable

from newsmark.exports.arrow import write_parquet
from newsmark.exports.claimreview import write_claimreview
from newsmark.exports.csv_export import write_csv
from newsmark.exports.jsonl import write_jsonl
from newsmark.exports.w3c import write_w3c

Writer = Callable[..., int]

FORMATS: dict[str, Writer] = {
    "jsonl": write_jsonl,
    "w3c": write_w3c,
    "claimreview": write_claimreview,
    "csv": write_csv,
    "parquet": write_parquet,
}


def writer_for(name: str) -> Writer:
    """The writer of a format, or KeyError naming the known ones."""
    try:
        return FORMATS[name]
    except KeyError:
        raise KeyError(f"unknown export format {name!r} (known: {', '.join(sorted(FORMATS))})") from None


__all__ = ["FORMATS", "Writer", "writer_for"]
