"""Demo discussion: threads, passage comments (one whose passage changed), a hidden comment, a pending report.

Everything goes through the services, after the amendments are decided, in
the order an assembly would produce it: delegates comment on passages, the
drafting committee rewrites one of them (so that comment's passage is
lost, while another one in the same section moves with the text), a
moderator hides a personal attack with a public reason, and a report is
left in the queue for the moderators to handle.
"""

from __future__ import annotations

from ..discussion import comments, moderation
from ..documents import services as documents
from ..documents.models import Section, SectionVersion
from ..extensions import db

# The committee's editorial rewrite of the commitments' first paragraph (see below).
PARITY_BEFORE = "pay decent wages and work towards gender parity at every level of responsibility"
PARITY_AFTER = ("pay living wages, and reach gender parity on our boards and in management by 2030, "
                "publishing the figures every year")


def _current(section_id: int) -> SectionVersion:
    """The current version of a section."""
    section = db.session.get(Section, section_id)
    return db.session.get(SectionVersion, section.current_version_id)


def seed_discussion(document, people: dict, section_ids: dict[str, int], made: dict) -> None:
    """Post, edit, moderate and report the demo comments."""
    amina, lucas, sofia = people["amina"], people["lucas"], people["sofia"]
    moderator, admin = people["moderator"], people["admin"]
    doc_id = document.id

    # A thread on a passage of "Energy sovereignty" that two open amendments change, four levels deep.
    root = comments.post_comment(
        lucas, doc_id, section_id=section_ids["energy"],
        quote="reserve a clear share of new renewable capacity for community ownership",
        body=("“A clear share” is exactly the kind of wording energy ministries ignore. "
              f"Both {made['a1'].code} and {made['a2'].code} try to fix it, in different ways: "
              "we should agree on one before the committee meets."))
    number = comments.reply_to_comment(
        amina, doc_id, root.id,
        body="I prefer a number. Twenty per cent by 2035 is something our federations can monitor.")
    comments.edit_comment(
        amina, doc_id, number.id, revision=number.revision,
        body=("I prefer a number. Twenty per cent by 2035 is something our federations can monitor, "
              "and it matches what the **West African** networks already ask of their governments."))
    municipal = comments.reply_to_comment(
        sofia, doc_id, number.id,
        body=("A number is fine, but in Spain many community projects are run with municipal utilities. "
              "Could the target count them too?"))
    committee = comments.reply_to_comment(
        moderator, doc_id, municipal.id,
        body=(f"The committee will look at {made['a1'].code} and {made['a2'].code} together. "
              "A combined wording (a figure, with municipal ownership) is possible."))
    comments.reply_to_comment(
        lucas, doc_id, committee.id,
        body="Thank you. I would support a combined text and withdraw the parts of mine that overlap.")

    # Passage comments on "Our commitments": the committee then rewrites one of the passages.
    commitments = section_ids["commitments"]
    comments.post_comment(
        amina, doc_id, section_id=commitments, quote=PARITY_BEFORE,
        body=("“Towards” gender parity has no end date. Our network asks every member cooperative to reach "
              "parity on its board within five years; the manifesto can be as concrete."))
    comments.post_comment(
        sofia, doc_id, section_id=commitments, quote="to buy from one another where we can",
        body="Could we add a reference to joint purchasing platforms? Several federations already run one.")
    current = _current(commitments)
    documents.edit_section(
        moderator, doc_id, commitments, heading=current.heading,
        body=current.body.replace(PARITY_BEFORE, PARITY_AFTER, 1),
        reason="Editorial: a date for gender parity, as suggested in the discussion.", base_version=None)

    # A discussion of the whole section on "Democracy at work", with a question its author deleted.
    democracy = section_ids["democracy"]
    buyouts = comments.post_comment(
        sofia, doc_id, section_id=democracy,
        body=("The right of first refusal for employees is the strongest demand here. It should cite the "
              "Italian *Marcora law*, which shows it works."))
    question = comments.reply_to_comment(amina, doc_id, buyouts.id,
                                         body="Does anyone have figures on worker buyouts in Italy?")
    comments.reply_to_comment(
        lucas, doc_id, question.id,
        body="Around 300 buyouts have been financed under the Marcora law since 1985, most still running.")
    comments.delete_comment(amina, doc_id, question.id)

    # A personal attack, hidden by a moderator with a public reason.
    attack = comments.reply_to_comment(
        lucas, doc_id, buyouts.id,
        body="This is what happens when people who never ran a cooperative write our texts.")
    moderation.report_item(sofia, doc_id, "comment", attack.id, reason="A personal attack, not an argument.")
    moderation.hide_item(
        moderator, doc_id, "comment", attack.id,
        reason="Personal attack. Criticise the text, not the people who wrote it (participation rules, §2).")

    # Comments on amendments, and a report the moderators have not handled yet.
    comments.post_comment(
        sofia, doc_id, amendment_id=made["a1"].id,
        body="A dated target is easier to defend at home. I support this, with or without the municipal part.")
    dismissive = comments.post_comment(
        lucas, doc_id, amendment_id=made["a1"].id,
        body="Frankly, twenty per cent will never pass in any parliament. This amendment is naive.")
    moderation.report_item(amina, doc_id, "comment", dismissive.id,
                           reason="Dismisses a delegate's proposal instead of discussing its content.")
    comments.post_comment(
        moderator, doc_id, amendment_id=made["a6"].id,
        body=(f"This amendment conflicts with {made['a5'].code}, which was accepted. Please resolve the "
              "conflict so that the committee can consider it."))
    comments.post_comment(
        admin, doc_id, section_id=section_ids["preamble"],
        body="Welcome! Comment on a whole section here, or select words in its text to comment on a passage.")
