"""The admins' forms for people: a CSV file to preview, the preview's confirmation, an invitation, an approval."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField


class ImportForm(FlaskForm):
    """The delegates' CSV file, previewed before anything is written."""

    file = FileField(_l("CSV file of delegates"), validators=[FileRequired(_l("Choose the CSV file to import."))],
                     description=_l("The first line names the columns: name and email, and if you like "
                                    "organisation, country, role (participant, moderator or admin) and language "
                                    "(en, fr or es). Commas, semicolons or tabs; UTF-8 or a spreadsheet's CSV."))


class ConfirmImportForm(FlaskForm):
    """Import what the preview showed: the file travels back signed, with the digest it was previewed under."""

    payload = HiddenField()
    digest = HiddenField()


class InvitationForm(FlaskForm):
    """An admin sends an invited person a new invitation (the button says whom)."""


class ApprovalForm(FlaskForm):
    """An admin lets an account awaiting approval log in (the button says whose)."""
