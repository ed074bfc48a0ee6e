"""A pane's label bar: the article's labels with their grade wording, claim count, flag,
note, this analyst's earlier grades for the outlet and the article's other stories ("also
in"); and the save indicator, which the pane shows on its bottom border.

Everything is built as `rich.text.Text` from plain strings: labels, outlet names and
claim text are never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from newsmark.schema.scheme import Scheme
from newsmark.tui.pane_data import OUTLET_FIELD, AnnotationView
from newsmark.tui.text import clip_words, display_inline

# Other stories named in the "also in" line; the rest are counted.
OTHER_STORIES_SHOWN = 3
NOTE_WIDTH = 60  # characters of the note's first line shown in the label bar

SAVE_STATES = {
    "saved": ("✓ saved", "green"),
    "saving": ("… saving", "yellow"),
    "failed": ("✗ NOT saved", "bold red"),
    "loading": ("loading…", "dim"),
}


@dataclass
class LabelBarState:
    """Everything the label bar shows."""

    scheme: Scheme
    annotation: AnnotationView | None
    save_state: str = "loading"  # "" before anything was changed: the border says nothing
    source: str | None = None
    blind: bool = False
    shared: str | None = None  # "68% shared with Capital Cities" while shared passages are shown
    other_stories: tuple[tuple[str, str], ...] = ()  # the article's other stories: (id, title)
    other_story_key: str = ""  # the key that opens the next of them (shown as a hint)


def render_save_state(save_state: str) -> Text:
    """The save indicator (shown on the pane's bottom border): saved only after commit;
    nothing ("") until something was changed in the pane."""
    if not save_state:
        return Text("")
    label, style = SAVE_STATES.get(save_state, SAVE_STATES["saved"])
    return Text(label, style=style)


def _grade(scheme: Scheme, field_name: str, value: str | None) -> Text:
    fld = scheme.field(field_name)
    if value is None:
        return Text("–", style="dim")
    text = Text(display_inline(value), style="bold")
    lab = fld.label(value) if fld else None
    if fld is not None and fld.kind != "nominal" and lab is not None and lab.description:
        text.append(f" {display_inline(lab.description)}", style="italic")
    return text


def render_label_bar(state: LabelBarState) -> Text:
    """The label bar's content for a state."""
    scheme = state.scheme
    out = Text(no_wrap=False)
    annotation = state.annotation
    if annotation is None:
        out.append(SAVE_STATES["loading"][0], style="dim")
        return out
    parts: list[Text] = []
    for fld in scheme.fields_at("article"):
        part = Text(f"{display_inline(fld.name)} ", style="dim")
        part.append_text(_grade(scheme, fld.name, annotation.labels.get(fld.name)))
        parts.append(part)
    count = len(annotation.claims)
    parts.append(Text(f"{count} claim{'s' if count != 1 else ''}"))
    if annotation.flagged:
        parts.append(Text("⚑ flagged", style="bold magenta"))
    if annotation.note:
        # The note's first line, readable without opening the editor.
        first_line = next((line for line in annotation.note.splitlines() if line.strip()), "")
        parts.append(Text(f"✎ note: {clip_words(first_line, NOTE_WIDTH)}", style="cyan"))
    out.append_text(Text(" · ").join(parts))

    if annotation.outlet_grades and not state.blind and state.source:
        grades = Text("\nyour earlier ", style="dim")
        grades.append(f"{OUTLET_FIELD} for ", style="dim")
        grades.append(display_inline(state.source), style="dim italic")
        grades.append(": ", style="dim")
        fld = scheme.field(OUTLET_FIELD)
        order = fld.values if fld else sorted(annotation.outlet_grades)
        grades.append(
            display_inline(" ".join(f"{v}×{annotation.outlet_grades[v]}" for v in order if v in annotation.outlet_grades)),
            style="bold",
        )
        out.append_text(grades)

    if state.other_stories:
        out.append_text(render_other_stories(state.other_stories, state.other_story_key))
    if state.shared:
        out.append("\n⇄ ", style="bold yellow")
        out.append(display_inline(state.shared), style="yellow")
    return out


def render_other_stories(stories: tuple[tuple[str, str], ...], key: str) -> Text:
    """The "also in" line: the titles (else ids) of the article's other stories, the
    first OTHER_STORIES_SHOWN of them, and the key that opens the next one ("": none)."""
    line = Text("\nalso in: ", style="dim")
    names = [display_inline(title) or display_inline(story_id) for story_id, title in stories[:OTHER_STORIES_SHOWN]]
    line.append(" · ".join(names), style="bold")
    if len(stories) > OTHER_STORIES_SHOWN:
        line.append(f" and {len(stories) - OTHER_STORIES_SHOWN} more", style="dim")
    if key:
        line.append(f"  ({display_inline(key)}: open)", style="dim")
    return line


class LabelBar(Static):
    """The label bar of one pane."""

    DEFAULT_CSS = """
    LabelBar { height: auto; }
    """
