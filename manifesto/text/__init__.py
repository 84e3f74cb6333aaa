"""Pure-Python text engine: Markdown rendering, word diffs, rebase, line numbering.

Nothing here imports Flask, SQLAlchemy or other parts of the application, so
the engine can be tested and benchmarked on its own.
"""

from .diff import (
    DIFF_DELETE,
    DIFF_EQUAL,
    DIFF_INSERT,
    DiffOp,
    Hunk,
    apply_hunks,
    changed_ranges,
    changes_overlap,
    hunks_overlap,
    is_paragraph_break,
    tokenize,
    word_diff,
)
from .diff_html import DiffLabels, render_inline, render_side_by_side
from .merge import Conflict, RebaseResult, carry_over, rebase
from .lines import DEFAULT_LINE_LENGTH, Layout, Line, LineView, format_line_range, layout, layout_text, wrap
from .numbered_diff import NumberedDiff, numbered_diff
from .render import render_markdown, render_plain, sanitize

__all__ = [
    "DEFAULT_LINE_LENGTH",
    "DIFF_DELETE",
    "DIFF_EQUAL",
    "DIFF_INSERT",
    "Conflict",
    "DiffLabels",
    "DiffOp",
    "Hunk",
    "Layout",
    "Line",
    "LineView",
    "NumberedDiff",
    "RebaseResult",
    "apply_hunks",
    "carry_over",
    "changed_ranges",
    "changes_overlap",
    "format_line_range",
    "hunks_overlap",
    "is_paragraph_break",
    "layout",
    "layout_text",
    "numbered_diff",
    "rebase",
    "render_inline",
    "render_markdown",
    "render_plain",
    "render_side_by_side",
    "sanitize",
    "tokenize",
    "word_diff",
    "wrap",
]
