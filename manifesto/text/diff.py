"""Word-level diffs, and the changes they make: hunks and their overlap.

Texts are compared word by word, not character by character: every token
(a word, a run of spaces, a punctuation mark or emoji, a run of newlines) is
mapped to one private character and diff-match-patch diffs those strings. A
change therefore never starts or ends in the middle of a word, and a long
section is only as long as its number of tokens.

The HTML renderers live in ``diff_html``, the three-way rebase in ``merge``.
Offsets everywhere in this module are Python string indices (code points).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from diff_match_patch import diff_match_patch

__all__ = [
    "DIFF_DELETE",
    "DIFF_EQUAL",
    "DIFF_INSERT",
    "DIFF_TIMEOUT",
    "DiffOp",
    "Hunk",
    "apply_hunks",
    "changed_ranges",
    "changes_overlap",
    "hunks_overlap",
    "is_paragraph_break",
    "overlapping_pairs",
    "tokenize",
    "word_diff",
]

DIFF_DELETE = -1
DIFF_EQUAL = 0
DIFF_INSERT = 1

DiffOp = tuple[int, str]

# Seconds before diff-match-patch settles for a coarser diff. Word mode keeps
# the diffed strings short (one character per token), so realistic inputs
# finish well inside it and the diff stays minimal and deterministic:
# scattered edits in a 20,000-word section take ~0.05 s, a full rewrite of a
# 2,000-word section ~3 s. It is not 0 (unlimited) because Myers' algorithm is
# O(N*D): rewriting a 20,000-word section wholesale would pin a worker for
# many minutes. Past the limit the diff is coarser but still exact, and every
# caller here stays correct with coarse diffs (rebase just conflicts more).
DIFF_TIMEOUT = 5.0

_FIRST_CODE_POINT = 0x100
_SURROGATES_START = 0xD800
_SURROGATES_SIZE = 0x800
_LAST_CODE_POINT = 0x10FFFF

# Order matters: a newline run must win over horizontal whitespace. A newline
# run swallows whitespace-only lines, so "a\n  \nb" has one paragraph break.
_NEWLINE_RUN = r"(?:\r\n|\r|\n)(?:[^\S\r\n]*(?:\r\n|\r|\n))*"
_TOKEN_RE = re.compile(_NEWLINE_RUN + r"|[^\S\r\n]+|\w+|.", re.DOTALL)
_NEWLINE_SPLIT_RE = re.compile(f"({_NEWLINE_RUN})")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")

_JOINERS = frozenset("\u200c\u200d")
_FIRST_EXTENDER = "\u0300"  # no combining mark, joiner or modifier comes earlier


def _is_extender(char: str) -> bool:
    """Tell whether a character belongs to the preceding character's grapheme."""
    if char < _FIRST_EXTENDER:
        return False
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char in _JOINERS
        or "\ufe00" <= char <= "\ufe0f"  # variation selectors (text/emoji style)
        or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin tone modifiers
        or "\U000e0020" <= char <= "\U000e007f"  # tag sequences (subdivision flags)
    )


def _is_regional_indicator(char: str) -> bool:
    """Tell whether a character is half of a flag emoji."""
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _is_word_start(char: str) -> bool:
    """Tell whether a character starts a ``\\w`` token."""
    return char.isalnum() or char == "_"


def _glues(previous: str, token: str) -> bool:
    """Tell whether ``token`` continues the grapheme or word that ``previous`` ended."""
    first, last = token[0], previous[-1]
    if first < _FIRST_EXTENDER and last < _FIRST_EXTENDER:
        return False
    if previous[0].isspace() or first.isspace():
        return False
    if _is_extender(first) or last in _JOINERS:
        return True
    if _is_word_start(previous[0]) and _is_word_start(first) and _is_extender(last):
        # A combining mark inside a word ("e\u0301te", Devanagari vowel signs).
        return True
    return len(previous) == 1 and _is_regional_indicator(previous) and _is_regional_indicator(first)


def tokenize(text: str) -> list[str]:
    """Split text into word, whitespace, newline-run and symbol tokens, losslessly."""
    tokens: list[str] = []
    for token in _TOKEN_RE.findall(text):
        # \w stops at combining marks and "." takes one code point; gluing
        # keeps accents, emoji sequences and flags inside a single token so
        # a diff never cuts a visible character in half.
        if tokens and _glues(tokens[-1], token):
            tokens[-1] += token
        else:
            tokens.append(token)
    return tokens


def _newline_count(token: str) -> int:
    """Count line breaks in a token, ``\\r\\n`` counting once."""
    if not token or token[0] not in "\r\n":
        return 0
    return len(_NEWLINE_RE.findall(token))


def is_paragraph_break(token: str) -> bool:
    """Tell whether a token is a paragraph break (a run with 2+ newlines)."""
    return _newline_count(token) >= 2


# Boundary scores, as in diff-match-patch's cleanupSemanticLossless but on
# token kinds: the encoded characters carry no meaning of their own.
_KIND_WORD, _KIND_SYMBOL, _KIND_SPACE, _KIND_LINE, _KIND_PARAGRAPH = range(5)


def _token_kind(token: str) -> int:
    """Classify a token for boundary scoring."""
    newlines = _newline_count(token)
    if newlines >= 2:
        return _KIND_PARAGRAPH
    if newlines == 1:
        return _KIND_LINE
    if token[0].isspace():
        return _KIND_SPACE
    if _is_word_start(token[0]):
        return _KIND_WORD
    return _KIND_SYMBOL


def _boundary_score(kind_before: int | None, kind_after: int | None) -> int:
    """Score how natural a boundary between two token kinds is (6 best, 0 worst)."""
    if kind_before is None or kind_after is None:
        return 6
    kinds = (kind_before, kind_after)
    if _KIND_PARAGRAPH in kinds:
        return 5
    if _KIND_LINE in kinds:
        return 4
    if kind_before == _KIND_SYMBOL and kind_after == _KIND_SPACE:
        return 3  # end of a sentence
    if _KIND_SPACE in kinds:
        return 2
    if _KIND_SYMBOL in kinds:
        return 1
    return 0


def _code_point(index: int) -> str:
    """Return the private character standing for the ``index``-th distinct token."""
    code = _FIRST_CODE_POINT + index
    if code >= _SURROGATES_START:
        code += _SURROGATES_SIZE
    if code > _LAST_CODE_POINT:
        raise ValueError("too many distinct tokens to diff")
    return chr(code)


class _TokenCodec:
    """Bidirectional mapping between tokens and single characters."""

    def __init__(self) -> None:
        """Start with an empty vocabulary."""
        self.char_of: dict[str, str] = {}
        self.token_of: dict[str, str] = {}
        self.kind_of: dict[str, int] = {}
        self.paragraph_chars: set[str] = set()

    def encode(self, tokens: Iterable[str]) -> str:
        """Encode tokens as a string of one character per token."""
        chars = []
        for token in tokens:
            char = self.char_of.get(token)
            if char is None:
                char = _code_point(len(self.char_of))
                self.char_of[token] = char
                self.token_of[char] = token
                kind = _token_kind(token)
                self.kind_of[char] = kind
                if kind == _KIND_PARAGRAPH:
                    self.paragraph_chars.add(char)
            chars.append(char)
        return "".join(chars)

    def decode(self, chars: str) -> str:
        """Turn encoded characters back into the original text."""
        token_of = self.token_of
        return "".join(token_of[char] for char in chars)


class _TokenDiffer(diff_match_patch):  # type: ignore[misc]
    """diff-match-patch whose semantic shifting scores token kinds, not characters."""

    def __init__(self, codec: _TokenCodec) -> None:
        """Bind the codec used to interpret encoded characters."""
        super().__init__()
        self.Diff_Timeout = DIFF_TIMEOUT
        self.codec = codec

    def _score(self, before: str, after: str) -> int:
        """Score the boundary between two encoded strings."""
        kind_of = self.codec.kind_of
        return _boundary_score(
            kind_of[before[-1]] if before else None,
            kind_of[after[0]] if after else None,
        )

    def diff_cleanupSemanticLossless(self, diffs: list[DiffOp]) -> None:  # noqa: N802
        """Slide single edits between equalities onto the most natural token boundary."""
        # Same algorithm as the parent; only the scoring differs.
        pointer = 1
        while pointer < len(diffs) - 1:
            if diffs[pointer - 1][0] == DIFF_EQUAL and diffs[pointer + 1][0] == DIFF_EQUAL:
                equality1 = diffs[pointer - 1][1]
                edit = diffs[pointer][1]
                equality2 = diffs[pointer + 1][1]

                offset = self.diff_commonSuffix(equality1, edit)
                if offset:
                    common = edit[-offset:]
                    equality1 = equality1[:-offset]
                    edit = common + edit[:-offset]
                    equality2 = common + equality2

                best = (equality1, edit, equality2)
                best_score = self._score(equality1, edit) + self._score(edit, equality2)
                while edit and equality2 and edit[0] == equality2[0]:
                    equality1 += edit[0]
                    edit = edit[1:] + equality2[0]
                    equality2 = equality2[1:]
                    score = self._score(equality1, edit) + self._score(edit, equality2)
                    # ">=" prefers trailing over leading whitespace in edits.
                    if score >= best_score:
                        best_score = score
                        best = (equality1, edit, equality2)

                if diffs[pointer - 1][1] != best[0]:
                    if best[0]:
                        diffs[pointer - 1] = (diffs[pointer - 1][0], best[0])
                    else:
                        del diffs[pointer - 1]
                        pointer -= 1
                    diffs[pointer] = (diffs[pointer][0], best[1])
                    if best[2]:
                        diffs[pointer + 1] = (diffs[pointer + 1][0], best[2])
                    else:
                        del diffs[pointer + 1]
                        pointer -= 1
            pointer += 1

    def semantic_diff(self, old: str, new: str) -> list[DiffOp]:
        """Diff two encoded strings and clean the result up for human readers."""
        diffs: list[DiffOp] = self.diff_main(old, new, False)
        self.diff_cleanupSemantic(diffs)
        return diffs


def _merge_adjacent(ops: Iterable[DiffOp]) -> list[DiffOp]:
    """Drop empty ops and merge neighbours with the same op code."""
    merged: list[DiffOp] = []
    for op, text in ops:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def _split_at(chars: str, separators: set[str]) -> list[str]:
    """Split an encoded string into [segment, separator, segment, ...]."""
    parts: list[str] = []
    start = 0
    for index, char in enumerate(chars):
        if char in separators:
            parts.append(chars[start:index])
            parts.append(char)
            start = index + 1
    parts.append(chars[start:])
    return parts


def _realign_paragraphs(differ: _TokenDiffer, diffs: list[DiffOp]) -> list[DiffOp]:
    """Re-anchor replacements spanning paragraph breaks on those breaks."""
    # cleanupSemantic happily swallows a one-token equality such as "\n\n"
    # between two edits; the resulting single replacement would show the
    # reader two paragraphs melted together. Pair the breaks back up.
    paragraph_chars = differ.codec.paragraph_chars
    result: list[DiffOp] = []
    index = 0
    while index < len(diffs):
        op, chars = diffs[index]
        following = diffs[index + 1] if index + 1 < len(diffs) else None
        if (
            op == DIFF_DELETE
            and following is not None
            and following[0] == DIFF_INSERT
            and paragraph_chars.intersection(chars)
            and paragraph_chars.intersection(following[1])
        ):
            old_parts = _split_at(chars, paragraph_chars)
            new_parts = _split_at(following[1], paragraph_chars)
            pairs = min(len(old_parts), len(new_parts)) // 2
            for pair in range(pairs):
                result.extend(differ.semantic_diff(old_parts[2 * pair], new_parts[2 * pair]))
                old_break, new_break = old_parts[2 * pair + 1], new_parts[2 * pair + 1]
                if old_break == new_break:
                    result.append((DIFF_EQUAL, old_break))
                else:
                    result.extend([(DIFF_DELETE, old_break), (DIFF_INSERT, new_break)])
            result.extend(
                differ.semantic_diff(
                    "".join(old_parts[2 * pairs :]), "".join(new_parts[2 * pairs :])
                )
            )
            index += 2
        else:
            result.append((op, chars))
            index += 1
    return _merge_adjacent(result)


def word_diff(old: str, new: str) -> list[DiffOp]:
    """Diff two texts token by token; ops are (-1 delete | 0 equal | 1 insert, text)."""
    if old == new:
        return [(DIFF_EQUAL, old)] if old else []
    codec = _TokenCodec()
    encoded_old = codec.encode(tokenize(old))
    encoded_new = codec.encode(tokenize(new))
    differ = _TokenDiffer(codec)
    diffs = _realign_paragraphs(differ, differ.semantic_diff(encoded_old, encoded_new))
    return _merge_adjacent((op, codec.decode(chars)) for op, chars in diffs)


# ---------------------------------------------------------------- rendering


# ------------------------------------------------------------------- hunks


@dataclass(frozen=True, order=True)
class Hunk:
    """One change: replace ``old[start:end]`` with ``text`` (start == end: insertion)."""

    start: int
    end: int
    text: str


def changed_ranges(ops: Sequence[DiffOp]) -> list[Hunk]:
    """Turn a diff into maximal changes in old-text coordinates."""
    hunks: list[Hunk] = []
    position = 0
    start: int | None = None
    inserted: list[str] = []
    for op, text in ops:
        if op == DIFF_EQUAL:
            if start is not None:
                hunks.append(Hunk(start, position, "".join(inserted)))
                start, inserted = None, []
            position += len(text)
            continue
        if start is None:
            start = position
        if op == DIFF_DELETE:
            position += len(text)
        else:
            inserted.append(text)
    if start is not None:
        hunks.append(Hunk(start, position, "".join(inserted)))
    return hunks


def apply_hunks(text: str, hunks: Sequence[Hunk]) -> str:
    """Apply sorted, non-overlapping hunks to ``text``; ValueError if they are not."""
    parts: list[str] = []
    position = 0
    previous: Hunk | None = None
    for hunk in hunks:
        if not 0 <= hunk.start <= hunk.end <= len(text):
            raise ValueError(f"hunk {hunk.start}:{hunk.end} outside text of length {len(text)}")
        if hunk.start < position:
            raise ValueError(f"hunk {hunk.start}:{hunk.end} overlaps or precedes the previous one")
        if previous is not None and previous.start == previous.end == hunk.start == hunk.end:
            # Two insertions at one point have no defined order.
            raise ValueError(f"two insertions at offset {hunk.start}")
        parts.append(text[position : hunk.start])
        parts.append(hunk.text)
        position = hunk.end
        previous = hunk
    parts.append(text[position:])
    return "".join(parts)


def _blank_run_end(base: str, offset: int) -> int:
    """End of the whitespace run at ``offset`` (``offset`` itself if it breaks a paragraph)."""
    end = offset
    while end < len(base) and base[end].isspace():
        end += 1
    return offset if _paragraph_in(base[offset:end]) else end


def _blank_run_start(base: str, offset: int) -> int:
    """Start of the whitespace run ending at ``offset`` (``offset`` if it breaks a paragraph)."""
    start = offset
    while start > 0 and base[start - 1].isspace():
        start -= 1
    return offset if _paragraph_in(base[start:offset]) else start


def _paragraph_in(whitespace: str) -> bool:
    """Tell whether a whitespace run contains a paragraph break."""
    return len(_NEWLINE_RE.findall(whitespace)) >= 2


def _reach(hunk: Hunk, base: str | None) -> tuple[int, int]:
    """Closed interval a hunk claims: its range, plus adjacent same-paragraph whitespace."""
    if base is None:
        return hunk.start, hunk.end
    return _blank_run_start(base, hunk.start), _blank_run_end(base, hunk.end)


def hunks_overlap(a: Hunk, b: Hunk, base: str | None = None) -> bool:
    """Tell whether two changes of the same base text collide (conservatively)."""
    # Ranges are compared as closed intervals, which covers every rule at
    # once: intersecting ranges; an insertion point inside or on the edge of
    # the other range; two insertions at one point; and two changes that
    # merely touch (a.end == b.start). Touching counts because a moderator
    # cannot accept both "ce grand" -> "cette grande" and "chat" -> "chatte"
    # blindly. With ``base``, changes separated only by whitespace inside one
    # paragraph also collide: for word-level changes that is "touching".
    a_start, a_end = _reach(a, base)
    b_start, b_end = _reach(b, base)
    return a_start <= b_end and b_start <= a_end


def overlapping_pairs(
    first: Sequence[Hunk], second: Sequence[Hunk], base: str | None
) -> Iterator[tuple[int, int]]:
    """Yield index pairs (i, j) such that first[i] and second[j] overlap."""
    # Hunks of one diff are sorted and disjoint, so their reaches are sorted
    # on both ends; bisecting finds each hunk's partners without an n*m scan.
    reaches = [_reach(hunk, base) for hunk in second]
    starts = [start for start, _ in reaches]
    ends = [end for _, end in reaches]
    for i, hunk in enumerate(first):
        start, end = _reach(hunk, base)
        for j in range(bisect_left(ends, start), bisect_right(starts, end)):
            yield i, j


def changes_overlap(base: str, text_a: str, text_b: str) -> bool:
    """Tell whether two versions of ``base`` change overlapping or touching words."""
    # Identical changes count too: two amendments doing the same thing collide
    # for a moderator, even though rebase() would merge them cleanly.
    hunks_a = changed_ranges(word_diff(base, text_a))
    hunks_b = changed_ranges(word_diff(base, text_b))
    return next(overlapping_pairs(hunks_a, hunks_b, base), None) is not None
