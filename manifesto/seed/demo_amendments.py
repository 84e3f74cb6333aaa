"""Demo amendments: every state, a colliding pair, a clean rebase and a conflict.

Everything goes through the services, in the order a real assembly would
produce it: all amendments are written on the same versions, supporters
sign, then the committee decides, which rebases what is still open.
"""

from __future__ import annotations

from sqlalchemy import select

from ..amendments import services
from ..amendments.models import Amendment
from ..documents.models import Section, SectionVersion
from ..extensions import db
from . import demo_content as content


def _current_body(section_id: int) -> str:
    """The current text of a section."""
    section = db.session.get(Section, section_id)
    return db.session.get(SectionVersion, section.current_version_id).body


def seed_amendments(document, people: dict, section_ids: dict[str, int]) -> dict[str, Amendment]:
    """Propose, support and decide the demo amendments; return them by key."""
    made: dict[str, Amendment] = {}
    for spec in content.AMENDMENTS:
        section_id = section_ids[spec.get("after_section") or spec["section"]]
        body = heading = None
        if spec["kind"] == "modify":
            current = _current_body(section_id)
            body = current.replace(spec["find"], spec["replace"], 1)
            heading = spec.get("heading")
        elif spec["kind"] == "insert":
            heading, body = spec["heading"], spec["body"]
        made[spec["key"]] = services.propose_amendment(
            people[spec["author"]], document.id, kind=spec["kind"], section_id=section_id, heading=heading,
            body=body, reason=spec["reason"], submit=spec["state"] != "draft")
    for spec in content.AMENDMENTS:
        if spec["state"] == "draft":
            continue
        for supporter in spec.get("supporters", []):
            services.support_amendment(people[supporter], document.id, made[spec["key"]].id)
    for spec in content.AMENDMENTS:
        _decide(document, people, spec, made[spec["key"]])
    return made


def _decide(document, people: dict, spec: dict, amendment: Amendment) -> None:
    """Bring one amendment to its demo state."""
    state = spec["state"]
    if state in ("draft", "submitted"):
        return
    fresh = db.session.scalar(select(Amendment).where(Amendment.id == amendment.id))
    author = people[spec["author"]]
    if state == "withdrawn":
        services.withdraw_amendment(author, document.id, fresh.id, revision=fresh.revision,
                                    reason="Withdrawn by the author after the regional consultation.")
        return
    moderator = people["moderator"] if spec["author"] != "moderator" else people["admin"]
    final_body = None
    if state == "accepted_modified":
        final_body = fresh.proposed_body.replace(spec["replace"], spec["modified_replace"], 1)
    decision = {"accepted": "accept", "accepted_modified": "accept_modified", "rejected": "reject",
                "obsolete": "obsolete"}[state]
    services.decide_amendment(moderator, document.id, fresh.id, decision=decision,
                              reason=spec.get("decision_reason") or "Decided by the drafting committee.",
                              revision=fresh.revision, final_body=final_body)
