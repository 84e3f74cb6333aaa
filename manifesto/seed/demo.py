"""Load the demo manifesto through the services, exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..accounts import services as accounts
from ..accounts.models import User
from ..documents import services as documents
from ..documents.models import Document, Phase
from ..extensions import db
from ..releases import services as releases
from ..services import utcnow
from . import demo_content as content
from .demo_amendments import seed_amendments
from .demo_discussion import seed_discussion

DEFAULT_PASSWORD = "manifesto-demo"


def seed_people(password: str) -> dict[str, User]:
    """Create the demo accounts that do not exist yet; return them all by key."""
    people = {}
    for key, person in content.PEOPLE.items():
        user = accounts.get_user_by_email(person["email"])
        if user is None:
            # The documented demo password predates the policy (and is chosen on the command line).
            user = accounts.register_user(person["email"], person["name"], password, person["organisation"],
                                          person["country"], role=person["role"], check_policy=False)
        people[key] = user
    return people


def seed_document(people: dict[str, User]) -> tuple[Document, dict[str, int], bool]:
    """Create the demo document with its sections and versions; return it, section ids by key, and whether it is new."""
    existing = db.session.scalar(select(Document).where(Document.slug == content.DOCUMENT["slug"]))
    if existing is not None:
        return existing, {}, False
    admin = people["admin"]
    document = documents.create_document(admin, title=content.DOCUMENT["title"], slug=content.DOCUMENT["slug"],
                                         introduction=content.DOCUMENT["introduction"])
    section_ids: dict[str, int] = {}
    after = None
    for spec in content.SECTIONS:
        first, *later = spec["versions"]
        section = documents.create_section(people[first["author"]], document.id, heading=spec["heading"],
                                           body=first["body"], reason=first["reason"], after_section_id=after)
        for version in later:
            documents.edit_section(people[version["author"]], document.id, section.id,
                                   heading=version.get("heading", spec["heading"]), body=version["body"],
                                   reason=version["reason"], base_version=None)
        section_ids[spec["key"]] = section.id
        after = section.id
    documents.update_document(admin, document.id, title=document.title, introduction=document.introduction,
                              phase=Phase.AMENDMENTS.value, amendment_deadline=utcnow() + timedelta(days=30),
                              min_supporters=1)
    return document, section_ids, True


def seed_demo(password: str = DEFAULT_PASSWORD) -> Document:
    """Load the demo people and document; running it again adds nothing."""
    people = seed_people(password)
    document, section_ids, created = seed_document(people)
    if created:
        # Releases: the draft as opened for amendments, then the text after
        # the committee's first decisions, so the redline between them shows
        # the adopted amendments.
        releases.publish_release(people["moderator"], document.id, name="Draft 1 — opened for amendments",
                                 description="The committee's draft as it was opened for amendments.")
        made = seed_amendments(document, people, section_ids)
        seed_discussion(document, people, section_ids, made)
        releases.publish_release(people["moderator"], document.id, name="Draft 2 — for the regional consultations",
                                 description="The text after the committee's first decisions, sent to the "
                                             "regional consultations in Dakar, Quito and Manila.")
        for key in ("amina", "lucas"):  # two delegates agreed to be named among the contributors
            accounts.set_export_credit(people[key], True)
    return document
