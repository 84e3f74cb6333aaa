"""Amendment pages: lists, proposing, the amendment page, support, decisions."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import inspect

from ..accounts.rules import is_moderator, require_moderator, stand_in
from ..audit import states
from ..audit.services import events_for
from ..documents import services as documents
from ..documents import serving
from ..documents.contributions import page_figures
from ..documents.rules import closed_by_phase
from ..forms import choices
from ..services import NotFound, PermissionDenied
from ..templating import render_parts, unpack_parts
from ..text.diff import word_diff
from ..text.diff_html import render_inline, render_side_by_side
from ..web import back_on_refusal, int_arg, page_arg, refusals
from . import figures, services
from .forms import DecisionForm, ProposalForm, WithdrawForm
from .models import Kind, Status
from .wording import diff_labels, event_action_label

bp = Blueprint("amendments", __name__, url_prefix="/d/<slug>/amendments")


@bp.app_context_processor
def _amendment_words() -> dict:
    """Words the amendment page shows for its audit trail: what each action did."""
    return {"amendment_event_label": event_action_label, "amendment_live_topics": live_topics}


def live_topics(amendment) -> str:
    """What the amendment page's live regions follow: its own scope, and its document's frame (a decision
    on an amendment that inserts or deletes a section, or a merge, bumps the frame alone)."""
    return f"{states.amendment_scope(amendment.id)} {states.frame_scope(amendment.document_id)}"


def _flag(name: str) -> bool:
    """Read a checkbox-like query argument."""
    return request.args.get(name) in ("1", "on", "true")


@bp.get("/")
def index(slug: str):
    """Amendments of the document, filtered, sorted and paginated."""
    document = documents.get_document_or_404(slug)
    flt = services.ListFilter(
        status=request.args.get("status", "open"), section_id=int_arg("section"),
        author_id=int_arg("author"), needs_decision=_flag("needs_decision"),
        conflicted=_flag("conflicted"), sort=request.args.get("sort", "code"), descending=_flag("desc"),
        page=page_arg(), per_page=current_app.config["AMENDMENTS_PER_PAGE"])
    if _flag("mine_supported") and current_user.is_authenticated:
        flt.supported_by = current_user.id
    # Moderators land on what still needs them.
    if not request.args and is_moderator(current_user):
        flt.needs_decision = True
    if flt.sort not in services.SORTS:
        flt.sort = "code"
    if flt.status not in _LIST_STATUSES:
        flt.status = "all"  # what the filter does with a status it does not know; the form now says so
    # A moderator's queue and counts leave out her own amendments: her list is kept under her id.
    moderator = current_user if is_moderator(current_user) else None

    def body() -> str:
        """The counts, the filter form and one page of rows: the same for every reader of a variant and filter."""
        page = services.list_amendments(document, flt, moderator)
        return render_parts(
            "amendments/_list_body.html", document=document, page=page, flt=flt, statuses=list(Status),
            outline=documents.outline(document),
            counts=services.status_counts(document, document.min_supporters, moderator),
            **page_figures(document, stand_in(current_user), "amendments",
                           amendment_ids=[a.id for a in page.pagination.items]))

    def shell(cached: Markup) -> str:
        """The page around the cached parts: the reader's drafts, and the rows they support marked."""
        parts = unpack_parts(cached)
        ids = [int(i) for i in parts.pop("row_ids").split(",") if i]
        parts["list"] = _mark_supported(parts["list"], services.supported_among(current_user, ids))
        return render_template("amendments/list.html", document=document, parts=parts,
                               drafts=services.my_drafts(document, current_user))

    params = (flt.status, flt.section_id, flt.author_id, flt.needs_decision, flt.conflicted, flt.supported_by,
              flt.sort, flt.descending, flt.page, flt.per_page, moderator.id if moderator else None)
    return serving.serve(document, "amendments", params=params, body=body, shell=shell)


_LIST_STATUSES = {"open", "decided", "all"} | {s.value for s in Status}


def _mark_supported(rows: Markup, supported: set[int]) -> Markup:
    """Say "you support it" in the cached rows of the amendments the reader supports.

    Only this sentence is put in, never anything secret: text that imitated a row's comment
    (it cannot: what people write is escaped) could only make the reader's own page say it.
    """
    mark = Markup(" · <strong>%s</strong>") % _("you support it")
    for amendment_id in supported:
        rows = rows.replace(Markup(f"<!--you-support:{amendment_id}-->"), mark)
    return rows


def _proposal_choices(form: ProposalForm, outline) -> None:
    """Fill the section select (live sections, in order)."""
    form.section_id.choices = choices([(0, _("— choose —"))] + [
        (e.section_id, f"§{e.number} {e.heading}") for e in outline])


def _preview(kind: str, base_body: str | None, body: str | None):
    """Diff of a proposal against its base, for the preview button (nothing is saved)."""
    body = (body or "").replace("\r\n", "\n").strip()
    if kind == Kind.DELETE:
        ops = [(-1, base_body or "")]
    elif kind == Kind.INSERT:
        ops = [(1, body)]
    else:
        ops = word_diff(base_body or "", body)
    labels = diff_labels()
    return render_inline(ops, labels=labels), render_side_by_side(ops, labels=labels)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    """Propose an amendment: the editor starts from the section's current text."""
    document = documents.get_document_or_404(slug)
    outline = documents.outline(document)
    form = ProposalForm()
    _proposal_choices(form, outline)
    live = {e.section_id for e in outline}
    if request.method == "GET":
        form.kind.data = request.args.get("kind") if request.args.get("kind") in {k.value for k in Kind} else "modify"
        form.section_id.data = int_arg("section")
    # Only the chosen section's text is loaded, never the whole document.
    entry = None
    if form.section_id.data in live:
        entry = documents.section_entry(document, documents.get_section_or_404(document, form.section_id.data))
        if request.method == "GET" and form.kind.data == Kind.MODIFY:
            form.heading.data, form.body.data = entry.version.heading, entry.version.body
            form.base_version_id.data = entry.version.id
    status, preview = 200, None
    if not services.can_propose(current_user, document):
        form.form_errors.append(_window_message(document))
        status = 403 if request.method == "POST" else 200
    elif request.method == "POST" and request.form.get("action") == "preview":
        # A preview saves nothing, so it needs no reason yet.
        preview = _preview(form.kind.data, entry.version.body if entry else None, form.body.data)
        if form.kind.data == Kind.MODIFY and entry and not form.base_version_id.data:
            form.base_version_id.data = entry.version.id
    elif form.validate_on_submit():
        action = request.form.get("action", "submit")
        with refusals(form) as refused:
            amendment = services.propose_amendment(
                current_user, document.id, kind=form.kind.data, section_id=form.section_id.data or None,
                heading=form.heading.data, body=form.body.data, reason=form.reason.data,
                base_version_id=form.base_version_id.data or (entry.version.id if entry else None),
                submit=action == "submit")
            flash(_("%(code)s is submitted.", code=amendment.code) if amendment.status == Status.SUBMITTED
                  else _("Your draft is saved. Only you can see it."), "success")
            return redirect(url_for("amendments.show", slug=slug, amendment_id=amendment.id))
        status = refused.status
    elif form.errors:
        status = 400
    return render_template("amendments/form.html", document=document, form=form, entry=entry, amendment=None,
                           preview=preview, can_propose=services.can_propose(current_user, document)), status


def _window_message(document) -> str:
    """Why proposing is closed right now."""
    if closed_by_phase(document):
        return _("Amendments are closed in the current phase (“%(phase)s”). "
                 "You can still read and prepare your text; it is kept on this page.",
                 phase=document.phase_enum.label)
    return _("The deadline for amendments has passed. Your text is kept on this page.")



@bp.get("/<int:amendment_id>")
def show(slug: str, amendment_id: int):
    """An amendment: its diff, reason, supporters, history, collisions and decision."""
    document = documents.get_document_or_404(slug)
    # For a visitor the row alone: their cached page or 304 needs no more, and rendering loads the rest
    # (``_render_show``). A logged-in reader's shell is always rendered: everything at once.
    amendment = services.get_amendment_or_404(document, amendment_id, current_user,
                                              related=current_user.is_authenticated)
    view = "side" if request.args.get("view") == "side" else "inline"
    return _render_show(document, amendment, view)


def _render_show(document, amendment, view="inline", decision_form=None, withdraw_form=None, status=200,
                 conflict_message=None):
    """Render the amendment page: from the page cache on a GET, rendered anew after a refused form (kept)."""
    hidden_from_me = not services.can_see_hidden(current_user, amendment)

    def complete() -> None:
        """Load what the page shows of the amendment (author, section, versions) into it, once, when rendering."""
        if "author" in inspect(amendment).unloaded:
            services.get_amendment_or_404(document, amendment.id, current_user)  # the same object, completed

    def body() -> str:
        """Facts, reason, diff, decision, supporters, threads and history, as a stand-in of the role sees them."""
        complete()
        return render_parts(
            "amendments/_show_body.html", document=document, a=amendment, view=view, hidden_from_me=hidden_from_me,
            supporters=services.supporters(amendment), revisions=services.revisions(amendment),
            events=events_for("amendments", amendment.id),
            collisions=services.collisions_for([amendment.id]).get(amendment.id, []),
            merged_into=services.merged_target_code(amendment),
            **page_figures(document, stand_in(current_user), "amendment", amendment=amendment))

    def shell(cached: Markup) -> str:
        """The page around the cached parts: follow button, the reader's forms and links, their own threads."""
        complete()
        can_support = services.can_support(current_user, amendment)
        return render_template(
            "amendments/show.html", document=document, a=amendment, view=view, parts=unpack_parts(cached),
            supported=can_support and bool(services.supported_among(current_user, [amendment.id])),
            can_edit=services.can_edit(current_user, amendment),
            can_withdraw=services.can_withdraw(current_user, amendment), can_support=can_support,
            can_decide=services.can_decide(current_user, amendment),
            collecting=amendment.collecting_support(document.min_supporters),
            decision_form=decision_form or DecisionForm(revision=amendment.revision,
                                                        final_heading=amendment.proposed_heading,
                                                        final_body=amendment.proposed_body),
            withdraw_form=withdraw_form or WithdrawForm(revision=amendment.revision),
            conflict_message=conflict_message,
            **page_figures(document, current_user, "amendment", amendment=amendment, reader_only=True))

    if request.method in ("GET", "HEAD"):
        return serving.serve(document, "amendment", params=(amendment.id, view, hidden_from_me, page_arg("comments")),
                             body=body, shell=shell, parts=figures.page_scopes(amendment))
    return shell(Markup(body())), status  # a refused form: this reader's page, kept nowhere


LIVE_PARTS = ("decision", "supporters", "votes")


@bp.get("/<int:amendment_id>/live")
def live(slug: str, amendment_id: int):
    """The parts of the amendment page that follow the room (status, decision, supporters, votes), as now.

    For the page's live regions (static/live.js): the same rights as the page, the same cached parts
    (kept per state and variant like the page's body), never kept by a browser or proxy.
    """
    document = documents.get_document_or_404(slug)
    amendment = services.get_amendment_or_404(document, amendment_id, current_user)
    hidden_from_me = not services.can_see_hidden(current_user, amendment)

    def render() -> str:
        """The live parts, as a stand-in of the reader's role sees them."""
        parts = render_parts(
            "amendments/_show_body.html", only=LIVE_PARTS, document=document, a=amendment,
            hidden_from_me=hidden_from_me, supporters=services.supporters(amendment),
            merged_into=services.merged_target_code(amendment),
            **page_figures(document, stand_in(current_user), "amendment", amendment=amendment))
        return render_template("amendments/_live.html", document=document, a=amendment, parts=unpack_parts(parts))

    scopes = figures.page_scopes(amendment) or [states.document_scope(document.id)]
    response = make_response(serving.cached_part(document, "amendment-live", scopes, render,
                                                 params=(amendment.id, hidden_from_me)))
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/<int:amendment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, amendment_id: int):
    """Edit an undecided amendment (its author), or resolve a conflict (author or moderator)."""
    document = documents.get_document_or_404(slug)
    amendment = services.get_amendment_or_404(document, amendment_id, current_user)
    if not services.can_edit(current_user, amendment):
        raise PermissionDenied(_("Only the author can edit this amendment while it is undecided."))
    section_entry = None
    if amendment.section_id and amendment.kind != Kind.INSERT:
        section = documents.get_section_or_404(document, amendment.section_id)
        section_entry = documents.section_entry(document, section)
    form = ProposalForm()
    form.section_id.choices = choices([(amendment.section_id or 0, amendment.display_title)])
    if request.method == "GET":
        form.kind.data = amendment.kind
        form.section_id.data = amendment.section_id or 0
        heading, body = services.resolution_start(amendment)
        form.heading.data = heading or (section_entry.version.heading if section_entry else "")
        form.body.data = body
        form.reason.data = amendment.reason
        form.revision.data = amendment.revision
    form.kind.data = amendment.kind  # the kind is fixed once proposed
    status, preview = 200, None
    if request.method == "POST" and request.form.get("action") == "preview":
        preview = _preview(amendment.kind, section_entry.version.body if section_entry else None, form.body.data)
    elif form.validate_on_submit():
        action = request.form.get("action", "save")
        with refusals(form, on_conflict=_take_current_revision(form)) as refused:
            amendment = services.edit_amendment(
                current_user, document.id, amendment.id, heading=form.heading.data, body=form.body.data,
                reason=form.reason.data, revision=form.revision.data or None, submit=action == "submit")
            flash(_("%(code)s is saved.", code=amendment.code) if amendment.number
                  else _("Your draft is saved."), "success")
            return redirect(url_for("amendments.show", slug=slug, amendment_id=amendment.id))
        status = refused.status
    elif form.errors:
        status = 400
    return render_template("amendments/form.html", document=document, form=form, entry=section_entry,
                           amendment=amendment, preview=preview, can_propose=True), status


def _take_current_revision(form):
    """On a conflict, the form takes the amendment's current revision: sending it again is a deliberate choice."""
    def refresh(error) -> None:
        """Point the form at the revision the conflict carries."""
        form.revision.data = error.current.revision
    return refresh


@bp.post("/<int:amendment_id>/withdraw")
@login_required
@back_on_refusal("amendments.show")
def withdraw(slug: str, amendment_id: int):
    """The author withdraws an amendment."""
    document = documents.get_document_or_404(slug)
    amendment = services.get_amendment_or_404(document, amendment_id, current_user)
    form = WithdrawForm()
    with refusals(form, on_conflict=_take_current_revision(form)) as refused:
        services.withdraw_amendment(current_user, document.id, amendment.id, revision=form.revision.data or None,
                                    reason=form.reason.data)
        flash(_("The amendment is withdrawn."), "success")
        return redirect(url_for("amendments.show", slug=slug, amendment_id=amendment_id))
    if refused.status == 409:  # the page as it is now, the reason kept
        fresh = services.get_amendment_or_404(document, amendment_id, current_user)
        return _render_show(document, fresh, withdraw_form=form, status=409, conflict_message=refused.message)
    flash(refused.message, "error")
    return redirect(url_for("amendments.show", slug=slug, amendment_id=amendment_id))


@bp.post("/<int:amendment_id>/support")
@login_required
@back_on_refusal("amendments.show", anchor="support")
def support(slug: str, amendment_id: int):
    """Support an amendment, or withdraw one's support (a refusal, say after the decision, goes back with it)."""
    document = documents.get_document_or_404(slug)
    amendment = services.get_amendment_or_404(document, amendment_id, current_user)
    if request.form.get("action") == "withdraw":
        services.withdraw_support(current_user, document.id, amendment.id)
        flash(_("Your support is withdrawn."), "success")
    else:
        services.support_amendment(current_user, document.id, amendment.id)
        flash(_("You support this amendment."), "success")
    return redirect(url_for("amendments.show", slug=slug, amendment_id=amendment_id) + "#support")


@bp.post("/<int:amendment_id>/decide")
@login_required
def decide(slug: str, amendment_id: int):
    """A moderator decides; a refused or stale decision keeps the moderator's text."""
    document = documents.get_document_or_404(slug)
    amendment = services.get_amendment_or_404(document, amendment_id, current_user)
    form = DecisionForm()
    require_moderator(current_user, _("Only moderators decide on amendments."))
    if not form.validate():
        return _render_show(document, amendment, decision_form=form, status=400)
    with refusals(form, on_conflict=lambda error: None) as refused:
        services.decide_amendment(current_user, document.id, amendment.id, decision=form.decision.data,
                                  reason=form.reason.data, revision=form.revision.data or None,
                                  final_heading=form.final_heading.data, final_body=form.final_body.data,
                                  merged_into=form.merged_into.data)
        flash(_("The decision is recorded."), "success")
        return redirect(url_for("amendments.show", slug=slug, amendment_id=amendment_id))
    # Loaded again: the refused transaction expired what was loaded before it.
    fresh = services.get_amendment_or_404(document, amendment_id, current_user)
    if refused.status != 409:
        return _render_show(document, fresh, decision_form=form, status=refused.status)
    form.revision.data = fresh.revision  # deciding again is now a deliberate choice
    if services.can_decide(current_user, fresh):  # the message stands by the form, still open
        return _render_show(document, fresh, decision_form=form, status=409)
    form.form_errors.clear()  # decided meanwhile: the page says what happened above the kept text
    return _render_show(document, fresh, decision_form=form, status=409, conflict_message=refused.message)


@bp.get("/<int:amendment_id>/revisions/<int:number>")
def revision(slug: str, amendment_id: int, number: int):
    """One earlier revision of an amendment, with its diff against the version it was written on."""
    document = documents.get_document_or_404(slug)
    amendment = services.get_amendment_or_404(document, amendment_id, current_user)
    found = next((r for r in services.revisions(amendment) if r.number == number), None)
    if found is None:
        raise NotFound(_("There is no such revision."))
    base_body = found.base_version.body if found.base_version is not None else None
    inline = _preview(amendment.kind, base_body, found.proposed_body)[0]
    return render_template("amendments/revision.html", document=document, a=amendment, r=found, diff=inline)
