"""Account services: registration, authentication, passwords, roles."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record_event
from ..extensions import db
from ..i18n import supported, valid_timezone
from ..locking import lock_row, lock_rows
from ..pagination import Page, paginate
from ..services import ConflictError, NotFound, PermissionDenied, ValidationError, utcnow, writes
from . import tokens
from .models import Role, User, new_session_token
from .passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH
from .passwords import check_new_password, hash_password, is_usable, needs_rehash, verify_nothing, verify_password
from .rules import require_admin, require_member

LIMITS = {"email": 254, "name": 120, "organisation": 200, "country": 100}


def normalise_email(email: str) -> str:
    """Check an address's syntax and return it in lower case.

    :raises ValidationError: when it is not an email address.
    """
    email = (email or "").strip()
    if len(email) > LIMITS["email"]:
        raise ValidationError(_("That email address is too long."), "email")
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        # The library explains in English only; the reader gets one sentence in their language.
        raise ValidationError(_("That is not a valid email address (like name@example.org)."), "email") from exc
    return checked.normalized.lower()


def _clean_profile(name: str, organisation: str | None, country: str | None) -> tuple[str, str | None, str | None]:
    """Validate and trim the profile fields."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the name others will see."), "name")
    values = {"name": name, "organisation": (organisation or "").strip() or None, "country": (country or "").strip() or None}
    for field, value in values.items():
        if value and len(value) > LIMITS[field]:
            raise ValidationError(_("Use at most %(num)s characters.", num=LIMITS[field]), field)
    return values["name"], values["organisation"], values["country"]


def get_user_by_email(email: str) -> User | None:
    """Return the user with this address (any case), if any."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get_user_or_404(user_id: int) -> User:
    """Return a user by id.

    :raises NotFound:
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def register_user(
    email: str,
    name: str,
    password: str,
    organisation: str | None = None,
    country: str | None = None,
    role: Role = Role.PARTICIPANT,
    actor: User | None = None,
    locale: str | None = None,
    *,
    self_registered: bool = False,
    check_policy: bool = True,
) -> User:
    """Create an account; a role other than participant needs an admin (or the CLI, with no actor).

    ``locale`` is the interface language the person registered in; their
    mail is written in it, and they can change it under "Your account".

    ``self_registered``: someone signing up on the register page. Then the
    ``REGISTRATION`` setting applies (``invitation``: refused; ``approval``:
    the account waits for an admin) and, with ``EMAIL_VERIFICATION=required``,
    the account starts unverified (the listener mails the link). Accounts an
    admin, the CLI or a seed creates are verified at once.

    ``check_policy=False`` skips the password policy: for the seeds only,
    whose documented passwords predate it.

    The password is checked and hashed before the write transaction starts:
    hashing is slow on purpose, and SQLite's write lock must not wait for it.

    :raises ValidationError: on a bad or taken email, a weak password or a bad profile field.
    :raises PermissionDenied: when registration is by invitation only.
    """
    config = current_app.config
    if self_registered:
        require_registration_open()
    email = normalise_email(email)
    name, organisation, country = _clean_profile(name, organisation, country)
    if check_policy:
        check_new_password(password, name=name, email=email)
    role = Role(role)
    if actor is not None and role != Role.PARTICIPANT:
        require_admin(actor, _("Only an admin can give a role."))
    verified = not (self_registered and config.get("EMAIL_VERIFICATION", "required") == "required")
    awaiting = self_registered and config.get("REGISTRATION", "open") == "approval"
    return _create_account(email, name, hash_password(password), organisation, country, role, actor,
                           supported(locale), verified=verified, awaiting_approval=awaiting)


def registration_open() -> bool:
    """Whether people may create their own account here (``REGISTRATION`` is not ``invitation``)."""
    return current_app.config.get("REGISTRATION", "open") != "invitation"


def require_registration_open() -> None:
    """Refuse self-registration when only invited people have accounts.

    :raises PermissionDenied: when ``REGISTRATION`` is ``invitation``.
    """
    if not registration_open():
        raise PermissionDenied(_("Registration here is by invitation only. If you should take part, ask the "
                                 "organisers for an invitation."))


@writes
def _create_account(email: str, name: str, password_hash: str, organisation: str | None, country: str | None,
                    role: Role, actor: User | None, locale: str | None = None, *, verified: bool = True,
                    awaiting_approval: bool = False) -> User:
    """Write a checked account and its audit event (``register_user`` validates and hashes first).

    :raises ValidationError: when the email address is taken, even by someone registering at this moment.
    """
    taken = ValidationError(_("An account with this email address already exists."), "email")
    if get_user_by_email(email) is not None:
        raise taken
    user = User(email=email, name=name, password_hash=password_hash,
                organisation=organisation, country=country, role=role.value, locale=locale,
                email_verified_at=utcnow() if verified else None, awaiting_approval=awaiting_approval)
    try:
        with db.session.begin_nested():  # the unique index settles a race the check above cannot see
            db.session.add(user)
    except IntegrityError as exc:
        raise taken from exc
    record_event(actor or user, "user.registered", user, to_state=role.value)
    return user


def authenticate(email: str, password: str) -> User:
    """Return the user whose credentials these are.

    A hash of an older scheme (werkzeug's scrypt or pbkdf2) or older Argon2
    parameters is replaced by a fresh one now that the password is known,
    without ending any session.

    :raises ValidationError: on unknown email or wrong password (one message for
        both, so the form does not reveal who has an account), a deactivated account,
        or one awaiting an admin's approval (said only after the right password).
    """
    user = get_user_by_email(email or "")
    if user is None or not is_usable(user.password_hash):
        verify_nothing(password)  # as slow as a real check: the clock tells nobody who has an account
    if user is None or not verify_password(user.password_hash, password or ""):
        raise ValidationError(_("The email address or the password is wrong."), "password")
    if not user.active:
        raise ValidationError(_("This account has been deactivated. Ask an admin to reactivate it."), "email")
    if user.awaiting_approval:
        raise ValidationError(_("Your account waits for an admin's approval. You can log in once it is "
                                "approved."), "email")
    if needs_rehash(user.password_hash):
        _upgrade_hash(user.id, user.password_hash, hash_password(password))
    return user


@writes
def _upgrade_hash(user_id: int, checked_hash: str, new_hash: str) -> None:
    """Store a stronger hash of the same password, unless the password changed meanwhile.

    The session token stays: nobody is logged out by an upgrade, and nothing
    is recorded (the person did nothing).
    """
    user = lock_row(User, user_id)
    if user is not None and user.password_hash == checked_hash:
        user.password_hash = new_hash


def change_password(user: User, current: str, new: str) -> User:
    """Change a user's password, ending their other sessions.

    Both hashes are computed before the write transaction starts.

    :raises ValidationError: when the current password is wrong or the new one weak.
    :raises ConflictError: when the password changed meanwhile (in another tab).
    """
    known_hash = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    if known_hash is None or not verify_password(known_hash, current or ""):
        raise ValidationError(_("That is not your current password."), "current_password")
    check_new_password(new, name=user.name, email=user.email, two_factor=user.two_factor_enabled,
                       field="new_password")
    return _store_password(user.id, known_hash, hash_password(new))


@writes
def _store_password(user_id: int, checked_hash: str, new_hash: str) -> User:
    """Replace the password hash that was checked, and rotate the session token.

    :raises ConflictError: when the hash is no longer the one the current password was checked against.
    """
    user = lock_row(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if user.password_hash != checked_hash:
        raise ConflictError(_("Your password was changed meanwhile, perhaps in another window. "
                              "Log in again with the new one."), "current_password")
    user.password_hash = new_hash
    user.session_token = new_session_token()
    record_event(user, "user.password_changed", user)
    return user


def reset_password(email: str, new: str, *, email_address: str | None = None) -> User:
    """Give an account a new password from the command line (an operator's act), ending its sessions.

    For people who lost theirs, and for accounts restored from an archive,
    which come back with no usable password. ``email_address`` also replaces
    the account's address (restored accounts may hold a placeholder).

    :raises NotFound: when no account has that address.
    :raises ValidationError: when the password is weak or the new address invalid or taken.
    """
    user = get_user_by_email(email)
    if user is None:
        raise NotFound(_("No account has that email address."))
    new_email = normalise_email(email_address) if email_address else None
    check_new_password(new, name=user.name, email=new_email or user.email, two_factor=user.two_factor_enabled)
    return _reset_password(user.id, hash_password(new), new_email)


@writes
def _reset_password(user_id: int, new_hash: str, new_email: str | None) -> User:
    """Store the new hash (and address), rotate the session token, and record who was reset."""
    user = lock_row(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if new_email and new_email != user.email:
        if db.session.scalar(select(User.id).where(User.email == new_email, User.id != user.id)) is not None:
            raise ValidationError(_("Another account already uses that email address."), "email")
        user.email = new_email
    user.password_hash = new_hash
    user.session_token = new_session_token()
    record_event(None, "user.password_reset", user)
    return user


# ------------------------------------------------------------ links by mail: reset, invitation, verification
# The services record events; the notifications area's listener (notifications/account_mail.py) mails the
# links, made at send time from the account's state (tokens.py), after the commit.


def request_password_reset(email: str) -> None:
    """Ask for a reset link; the same whether or not an account has this address.

    Only an existing, active account gets ``user.reset_requested`` (and so the
    mail); the caller shows one answer either way, so the form reveals nobody.

    :raises ValidationError: when the text is not an email address at all.
    """
    user = get_user_by_email(normalise_email(email))
    if user is not None and user.active:
        _record_reset_request(user.id)


@writes
def _record_reset_request(user_id: int) -> None:
    """Record the request the mail listener answers with a link."""
    user = lock_row(User, user_id)
    if user is not None and user.active:
        record_event(user, "user.reset_requested", user)


def account_for_link(token: str, purpose: str) -> User:
    """The active account a mailed link (``tokens.RESET`` or ``tokens.INVITATION``) was made for.

    :raises ValidationError: (field ``token``) when the link expired, was used, replaced or tampered with,
        or its account is deactivated.
    """
    user = tokens.read_token(token, purpose)
    if not user.active:
        raise ValidationError(_("This account has been deactivated. Ask an admin to reactivate it."), "token")
    return user


def reset_password_from_link(token: str, new: str, *, field: str = "password") -> User:
    """Set the password a reset link's owner chose, ending every session of the account.

    The link proved the address, so an unverified one counts as verified.

    :raises ValidationError: on a bad link (field ``token``) or a refused password (``field``).
    """
    user = account_for_link(token, tokens.RESET)
    check_new_password(new, name=user.name, email=user.email, two_factor=user.two_factor_enabled, field=field)
    return _set_password_from_link(user.id, token, tokens.RESET, hash_password(new), "user.password_reset")


def accept_invitation(token: str, new: str, *, field: str = "password") -> User:
    """Set the password an invited person chose; their address is verified by the mail that brought them.

    :raises ValidationError: on a bad link (field ``token``) or a refused password (``field``).
    """
    user = account_for_link(token, tokens.INVITATION)
    check_new_password(new, name=user.name, email=user.email, two_factor=user.two_factor_enabled, field=field)
    return _set_password_from_link(user.id, token, tokens.INVITATION, hash_password(new),
                                   "user.invitation_accepted")


@writes
def _set_password_from_link(user_id: int, token: str, purpose: str, new_hash: str, action: str) -> User:
    """Store the new hash if the link is still unused (checked again under the row lock), end every session.

    :raises ValidationError: (field ``token``) when the same link was used meanwhile, in another tab.
    """
    user = lock_row(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    account_for_link(token, purpose)  # again, on the locked row: a second use of the link fails here
    user.password_hash = new_hash
    user.session_token = new_session_token()
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    record_event(user, action, user, data={"by": "link"} if purpose == tokens.RESET else None)
    return user


@writes
def request_verification(user: User) -> bool:
    """Ask for the address verification mail again; False when the address is verified already.

    :raises PermissionDenied: for visitors and deactivated accounts.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Log in with an active account to do this."))
    account = lock_row(User, user.id)
    if account is None:
        raise NotFound(_("No such user."))
    if account.email_verified_at is not None:
        return False
    record_event(account, "user.verification_requested", account)
    return True


@writes
def verify_email(token: str) -> User:
    """Mark the address of a verification link's account as verified.

    :raises ValidationError: (field ``token``) when the link expired, was used, or was tampered with.
    """
    user = lock_row(User, tokens.read_token(token, tokens.VERIFICATION).id)
    tokens.read_token(token, tokens.VERIFICATION)  # again, on the locked row: one use only
    user.email_verified_at = utcnow()
    record_event(user, "user.verified", user)
    return user


@writes
def approve_account(actor: User, user_id: int) -> User:
    """Let an account that registered under ``REGISTRATION=approval`` log in.

    :raises PermissionDenied: unless the actor is an admin.
    :raises NotFound: for an unknown account.
    """
    _require_admin(actor)
    user = lock_row(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    if not user.awaiting_approval:
        return user
    user.awaiting_approval = False
    record_event(actor, "user.approved", user, from_state="awaiting approval", to_state="approved")
    return user


@writes
def set_export_credit(user: User, credit: bool) -> User:
    """Say whether the user agrees to be named among the contributors in exported texts.

    :raises PermissionDenied: for anonymous users.
    """
    require_member(user, _("Log in to choose how you are credited."))
    account = lock_row(User, user.id)
    if account is None:
        raise NotFound(_("No such user."))
    credit = bool(credit)
    if account.credit_in_exports == credit:
        return account
    account.credit_in_exports = credit
    before, after = ("not named", "named") if credit else ("named", "not named")
    record_event(account, "user.credit_changed", account, from_state=before, to_state=after)
    return account


@writes
def set_preferences(user: User, locale: str | None, timezone: str | None) -> User:
    """Keep the user's interface language ("" or None: follow the browser) and time zone (None: UTC).

    :raises PermissionDenied: for anonymous users.
    :raises ValidationError: for a language or zone we do not know, naming its field.
    """
    require_member(user, _("Log in to keep your preferences."))
    locale = (locale or "").strip() or None
    timezone = (timezone or "").strip() or None
    if locale is not None and supported(locale) != locale:
        raise ValidationError(_("Choose one of the languages offered."), "locale")
    if timezone is not None and timezone != "UTC" and valid_timezone(timezone) is None:
        raise ValidationError(_("Choose a time zone from the list."), "timezone")
    if timezone == "UTC":
        timezone = None
    account = lock_row(User, user.id)
    if account is None:
        raise NotFound(_("No such user."))
    before = {"locale": account.locale, "timezone": account.timezone}
    after = {"locale": locale, "timezone": timezone}
    if before == after:
        return account
    account.locale, account.timezone = locale, timezone
    record_event(account, "user.preferences_changed", account, data={"before": before, "after": after})
    return account


def _require_admin(actor: User) -> None:
    """Refuse anyone but an active admin."""
    require_admin(actor, _("Only an admin can manage accounts."))


def _lock_account_and_admins(actor: User, user_id: int) -> tuple[User, list[User]]:
    """Lock an account together with every active admin's row, in one call; return both, fresh.

    Two admins demoting or deactivating each other at the same moment would
    each still see the other as admin; with the locks the second waits, then
    finds that it is no longer an admin itself.

    :raises NotFound: for an unknown account.
    :raises PermissionDenied: when the actor stopped being an active admin meanwhile.
    """
    ids = db.session.scalars(select(User.id).where(User.role == Role.ADMIN.value, User.active.is_(True))).all()
    rows = {u.id: u for u in lock_rows(User, [*ids, user_id])}
    if user_id not in rows:
        raise NotFound(_("No such user."))
    admins = [u for u in rows.values() if u.role == Role.ADMIN and u.active]
    if actor.id not in {a.id for a in admins}:
        raise PermissionDenied(_("Only an admin can manage accounts."))
    return rows[user_id], admins


@writes
def set_role(actor: User, user_id: int, role: str) -> User:
    """Give a user another role.

    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationError: on an unknown role, or when it would leave no admin.
    """
    _require_admin(actor)
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError(_("Choose one of the listed roles."), "role") from exc
    user, admins = _lock_account_and_admins(actor, user_id)
    if user.role == role:
        return user
    if user.role == Role.ADMIN and len(admins) <= 1:
        raise ValidationError(_("This is the last admin; make someone else admin first."), "role")
    before = user.role
    user.role = role.value
    record_event(actor, "user.role_changed", user, from_state=before, to_state=role.value)
    return user


@writes
def set_active(actor: User, user_id: int, active: bool, reason: str | None = None) -> User:
    """Deactivate or reactivate an account; contributions stay either way.

    ``reason`` (given when moderators suspend an account from their queue)
    is recorded on the audit event; when given, it must not be blank.

    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationError: when admins would deactivate themselves, or on a blank or oversized reason.
    """
    _require_admin(actor)
    if reason is not None:
        reason = reason.replace("\r\n", "\n").strip()
        if not reason:
            raise ValidationError(_("Give the reason for the suspension."), "reason")
        if len(reason) > 2_000 or "\x00" in reason:
            raise ValidationError(_("Keep the reason under %(num)s characters of plain text.", num=format_number(2000)), "reason")
    user, _admins = _lock_account_and_admins(actor, user_id)
    if user.id == actor.id and not active:
        raise ValidationError(_("You cannot deactivate your own account."), "active")
    if user.active == active:
        return user
    user.active = active
    if not active:
        user.session_token = new_session_token()
    record_event(actor, "user.activated" if active else "user.deactivated", user,
                 from_state="inactive" if active else "active",
                 to_state="active" if active else "inactive", reason=reason)
    return user


def list_users(page: int, per_page: int = 50, query: str | None = None) -> Page[User]:
    """Return one page of users, by name, optionally filtered by name or email (two queries)."""
    stmt = select(User).order_by(func.lower(User.name), User.id)
    if query:
        like = f"%{query.strip().lower()}%"
        stmt = stmt.where(func.lower(User.name).like(like) | func.lower(User.email).like(like))
    return paginate(stmt, page, per_page)

