"""The banner that makes a pane's mode impossible to miss: CLAIM mode (the sentence
cursor is on a claim, so label keys set that claim's own fields) or SPAN mode (refining
a span word by word). Hidden in article mode."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from newsmark.schema.models import Claim
from newsmark.schema.scheme import Scheme
from newsmark.tui.text import display_inline

CLAIM_STYLE = "bold white on dark_magenta"
SPAN_STYLE = "bold black on yellow"


def render_mode_banner(
    scheme: Scheme,
    claim: Claim | None,
    claim_number: int,
    cluster_articles: int,
    span: tuple[int, int] | None,
    claim_keys: str,
    cluster_label: str | None = None,
) -> Text | None:
    """The banner for a mode, or None in article mode."""
    if span is not None:
        return Text(
            f" SPAN {span[1] - span[0]} chars · ←/→ end, shift+←/→ start · c mark claim · esc cancel ",
            style=SPAN_STYLE,
        )
    if claim is None:
        return None
    values = display_inline(" · ".join(f"{f.name} {claim.labels.get(f.name, '–')}" for f in scheme.fields_at("claim")))
    banner = Text(f" ▶ CLAIM {claim_number} · {values}", style=CLAIM_STYLE)
    if claim.cluster:
        banner.append(f" · linked: {cluster_articles} articles", style=CLAIM_STYLE)
        if cluster_label:
            banner.append(f" “{display_inline(cluster_label)[:80]}”", style=CLAIM_STYLE)
    banner.append(f" │ keys {claim_keys} act on THIS claim · esc ", style=CLAIM_STYLE)
    return banner


class ModeBanner(Static):
    """The mode banner of one pane."""

    DEFAULT_CSS = """
    ModeBanner { height: auto; max-height: 3; }
    """

    def show_banner(self, banner: Text | None) -> None:
        """Show a banner, or hide when None."""
        self.display = banner is not None
        if banner is not None:
            self.update(banner)
