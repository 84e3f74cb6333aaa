"""The discussion of a convention-sized event: threads, passage comments, reports, hidden and lost ones.

All through the services, as delegates would write it: comments on sections
and amendments, replies at every depth, comments on quoted passages (some of
which lose their passage when the text changes later), reports, and hidden
comments. Notifications and the search index follow on their own.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from ..amendments.models import Amendment, Status
from ..discussion import comments as discussion
from ..discussion import moderation
from ..documents import services as documents
from ..documents.models import Document, Section, SectionVersion
from ..extensions import db
from ..services import ServiceError

OPENINGS = [
    "I support the intent, but", "Our federation asks whether", "On behalf of the delegation,", "A question:",
    "Thank you for this.", "I disagree:", "In our region,", "The committee should note that", "Agreed, and",
    "Could the authors clarify whether", "As a cooperative member,", "This matters for workers because",
]
MIDDLES = [
    "the wording leaves out informal workers", "the timeline is too short for small cooperatives",
    "this duplicates section 4", "the term “solidarity finance” needs a definition",
    "public procurement rules differ from country to country", "local governments need a clear role",
    "the energy targets should be binding", "women's cooperatives are not mentioned",
    "this is exactly what our members asked for", "the French and Spanish versions must say the same",
    "we need numbers, not intentions", "the UN agencies already use this definition",
]
CLOSINGS = ["", " What do others think?", " We will propose an amendment.", " See our report of 2025.",
            " This is urgent.", " I would keep it as it is.", " Please keep this open for the plenary."]


@dataclass
class DiscussionPlan:
    """How many comments of each sort to write."""

    comments: int
    hidden_share: float = 0.01
    report_share: float = 0.02
    passage_share: float = 0.2
    amendment_share: float = 0.35
    reply_share: float = 0.5
    made: dict[str, int] = field(default_factory=lambda: {"section": 0, "amendment": 0, "passage": 0,
                                                           "reply": 0, "refused": 0})


def _text(rng: random.Random) -> str:
    """A comment of one to three sentences, with some Markdown now and then."""
    parts = [f"{rng.choice(OPENINGS)} {rng.choice(MIDDLES)}.{rng.choice(CLOSINGS)}"
             for _ in range(rng.choice((1, 1, 2, 3)))]
    if rng.random() < 0.1:
        parts.append(f"*{rng.choice(MIDDLES).capitalize()}.*")
    return " ".join(parts)


def _quote(body: str, rng: random.Random) -> str | None:
    """A sentence of the text to comment on, exactly as it stands (or None for an empty text)."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", body) if 20 <= len(s) <= 300 and "\n" not in s]
    return rng.choice(sentences) if sentences else None


def seed_discussion(document: Document, plan: DiscussionPlan, people: list[int], moderators: list[int],
                    rng: random.Random, user: Callable[[int], object],
                    tick: Callable[[str, int, int], None]) -> dict[str, int]:
    """Write ``plan.comments`` comments on the document's sections and open amendments; return what was made."""
    sections = list(db.session.execute(
        select(Section.id, SectionVersion.body).join(SectionVersion, SectionVersion.id == Section.current_version_id)
        .where(Section.document_id == document.id, Section.retired_at.is_(None))).all())
    amendment_ids = list(db.session.scalars(select(Amendment.id).where(
        Amendment.document_id == document.id, Amendment.status == Status.SUBMITTED.value)))
    # Some sections and amendments draw far more discussion than others.
    section_weights = [rng.random() ** 3 + 0.01 for _ in sections]
    amendment_weights = [rng.random() ** 3 + 0.01 for _ in amendment_ids]
    written: list[int] = []
    for done in range(1, plan.comments + 1):
        author = user(rng.choice(people))
        roll = rng.random()
        try:
            if written and roll < plan.reply_share:
                # Replies cluster on recent comments, so threads grow deep as well as wide.
                parent = written[-1 - min(len(written) - 1, int(rng.expovariate(0.05)))]
                comment = discussion.reply_to_comment(author, document.id, parent, body=_text(rng))
                plan.made["reply"] += 1
            elif amendment_ids and rng.random() < plan.amendment_share:
                target = rng.choices(amendment_ids, amendment_weights)[0]
                comment = discussion.post_comment(author, document.id, amendment_id=target, body=_text(rng))
                plan.made["amendment"] += 1
            else:
                section_id, body = rng.choices(sections, section_weights)[0]
                quote = _quote(body, rng) if rng.random() < plan.passage_share / (1 - plan.reply_share) else None
                comment = discussion.post_comment(author, document.id, section_id=section_id, body=_text(rng),
                                                  quote=quote)
                plan.made["passage" if quote else "section"] += 1
            written.append(comment.id)
        except ServiceError:
            plan.made["refused"] += 1  # a thread on an amendment hidden or closed meanwhile
        tick("comments", done, plan.comments)
    return plan.made


def moderate(document: Document, plan: DiscussionPlan, people: list[int], moderators: list[int],
             rng: random.Random, user: Callable[[int], object]) -> dict[str, int]:
    """Report some comments; moderators hide part of them and leave the rest in the queue."""
    from ..discussion.models import Comment

    ids = list(db.session.scalars(select(Comment.id).where(Comment.document_id == document.id)))
    reported = rng.sample(ids, min(len(ids), int(len(ids) * plan.report_share)))
    hidden = set(rng.sample(reported, min(len(reported), int(len(ids) * plan.hidden_share))))
    made = {"reports": 0, "hidden": 0}
    for comment_id in reported:
        reporter = user(rng.choice(people))
        try:
            moderation.report_item(reporter, document.id, "comment", comment_id,
                                   reason="Personal attack on another delegate.")
            made["reports"] += 1
            if comment_id in hidden:
                moderation.hide_item(user(rng.choice(moderators)), document.id, "comment", comment_id,
                                     reason="Hidden: it attacks a person, not an argument.")
                made["hidden"] += 1
        except ServiceError:
            continue  # the reporter wrote it, or it was hidden already
    return made


def lose_passages(document: Document, moderators: list[int], rng: random.Random, user: Callable[[int], object],
                  sections: int = 5) -> int:
    """Rewrite a few quoted sentences, as the drafting committee would, so their comments lose their passage."""
    from ..discussion.models import Comment

    rows = db.session.execute(
        select(Comment.section_id, Comment.quote).where(Comment.document_id == document.id,
                                                        Comment.quote.is_not(None),
                                                        Comment.passage_lost.is_(False))
        .order_by(Comment.id)).all()
    by_section: dict[int, str] = {}
    for section_id, quote in rows:
        by_section.setdefault(section_id, quote)
    lost = 0
    for section_id in rng.sample(sorted(by_section), min(sections, len(by_section))):
        section = documents.get_section_or_404(document, section_id)
        body = section.current_version.body
        quote = by_section[section_id]
        if quote not in body:
            continue
        new_body = body.replace(quote, "The drafting committee rewrote this passage entirely after the debate.", 1)
        try:
            documents.edit_section(user(rng.choice(moderators)), document.id, section_id,
                                   heading=section.current_version.heading, body=new_body,
                                   reason="Rewritten after the plenary debate.",
                                   base_version=section.version_count)
            lost += 1
        except ServiceError:
            continue
    return lost
