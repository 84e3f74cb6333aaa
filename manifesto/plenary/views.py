"""Vote pages: opening a vote (moderators), the vote with its ballot and result, closing, receipts.

These pages are rendered for each reader (they hold one's own ballot) and
kept by no cache; the amendment page shows the votes through
``figures.py``.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.rules import is_member, require_moderator
from ..amendments import services as amendments
from ..documents import services as documents
from ..web import back_on_refusal, int_arg, refusals
from . import votes
from .forms import CHOICE_LABELS, BallotForm, CloseVoteForm, OpenVoteForm, ReceiptForm
from .wording import rule_text, why_text

bp = Blueprint("plenary", __name__, url_prefix="/d/<slug>/votes")


@bp.get("/")
def index(slug: str):
    """Every vote of the document: on the whole text and on amendments, open ones first."""
    document = documents.get_document_or_404(slug)
    found = votes.votes_of(document.id)
    codes = votes.amendment_codes([v.amendment_id for v in found if v.amendment_id])
    response = make_response(render_template(
        "plenary/index.html", document=document, votes=sorted(found, key=lambda v: v.is_closed), codes=codes,
        participants=votes.participant_counts([v.id for v in found]), can_open=votes.can_open(current_user)))
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    """A moderator opens a vote on the amendment named by ``?amendment=``, or without it on the whole text."""
    document = documents.get_document_or_404(slug)
    require_moderator(current_user, _("Only moderators open votes."))
    amendment = None
    if "amendment" in request.args:  # on an amendment; without it, on the whole text
        amendment = amendments.get_amendment_or_404(document, int_arg("amendment") or 0, current_user)
    form = OpenVoteForm()
    if form.is_submitted() and not form.validate():
        return render_template("plenary/new.html", document=document, a=amendment, form=form), 400
    if form.is_submitted():
        with refusals(form) as refused:
            vote = votes.open_vote(
                current_user, document.id, amendment.id if amendment else None, question=form.question.data,
                secret=form.secret.data == "secret", majority=form.majority.data,
                abstentions_count=form.abstentions_count.data, eligible=form.eligible.data,
                quorum_votes=form.quorum_votes.data, quorum_percent=form.quorum_percent.data)
            flash(_("The vote is open."), "success")
            return redirect(url_for("plenary.show", slug=slug, vote_id=vote.id))
        return render_template("plenary/new.html", document=document, a=amendment, form=form), refused.status
    return render_template("plenary/new.html", document=document, a=amendment, form=form)


def _result_context(vote) -> dict:
    """What the live part of the vote page shows: the turnout and, once closed, the result and named voters."""
    outcome = vote.outcome
    return dict(vote=vote, choice_labels=CHOICE_LABELS, outcome=outcome, why=why_text(outcome) if outcome else None,
                roll=votes.named_voters(vote), participants=votes.participant_counts([vote.id]).get(vote.id, 0))


@bp.get("/<int:vote_id>/live")
def live(slug: str, vote_id: int):
    """The vote page's live part alone, for static/live.js (the same rights as the page; nothing personal)."""
    document = documents.get_document_or_404(slug)
    vote = votes.get_vote_or_404(document, vote_id)
    if vote.amendment_id is not None:
        amendments.get_amendment_or_404(document, vote.amendment_id, current_user)  # the page's own check
    response = make_response(render_template("plenary/_vote_live.html", document=document, **_result_context(vote)))
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _render_vote(document, vote, *, ballot_form=None, receipt_form=None, checked=None, receipt=None,
                 status=200):
    """The vote page for this reader: the question, their ballot or their vote, the result, receipts."""
    amendment = (amendments.get_amendment_or_404(document, vote.amendment_id, current_user)
                 if vote.amendment_id is not None else None)
    mine = votes.participation_of(current_user, vote)
    may_vote = is_member(current_user) and not vote.is_closed and (mine is None or not vote.secret)
    response = make_response(render_template(
        "plenary/vote.html", document=document, a=amendment, mine=mine, may_vote=may_vote,
        rule=rule_text(vote.rule), **_result_context(vote),
        ballot_form=ballot_form or BallotForm(choice=mine.choice if mine is not None else None),
        close_form=CloseVoteForm() if votes.can_close(current_user, vote) else None,
        receipt_form=receipt_form or ReceiptForm(formdata=None), checked=checked, receipt=receipt), status)
    # One's own ballot and receipt: never kept by a browser's or a proxy's cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:vote_id>")
def show(slug: str, vote_id: int):
    """A vote: the question and rule, the reader's ballot while it is open, the result once it is closed."""
    document = documents.get_document_or_404(slug)
    return _render_vote(document, votes.get_vote_or_404(document, vote_id))


@bp.post("/<int:vote_id>/cast")
@login_required
@back_on_refusal("plenary.show")
def cast(slug: str, vote_id: int):
    """Cast or change one's vote; a secret vote answers with its receipt code, shown this once."""
    document = documents.get_document_or_404(slug)
    vote = votes.get_vote_or_404(document, vote_id)
    form = BallotForm()
    if not form.validate():
        return _render_vote(document, vote, ballot_form=form, status=400)
    done = votes.cast_vote(current_user, vote.id, form.choice.data)
    if done.receipt is not None:
        flash(_("Your secret vote is recorded. Note your receipt code now: it is shown only once."), "success")
        return _render_vote(document, done.vote, receipt=done.receipt)
    flash(_("Your vote is changed.") if done.changed else _("Your vote is recorded."), "success")
    return redirect(url_for("plenary.show", slug=slug, vote_id=vote_id), 303)


@bp.post("/<int:vote_id>/close")
@login_required
@back_on_refusal("plenary.show")
def close(slug: str, vote_id: int):
    """A moderator closes the vote; the result is stored and shown."""
    document = documents.get_document_or_404(slug)
    vote = votes.get_vote_or_404(document, vote_id)
    votes.close_vote(current_user, vote.id)
    flash(_("The vote is closed."), "success")
    return redirect(url_for("plenary.show", slug=slug, vote_id=vote_id), 303)


@bp.post("/<int:vote_id>/receipt")
def receipt(slug: str, vote_id: int):
    """Check a secret ballot by its receipt code: the choice it was counted with."""
    document = documents.get_document_or_404(slug)
    vote = votes.get_vote_or_404(document, vote_id)
    form = ReceiptForm()
    if not form.validate():
        return _render_vote(document, vote, receipt_form=form, status=400)
    with refusals(form) as refused:
        checked = votes.check_receipt(vote, form.code.data)
        return _render_vote(document, vote, receipt_form=form, checked=checked)
    return _render_vote(document, vote, receipt_form=form, status=refused.status)
