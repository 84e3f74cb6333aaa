"""The admins' pages for people: delegates imported from a CSV file, invitations, approvals, the list as CSV.

The import takes two requests: the upload shows a preview (nothing written),
and its button imports exactly the file previewed. Between the two, the file
travels back with the preview's form, compressed and signed
(itsdangerous, with the admin's id, for ``PREVIEW_MAX_AGE``), rather than
kept on the server: any app process on any machine can take the second
request, nothing is left behind when an admin walks away from a preview, and
a forged or altered file is refused by the signature. The price is the file
sent twice, a few hundred KB once compressed for a list of thousands.

These two pages are the only ones whose body may exceed
``MAX_CONTENT_LENGTH``: they allow ``IMPORT_MAX_BYTES`` (plus the form's own
bytes) for their request alone, before anything reads the body, so a larger
file gets a message by the file field instead of the generic 413 page. For
that they check their form's CSRF token themselves (the form does, once the
body may be read), not in the global check that would read it first.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from datetime import datetime, timezone

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from werkzeug.exceptions import RequestEntityTooLarge

from ..extensions import csrf
from ..i18n import LANGUAGES
from ..services import ValidationError
from ..spreadsheets import csv_file
from ..web import back_on_refusal, refusals, safe_next
from . import importing, services
from .admin_forms import ApprovalForm, ConfirmImportForm, ImportForm, InvitationForm
from .models import role_label
from .rules import is_admin, require_admin

bp = Blueprint("people", __name__)

PREVIEW_MAX_AGE = 2 * 3600  # seconds a preview's button stays good for
PREVIEW_ROWS = 2000  # rows the preview's table shows at most (those with problems first); the counts cover all
FORM_SLACK = 64 * 1024  # a form's bytes besides the file: multipart boundaries, the CSRF token, the digest


def _allow_body(limit: int) -> bool:
    """Let this request's body be up to ``limit`` bytes; False when it says it is larger (then leave it unread)."""
    request.max_content_length = limit
    request.max_form_memory_size = limit
    return request.content_length is None or request.content_length <= limit


def _seal(data: bytes) -> str:
    """The file, compressed and signed for the admin who previewed it."""
    packed = base64.urlsafe_b64encode(zlib.compress(data, 6)).decode("ascii")
    return _signer().sign(f"{current_user.id}.{packed}").decode("ascii")


def _unseal(payload: str | None) -> bytes:
    """The file a preview's form carried back.

    :raises ValidationError: when the preview is too old, was made for another admin, or was altered.
    """
    try:
        value = _signer().unsign(payload or "", max_age=PREVIEW_MAX_AGE).decode("ascii")
        owner, _dot, packed = value.partition(".")
        if owner != str(current_user.id):
            raise BadSignature("another admin's preview")
        return zlib.decompress(base64.urlsafe_b64decode(packed))
    except SignatureExpired as exc:
        raise ValidationError(_("This preview is more than two hours old. Upload the file again."), "file") from exc
    except (BadSignature, ValueError, binascii.Error, zlib.error) as exc:
        raise ValidationError(_("This preview was damaged on its way. Upload the file again."), "file") from exc


def _signer() -> TimestampSigner:
    """The signer of previews (a salt of their own: no other signed value of the app passes for one)."""
    return TimestampSigner(current_app.config["SECRET_KEY"], salt="manifesto.accounts.import-preview")


def _preview_page(preview: importing.Preview, data: bytes, status: int = 200, confirm: ConfirmImportForm | None = None):
    """The preview: counts, the rows (problems first), the import button when nothing is wrong, and a new upload."""
    problems = preview.problem_rows
    shown = (problems + [row for row in preview.rows if not row.has_problems])[:PREVIEW_ROWS]
    confirm = confirm or ConfirmImportForm(formdata=None)
    confirm.payload.data, confirm.digest.data = _seal(data), preview.digest
    return render_template("accounts/import_preview.html", preview=preview, shown=shown, problems=problems,
                           confirm=confirm, form=ImportForm(formdata=None), labels=importing.COLUMN_LABELS,
                           languages=LANGUAGES, role_label=role_label, actions=importing), status


@bp.route("/admin/users/import", methods=["GET", "POST"])
@csrf.exempt  # the form checks its token, once its larger body is allowed (see the module's docstring)
@login_required
def import_file():
    """Upload the delegates' CSV file, and see what importing it would do, row by row."""
    require_admin(current_user, _("Only admins can import delegates."))
    limit = int(current_app.config["IMPORT_MAX_BYTES"])
    too_large = request.method == "POST" and not _allow_body(limit + FORM_SLACK)
    try:
        form = ImportForm(formdata=None) if too_large else ImportForm()
        submitted = not too_large and form.validate_on_submit()
    except RequestEntityTooLarge:  # no length announced (chunked), and more came than allowed
        form, submitted, too_large = ImportForm(formdata=None), False, True
    if too_large:
        form.file.errors = [importing.too_large().message]
        return render_template("accounts/import.html", form=form), 413
    if submitted:
        data = form.file.data.read(limit + 1)
        with refusals(form):
            preview = importing.preview_import(current_user, data)
            return _preview_page(preview, data)
    return render_template("accounts/import.html", form=form), 400 if form.errors else 200


@bp.post("/admin/users/import/confirm")
@csrf.exempt  # as import_file: the form checks its token once the body may be read
@login_required
def import_confirm():
    """Import the file just previewed; nothing when a row has a problem."""
    require_admin(current_user, _("Only admins can import delegates."))
    # The file comes back base64-encoded: a third larger than itself when it does not compress.
    if not _allow_body(int(current_app.config["IMPORT_MAX_BYTES"]) * 4 // 3 + FORM_SLACK):
        raise RequestEntityTooLarge()
    form = ConfirmImportForm()
    upload = ImportForm(formdata=None)
    if not form.validate_on_submit():
        upload.form_errors.extend(form.errors.get("csrf_token") or [_("The preview's form could not be read.")])
        return render_template("accounts/import.html", form=upload), 400
    with refusals(upload):
        data = _unseal(form.payload.data)
    if upload.form_errors or upload.file.errors:
        return render_template("accounts/import.html", form=upload), 400
    with refusals(form) as refused:
        result = importing.import_delegates(current_user, data, form.digest.data)
        flash(_imported(result), "success")
        return redirect(url_for("accounts.users"))
    # Refused (the accounts changed since the preview, and a row has a problem now): the preview as it stands.
    return _preview_page(importing.preview_import(current_user, data), data, refused.status, form)


def _imported(result: importing.ImportResult) -> str:
    """The sentence that says what an import did."""
    if not result.created and not result.updated:
        return ngettext("The file's %(num)s row matches the accounts already: nothing changed, nobody was invited.",
                        "The file's %(num)s rows match the accounts already: nothing changed, nobody was invited.",
                        result.rows)
    return " ".join([
        ngettext("%(num)s account created, its owner invited by email.",
                 "%(num)s accounts created, their owners invited by email.", result.created),
        ngettext("%(num)s account updated.", "%(num)s accounts updated.", result.updated),
        ngettext("%(num)s unchanged.", "%(num)s unchanged.", result.unchanged),
    ])


def _users_page() -> str:
    """The page of the users list a button was pressed on (its ``next``), else the list's first page."""
    return safe_next(request.form.get("next"), url_for("accounts.users"))


@bp.post("/admin/users/<int:user_id>/invitation")
@login_required
@back_on_refusal(_users_page, shown_to=is_admin)
def resend_invitation(user_id: int):
    """Send an invited person a new invitation email."""
    InvitationForm()  # CSRF is checked globally; the form only documents it
    user = importing.resend_invitation(current_user, user_id)
    flash(_("A new invitation is on its way to %(name)s.", name=user.name), "success")
    return redirect(_users_page())


@bp.post("/admin/users/<int:user_id>/approval")
@login_required
@back_on_refusal(_users_page, shown_to=is_admin)
def approve(user_id: int):
    """Let an account that registered under ``REGISTRATION=approval`` log in."""
    ApprovalForm()  # CSRF is checked globally; the form only documents it
    user = services.approve_account(current_user, user_id)
    flash(_("%(name)s may log in now.", name=user.name), "success")
    return redirect(_users_page())


@bp.get("/admin/users.csv")
@login_required
def users_csv():
    """Every account as a CSV file (the import's columns first), safe to open in a spreadsheet."""
    body = csv_file(importing.EXPORT_HEADER, importing.delegate_rows(current_user))
    name = f"accounts-{datetime.now(timezone.utc):%Y-%m-%d}.csv"
    return body, 200, {"Content-Type": "text/csv; charset=utf-8",
                       "Content-Disposition": f'attachment; filename="{name}"',
                       "Cache-Control": "private, no-store"}
