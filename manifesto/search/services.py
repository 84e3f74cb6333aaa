"""Full-text search over a document's sections, amendments and comments: one interface, two engines.

SQLite answers with the FTS5 table ``search_fts`` (MATCH, bm25, highlight and
snippet); PostgreSQL with ``@@`` against the stored, GIN-indexed column
``search_vector`` (ts_rank, ts_headline), in the document's language.

User text never reaches either query language as syntax: :func:`parse_query`
keeps only words (Unicode ``\\w+``), which become quoted FTS5 strings or the
plain text of ``plainto_tsquery``. Matches come back wrapped in two
private-use sentinel characters; :func:`highlight_html` escapes everything
and only then turns the sentinels into ``<mark>``, so no indexed text can
ever become markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import bindparam, func, select, text

from ..accounts.models import User
from ..amendments.models import Amendment, Status
from ..amendments.wording import display_title
from ..discussion.models import Comment
from ..documents import services as documents
from ..documents.models import Document, Section, SectionVersion
from ..extensions import db
from ..pagination import Page, clamp_page
from .indexing import START, STOP
from .schema import VECTOR_COLUMN, language_config

# The kinds of text one can look in (lazy labels: read in the reader's language).
KINDS = {"section": _l("Sections"), "amendment": _l("Amendments"), "comment": _l("Comments")}
PER_PAGE = 20
MAX_WORDS = 16  # a query is a handful of words; the rest are ignored (and the page says so)
MAX_WORD_LENGTH = 60  # longer "words" are noise (and PostgreSQL would not index them)
MAX_QUERY_CHARS = 10_000
MAX_PAGE = 500
# SQLite has no French or Spanish stemmer: a word of this length or more also
# finds the words it begins (coopérative → coopératives, vote → votes, voter).
PREFIX_FROM = 4

# A word, or words joined by a hyphen, an apostrophe or a dot (A-014, COVID-19,
# l'économie, example.org): PostgreSQL's parser reads such compounds as the
# text's were read ("-014"), and FTS5 reads a quoted one as a phrase.
_WORD = re.compile(r"\w+(?:[-'’.]\w+)*")


@dataclass(frozen=True)
class ParsedQuery:
    """The words a query searches for, whatever syntax it was typed with."""

    words: tuple[str, ...]
    truncated: bool = False

    def __bool__(self) -> bool:
        return bool(self.words)

    def fts5(self) -> str:
        """The FTS5 MATCH expression: every word quoted (a plain string, never an operator), all required."""
        return " ".join(f'"{word}"*' if len(word) >= PREFIX_FROM else f'"{word}"' for word in self.words)

    def plain(self) -> str:
        """The words as plain text for ``plainto_tsquery``, which ANDs them."""
        return " ".join(self.words)


def parse_query(raw: str | None) -> ParsedQuery:
    """Extract the words of a user's query; quotes, stars, operators and punctuation are dropped.

    Never raises: anything without a word is an empty query.
    """
    raw = raw or ""
    if len(raw) > MAX_QUERY_CHARS:  # cut at a space, so that the last word is not cut in half
        raw = raw[:MAX_QUERY_CHARS].rsplit(None, 1)[0]
    words: list[str] = []
    truncated = False
    for match in _WORD.finditer(raw):
        word = match.group().replace("_", " ").strip()  # FTS5 and PostgreSQL split at underscores too
        if not word or len(word) > MAX_WORD_LENGTH or word.lower() in (w.lower() for w in words):
            continue
        if len(words) == MAX_WORDS:
            truncated = True
            break
        words.append(word)
    return ParsedQuery(tuple(words), truncated)


# ------------------------------------------------------------ highlighting

def highlight_html(fragment: str | None) -> Markup:
    """Escape an engine's highlighted text, then turn its sentinels into ``<mark>`` (balanced)."""
    out: list[str] = []
    open_ = False
    fragment = re.sub(r"\s+", " ", fragment or "").strip()  # a snippet reads as one line
    for piece in re.split(f"([{START}{STOP}])", fragment):
        if piece == START:
            if not open_:
                out.append("<mark>")
                open_ = True
        elif piece == STOP:
            if open_:
                out.append("</mark>")
                open_ = False
        else:
            out.append(str(escape(piece)))
    if open_:
        out.append("</mark>")
    return Markup("".join(out))


# ------------------------------------------------------------------ results

@dataclass
class Result:
    """One match, with what the results page shows and where it links."""

    kind: str
    object_id: int
    title: Markup
    snippet: Markup
    label: str = ""
    detail: str = ""
    endpoint: str = ""
    args: dict = field(default_factory=dict)
    anchor: str | None = None


@dataclass
class SearchPage(Page):
    """One page of results (a :class:`Page`), with the number of matches of each kind (for the filter).

    ``total`` counts the matches of the kind shown (all kinds when none is chosen).
    """

    query: ParsedQuery = field(default_factory=lambda: ParsedQuery(()))
    kind: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def results(self) -> list[Result]:
        """The page's results, best first."""
        return list(self.items)


def search(document: Document, raw_query: str | None, *, kind: str | None = None, page: int = 1,
           per_page: int = PER_PAGE) -> SearchPage:
    """Search one document; results ranked best first, highlighted, linked, a page at a time.

    A fixed number of queries whatever the number of matches: counts per
    kind, one page of ranked matches, their highlights, and what each kind's
    links need. Only what the index holds can be found (never drafts,
    hidden or deleted comments, hidden amendments). A page past the last
    shows the last, as every list does.
    """
    query = parse_query(raw_query)
    kind = kind if kind in KINDS else None
    page = max(1, min(int(page or 1), MAX_PAGE))
    if not query:
        return SearchPage([], 1, per_page, 0, query=query, kind=kind)
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    counts = (_postgresql_counts if postgresql else _sqlite_counts)(document, query)
    total = counts.get(kind, 0) if kind else sum(counts.values())
    page = clamp_page(page, total, per_page)
    hits = (_postgresql if postgresql else _sqlite)(document, query, kind, (page - 1) * per_page, per_page)
    return SearchPage(_describe(document, hits), page, per_page, total, query=query, kind=kind, counts=counts)


@dataclass(frozen=True)
class _Hit:
    """A ranked match as an engine returns it: the entry and its highlighted title and snippet."""

    kind: str
    object_id: int
    title: str
    snippet: str


# CROSS JOIN makes SQLite start from the FTS5 matches; left to itself it
# walked every entry of the document and probed FTS5 for each (1.5 s at scale).
_SQLITE_WHERE = "search_fts MATCH :match AND e.document_id = :document"


def _sqlite_counts(document: Document, query: ParsedQuery) -> dict[str, int]:
    """FTS5: how many entries of each kind match (one query)."""
    return dict(db.session.execute(text(
        f"SELECT e.kind, count(*) FROM search_fts CROSS JOIN search_entries e ON e.id = search_fts.rowid "
        f"WHERE {_SQLITE_WHERE} GROUP BY e.kind"), {"match": query.fts5(), "document": document.id}).all())


def _sqlite(document: Document, query: ParsedQuery, kind: str | None, offset: int, limit: int) -> list[_Hit]:
    """FTS5: the page's entries by bm25 (title weighs more), then their highlights."""
    match = query.fts5()
    where = _SQLITE_WHERE
    params = {"match": match, "document": document.id}
    if kind:
        where += " AND e.kind = :kind"
        params["kind"] = kind
    ranked = db.session.execute(text(
        f"SELECT e.id FROM search_fts CROSS JOIN search_entries e ON e.id = search_fts.rowid "
        f"WHERE {where} ORDER BY bm25(search_fts, 4.0, 1.0), e.id LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset}).scalars().all()
    if not ranked:
        return []
    # Highlights only for the page's rows: snippet() reads and tokenises the whole text.
    rows = db.session.execute(text(
        "SELECT e.id, e.kind, e.object_id, highlight(search_fts, 0, :start, :stop), "
        "snippet(search_fts, 1, :start, :stop, '…', 40) "
        "FROM search_fts CROSS JOIN search_entries e ON e.id = search_fts.rowid "
        "WHERE search_fts MATCH :match AND search_fts.rowid IN :ids").bindparams(bindparam("ids", expanding=True)),
        {"match": match, "ids": ranked, "start": START, "stop": STOP}).all()
    by_id = {row[0]: _Hit(row[1], row[2], row[3] or "", row[4] or "") for row in rows}
    return [by_id[i] for i in ranked if i in by_id]


# ts_headline's options: sentinels around matches, a couple of fragments of the text.
_HEADLINE = f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=\" … \""
_HEADLINE_ALL = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"


_TSQUERY = "plainto_tsquery(CAST(:config AS regconfig), :words)"


def _postgresql_counts(document: Document, query: ParsedQuery) -> dict[str, int]:
    """PostgreSQL: how many entries of each kind match (one query, on the GIN index)."""
    return dict(db.session.execute(text(
        f"SELECT kind, count(*) FROM search_entries "
        f"WHERE document_id = :document AND {VECTOR_COLUMN} @@ {_TSQUERY} GROUP BY kind"),
        {"config": language_config(document.language), "words": query.plain(), "document": document.id}).all())


def _postgresql(document: Document, query: ParsedQuery, kind: str | None, offset: int, limit: int) -> list[_Hit]:
    """PostgreSQL: ``@@`` on the stored vector (GIN index), ts_rank, then ts_headline for the page only.

    The stored vector weighs the title (a heading, an amendment's code and
    heading) above the text, as bm25's column weights do on SQLite.
    """
    tsquery = _TSQUERY
    where = f"document_id = :document AND {VECTOR_COLUMN} @@ {tsquery}"
    params = {"config": language_config(document.language), "words": query.plain(), "document": document.id}
    if kind:
        where += " AND kind = :kind"
        params["kind"] = kind
    rows = db.session.execute(text(
        f"SELECT page.kind, page.object_id, "
        f"ts_headline(CAST(page.language AS regconfig), page.title, page.query, :all), "
        f"ts_headline(CAST(page.language AS regconfig), page.body, page.query, :some) "
        f"FROM (SELECT id, kind, object_id, language, title, body, {tsquery} AS query, "
        f"ts_rank({VECTOR_COLUMN}, {tsquery}) AS rank "
        f"FROM search_entries WHERE {where} ORDER BY rank DESC, id LIMIT :limit OFFSET :offset) AS page "
        f"ORDER BY page.rank DESC, page.id"),
        {**params, "limit": limit, "offset": offset, "all": _HEADLINE_ALL, "some": _HEADLINE}).all()
    return [_Hit(r[0], r[1], r[2] or "", r[3] or "") for r in rows]


# ------------------------------------------------------- what a result is

def _describe(document: Document, hits: list[_Hit]) -> list[Result]:
    """Turn ranked hits into results with labels and exact links (one query per kind present)."""
    by_kind: dict[str, list[int]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, []).append(hit.object_id)
    numbers = {}
    if "section" in by_kind or "comment" in by_kind:
        numbers = {entry.section_id: entry.number for entry in documents.outline(document)}
    amendments = {}
    if "amendment" in by_kind:
        amendments = {a.id: a for a in db.session.execute(
            select(Amendment.id, Amendment.number, Amendment.title, Amendment.summary, Amendment.status)
            .where(Amendment.id.in_(by_kind["amendment"]), Amendment.document_id == document.id)).all()}
    comments = {}
    if "comment" in by_kind:
        comments = {c.id: c for c in db.session.execute(
            select(Comment.id, Comment.target, Comment.section_id, Comment.amendment_id, User.name,
                   SectionVersion.heading, Amendment.number.label("amendment_number"))
            .join(User, User.id == Comment.author_id)
            .outerjoin(Section, Section.id == Comment.section_id)
            .outerjoin(SectionVersion, SectionVersion.id == Section.current_version_id)
            .outerjoin(Amendment, Amendment.id == Comment.amendment_id)
            .where(Comment.id.in_(by_kind["comment"]), Comment.document_id == document.id)).all()}
    results = []
    for hit in hits:
        result = _result(document, hit, numbers, amendments, comments)
        if result is not None:
            results.append(result)
    return results


def _result(document: Document, hit: _Hit, numbers: dict, amendments: dict, comments: dict) -> Result | None:
    """One result's label and link; None when its object vanished since the index was written."""
    title, snippet = highlight_html(hit.title), highlight_html(hit.snippet)
    slug = document.slug
    if hit.kind == "section":
        number = numbers.get(hit.object_id)
        return Result("section", hit.object_id, title, snippet, label=f"§{number}" if number else "§",
                      endpoint="documents.read", args={"slug": slug}, anchor=f"section-{hit.object_id}")
    if hit.kind == "amendment":
        row = amendments.get(hit.object_id)
        if row is None:
            return None
        return Result("amendment", hit.object_id, title, snippet, label=display_title(row.summary, row.title),
                      detail=Status(row.status).label, endpoint="amendments.show",
                      args={"slug": slug, "amendment_id": hit.object_id})
    row = comments.get(hit.object_id)
    if row is None:
        return None
    number = numbers.get(row.section_id)
    if row.amendment_id is not None:
        place = f"A-{row.amendment_number:03d}" if row.amendment_number else None
    else:
        place = f"§{number} {row.heading}" if number else row.heading
    if place:
        label = _("Comment by %(name)s on %(place)s", name=row.name, place=place)
    elif row.amendment_id is not None:
        label = _("Comment by %(name)s on an amendment", name=row.name)
    else:
        label = _("Comment by %(name)s on a section", name=row.name)
    # The comment's permanent address leads to the page (and the page of
    # comments, or of its long thread) that shows it, at its anchor.
    return Result("comment", hit.object_id, Markup(""), snippet, label=label,
                  endpoint="discussion.comment", args={"slug": slug, "comment_id": hit.object_id})
