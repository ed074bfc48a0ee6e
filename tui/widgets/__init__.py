"""The annotate screen's widgets, one per module."""
