"""How audit events read, in the reader's language.

Events are stored as codes ("amendment.accepted", states such as "submitted"
or "v2"), never as sentences: the pages put them into words when they are
shown, so each reader sees them in their own language. The documents area
registers these as Jinja filters (``audit_action``, ``audit_object``,
``audit_state``, ``audit_automatic``); any template may use them.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

# What happened, as the activity log lists it after the person who did it.
ACTIONS = {
    "amendment.drafted": _l("amendment drafted"),
    "amendment.submitted": _l("amendment submitted"),
    "amendment.edited": _l("amendment edited"),
    "amendment.conflict_resolved": _l("amendment conflict resolved"),
    "amendment.withdrawn": _l("amendment withdrawn"),
    "amendment.supported": _l("amendment supported"),
    "amendment.support_withdrawn": _l("amendment support withdrawn"),
    "amendment.accepted": _l("amendment accepted"),
    "amendment.accepted_modified": _l("amendment accepted modified"),
    "amendment.rejected": _l("amendment rejected"),
    "amendment.obsolete": _l("amendment obsolete"),
    "amendment.merged": _l("amendment merged"),
    "amendment.rebased": _l("amendment rebased"),
    "amendment.conflicted": _l("amendment conflicted"),
    "amendment.hidden": _l("amendment hidden"),
    "amendment.restored": _l("amendment restored"),
    "section.created": _l("section created"),
    "section.edited": _l("section edited"),
    "section.reverted": _l("section reverted"),
    "section.moved": _l("section moved"),
    "section.retired": _l("section retired"),
    "section.restored": _l("section restored"),
    "section.created_by_amendment": _l("section created by amendment"),
    "section.retired_by_amendment": _l("section retired by amendment"),
    "section.merged": _l("section merged from its amendments"),
    "merge.started": _l("merge of amendments started"),
    "merge.taken_over": _l("merge of amendments taken over"),
    "merge.discarded": _l("merge of amendments discarded"),
    "comment.created": _l("comment created"),
    "comment.edited": _l("comment edited"),
    "comment.deleted": _l("comment deleted"),
    "comment.hidden": _l("comment hidden"),
    "comment.restored": _l("comment restored"),
    "report.created": _l("report created"),
    "report.dismissed": _l("report dismissed"),
    "document.created": _l("document created"),
    "document.updated": _l("document updated"),
    "release.published": _l("release published"),
    "release.marked_final": _l("release marked final"),
    "webhook.created": _l("webhook added"),
    "webhook.updated": _l("webhook changed"),
    "webhook.enabled": _l("webhook switched on"),
    "webhook.disabled": _l("webhook switched off"),
    "webhook.deleted": _l("webhook deleted"),
    "webhook.secret_replaced": _l("webhook secret replaced"),
    "export.queued": _l("export queued"),
    "export.finished": _l("export finished"),
    "export.failed": _l("export failed"),
    "user.registered": _l("user registered"),
    "user.activated": _l("user activated"),
    "user.deactivated": _l("user deactivated"),
    "user.role_changed": _l("user role changed"),
    "user.credit_changed": _l("user credit changed"),
    "user.password_changed": _l("user password changed"),
    "user.password_reset": _l("user password reset"),
    "user.preferences_changed": _l("user preferences changed"),
    "user.reset_requested": _l("user asked for a password reset link"),
    "user.verification_requested": _l("user asked for the address verification link"),
    "user.verified": _l("user email address verified"),
    "user.approved": _l("user account approved"),
    "user.login_throttled": _l("logins refused after failed attempts"),
    "user.invited": _l("user invited"),
    "user.invitations_imported": _l("delegates imported from a list"),
    "user.profile_changed": _l("user profile changed"),
    "user.signed_in": _l("user signed in"),
    "user.session_ended": _l("user session ended"),
    "user.sessions_ended": _l("user sessions ended"),
    "user.two_factor_enabled": _l("user two factors turned on"),
    "user.two_factor_disabled": _l("user two factors turned off"),
    "user.recovery_code_used": _l("user recovery code used"),
    "user.recovery_codes_regenerated": _l("user recovery codes replaced"),
    "user.login_code_locked": _l("user login code step locked after wrong codes"),
    "user.invitation_accepted": _l("user invitation accepted"),
    "user.login_linked": _l("user login linked to single sign-on"),
    "user.api_token_created": _l("API token made"),
    "user.api_token_revoked": _l("API token revoked"),
    "vote.opened": _l("vote opened"),
    "vote.cast": _l("voted"),
    "vote.changed": _l("vote changed"),
    "vote.closed": _l("vote closed, result published"),
    "projector.shown": _l("projector shows a section or an amendment"),
    "projector.stepped": _l("projector stepped to another amendment"),
    "projector.cleared": _l("projector cleared"),
}

# What an event is about, by table: "amendment 12".
OBJECTS = {
    "amendments": _l("amendment %(id)s"),
    "sections": _l("section %(id)s"),
    "comments": _l("comment %(id)s"),
    "reports": _l("report %(id)s"),
    "documents": _l("document %(id)s"),
    "releases": _l("release %(id)s"),
    "export_jobs": _l("export %(id)s"),
    "webhooks": _l("webhook %(id)s"),
    "users": _l("user %(id)s"),
    "votes": _l("vote %(id)s"),
    "projections": _l("projector %(id)s"),
}

# States events move between (amendment statuses, phases, section and account states).
STATES = {
    "draft": _l("draft"),
    "submitted": _l("open"),
    "withdrawn": _l("withdrawn"),
    "accepted": _l("accepted"),
    "accepted_modified": _l("accepted with modifications"),
    "rejected": _l("rejected"),
    "obsolete": _l("obsolete"),
    "merged": _l("merged"),
    "drafting": _l("drafting"),
    "amendments": _l("amendments open"),
    "review": _l("review"),
    "final": _l("final"),
    "published": _l("published"),
    "live": _l("in the text"),
    "retired": _l("retired"),
    "active": _l("active"),
    "inactive": _l("inactive"),
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "open": _l("open"),
    "closed": _l("closed"),
}


def action_label(action: str | None) -> str:
    """The words of an action code ("amendment.accepted" → "amendment accepted"), in the reader's language."""
    label = ACTIONS.get(action or "")
    if label is not None:
        return str(label)
    return (action or "").replace(".", " ").replace("_", " ")


def object_label(event) -> str:
    """What an event is about: "amendment 12"."""
    label = OBJECTS.get(event.object_type)
    if label is not None:
        return str(label) % {"id": event.object_id}
    return f"{(event.object_type or '').replace('_', ' ')} {event.object_id}"


def state_label(state: str | None) -> str:
    """A state as people read it: "open", "in the text"; version marks ("v2") stay as they are."""
    if not state:
        return "—"
    label = STATES.get(state)
    return str(label) if label is not None else state


def automatic(event, subject=None) -> str:
    """The words of an event that nobody chose, else "".

    Without ``subject``, what follows the amendment's code ("now conflicts with
    the text, after A-001 was accepted"); with it, the whole sentence
    ("A-002 now conflicts with the text, after A-001 was accepted"). ``subject``
    may be Markup (a link); the result is then Markup too.
    """
    if event.action != "amendment.conflicted":
        return ""
    data = event.data or {}
    cause = data.get("after") or {}
    values = {"code": cause.get("code") or "", "version": data.get("version") or ""}
    if cause:
        reason = "accepted_modified" if cause.get("decision") == "accepted_modified" else "accepted"
    elif data.get("retired"):
        reason = "retired"
    elif data.get("version"):
        reason = "version"
    else:
        reason = ""
    absorbed = bool(data.get("absorbed"))
    if subject is None:
        return str(_PREDICATES[(absorbed, reason)]) % values
    template = Markup(escape(str(_SENTENCES[(absorbed, reason)])))
    return template % {**values, "subject": subject}


# (absorbed, what it followed from) → words; one whole sentence each, so each language orders it its own way.
_PREDICATES = {
    (False, "accepted"): _l("now conflicts with the text, after %(code)s was accepted"),
    (False, "accepted_modified"): _l("now conflicts with the text, after %(code)s was accepted with modifications"),
    (False, "retired"): _l("now conflicts with the text, after its section was retired"),
    (False, "version"): _l("now conflicts with the text, after version %(version)s of its section"),
    (False, ""): _l("now conflicts with the text"),
    (True, "accepted"): _l("has nothing left to change, after %(code)s was accepted"),
    (True, "accepted_modified"): _l("has nothing left to change, after %(code)s was accepted with modifications"),
    (True, "retired"): _l("has nothing left to change, after its section was retired"),
    (True, "version"): _l("has nothing left to change, after version %(version)s of its section"),
    (True, ""): _l("has nothing left to change"),
}
_SENTENCES = {
    (False, "accepted"): _l("%(subject)s now conflicts with the text, after %(code)s was accepted"),
    (False, "accepted_modified"): _l("%(subject)s now conflicts with the text, after %(code)s was accepted "
                                     "with modifications"),
    (False, "retired"): _l("%(subject)s now conflicts with the text, after its section was retired"),
    (False, "version"): _l("%(subject)s now conflicts with the text, after version %(version)s of its section"),
    (False, ""): _l("%(subject)s now conflicts with the text"),
    (True, "accepted"): _l("%(subject)s has nothing left to change, after %(code)s was accepted"),
    (True, "accepted_modified"): _l("%(subject)s has nothing left to change, after %(code)s was accepted "
                                    "with modifications"),
    (True, "retired"): _l("%(subject)s has nothing left to change, after its section was retired"),
    (True, "version"): _l("%(subject)s has nothing left to change, after version %(version)s of its section"),
    (True, ""): _l("%(subject)s has nothing left to change"),
}


_FINAL_RELEASE = re.compile(r"^Release “(.*)” is final\.$")


def reason_label(event) -> str | None:
    """An event's reason as the page shows it, in the reader's language.

    A person's reason is theirs and shows as written. Events nobody chose
    (an amendment conflicting) and events the system worded (a release making
    the text final) are put into words from their data here; older rows
    stored those words in English, which is read back where it can be.
    """
    data = event.data or {}
    if event.actor_id is None and event.action == "amendment.conflicted":
        if data.get("retired"):
            return _("The section was retired.")
        if data.get("absorbed"):
            return _("Version %(version)s of the section already says what the amendment asked for.",
                     version=data.get("version"))
        if data.get("version"):
            return _("Version %(version)s of the section changed the same passage.", version=data.get("version"))
    if event.action in ("user.api_token_created", "user.api_token_revoked") and data.get("name"):
        # The token's own name says which one; whether an admin revoked it is worth saying (its owner did not).
        if data.get("by_admin"):
            return _("Token “%(name)s”, revoked by an admin.", name=data["name"])
        return _("Token “%(name)s”.", name=data["name"])
    if event.action == "document.updated" and data.get("release"):
        name = data.get("release_name")
        if name is None:
            match = _FINAL_RELEASE.match(event.reason or "")
            name = match.group(1) if match else None
        if name is not None:
            return _("Release “%(name)s” is final.", name=name)
    return event.reason
