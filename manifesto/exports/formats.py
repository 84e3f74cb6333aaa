"""The export formats: their file names and types, and the renderer each format module registers here.

A renderer is a function ``ExportDocument -> bytes``. Each format module
(``markdown``, ``html``, ``text``, ``docx``, ``pdf``) registers its own with
:func:`register` when it is imported, and this module imports none of them:
the formats sit above it and take their shared helpers from ``labels`` and
``fragments``, never from here. ``manifesto.exports`` imports every format
module once, so whoever uses the area finds them all registered. The PDF
module registers itself without WeasyPrint, which it loads only when asked
for a PDF, since it needs system libraries that may be missing. The JSON
archive is of the whole database, not of one text, so it has no renderer
here (see ``archive.writer``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .document import ExportDocument
from .labels import in_language
from .options import ExportOptions

__all__ = ["FORMATS", "TEXT_FORMATS", "Progress", "download_name", "register", "registered", "render"]

# format name -> (file extension, MIME type)
FORMATS: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "md": ("md", "text/markdown; charset=utf-8"),
    "html": ("html", "text/html; charset=utf-8"),
    "txt": ("txt", "text/plain; charset=utf-8"),
    "json": ("json", "application/json"),
}

# Formats rendered from an ExportDocument (json is the archive of everything).
TEXT_FORMATS = ("pdf", "docx", "md", "html", "txt")

Progress = Callable[[str, int, int], None]  # (what is happening, done, total)


@dataclass(frozen=True)
class _Renderer:
    """A format's renderer, and whether it reports its progress (the long ones: PDF and DOCX)."""

    render: Callable[..., bytes]
    reports_progress: bool


_renderers: dict[str, _Renderer] = {}


def register(fmt: str, *, reports_progress: bool = False):
    """Decorator: ``fmt``'s files are made by the decorated function (given ``progress=`` if it reports progress).

    :raises ValueError: for a format that is not one of TEXT_FORMATS, or one registered twice.
    """
    if fmt not in TEXT_FORMATS:
        raise ValueError(f"{fmt!r} is not a format rendered from an ExportDocument")

    def decorate(function: Callable[..., bytes]) -> Callable[..., bytes]:
        """Keep ``function`` as the renderer of ``fmt``."""
        known = _renderers.get(fmt)
        if known is not None and known.render is not function:
            raise ValueError(f"the {fmt} format is registered twice")
        _renderers[fmt] = _Renderer(function, reports_progress)
        return function

    return decorate


def registered() -> tuple[str, ...]:
    """The formats that have a renderer, in the order of TEXT_FORMATS."""
    return tuple(fmt for fmt in TEXT_FORMATS if fmt in _renderers)


def render(fmt: str, doc: ExportDocument, progress: Progress | None = None) -> bytes:
    """Render ``doc`` in ``fmt`` (one of TEXT_FORMATS), its fixed texts in ``doc.labels_language``.

    ``progress(stage, done, total)`` is called as the file is made, by the
    formats that take a while (the others finish before anyone would look).

    :raises KeyError: for json or an unknown format.
    """
    renderer = _renderers[fmt]
    with in_language(doc):
        if renderer.reports_progress and progress is not None:
            return renderer.render(doc, progress=progress)
        return renderer.render(doc)


def download_name(slug: str, release_slug: str | None, options: ExportOptions, fmt: str) -> str:
    """The file name a download gets: ``<slug>-<release or live>[-redline][-lines][-annex][-credits][-lang].<ext>``."""
    parts = [slug, release_slug or "live"]
    if options.redline_against:
        parts.append("redline")
    if options.line_numbers and fmt != "md":
        parts.append("lines")
    if options.annex:
        parts.append("annex")
    if options.contributors:
        parts.append("credits")
    if options.language:
        parts.append(options.language)  # headings in another language than the text's: another file
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)).strip("-.") or "export"
    return f"{name[:150]}.{FORMATS[fmt][0]}"
