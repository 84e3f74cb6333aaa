"""Word-level diffs, and the changes they make: hunks and their overlap.

Texts are compared word by word, not character by character: every token
(a word, a run of spaces, a punctuation mark or emoji, a run of newlines) is
mapped to one private character and diff-match-patch diffs those strings. A
change therefore never starts or ends in the middle of a word, and a long
section is only as long as its number of tokens. Unchanged lines are matched
first, so a long section with scattered edits becomes many small diffs
(``scripts/bench_word_diff.py`` measures it).

The HTML renderers live in ``diff_html``, the three-way rebase in ``merge``.
Offsets everywhere in this module are Python string indices (code points).
"""

from __future__ import annotations

import re
import sys
import time
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from diff_match_patch import diff_match_patch

from .memo import remembered

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
    "insertion_order",
    "is_paragraph_break",
    "may_touch",
    "ordered_hunks",
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
# scattered edits in a 20,000-word section take ~0.03 s, a full rewrite of a
# 2,000-word section ~2.5 s. It is not 0 (unlimited) because Myers' algorithm
# is O(N*D): rewriting a 20,000-word section wholesale would pin a worker for
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
# Only a character from _FIRST_EXTENDER on can glue two tokens (see _glues).
_MAY_GLUE_RE = re.compile("[^\x00-\u02ff]")


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
    found: list[str] = _TOKEN_RE.findall(text)
    if not _MAY_GLUE_RE.search(text):
        # Latin, French, Spanish...: nothing to glue, so no per-token loop
        # (it was a third of a long section's diff time).
        return found
    tokens: list[str] = []
    for token in found:
        # \w stops at combining marks and "." takes one code point; gluing
        # keeps accents, emoji sequences and flags inside a single token so
        # a diff never cuts a visible character in half.
        if (
            tokens
            and (token[0] >= _FIRST_EXTENDER or tokens[-1][-1] >= _FIRST_EXTENDER)
            and _glues(tokens[-1], token)
        ):
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
        self.line_end_chars: list[str] = []

    def copy(self) -> _TokenCodec:
        """A codec with the same vocabulary, to be extended independently of this one."""
        twin = _TokenCodec()
        twin.char_of, twin.token_of, twin.kind_of = dict(self.char_of), dict(self.token_of), dict(self.kind_of)
        twin.paragraph_chars, twin.line_end_chars = set(self.paragraph_chars), list(self.line_end_chars)
        return twin

    def encode(self, tokens: Sequence[str]) -> str:
        """Encode tokens as a string of one character per token."""
        char_of = self.char_of
        # Distinct tokens in first-seen order: a long section has tens of
        # thousands of tokens but a few thousand distinct ones, and the codes
        # come out in the same order as a token-by-token loop would give.
        for token in dict.fromkeys(tokens):
            if token not in char_of:
                self._add(token)
        return "".join(map(char_of.__getitem__, tokens))

    def _add(self, token: str) -> None:
        """Give a new token the next private character and remember its kind."""
        char = _code_point(len(self.char_of))
        self.char_of[token] = char
        self.token_of[char] = token
        kind = _token_kind(token)
        self.kind_of[char] = kind
        if kind == _KIND_PARAGRAPH:
            self.paragraph_chars.add(char)
        if kind in (_KIND_LINE, _KIND_PARAGRAPH):
            self.line_end_chars.append(char)

    def line_splitter(self) -> re.Pattern[str] | None:
        """A pattern cutting encoded text into lines ending with their newline run, if any."""
        if not self.line_end_chars:
            return None
        ends = "".join(map(re.escape, self.line_end_chars))
        return re.compile(f"[^{ends}]*[{ends}]|[^{ends}]+")

    def decode(self, chars: str) -> str:
        """Turn encoded characters back into the original text."""
        return "".join(map(self.token_of.__getitem__, chars))


def _common_run(text1: str, text2: str, start1: int, start2: int) -> int:
    """Length of the common prefix of text1[start1:] and text2[start2:], compared in C."""
    # A snake of the bisection follows an unchanged run, often hundreds of
    # tokens long; comparing slices of doubling size (then halving back)
    # costs a few string comparisons instead of one Python step per token.
    limit = min(len(text1) - start1, len(text2) - start2)
    known, step = 0, 8
    while known < limit:
        end = min(known + step, limit)
        if text1[start1 + known : start1 + end] != text2[start2 + known : start2 + end]:
            # The run ends in [known, end): bisect for it.
            end -= 1
            while known < end:
                middle = (known + end + 1) // 2
                if (
                    text1[start1 + known : start1 + middle]
                    == text2[start2 + known : start2 + middle]
                ):
                    known = middle
                else:
                    end = middle - 1
            return known
        known = end
        step *= 2
    return known


def _common_run_back(text1: str, text2: str, end1: int, end2: int) -> int:
    """Length of the common suffix of text1[:end1] and text2[:end2], compared in C."""
    limit = min(end1, end2)
    known, step = 0, 8
    while known < limit:
        start = min(known + step, limit)
        if text1[end1 - start : end1 - known] != text2[end2 - start : end2 - known]:
            start -= 1
            while known < start:
                middle = (known + start + 1) // 2
                if text1[end1 - middle : end1 - known] == text2[end2 - middle : end2 - known]:
                    known = middle
                else:
                    start = middle - 1
            return known
        known = start
        step *= 2
    return known


def _best_edit_start(
    equality1: str, edit: str, equality2: str, start: int, kind_of: dict[str, int]
) -> int:
    """Where the edit sits most naturally, slid right from ``start`` while the text repeats."""
    # Offsets are into equality1 + edit + equality2, never built: one window
    # slides by index, where rebuilding three strings per step is quadratic
    # along a long repetitive run.
    size1, width = len(equality1), len(edit)
    total = size1 + width + len(equality2)

    def char_at(index: int) -> str:
        """The index-th character of equality1 + edit + equality2."""
        if index < size1:
            return equality1[index]
        if index < size1 + width:
            return edit[index - size1]
        return equality2[index - size1 - width]

    def score(start: int) -> int:
        """Score the edit placed at ``start``: its two boundaries together."""
        end = start + width
        before = kind_of[char_at(start - 1)] if start else None
        after = kind_of[char_at(end)] if end < total else None
        first, last = kind_of[char_at(start)], kind_of[char_at(end - 1)]
        return _boundary_score(before, first) + _boundary_score(last, after)

    best, best_score = start, score(start)
    while start + width < total and char_at(start) == char_at(start + width):
        start += 1
        candidate = score(start)
        # ">=" prefers trailing over leading whitespace in edits.
        if candidate >= best_score:
            best, best_score = start, candidate
    return best


@dataclass(frozen=True)
class _Edits:
    """The insertions and deletions met between two equalities, in semantic cleanup."""

    inserted: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    inserted_tokens: int = 0
    deleted_tokens: int = 0

    def add(self, op: int, chars: str) -> _Edits:
        """These edits and one more."""
        if op == DIFF_INSERT:
            return _Edits(
                (*self.inserted, chars), self.deleted,
                self.inserted_tokens + len(chars), self.deleted_tokens,
            )  # fmt: skip
        return _Edits(
            self.inserted, (*self.deleted, chars),
            self.inserted_tokens, self.deleted_tokens + len(chars),
        )  # fmt: skip

    def tokens(self) -> int:
        """The larger of the tokens inserted and deleted (the parent's measure)."""
        return max(self.inserted_tokens, self.deleted_tokens)

    def words(self, count: Callable[[str], int]) -> int:
        """The larger of the words inserted and deleted, counted only when asked."""
        return max(sum(map(count, self.inserted)), sum(map(count, self.deleted)))


class _TokenDiffer(diff_match_patch):  # type: ignore[misc]
    """diff-match-patch whose semantic shifting scores token kinds, not characters."""

    def __init__(self, codec: _TokenCodec) -> None:
        """Bind the codec used to interpret encoded characters."""
        super().__init__()
        self.Diff_Timeout = DIFF_TIMEOUT
        self.codec = codec

    @cached_property
    def word_chars(self) -> frozenset[str]:
        """The characters standing for words: word tokens but numbers ("3." marks a list item as "-" does)."""
        # Found when first asked (most diffs never ask), once the codec has
        # encoded both texts: a differ is made after that.
        token_of = self.codec.token_of
        return frozenset(
            char
            for char, kind in self.codec.kind_of.items()
            if kind == _KIND_WORD and not token_of[char].isdigit()
        )

    @cached_property
    def line_chars(self) -> frozenset[str]:
        """The characters standing for single line breaks."""
        return frozenset(self.codec.line_end_chars) - self.codec.paragraph_chars

    def _words(self, chars: str) -> int:
        """How many words (not numbers, spaces or marks) an encoded string holds."""
        return sum(map(self.word_chars.__contains__, chars))

    def diff_cleanupSemantic(self, diffs: list[DiffOp]) -> None:  # noqa: N802
        """Absorb small equalities between edits, then slide and split edits for readers.

        The parent's algorithm, with one difference: an equality is small
        enough to be shown deleted and re-inserted only if it is no longer
        than the edits on both sides of it both in tokens (the parent's
        measure, one character per token) and in words. Counting tokens
        alone, the spaces, line breaks and list markers of edits that add or
        drop list items outweighed a whole unchanged clause of seven words
        between them, which the reader then saw deleted and inserted again.
        It never absorbs more than the parent did.
        """
        changes = False
        equalities: list[int] = []  # indices of the equalities met, innermost last
        last_equality: str | None = None  # diffs[equalities[-1]][1]
        # What was inserted and deleted before the last equality (1) and after it (2).
        edits1 = edits2 = _Edits()
        pointer = 0
        while pointer < len(diffs):
            op, chars = diffs[pointer]
            if op == DIFF_EQUAL:
                equalities.append(pointer)
                edits1, edits2 = edits2, _Edits()
                last_equality = chars
            else:
                edits2 = edits2.add(op, chars)
                if last_equality and self._absorbable(last_equality, edits1, edits2):
                    # The equality becomes a deletion followed by an insertion.
                    diffs.insert(equalities[-1], (DIFF_DELETE, last_equality))
                    diffs[equalities[-1] + 1] = (DIFF_INSERT, last_equality)
                    equalities.pop()
                    if equalities:
                        equalities.pop()  # the previous equality is to be judged again
                    pointer = equalities[-1] if equalities else -1
                    edits1 = edits2 = _Edits()
                    last_equality = None
                    changes = True
            pointer += 1
        if changes:
            self.diff_cleanupMerge(diffs)
        self.diff_cleanupSemanticLossless(diffs)
        self._extract_overlaps(diffs)

    def _absorbable(self, equality: str, before: _Edits, after: _Edits) -> bool:
        """Tell whether an equality is no longer than the edits on each side, in tokens and words."""
        tokens = len(equality)
        if tokens > before.tokens() or tokens > after.tokens():
            return False  # the parent's test, and cheap: most equalities stop here
        words = self._words(equality)
        return words <= before.words(self._words) and words <= after.words(self._words)

    def _extract_overlaps(self, diffs: list[DiffOp]) -> None:
        """Turn a deletion/insertion pair sharing a long end and start into edits around an equality."""
        # The parent's last step, unchanged: <del>abcxxx</del><ins>xxxdef</ins>
        # becomes <del>abc</del>xxx<ins>def</ins> when the overlap is at least
        # half of either edit (and the mirror case, edits swapped).
        pointer = 1
        while pointer < len(diffs):
            if diffs[pointer - 1][0] == DIFF_DELETE and diffs[pointer][0] == DIFF_INSERT:
                deletion, insertion = diffs[pointer - 1][1], diffs[pointer][1]
                overlap1 = self.diff_commonOverlap(deletion, insertion)
                overlap2 = self.diff_commonOverlap(insertion, deletion)
                if overlap1 >= overlap2:
                    if overlap1 >= len(deletion) / 2.0 or overlap1 >= len(insertion) / 2.0:
                        diffs.insert(pointer, (DIFF_EQUAL, insertion[:overlap1]))
                        diffs[pointer - 1] = (DIFF_DELETE, deletion[: len(deletion) - overlap1])
                        diffs[pointer + 1] = (DIFF_INSERT, insertion[overlap1:])
                        pointer += 1
                elif overlap2 >= len(deletion) / 2.0 or overlap2 >= len(insertion) / 2.0:
                    diffs.insert(pointer, (DIFF_EQUAL, deletion[:overlap2]))
                    diffs[pointer - 1] = (DIFF_INSERT, insertion[: len(insertion) - overlap2])
                    diffs[pointer + 1] = (DIFF_DELETE, deletion[overlap2:])
                    pointer += 1
                pointer += 1
            pointer += 1

    def diff_cleanupSemanticLossless(self, diffs: list[DiffOp]) -> None:  # noqa: N802
        """Slide single edits between equalities onto the most natural token boundary."""
        # The parent's algorithm: first as far left as the edit's common
        # suffix with equality1 allows, then right while the text repeats;
        # scored on token kinds, and sliding by index (_best_edit_start).
        kind_of = self.codec.kind_of
        pointer = 1
        while pointer < len(diffs) - 1:
            if not (diffs[pointer - 1][0] == DIFF_EQUAL and diffs[pointer + 1][0] == DIFF_EQUAL):
                pointer += 1
                continue
            equality1, edit, equality2 = (diffs[pointer + shift][1] for shift in (-1, 0, 1))
            size1, width = len(equality1), len(edit)
            best = _best_edit_start(
                equality1, edit, equality2, size1 - self.diff_commonSuffix(equality1, edit), kind_of
            )
            if best != size1:
                text = equality1 + edit + equality2
                new_equality1, new_edit, new_equality2 = (
                    text[:best],
                    text[best : best + width],
                    text[best + width :],
                )
                if new_equality1:
                    diffs[pointer - 1] = (DIFF_EQUAL, new_equality1)
                else:
                    del diffs[pointer - 1]
                    pointer -= 1
                diffs[pointer] = (diffs[pointer][0], new_edit)
                if new_equality2:
                    diffs[pointer + 1] = (DIFF_EQUAL, new_equality2)
                else:
                    del diffs[pointer + 1]
                    pointer -= 1
            pointer += 1

    def diff_bisect(self, text1: str, text2: str, deadline: float) -> list[DiffOp]:
        """Find the middle snake (Myers 1986) and recurse, walking snakes in C."""
        # diff_match_patch.diff_bisect line for line, except the two snake
        # loops: they moved one Python step per token along unchanged runs,
        # most of a long section's diff time. Same paths, same result.
        text1_length = len(text1)
        text2_length = len(text2)
        max_d = (text1_length + text2_length + 1) // 2
        v_offset = max_d
        v_length = 2 * max_d
        v1 = [-1] * v_length
        v1[v_offset + 1] = 0
        v2 = v1[:]
        delta = text1_length - text2_length
        front = delta % 2 != 0
        k1start = k1end = k2start = k2end = 0
        for d in range(max_d):
            if time.time() > deadline:
                break
            for k1 in range(-d + k1start, d + 1 - k1end, 2):
                k1_offset = v_offset + k1
                if k1 == -d or (k1 != d and v1[k1_offset - 1] < v1[k1_offset + 1]):
                    x1 = v1[k1_offset + 1]
                else:
                    x1 = v1[k1_offset - 1] + 1
                y1 = x1 - k1
                if x1 < text1_length and y1 < text2_length and text1[x1] == text2[y1]:
                    x1 += 1 + _common_run(text1, text2, x1 + 1, y1 + 1)
                    y1 = x1 - k1
                v1[k1_offset] = x1
                if x1 > text1_length:
                    k1end += 2  # ran off the right of the graph
                elif y1 > text2_length:
                    k1start += 2  # ran off the bottom of the graph
                elif front:
                    k2_offset = v_offset + delta - k1
                    if 0 <= k2_offset < v_length and v2[k2_offset] != -1:
                        if x1 >= text1_length - v2[k2_offset]:  # overlap: middle snake
                            return self.diff_bisectSplit(text1, text2, x1, y1, deadline)
            for k2 in range(-d + k2start, d + 1 - k2end, 2):
                k2_offset = v_offset + k2
                if k2 == -d or (k2 != d and v2[k2_offset - 1] < v2[k2_offset + 1]):
                    x2 = v2[k2_offset + 1]
                else:
                    x2 = v2[k2_offset - 1] + 1
                y2 = x2 - k2
                if (
                    x2 < text1_length
                    and y2 < text2_length
                    and text1[-x2 - 1] == text2[-y2 - 1]
                ):
                    x2 += 1 + _common_run_back(
                        text1, text2, text1_length - x2 - 1, text2_length - y2 - 1
                    )
                    y2 = x2 - k2
                v2[k2_offset] = x2
                if x2 > text1_length:
                    k2end += 2
                elif y2 > text2_length:
                    k2start += 2
                elif not front:
                    k1_offset = v_offset + delta - k2
                    if 0 <= k1_offset < v_length and v1[k1_offset] != -1:
                        x1 = v1[k1_offset]
                        y1 = v_offset + x1 - k1_offset
                        if x1 >= text1_length - x2:
                            return self.diff_bisectSplit(text1, text2, x1, y1, deadline)
        # Out of time, or no commonality at all.
        return [(DIFF_DELETE, text1), (DIFF_INSERT, text2)]

    def diff_by_lines(self, old: str, new: str) -> list[DiffOp]:
        """Diff whole lines first, then token by token only where lines changed."""
        # Myers' algorithm costs O(N*D) and its middle-snake search explores
        # every diagonal within D of the start, so 40 edits scattered over a
        # 10,000-word section cost as much as one dense rewrite. Matching the
        # unchanged lines (paragraphs, list items) first cuts the section into
        # small independent problems, as diff-match-patch's line mode does;
        # the lines are matched as patience diff does (_line_stretches),
        # since Myers on lines has the same O(N*D) when most lines change.
        # One deadline covers every step, so DIFF_TIMEOUT still bounds the lot.
        timeout = self.Diff_Timeout
        deadline = time.time() + timeout if timeout > 0 else sys.maxsize
        splitter = self.codec.line_splitter()
        if splitter is None:
            return self._diff_tokens(old, new, deadline)
        old_lines, new_lines = splitter.findall(old), splitter.findall(new)
        if len(old_lines) < 2 and len(new_lines) < 2:
            return self._diff_tokens(old, new, deadline)
        diffs: list[DiffOp] = []
        for stretch in self._diff_stretches(_line_stretches(old_lines, new_lines), deadline):
            diffs.extend(stretch.diffs or ())
        self.diff_cleanupMerge(diffs)
        return diffs

    def _diff_tokens(self, old: str, new: str, deadline: float) -> list[DiffOp]:
        """Diff encoded strings character by character (a character is a token or a line)."""
        diffs: list[DiffOp] = self.diff_main(old, new, False, deadline)  # no line mode
        return diffs

    def _diff_stretches(self, stretches: list[_Stretch], deadline: float) -> list[_Stretch]:
        """Diff each changed stretch, after merging those an unchanged one may wrongly split."""
        # Whole-line matching has one blind spot: it anchors on any unchanged
        # line, even where token by token the smaller diff leaves that line
        # unmatched (a short paragraph moved past a long edited one: the line
        # diff keeps the short one and deletes and re-inserts the long one).
        # Leaving a stretch unmatched costs at least twice its length, so it
        # can only win when the changes on both sides together cost that
        # much; then the three are diffed as one (and kept apart after all if
        # that changes more words: _Stretch.diff). Scattered edits cost a few
        # tokens against whole unchanged paragraphs, and stay apart.
        merged: list[_Stretch] = []
        for stretch in stretches:
            if stretch.changed:
                stretch.diff(self, deadline)
            merged.append(stretch)
            while len(merged) >= 3 and _may_hide_move(*merged[-3:]):
                after, unchanged, before = merged.pop(), merged.pop(), merged.pop()
                merged.append(before.merge(unchanged, after))
        for stretch in merged:
            if stretch.diffs is None:
                stretch.diff(self, deadline)
        return merged

    def semantic_diff(self, old: str, new: str) -> list[DiffOp]:
        """Diff two encoded strings and clean the result up for human readers."""
        diffs = self.diff_by_lines(old, new)
        self.diff_cleanupSemantic(diffs)
        return diffs


@dataclass
class _Stretch:
    """Consecutive lines of a line-first diff: unchanged, or changed from ``old`` to ``new``."""

    old: list[str]
    new: list[str]
    changed: bool
    diffs: list[DiffOp] | None = None
    # Tokens deleted plus inserted; after a merge, the sum of the parts,
    # an upper bound of what diffing the whole will find.
    cost: int = 0
    # After a merge: the stretches it covers, each diffed or unchanged.
    parts: list[_Stretch] | None = None

    def diff(self, differ: _TokenDiffer, deadline: float) -> None:
        """Diff the stretch token by token and record what it costs."""
        old, new = "".join(self.old), "".join(self.new)
        if not self.changed:
            self.diffs = [(DIFF_EQUAL, old)]
        elif old and new:
            self.diffs = differ._diff_tokens(old, new, deadline)
        else:
            self.diffs = [(DIFF_DELETE, old)] if old else [(DIFF_INSERT, new)]
        self.cost = sum(len(text) for op, text in self.diffs if op != DIFF_EQUAL)
        if self.parts and _changed_words(differ, self.diffs) > sum(
            _changed_words(differ, part.diffs or ()) for part in self.parts if part.changed
        ):
            # Fewer tokens changed, but more words: the unchanged lines between
            # were words given up for spaces and list markers. Keep them.
            self.diffs = [
                op
                for part in self.parts
                for op in (part.diffs if part.changed else [(DIFF_EQUAL, "".join(part.old))]) or ()
            ]
            self.cost = sum(part.cost for part in self.parts)

    def merge(self, unchanged: _Stretch, after: _Stretch) -> _Stretch:
        """One changed stretch covering this one, ``unchanged`` and ``after``."""
        return _Stretch(
            old=self.old + unchanged.old + after.old,
            new=self.new + unchanged.new + after.new,
            changed=True,
            cost=self.cost + after.cost,
            parts=[*(self.parts or [self]), unchanged, *(after.parts or [after])],
        )


def _changed_words(differ: _TokenDiffer, diffs: Iterable[DiffOp]) -> int:
    """Words deleted plus words inserted by a diff of encoded strings."""
    return sum(differ._words(chars) for op, chars in diffs if op != DIFF_EQUAL)


def _line_stretches(old_lines: list[str], new_lines: list[str]) -> list[_Stretch]:
    """Cut two texts' lines into alternating unchanged and changed stretches."""
    # Anchored on the lines found once in each text (patience diff): a
    # paragraph is almost always unique, so scattered edits leave most of
    # them anchors, and finding them is O(n log n) however many changed.
    stretches: list[_Stretch] = []
    old_start = new_start = 0
    ends = (len(old_lines), len(new_lines))
    for old_at, new_at in [*_unique_line_chain(old_lines, new_lines), ends]:
        old_gap, new_gap = old_lines[old_start:old_at], new_lines[new_start:new_at]
        # Repeated lines (a "---", a list item said twice) next to an anchor
        # are matched too; the rest of the gap is diffed token by token.
        same_start = 0
        while same_start < min(len(old_gap), len(new_gap)) and (
            old_gap[same_start] == new_gap[same_start]
        ):
            same_start += 1
        same_end = 0
        while same_end < min(len(old_gap), len(new_gap)) - same_start and (
            old_gap[-1 - same_end] == new_gap[-1 - same_end]
        ):
            same_end += 1
        old_end, new_end = len(old_gap) - same_end, len(new_gap) - same_end
        _append_stretch(stretches, old_gap[:same_start], new_gap[:same_start], changed=False)
        _append_stretch(
            stretches, old_gap[same_start:old_end], new_gap[same_start:new_end], changed=True
        )
        _append_stretch(stretches, old_gap[old_end:], new_gap[new_end:], changed=False)
        anchor = old_lines[old_at : old_at + 1]  # none after the last anchor
        _append_stretch(stretches, anchor, anchor, changed=False)
        old_start, new_start = old_at + 1, new_at + 1
    return stretches


def _unique_line_chain(old_lines: list[str], new_lines: list[str]) -> list[tuple[int, int]]:
    """The longest in-order chain of lines found exactly once in each text, as index pairs."""
    old_count, new_count = Counter(old_lines), Counter(new_lines)
    new_index = {
        line: index
        for index, line in enumerate(new_lines)
        if new_count[line] == 1 and old_count[line] == 1
    }
    pairs = [(index, new_index[line]) for index, line in enumerate(old_lines) if line in new_index]
    # Longest increasing subsequence of the new indices (patience sorting):
    # tails[k] ends the best chain of length k + 1, back[] links each pair
    # to its predecessor in a chain.
    tails: list[int] = []
    tail_pairs: list[int] = []
    back: list[int] = []
    for pair, (_, new_at) in enumerate(pairs):
        length = bisect_left(tails, new_at)
        if length == len(tails):
            tails.append(new_at)
            tail_pairs.append(pair)
        else:
            tails[length] = new_at
            tail_pairs[length] = pair
        back.append(tail_pairs[length - 1] if length else -1)
    chain: list[tuple[int, int]] = []
    pair = tail_pairs[-1] if tail_pairs else -1
    while pair != -1:
        chain.append(pairs[pair])
        pair = back[pair]
    return chain[::-1]


def _append_stretch(
    stretches: list[_Stretch], old: list[str], new: list[str], changed: bool
) -> None:
    """Add lines to the last stretch if it is of the same kind, else start a new one."""
    if not old and not new:
        return
    if stretches and stretches[-1].changed == changed:
        stretches[-1].old.extend(old)
        stretches[-1].new.extend(new)
    else:
        stretches.append(_Stretch(old=list(old), new=list(new), changed=changed))


def _may_hide_move(before: _Stretch, unchanged: _Stretch, after: _Stretch) -> bool:
    """Tell whether leaving ``unchanged`` unmatched might give a smaller diff."""
    return (
        before.changed
        and not unchanged.changed
        and after.changed
        and 2 * sum(map(len, unchanged.old)) <= before.cost + after.cost
    )


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


def _split_at(chars: str, anchors: Sequence[int]) -> list[str]:
    """Split an encoded string into [segment, anchor, segment, ...] at the given indices."""
    parts: list[str] = []
    start = 0
    for index in anchors:
        parts.append(chars[start:index])
        parts.append(chars[index])
        start = index + 1
    parts.append(chars[start:])
    return parts


def _paragraph_anchors(differ: _TokenDiffer, chars: str) -> list[int]:
    """Indices of the paragraph breaks in an encoded string."""
    paragraph_chars = differ.codec.paragraph_chars
    if not paragraph_chars.intersection(chars):
        return []
    return [index for index, char in enumerate(chars) if char in paragraph_chars]


_BULLETS = frozenset("-*+•–")
_NUMBER_ENDS = frozenset(".)")


def _list_item_anchors(differ: _TokenDiffer, chars: str) -> list[int]:
    """Indices of the single line breaks in an encoded string that start a list item.

    A list item starts after the break, past any indentation, with a bullet
    and a space ("- ", "* ", "+ ", "• ") or with a number and "." or ")"
    ("3. ", "12) "). The marker must lie in ``chars`` itself.
    """
    if not differ.line_chars.intersection(chars):
        return []
    kind_of, token_of = differ.codec.kind_of, differ.codec.token_of
    anchors: list[int] = []
    size = len(chars)
    for index, char in enumerate(chars):
        if kind_of[char] != _KIND_LINE:
            continue
        at = index + 1
        if at < size and kind_of[chars[at]] == _KIND_SPACE:
            at += 1  # indentation
        if at + 1 >= size:
            continue
        marker, after = token_of[chars[at]], token_of[chars[at + 1]]
        if (marker in _BULLETS and kind_of[chars[at + 1]] == _KIND_SPACE) or (
            marker.isdigit() and after in _NUMBER_ENDS
        ):
            anchors.append(index)
    return anchors


def _realign(
    differ: _TokenDiffer,
    diffs: list[DiffOp],
    find_anchors: Callable[[_TokenDiffer, str], list[int]],
) -> list[DiffOp]:
    """Re-anchor replacements spanning breaks (paragraph breaks, list items) on those breaks."""
    # cleanupSemantic happily swallows a short equality such as "\n\n" or
    # "\n- " between two edits; the resulting single replacement would show
    # the reader two paragraphs or list items melted together. Pair the
    # breaks back up, in order, and diff what lies between them.
    result: list[DiffOp] = []
    index = 0
    while index < len(diffs):
        op, chars = diffs[index]
        following = diffs[index + 1] if index + 1 < len(diffs) else None
        old_anchors = new_anchors = None
        if op == DIFF_DELETE and following is not None and following[0] == DIFF_INSERT:
            old_anchors = find_anchors(differ, chars)
            new_anchors = find_anchors(differ, following[1]) if old_anchors else None
        if old_anchors and new_anchors and following is not None:
            old_parts = _split_at(chars, old_anchors)
            new_parts = _split_at(following[1], new_anchors)
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
    # Inside memo.reusing_work, a pair diffed before (the new version of a section against the old
    # one, for itself and for every amendment that follows it) is not diffed again. Tuples are kept:
    # nobody can change a kept result through the list they get.
    return list(remembered("word_diff", (old, new), lambda: tuple(_word_diff(old, new))))


def _word_diff(old: str, new: str) -> list[DiffOp]:
    """Diff two different texts token by token (see :func:`word_diff`)."""
    codec, encoded_old = remembered("encoded", old, lambda: _encoded(old))
    codec = codec.copy()  # the kept one stays as it was after ``old``
    encoded_new = codec.encode(tokenize(new))
    differ = _TokenDiffer(codec)
    diffs = differ.semantic_diff(encoded_old, encoded_new)
    # Paragraphs first, then the list items inside what they left replaced.
    diffs = _realign(differ, _realign(differ, diffs, _paragraph_anchors), _list_item_anchors)
    return _merge_adjacent((op, codec.decode(chars)) for op, chars in diffs)


def _encoded(old: str) -> tuple[_TokenCodec, str]:
    """A codec that has encoded ``old`` first, and the encoding.

    A codec's state after the old text depends on that text alone, so a copy
    of it encodes a new text exactly as a fresh codec encoding both would:
    inside memo.reusing_work, the many texts diffed against one old text
    (every open amendment of a section against its new version) encode it once.
    """
    codec = _TokenCodec()
    return codec, codec.encode(tokenize(old))


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


# Touching changes that still merge (issue #18). hunks_overlap and
# overlapping_pairs say which changes touch; of those, a merge (rebase) may
# still take both sides when they have one sensible outcome: whole lines
# inserted beside a deletion ("delete item 3" and "add item 4 after item 3"),
# or beside an insertion that only extends a line ("... and more" at the end
# of item 2, and a new item after item 2). Whatever is allowed here must still
# pass the merge's verification from both sides.
_BREAKS = "\r\n"


def _at_line_start(base: str, offset: int) -> bool:
    """Tell whether ``offset`` starts a line of ``base``."""
    return offset == 0 or base[offset - 1] in _BREAKS


def _at_line_end(base: str, offset: int) -> bool:
    """Tell whether ``offset`` ends a line of ``base`` (just before its line break, or at the end)."""
    return offset == len(base) or base[offset] in _BREAKS


def _extends_a_line(hunk: Hunk) -> bool:
    """Tell whether a change inserts text without a line break, removing nothing."""
    return hunk.start == hunk.end and bool(hunk.text) and not any(b in hunk.text for b in _BREAKS)


def _inserts_lines(hunk: Hunk) -> bool:
    """Tell whether a change inserts text starting or ending with a line break, removing nothing."""
    return hunk.start == hunk.end and bool(hunk.text) and (
        hunk.text[0] in _BREAKS or hunk.text[-1] in _BREAKS
    )


def insertion_order(a: Hunk, b: Hunk, base: str) -> tuple[Hunk, Hunk] | None:
    """The one sensible order of two insertions at one point of ``base``, or None if there is none.

    One must extend a line (no line break in it), the other insert whole
    lines: at a line's end, new lines starting with a break come after the
    extension ("2. logement digne *et abordable*" then "*\n3. travail*");
    at a line's start, new lines ending with a break come before it.
    """
    if not (a.start == a.end == b.start == b.end):
        return None
    for lines, extension in ((a, b), (b, a)):
        if not (_inserts_lines(lines) and _extends_a_line(extension)):
            continue
        if lines.text[0] in _BREAKS and _at_line_end(base, lines.start):
            return extension, lines
        if lines.text[-1] in _BREAKS and _at_line_start(base, lines.start):
            return lines, extension
    return None


def order_insertions(hunks: Sequence[Hunk], base: str) -> list[Hunk]:
    """Insertions at one point of ``base``, each where :func:`insertion_order` puts it beside the line extensions.

    Given in amendment order. With a line extension among them, new lines that begin with a break at a
    line's end go after every extension, and new lines that end with a break at a line's start go before
    every one; the rest keep their order. Two of them are ordered as :func:`insertion_order` orders them;
    three or more are not ordered pair by pair (an extension and new lines joined would no longer be
    either, and a third extension would land on the new line).
    """
    if len(hunks) < 2 or not any(_extends_a_line(hunk) for hunk in hunks):
        return list(hunks)

    def rank(hunk: Hunk) -> int:
        if _inserts_lines(hunk) and not _extends_a_line(hunk):
            if hunk.text[0] in _BREAKS and _at_line_end(base, hunk.start):
                return 2  # after the extensions
            if hunk.text[-1] in _BREAKS and _at_line_start(base, hunk.start):
                return 0  # before them
        return 1

    return sorted(hunks, key=rank)  # stable: amendment order within each rank


def may_touch(a: Hunk, b: Hunk, base: str | None) -> bool:
    """Tell whether two touching changes of ``base``, one from each side, still merge in one sensible way.

    True when one inserts whole lines and the other deletes text (without
    inserting any) or extends a line, and the inserted lines stay whole lines
    once both are applied: "delete item 3" beside "add item 4 after item 3",
    "extend item 2" beside "add a new item after item 2". Without ``base``,
    or for anything else that touches, False: they collide. Changes given as
    bare spans (no text) never qualify.
    """
    if base is None:
        return False
    return _lines_beside(a, b, base) or _lines_beside(b, a, base)


def _lines_beside(lines: Hunk, other: Hunk, base: str) -> bool:
    """Tell whether ``lines`` inserts whole lines that ``other`` (a deletion or line extension) leaves whole."""
    if not _inserts_lines(lines):
        return False
    at = lines.start
    # The characters around the inserted lines once both changes are applied
    # (None: the start or end of the text).
    left = base[at - 1] if at else None
    right = base[at] if at < len(base) else None
    if other.start == other.end:
        if not _extends_a_line(other):
            return False
        if other.start == at:
            return insertion_order(lines, other, base) is not None
        # Apart (only blanks between them): the text between stays around the lines.
    elif other.text:
        return False  # a replacement beside new lines: which line does it belong to?
    elif other.start < at < other.end:
        return False  # lines inserted inside a deleted stretch
    elif other.end == at:
        left = base[other.start - 1] if other.start else None
    elif other.start == at:
        right = base[other.end] if other.end < len(base) else None
    starts, ends = lines.text[0] in _BREAKS, lines.text[-1] in _BREAKS
    return (starts and (right is None or right in _BREAKS)) or (
        ends and (left is None or left in _BREAKS)
    )


def ordered_hunks(hunks: Iterable[Hunk], base: str) -> list[Hunk]:
    """Sort changes for :func:`apply_hunks`, joining two insertions at one point in their one sensible order.

    Two insertions at one point with an :func:`insertion_order` become one
    insertion; any other pair at one point stays as it is (and apply_hunks
    refuses it).
    """
    result: list[Hunk] = []
    for hunk in sorted(hunks):
        if result and hunk.start == hunk.end == result[-1].start == result[-1].end:
            order = insertion_order(result[-1], hunk, base)
            if order is not None:
                result[-1] = Hunk(hunk.start, hunk.end, order[0].text + order[1].text)
                continue
        result.append(hunk)
    return result


def changes_overlap(base: str, text_a: str, text_b: str) -> bool:
    """Tell whether two versions of ``base`` change overlapping or touching words."""
    # Identical changes count too: two amendments doing the same thing collide
    # for a moderator, even though rebase() would merge them cleanly.
    hunks_a = changed_ranges(word_diff(base, text_a))
    hunks_b = changed_ranges(word_diff(base, text_b))
    return next(overlapping_pairs(hunks_a, hunks_b, base), None) is not None
