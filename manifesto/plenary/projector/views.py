"""The projector (the room's screen, for anyone who reads the document) and the moderators' console.

The projector page and its live fragment are the same for every reader, so
they are answered 304 while nothing they show has changed: their validator
holds the projection's revision and the content states of what is shown
(``services.scopes``), read before the content. ``Cache-Control: no-cache``
makes every cache ask again, so a kept copy never outlives a change.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from ... import pagecache
from ...accounts.rules import is_moderator, require_moderator
from ...amendments import services as amendments
from ...audit import states
from ...documents import services as documents
from ...forms import choices
from ...web import back_on_refusal, refusals
from .. import votes
from ..wording import rule_text, why_text
from . import services
from .forms import ClearForm, ConsoleDecisionForm, ShowAmendmentForm, ShowSectionForm, ShowVoteForm, StepForm

bp = Blueprint("plenary_projector", __name__, url_prefix="/d/<slug>")


def _screen_html(document, projection, state: states.State, place: str = "projector") -> Markup:
    """The screen's HTML, kept per projection revision, content state, language and place.

    ``place``: "projector" (its headings start at h1) or "console" (the preview, under the console's h2).

    ``state`` holds the counters of ``services.scopes``, read before anything they cover, so what is
    kept under them is never older than they say.
    """
    key = ("projector", document.id, projection.revision, projection.amendment_id, projection.section_id,
           projection.vote_id,
           *state.marks, str(get_locale()), place)

    def render() -> str:
        """What the screen shows now, as the public sees it."""
        return render_template("plenary/projector/_screen.html", screen=services.screen(document, projection),
                               why_text=why_text, rule_text=rule_text, level=3 if place == "console" else 1)

    return Markup(pagecache.cached(":".join(map(str, key)), render))


def screen_content(document_id: int) -> str:
    """The projector's fragment (``/projector/screen``) as every reader sees it: the live pump's renderer.

    Whoever may follow ``projector:<document>`` may read the document, and the screen is the same for every
    reader, so the events process renders it once per language and hands it to every projector page with
    the notice (``live/content.py``); the console's preview (its headings one level lower) still fetches.
    """
    document = services.document_by_id(document_id)
    if document is None:
        raise LookupError(f"no document {document_id}")
    projection = services.projection_of(document)
    return str(_screen_html(document, projection, states.read(*services.scopes(projection))))


def _answer(document, template: str, *, fragment: bool, place: str = "projector"):
    """The projector page or its fragment: 304 when the reader has it, else the screen (see the module docstring)."""
    projection = services.projection_of(document)
    state = states.read(*services.scopes(projection))
    tag = pagecache.etag(template, place, document.id, projection.revision, *state.marks, str(get_locale()))
    shared = not fragment and not current_user.is_authenticated and not session
    response = pagecache.answer_if_fresh(tag, state.changed_at, shared=shared)
    if response is None:
        response = make_response(render_template(
            template, document=document, screen_html=_screen_html(document, projection, state, place),
            topics=services.live_topics(projection), fragment_url=url_for("plenary_projector.screen",
                                                                          slug=document.slug),
            live_content=services.topic(document.id) if place == "projector" else None))
        pagecache.set_validators(response, tag, state.changed_at, shared=shared)
    if fragment:
        response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/projector")
def projector(slug: str):
    """The room's screen: the section or amendment under discussion in large type, updated live, no navigation."""
    return _answer(documents.get_document_or_404(slug), "plenary/projector/projector.html", fragment=False)


@bp.get("/projector/screen")
def screen(slug: str):
    """The projector's live region alone, fetched again by the page whenever it is told something changed.

    ``?place=console`` for the console's preview, whose headings sit under the console's own.
    """
    place = "console" if request.args.get("place") == "console" else "projector"
    return _answer(documents.get_document_or_404(slug), "plenary/projector/screen.html", fragment=True, place=place)


# ------------------------------------------------------------------ the console

def _render_console(document, *, decision_form=None, status: int = 200):
    """The console with its forms filled from the projection now (a refused decision keeps its text)."""
    projection = services.projection_of(document)
    now = services.screen(document, projection)
    outline = documents.outline(document)
    section_form = ShowSectionForm(formdata=None, revision=projection.revision, section_id=projection.section_id)
    section_form.section_id.choices = choices(
        [(0, _("— choose —"))] + [(e.section_id, f"§{e.number} {e.heading}") for e in outline])
    amendment_form = ShowAmendmentForm(formdata=None, revision=projection.revision,
                                       amendment_id=projection.amendment_id)
    amendment_form.amendment_id.choices = choices(
        [(0, _("— choose —"))] + [(a.id, f"{a.code} {a.display_title} ({a.status_enum.label})")
                                  for a in services.showable_amendments(document)])
    text_votes = votes.votes_on_text(document.id)
    vote_form = ShowVoteForm(formdata=None, revision=projection.revision, vote_id=projection.vote_id)
    vote_form.vote_id.choices = choices(
        [(0, _("— choose —"))] + [(v.id, f"{v.question} ({_('closed') if v.is_closed else _('open')})")
                                  for v in text_votes])
    a = now.amendment
    can_decide = a is not None and not now.hidden and amendments.can_decide(current_user, a)
    if decision_form is None:
        decision_form = ConsoleDecisionForm(formdata=None)
    if a is not None:
        decision_form.amendment_id.data = a.id
        decision_form.amendment_revision.data = a.revision
        if decision_form.final_body.data is None:  # not sent: start from the text as proposed
            decision_form.final_heading.data = a.proposed_heading
            decision_form.final_body.data = a.proposed_body
    decision_form.revision.data = projection.revision
    screen_html = _screen_html(document, projection, states.read(*services.scopes(projection)), "console")
    response = make_response(render_template(
        "plenary/projector/console.html", document=document, projection=projection, now=now,
        section_form=section_form, amendment_form=amendment_form, step_form=StepForm(formdata=None),
        vote_form=vote_form if text_votes else None,
        clear_form=ClearForm(formdata=None, message=projection.message, revision=projection.revision),
        decision_form=decision_form,
        can_decide=can_decide, screen_html=screen_html, topics=services.live_topics(projection),
        fragment_url=url_for("plenary_projector.screen", slug=document.slug, place="console")), status)
    # The console prints CSRF tokens and the moderator's forms: theirs alone, never kept.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/console")
@login_required
def console(slug: str):
    """The moderators' console: choose what the projector shows, step through amendments, record decisions."""
    document = documents.get_document_or_404(slug)
    require_moderator(current_user, _("Only moderators use the projector's console."))
    return _render_console(document)


def _done(slug: str):
    """Back to the console after a change (303, so reloading does not send the form again)."""
    return redirect(url_for("plenary_projector.console", slug=slug), 303)


@bp.post("/console/section")
@login_required
@back_on_refusal("plenary_projector.console", shown_to=is_moderator)
def show_section(slug: str):
    """Put the chosen section on the projector."""
    document = documents.get_document_or_404(slug)
    form = ShowSectionForm()
    services.show_section(current_user, document.id, _chosen(form.section_id.raw_data),
                          revision=form.revision.data or None)
    flash(_("The projector shows the section."), "success")
    return _done(slug)


def _show_chosen(slug: str, form_class, field: str, show):
    """Put what a console form chose (its ``field``'s id) on the projector through ``show``; say what it shows."""
    document = documents.get_document_or_404(slug)
    form = form_class()
    shown = show(current_user, document.id, _chosen(form[field].raw_data), revision=form.revision.data or None)
    flash(_("The projector shows %(what)s.", what=services.describe(shown)), "success")
    return _done(slug)


@bp.post("/console/amendment")
@login_required
@back_on_refusal("plenary_projector.console", shown_to=is_moderator)
def show_amendment(slug: str):
    """Put the chosen amendment on the projector."""
    return _show_chosen(slug, ShowAmendmentForm, "amendment_id", services.show_amendment)


@bp.post("/console/vote")
@login_required
@back_on_refusal("plenary_projector.console", shown_to=is_moderator)
def show_vote(slug: str):
    """Put the chosen vote on the whole text on the projector."""
    return _show_chosen(slug, ShowVoteForm, "vote_id", services.show_vote)


def _chosen(raw: list[str] | None) -> int:
    """The id a select sent; 0 for none (the service refuses it by its field)."""
    try:
        return max(0, int((raw or ["0"])[0]))
    except ValueError:
        return 0


@bp.post("/console/step")
@login_required
@back_on_refusal("plenary_projector.console", shown_to=is_moderator)
def step(slug: str):
    """Show the next or previous open amendment of the section (the button pressed names the direction)."""
    document = documents.get_document_or_404(slug)
    form = StepForm()
    shown = services.step(current_user, document.id, request.form.get("direction", ""),
                          revision=form.revision.data or None)
    flash(_("The projector shows %(what)s.", what=services.describe(shown)), "success")
    return _done(slug)


@bp.post("/console/clear")
@login_required
@back_on_refusal("plenary_projector.console", shown_to=is_moderator)
def clear(slug: str):
    """Show nothing on the projector, with the message for the room if one is given."""
    document = documents.get_document_or_404(slug)
    form = ClearForm()
    services.show_nothing(current_user, document.id, message=form.message.data, revision=form.revision.data or None)
    flash(_("The projector shows nothing."), "success")
    return _done(slug)


@bp.post("/console/decide")
@login_required
def decide(slug: str):
    """Record the assembly's decision on the amendment shown; a refused decision keeps the reason typed."""
    document = documents.get_document_or_404(slug)
    require_moderator(current_user, _("Only moderators use the projector's console."))
    form = ConsoleDecisionForm()
    if not form.validate():
        return _render_console(document, decision_form=form, status=400)
    with refusals(form, on_conflict=lambda error: None) as refused:
        decided = services.decide_shown(
            current_user, document.id, _chosen([form.amendment_id.data]), decision=form.decision.data,
            reason=form.reason.data, amendment_revision=form.amendment_revision.data or None,
            revision=form.revision.data or None, merged_into=form.merged_into.data or None,
            final_heading=form.final_heading.data or None, final_body=form.final_body.data or None)
        flash(_("The decision on %(code)s is recorded.", code=decided.code), "success")
        return _done(slug)
    return _render_console(document, decision_form=form, status=refused.status)
