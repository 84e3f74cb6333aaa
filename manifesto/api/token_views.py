"""The pages of one's API tokens, and the admins' list of every token.

A token's secret is shown once, in the answer to the form that made it:
never in a flash, the session or an address, and that answer is not stored
by the browser or a proxy (``Cache-Control: no-store``). Afterwards a token
is known by its name and first characters.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.rules import is_admin, is_member, require_admin
from ..services import utcnow
from ..web import back_on_refusal, page_arg, refusals
from . import tokens
from .forms import SCOPE_HELP, SCOPE_LABELS, TokenForm

bp = Blueprint("api_tokens", __name__)


def status_of(token, now) -> str:
    """A token's state as the lists show it: ``revoked``, ``expired`` or ``active``."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expired(now) else "active"


def _tokens_page(form: TokenForm | None = None, status: int = 200):
    """One's tokens, and the form to make one."""
    listed = tokens.tokens_of(current_user)
    now = utcnow()
    live = sum(1 for token in listed if token.revoked_at is None)
    return render_template("api/tokens.html", tokens=listed, form=form or TokenForm(formdata=None),
                           now=now, status_of=status_of, live=live, max_tokens=tokens.MAX_TOKENS,
                           can_make=is_member(current_user), scope_labels=SCOPE_LABELS,
                           scope_help=SCOPE_HELP), status


@bp.get("/account/tokens")
@login_required
def index():
    """One's API tokens: what each may do, when it was last used; the form to make one."""
    return _tokens_page()


@bp.post("/account/tokens")
@login_required
def create():
    """Make a token; the answer shows its secret, this once."""
    form = TokenForm()
    if form.validate_on_submit():
        with refusals(form):
            made = tokens.create_token(current_user, name=form.name.data, scopes=form.scopes.data,
                                       expires_in_days=form.expiry_days())
            return _created_page(made)
    return _tokens_page(form, 400)


def _created_page(made: tokens.NewToken):
    """The new token's secret, with how to use it; never stored by the browser or a proxy."""
    response = current_app.make_response(render_template(
        "api/tokens_created.html", token=made.token, secret=made.secret, scope_labels=SCOPE_LABELS,
        example_url=url_for("api.list_documents", _external=True)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
@back_on_refusal(lambda: url_for("api_tokens.index"))
def revoke(token_id: int):
    """Revoke one of one's tokens: it stops working at once."""
    token = tokens.revoke_token(current_user, token_id)
    flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"), 303)


# ------------------------------------------------------------------ admins

@bp.get("/admin/tokens")
@login_required
def admin_list():
    """Every token of the site with its owner, newest first; ``?live=1`` leaves out revoked ones."""
    live_only = request.args.get("live") == "1"
    pagination = tokens.all_tokens(current_user, page=page_arg(), live_only=live_only)
    return render_template("api/admin_tokens.html", pagination=pagination, live_only=live_only, now=utcnow(),
                           status_of=status_of, scope_labels=SCOPE_LABELS)


@bp.post("/admin/tokens/<int:token_id>/revoke")
@login_required
@back_on_refusal(lambda: url_for("api_tokens.admin_list"), shown_to=is_admin)
def admin_revoke(token_id: int):
    """An admin revokes anyone's token (recorded in the security log); it stops working at once."""
    require_admin(current_user, _("Only admins may see everyone's tokens."))
    token = tokens.revoke_token(current_user, token_id)
    flash(_("The token “%(name)s” of %(owner)s is revoked: it no longer works.", name=token.name,
            owner=token.user.name), "success")
    return redirect(url_for("api_tokens.admin_list"), 303)
