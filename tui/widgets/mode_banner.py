"""The banner that makes a pane's mode impossible to miss: CLAIM mode (the sentence
cursor is on a claim, so label keys set that claim's own fields) or SPAN mode (refining
a span word by word). Hidden in article mode."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from newsmark.schema.models import Claim
from newsmark.schema.scheme import Scheme
from newsmark.tui.text import clip_words, display_inline

CLAIM_STYLE = "bold white on dark_magenta"
SPAN_STYLE = "bold black on yellow"
WORDING_WIDTH = 80  # characters of the cluster's wording the banner quotes, at most
WORDING_MIN = 12  # with less room than this, the banner leaves the wording out
BANNER_LINES = 3  # the banner's height at most (ModeBanner's max-height)


def render_mode_banner(
    scheme: Scheme,
    claim: Claim | None,
    claim_number: int,
    cluster_articles: int,
    span: tuple[int, int] | None,
    claim_keys: str,
    cluster_label: str | None = None,
    width: int = 0,
) -> Text | None:
    """The banner for a mode, or None in article mode. The keys come before the cluster's
    wording, which is cut at a word to what the banner's BANNER_LINES lines of `width`
    leave (WORDING_WIDTH characters at most; 0: width unknown)."""
    if span is not None:
        return Text(
            f" SPAN {span[1] - span[0]} chars · ←/→ end, shift+←/→ start · c mark claim · esc cancel ",
            style=SPAN_STYLE,
        )
    if claim is None:
        return None
    values = display_inline(" · ".join(f"{f.name} {claim.labels.get(f.name, '–')}" for f in scheme.fields_at("claim")))
    banner = Text(f" ▶ CLAIM {claim_number} · {values} │ keys {claim_keys} act on THIS claim · esc", style=CLAIM_STYLE)
    if claim.cluster:
        banner.append(f" · linked: {cluster_articles} articles", style=CLAIM_STYLE)
        # Word wrapping wastes up to a word per line: leave a third of a line for it.
        room = BANNER_LINES * width - len(banner.plain) - width // 3 - 4 if width else WORDING_WIDTH
        if cluster_label and room >= WORDING_MIN:
            banner.append(f" “{clip_words(cluster_label, min(room, WORDING_WIDTH))}”", style=CLAIM_STYLE)
    banner.append(" ", style=CLAIM_STYLE)
    return banner


class ModeBanner(Static):
    """The mode banner of one pane."""

    DEFAULT_CSS = """
    ModeBanner { height: auto; max-height: 3; }  /* BANNER_LINES */
    """

    def show_banner(self, banner: Text | None) -> None:
        """Show a banner, or hide when None."""
        self.display = banner is not None
        if banner is not None:
            self.update(banner)
