"""A pane's list of its claims: text, claim labels, and how many articles each claim's
cluster appears in. Built as `rich.text.Text` from plain strings (claim text is article
text, so never markup)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from newsmark.schema.models import Claim
from newsmark.tui.text import display_inline

# How many claims the list shows at once (around the current one).
VISIBLE_CLAIMS = 4


def render_claim_list(
    claims: list[Claim], cluster_counts: dict[str, int], current: str | None, width: int, visible: int = VISIBLE_CLAIMS
) -> Text:
    """One line per claim, the current one marked; at most `visible` claims (around the
    current one), then how many there are in all when some are left out."""
    out = Text(no_wrap=True, overflow="ellipsis")
    if not claims:
        return out
    index = next((i for i, c in enumerate(claims) if c.id == current), 0)
    first = max(0, min(index - visible // 2, len(claims) - visible))
    shown = claims[first : first + visible]
    for number, claim in enumerate(shown, first + 1):
        is_current = claim.id == current
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append("▶ " if is_current else "  ", style="bold magenta")
        line.append(f"{number}. ", style="bold" if is_current else "dim")
        tags = [f"{field} {value}" for field, value in sorted(claim.labels.items())]
        if claim.cluster:
            tags.append(f"⛓ {cluster_counts.get(claim.cluster, 1)} articles")
        if tags:
            line.append("[" , style="dim")
            line.append(display_inline(" · ".join(tags)), style="cyan")
            line.append("] ", style="dim")
        line.append(display_inline(claim.exact), style="bold" if is_current else "")
        line.truncate(max(width, 10), overflow="ellipsis")
        if number > first + 1:
            out.append("\n")
        out.append_text(line)
    hidden = len(claims) - len(shown)
    if hidden:
        out.append(f"\n  … {len(claims)} claims in all", style="dim")
    return out


class ClaimList(Static):
    """The claims of one pane."""

    DEFAULT_CSS = """
    ClaimList { height: auto; max-height: 6; }
    """
