"""One article pane: a header (outlet, title, date, URL), the label bar, the text and
the list of claims. The pane holds the state of its article (what the store last
confirmed) and its modes (sentence cursor, span being refined, search matches).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.visual import visualize
from textual.widgets import Static

from newsmark.schema.models import Claim
from newsmark.schema.scheme import Scheme
from newsmark.schema.store import claim_context, claim_id_for
from newsmark.tui.pane_data import AnnotationView, ArticleView, GradeBook
from newsmark.tui.text import display_inline
from newsmark.tui.widgets.article_text import ArticleText
from newsmark.tui.widgets.claim_list import VISIBLE_CLAIMS, ClaimList, render_claim_list
from newsmark.tui.widgets.label_bar import LabelBar, LabelBarState, render_label_bar, render_save_state
from newsmark.tui.widgets.mode_banner import ModeBanner, render_mode_banner
from newsmark.tui.widgets.suggestion_list import SuggestionList, SuggestionState, render_suggestions

# A pane shorter than this (an 80x24 terminal gives 20 rows) is cramped: in claim mode its
# header, label bar and claim list shrink so the suggested matches stay on screen.
CRAMPED_HEIGHT = 30


def render_header(view: ArticleView | None, position: str, blind: bool) -> Text:
    """The pane's heading: outlet and date, title, URL and byline (outlet, URL and byline
    hidden in blind mode). Plain strings only."""
    out = Text(no_wrap=True, overflow="ellipsis")
    if view is None:
        out.append("loading…", style="dim")
        return out
    article = view.article
    if blind:
        out.append("outlet hidden (blind mode)", style="italic dim")
    else:
        out.append(display_inline(article.source) or "unknown outlet", style="bold")
    out.append(f"  {display_inline(str(article.published)) if article.published else 'no date'}", style="dim")
    out.append(f"  {position}", style="dim")
    out.append("\n")
    out.append(display_inline(article.title) or "(untitled)", style="bold")
    if not blind:
        extra = [display_inline(article.url) or "no URL"]
        if article.byline:
            extra.append(f"by {display_inline(article.byline)}")
        out.append("\n")
        out.append("  ".join(extra), style="dim underline" if article.url else "dim")
    return out


class PaneHeader(Static):
    """The heading of a pane."""

    DEFAULT_CSS = """
    PaneHeader { height: auto; max-height: 3; text-wrap: nowrap; text-overflow: ellipsis; }
    """


class EmptyPane(Static):
    """Room for a pane with no article to show: the story has fewer articles than panes."""

    DEFAULT_CSS = """
    EmptyPane { width: 1fr; height: 1fr; border: round $panel; color: $text-muted; content-align: center middle; }
    """

    def __init__(self) -> None:
        super().__init__(Text("No other article in this story.\n(ctrl+p: add an article to a story)", justify="center"))


class ArticlePane(Vertical):
    """One article side by side with the others."""

    def __init__(self, scheme: Scheme, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scheme = scheme
        self.view: ArticleView | None = None
        self.article_index = 0
        self.position = ""
        self.blind = False
        self.pending = 0
        self.save_state = ""  # nothing changed yet: the border says nothing about saving
        self.claim_keys = " ".join(_key_range(f.labels) for f in scheme.fields_at("claim"))
        self.shared_label: str | None = None  # "68% shared with …" while highlights are on
        self.suggestions: SuggestionState | None = None  # matches for one claim
        self.suggestions_pending: str | None = None  # the claim whose matches are being found
        self.suggestion_keys = "J/K · L link · w wording"
        self.other_story_key = "t"  # the key hint of the "also in" line (the screen sets the keymap's)

        # Parts made here, so they are reachable before and after mounting.
        self.header = PaneHeader(render_header(None, "", False), classes="pane-header")
        self.label_bar = LabelBar(classes="label-bar")
        self.banner = ModeBanner(classes="mode-banner")
        self.text = ArticleText(classes="article-text")
        self.claim_list = ClaimList(classes="claim-list")
        self.suggestion_list = SuggestionList(classes="suggestion-list")
        self.suggestion_list.display = False

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.label_bar
        yield self.banner
        yield self.text
        yield self.claim_list
        yield self.suggestion_list

    # --- parts ------------------------------------------------------------------------

    @property
    def article_id(self) -> str | None:
        """The id of the article shown, or None while loading."""
        return self.view.article.id if self.view else None

    @property
    def annotation(self) -> AnnotationView | None:
        """The annotation as last confirmed by the store."""
        return self.view.annotation if self.view else None

    # --- modes ------------------------------------------------------------------------

    def current_claim(self) -> Claim | None:
        """The claim under the sentence cursor (claim mode), if any."""
        if self.view is None or self.text.span is not None:
            return None
        span = self.text.cursor_span()
        if span is None:
            return None
        for claim in self.view.annotation.claims:
            if claim.start < span[1] and claim.end > span[0]:
                return claim
        return None

    @property
    def in_claim_mode(self) -> bool:
        """Keys act on the claim under the cursor."""
        return self.current_claim() is not None

    # --- updates ----------------------------------------------------------------------

    def show_article(self, view: ArticleView, position: str) -> None:
        """Show a newly loaded article."""
        self.view = view
        self.position = position
        self.save_state = ""
        self.shared_label = None
        self.suggestions = None
        self.suggestions_pending = None
        self.text.set_masks(self.blind_masks())
        self.text.set_article(view.article.text, view.sentences)
        self.refresh_annotation()

    def set_annotation(self, annotation: AnnotationView) -> None:
        """Show the annotation the store confirmed (keeping the outlet's earlier grades,
        which set_outlet_grades maintains)."""
        if self.view is None:
            return
        annotation.outlet_grades = self.view.annotation.outlet_grades
        self.view.annotation = annotation
        self.refresh_annotation()

    def set_outlet_grades(self, book: GradeBook | None) -> None:
        """Show this analyst's earlier grades for the article's outlet (from the book)."""
        if self.view is None or book is None:
            return
        grades = book.grades(self.view.article.source, self.view.article.id)
        if grades != self.view.annotation.outlet_grades:
            self.view.annotation.outlet_grades = grades
            self._refresh_label_bar()

    def add_provisional_claim(self, annotator: str, start: int, end: int) -> None:
        """Show a claim being saved (same id the store will give it)."""
        if self.view is None:
            return
        article = self.view.article
        claim_id = claim_id_for(article.id, annotator, start, end)
        claims = self.view.annotation.claims
        if any(c.id == claim_id for c in claims):
            return
        exact, prefix, suffix = claim_context(article.text, start, end)
        claims.append(Claim.model_construct(
            id=claim_id, article_id=article.id, annotator=annotator, start=start, end=end,
            exact=exact, prefix=prefix, suffix=suffix, labels={}, cluster=None,
        ))
        claims.sort(key=lambda c: (c.start, c.end, c.id))
        self.refresh_annotation()

    def drop_provisional_claim(self, claim_id: str) -> None:
        """Stop showing a claim being removed."""
        if self.view is None:
            return
        self.view.annotation.claims = [c for c in self.view.annotation.claims if c.id != claim_id]
        self.refresh_annotation()

    def refresh_annotation(self) -> None:
        """Redraw everything that depends on the annotation or the modes."""
        if self.view is None:
            return
        annotation = self.view.annotation
        self.text.set_claims([(c.start, c.end, bool(c.cluster)) for c in annotation.claims])
        self.refresh_modes()

    def blind_masks(self) -> list[str]:
        """What blind mode blacks out in the text: the outlet's name and the byline."""
        if not self.blind or self.view is None:
            return []
        article = self.view.article
        return [value for value in (article.source, article.byline) if value]

    def set_blind(self, blind: bool) -> None:
        """Turn blind mode on or off for this pane."""
        self.blind = blind
        self.text.set_masks(self.blind_masks())
        self.refresh_modes()

    def refresh_modes(self) -> None:
        """Redraw the header, label bar, banner and claim list (after a cursor or mode
        change); widgets whose content did not change are left alone, so a keystroke
        does not cost a layout pass."""
        claim = self.current_claim()
        cramped = 0 < self.size.height < CRAMPED_HEIGHT
        self.set_class(claim is not None, "-claim-mode")
        self.set_class(self.text.span is not None, "-span-mode")
        self.set_class(cramped, "-cramped")
        _update(self.header, render_header(self.view, self.position, self.blind))
        self._refresh_label_bar()
        annotation = self.annotation
        number = 0
        if claim is not None and annotation is not None:
            number = next(i for i, c in enumerate(annotation.claims, 1) if c.id == claim.id)
        cluster_articles = 1
        if claim is not None and claim.cluster and annotation is not None:
            cluster_articles = annotation.cluster_counts.get(claim.cluster, 1)
        wording = annotation.cluster_labels.get(claim.cluster) if claim is not None and claim.cluster and annotation else None
        banner = render_mode_banner(
            self.scheme, claim, number, cluster_articles, self.text.span, self.claim_keys, wording,
            self.banner.content_region.width or max(0, self.size.width - 3),
        )
        if banner is None:
            self.banner.display = False
        else:
            self.banner.display = True
            _update(self.banner, banner)
        suggesting = self._refresh_suggestions(claim)
        if annotation is not None:
            self.claim_list.display = bool(annotation.claims)
            if annotation.claims:
                width = self.claim_list.content_region.width or self.size.width or 40
                # Cramped, the matches need the room: the claim list shows the current claim only.
                visible = 1 if cramped and suggesting else VISIBLE_CLAIMS
                _update(self.claim_list, render_claim_list(
                    annotation.claims, annotation.cluster_counts, claim.id if claim else None, width, visible
                ))

    def _refresh_suggestions(self, claim: Claim | None) -> bool:
        """Show the matches of the claim under the cursor (or that they are being found);
        return whether the suggestions panel is shown."""
        state = self.suggestions
        if claim is not None and state is not None and state.claim_id == claim.id:
            shown: SuggestionState | None = state
        elif claim is not None and self.suggestions_pending == claim.id:
            shown = None
        else:
            self.suggestion_list.display = False
            return False
        self.suggestion_list.display = True
        width = self.suggestion_list.content_region.width or self.size.width or 40
        _update(self.suggestion_list, render_suggestions(shown, width, self.blind, self.suggestion_keys))
        return True

    def set_suggestions(self, state: SuggestionState | None, pending: str | None = None) -> None:
        """Show the matches found for a claim (or, with pending, that they are being found)."""
        self.suggestions = state
        self.suggestions_pending = pending
        self.refresh_modes()

    def set_shared(self, spans: list[tuple[int, int]], label: str | None) -> None:
        """Highlight passages shared with other panes and name the article sharing most."""
        self.text.set_shared(spans)
        if label != self.shared_label:
            self.shared_label = label
            self._refresh_label_bar()

    def _refresh_label_bar(self) -> None:
        annotation = self.annotation
        state = self.save_state if annotation is not None else "loading"
        if getattr(self, "_shown_save_state", None) != state:
            self._shown_save_state = state
            self.border_subtitle = render_save_state(state)
        _update(self.label_bar, render_label_bar(LabelBarState(
            scheme=self.scheme,
            annotation=annotation,
            save_state=self.save_state if annotation is not None else "loading",
            source=self.view.article.source if self.view else None,
            blind=self.blind,
            shared=self.shared_label,
            other_stories=tuple(self.view.other_stories) if self.view else (),
            other_story_key=self.other_story_key,
        )))

    def mark_saving(self) -> None:
        """A change was sent to the writer."""
        self.pending += 1
        self.save_state = "saving"
        self._refresh_label_bar()

    def mark_done(self, ok: bool) -> None:
        """The writer answered: committed (ok) or refused."""
        self.pending = max(0, self.pending - 1)
        if not ok:
            self.save_state = "failed"
        elif self.pending == 0:
            self.save_state = "saved"
        self._refresh_label_bar()

    def on_resize(self) -> None:
        """The claim list cuts its lines to the width."""
        if self.view is not None:
            self.refresh_modes()


def _update(widget: Static, content: Text) -> None:
    """Update a Static only when what it shows changes, and without a layout pass when
    its height stays the same (a layout pass repaints the whole screen)."""
    key = (content.plain, tuple(content.spans), content.style)
    if getattr(widget, "_shown_key", None) == key:
        return
    widget._shown_key = key  # type: ignore[attr-defined]
    width = widget.content_size.width
    height = visualize(widget, content).get_height(widget.styles, width) if width else None
    same_height = height is not None and height == getattr(widget, "_shown_height", None)
    widget._shown_height = height  # type: ignore[attr-defined]
    widget.update(content, layout=not same_height)


def _key_range(labels) -> str:
    keys = [lab.key for lab in labels]
    if len(keys) > 2 and all(len(k) == 1 for k in keys) and all(
        ord(b) - ord(a) == 1 for a, b in zip(keys, keys[1:])
    ):
        return f"{keys[0]}–{keys[-1]}"
    return "/".join(keys)
