"""What a reader asks of an export besides the text itself: line numbers, annex, credits, redline, language."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXPORT_LANGUAGES", "ExportOptions", "export_language"]

# The languages an export's headings and labels can be written in (the interface's).
EXPORT_LANGUAGES = ("en", "fr", "es")


def export_language(code: str | None) -> str | None:
    """``code`` when it names a language exports are written in ("fr-CH" gives "fr"), else None."""
    base = str(code or "").replace("_", "-").split("-")[0].strip().lower()
    return base if base in EXPORT_LANGUAGES else None


@dataclass(frozen=True)
class ExportOptions:
    """What the reader asked for besides the text itself."""

    line_numbers: bool = False
    annex: bool = False  # an annex listing every amendment
    contributors: bool = False  # the people who agreed to be credited
    redline_against: str | None = None  # name of an earlier release to compare with
    # The language of the fixed texts (contents, labels, dates): en, fr, es; None for the document's own.
    language: str | None = None

    def cache_key(self) -> str:
        """A short stable string naming these options, for cached files."""
        parts = [
            "ln" if self.line_numbers else "",
            "annex" if self.annex else "",
            "credits" if self.contributors else "",
            f"vs-{self.redline_against}" if self.redline_against else "",
            f"lang-{self.language}" if self.language else "",
        ]
        return "-".join(part for part in parts if part) or "plain"
