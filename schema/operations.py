"""What each kind of stored action is called in words. The store names its actions with
short ids ("claim.add_linked", "gold.claim") that go into the event log; people read the
words of OP_WORDS instead, in the undo and redo messages of the annotate and review
screens. An op missing here still reads as words (dots become spaces)."""

from __future__ import annotations

from typing import Any

from newsmark.schema.sanitize import for_terminal

# The store's op id -> what the action did; {field} is the label's field, when it has one.
OP_WORDS: dict[str, str] = {
    "label": "the {field} label",
    "note": "the note",
    "flag": "the flag",
    "claim.add": "marking a claim",
    "claim.remove": "removing a claim",
    "claim.label": "the claim's {field} label",
    "claim.link": "linking claims",
    "claim.unlink": "unlinking a claim",
    "claim.add_linked": "linking a suggested match into the claim's cluster",
    "cluster.label": "the wording of a claim cluster",
    "gold": "the gold {field} label",
    "gold.claim": "a gold claim",
    "gold.claim.remove": "removing a gold claim",
    "gold.agreed": "accepting the agreed values as gold",
    "load": "loading annotations",
    "story.edit": "editing the story",
    "story.add": "adding articles to a story",
    "story.remove": "taking articles out of a story",
    "story.move": "moving articles to another story",
    "story.split": "splitting a story",
    "story.merge": "merging stories",
}


def op_words(op: str, events: list[Any] = ()) -> str:
    """An action's op id in words ("claim.add_linked" -> "linking a suggested match into
    the claim's cluster"), naming the label's field from its first event when it has one."""
    words = OP_WORDS.get(op)
    if words is None:
        return for_terminal(op.replace(".", " ").replace("_", " "))
    field = next((str(e.key["field"]) for e in events if isinstance(e.key, dict) and "field" in e.key), None)
    if "{field}" in words:
        words = words.replace("{field}", field) if field else words.replace("{field} ", "")
    return for_terminal(words)


def undo_message(result: Any, undo: bool) -> str:
    """The message after an undo or redo: "Undid marking a claim." (result: the store's
    ActionResult, whose op is "undo OP" or "redo OP"; None: there was nothing to do)."""
    if result is None:
        return "Nothing to undo." if undo else "Nothing to redo."
    op = result.op.split(" ", 1)[-1]
    return f"{'Undid' if undo else 'Redid'} {op_words(op, result.events)}."
