"""The review screen: everyone's labels and claims side by side, adjudication to gold.

A separate Textual app (`ReviewApp`) from the annotate screen; it shares no widgets with
it. `tui.review.data` holds its database access and has no Textual import.
"""
