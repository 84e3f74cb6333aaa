"""The plenary in Chromium (#18): a moderator merges a section's five amendments while the room's projector and a
delegate's phone follow without reloading."""

from __future__ import annotations

import re

from e2e_helpers import expect, log_in, make_world, propose

SECTION = ("Cooperatives keep the value they create in their territories.\n\n"
           "Members decide together, one member one vote.\n\n"
           "Surpluses are shared fairly among members.\n\n"
           "Education is offered to every member.")


def test_moderator_merges_five_amendments_while_the_projector_follows(new_page, live_server):
    """Show the section, merge five amendments (a competing pair among them), and watch the projector change."""
    people, (section_id,) = make_world(
        live_server, slug="plenary", sections=[("Principles", SECTION)],
        people={"admin": "admin", "chair": "moderator", "ana": "participant", "ben": "participant",
                "chloe": "participant", "dev": "participant", "eli": "participant"})
    codes = {}
    ids = {}
    for key, find, replace in [
        ("ana", "their territories", "the territories that create it"),
        ("ben", "one member one vote", "one member, one vote"),
        ("chloe", "shared fairly", "shared openly and fairly"),   # chloe and dev compete for the same words
        ("dev", "shared fairly", "shared equitably"),
        ("eli", "every member", "every member and worker"),
    ]:
        ids[key], codes[key] = propose(live_server, people[key][0], "plenary", section_id, find=find, replace=replace)

    chair = new_page()
    log_in(chair, people["chair"][1])
    chair.goto("/d/plenary/console")
    chair.get_by_label("Section").select_option(str(section_id))
    chair.get_by_role("button", name="Show this section").click()

    # The room's screen and a delegate's phone, logged out, with JavaScript.
    projector = new_page(width=1920, height=1080)
    projector.goto("/d/plenary/projector")
    expect(projector.get_by_text("Members decide together, one member one vote.")).to_be_visible()
    phone = new_page(width=390, height=844)
    phone.goto(f"/d/plenary/merge/{section_id}/view")
    projector.evaluate("window.notReloaded = true")
    phone.evaluate("window.notReloaded = true")
    fetched = []  # their fragments: the notices bring the screen and the public view, so neither asks for them
    for follower, part in ((projector, "/projector/screen"), (phone, "/view/fragment")):
        follower.on("request", lambda request, part=part: fetched.append(request.url) if part in request.url else None)

    chair.goto(f"/d/plenary/merge/{section_id}")
    chair.get_by_role("button", name="Start merging").click()
    expect(chair.get_by_label(f"take {codes['chloe']}’s version", exact=False)).to_be_visible()
    for key in ("ana", "ben", "eli"):  # every change of theirs (a word diff may cut one edit in two)
        boxes = chair.get_by_label(re.compile(f"take {codes[key]}, change "))
        expect(boxes.first).to_be_visible()
        for index in range(boxes.count()):
            boxes.nth(index).check()
    chair.get_by_label(f"take {codes['chloe']}’s version", exact=False).check()
    chair.get_by_role("button", name="Preview").first.click()
    merged = chair.get_by_label("Merged text")
    expect(merged).to_have_value(re.compile("the territories that create it"))
    expect(merged).to_have_value(re.compile("shared openly and fairly"))
    expect(merged).not_to_have_value(re.compile("equitably"))

    # The phone shows the draft as it stands, without a reload (and without asking for it).
    expect(phone.get_by_text("shared openly and fairly", exact=False).first).to_be_visible(timeout=5_000)
    assert phone.evaluate("window.notReloaded") is True
    assert fetched == []

    chair.get_by_role("button", name="Merge", exact=True).click()
    expect(chair.get_by_text(re.compile("merged|Merged"))).not_to_have_count(0)

    # The projector shows the new version within seconds, with no reload and the old words gone.
    expect(projector.get_by_text("every member and worker", exact=False).first).to_be_visible(timeout=5_000)
    expect(projector.get_by_text("one member, one vote", exact=False).first).to_be_visible()
    expect(projector.get_by_text("shared equitably", exact=False)).to_have_count(0)
    assert projector.evaluate("window.notReloaded") is True
    assert fetched == []

    # Every amendment of the merge was decided by it: four in, dev's competing one out, each with a reason.
    from manifesto.amendments.models import Amendment
    from manifesto.extensions import db

    with live_server.context():
        decided = {key: (db.session.get(Amendment, id_).status, db.session.get(Amendment, id_).decision_reason)
                   for key, id_ in ids.items()}
    assert {key: status for key, (status, _) in decided.items()} == {
        "ana": "accepted", "ben": "accepted", "chloe": "accepted", "dev": "rejected", "eli": "accepted"}
    assert all(reason for _, reason in decided.values())
