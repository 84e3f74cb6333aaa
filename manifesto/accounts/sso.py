"""Single sign-on by OpenID Connect: the round trip to the provider, and the account it signs in.

The protocol is Authlib's (its Flask client): discovery from
``<OIDC_ISSUER>/.well-known/openid-configuration``, the authorization code
flow with PKCE (S256), a ``state`` kept in the session and checked on the way
back, a ``nonce`` checked in the ID token, and the ID token's signature
(the provider's published keys), issuer (``OIDC_ISSUER``), audience
(``OIDC_CLIENT_ID``) and times checked before anything is believed.

Nothing is fetched when the app starts: the provider's metadata is read at
the first sign-on (and kept), every request to the provider is bounded by
``OIDC_TIMEOUT`` seconds, and a provider that cannot be reached is a message
on the login page (:class:`ProviderUnavailable`), never a 500.

Who the person is then follows :func:`sign_on`: the linked identity
(issuer, subject), else an account with the provider's *verified* address
(linked on the spot: how an invited or imported delegate comes in), else an
account created just in time when ``OIDC_CREATE_ACCOUNTS`` allows it and
registration is not by invitation only.

A sign-on counts as the provider's authentication, second factor included:
an account with TOTP on is not asked for its code after it (the provider is
where the organisation enforces its own factors).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import current_app, session
from flask_babel import gettext as _
from joserfc.errors import JoseError
from requests import RequestException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record_event
from ..extensions import db
from ..i18n import supported
from ..locking import lock_row
from ..services import ValidationError, utcnow, writes
from .models import ExternalIdentity, Role, User
from .services import LIMITS, get_user_by_email, normalise_email

log = logging.getLogger(__name__)

SCOPE = "openid email profile"
_EXTENSION = "manifesto_sso"
NOT_LINKED = "no account"  # a refusal kind the view may explain


class ProviderUnavailable(Exception):
    """The provider could not be reached, answered nonsense, or is not the issuer configured (a message, never a 500)."""


@dataclass(frozen=True)
class Identity:
    """What a checked ID token (and the user-info answer) says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    locale: str | None


@dataclass(frozen=True)
class SignOn:
    """The account a sign-on ends in, and how: ``identity``, ``linked``, ``invitation`` or ``created``."""

    user: User
    how: str


# ------------------------------------------------------------------ configuration

def configured(config: dict[str, Any] | None = None) -> bool:
    """Whether single sign-on is set up (an issuer and a client id)."""
    config = config if config is not None else current_app.config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def _issuer() -> str:
    """The configured issuer, without a trailing slash (how discovery addresses are built)."""
    return str(current_app.config["OIDC_ISSUER"]).rstrip("/")


def provider():
    """This app's Authlib client for the provider, made at first use; no request is sent until a sign-on needs one."""
    app = current_app._get_current_object()
    client = app.extensions.get(_EXTENSION)
    if client is None:
        oauth = OAuth()  # not bound to the app: it would read OIDC_* keys of its own naming from the config
        oauth.app = app
        client = oauth.register(
            "sso",
            client_id=app.config["OIDC_CLIENT_ID"],
            client_secret=app.config.get("OIDC_CLIENT_SECRET"),
            server_metadata_url=_issuer() + "/.well-known/openid-configuration",
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256",
                           "default_timeout": float(app.config.get("OIDC_TIMEOUT") or 10)},
        )
        app.extensions[_EXTENSION] = client
    return client


def _metadata() -> dict[str, Any]:
    """The provider's discovery document, read once; its issuer must be the one configured.

    :raises ProviderUnavailable: when it cannot be fetched or names another issuer.
    """
    client = provider()
    try:
        metadata = client.load_server_metadata()
    except (RequestException, ValueError) as error:
        log.warning("Single sign-on: the provider's metadata could not be read: %s", error)
        raise ProviderUnavailable(str(error)) from error
    if str(metadata.get("issuer", "")).rstrip("/") != _issuer():
        # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was fetched from.
        client.server_metadata.pop("_loaded_at", None)  # read it again next time: perhaps a fix is deployed
        log.error("Single sign-on: the provider at %s calls itself %r; check OIDC_ISSUER",
                  _issuer(), metadata.get("issuer"))
        raise ProviderUnavailable("issuer mismatch")
    return metadata


# ------------------------------------------------------------------ the round trip

def begin(redirect_uri: str, next_url: str | None) -> str:
    """Start a sign-on: the provider's address to send the browser to.

    Authlib makes the ``state``, the ``nonce`` and the PKCE verifier and keeps
    them in the session under the state; the page to go back to (``next``)
    is kept with them, so it survives the round trip and belongs to this
    sign-on only.

    :raises ProviderUnavailable: when the provider cannot be reached.
    """
    _metadata()
    client = provider()
    try:
        started = client.create_authorization_url(redirect_uri)
    except (RequestException, ValueError, RuntimeError) as error:
        raise ProviderUnavailable(str(error)) from error
    address = started.pop("url")  # the session keeps the state, nonce and verifier, not the whole address
    client.save_authorize_data(redirect_uri=redirect_uri, next=next_url or "", **started)
    return address


def finish(args) -> tuple[Identity, str]:
    """Check the provider's answer (the callback's query ``args``) and return who signed on and the ``next`` page.

    The ``state`` must be one this browser started (and each is used once),
    the code is exchanged with its PKCE verifier, and the ID token must be
    signed by the provider, issued by ``OIDC_ISSUER`` for ``OIDC_CLIENT_ID``,
    current, and carry this sign-on's ``nonce``.

    :raises ValidationError: when the answer is refused (a wrong or used state, a refusal at the provider,
        a code refused by the provider, an ID token that fails a check).
    :raises ProviderUnavailable: when the provider cannot be reached.
    """
    client = provider()
    state = args.get("state") or ""
    started = client.framework.get_state_data(session, state) if state else None
    if state:
        client.framework.clear_state_data(session, state)  # a state is good for one answer
    if args.get("error"):  # an answer that signs nobody in (some providers leave out the state in it)
        log.info("Single sign-on refused by the provider: %s %s", args.get("error"), args.get("error_description"))
        raise ValidationError(_("The sign-on was cancelled or refused at the provider."))
    if not started:
        raise ValidationError(_("This sign-on was not started here, or it was already used or took too long. "
                                "Start again."))
    next_url = started.get("next") or ""
    if not args.get("code"):
        raise ValidationError(_("The provider's answer is incomplete. Start again."))
    metadata = _metadata()
    try:
        token = client.fetch_access_token(redirect_uri=started["redirect_uri"], code=args["code"],
                                          code_verifier=started.get("code_verifier"))
    except (RequestException, ValueError) as error:  # unreachable, or an answer that is not JSON
        log.warning("Single sign-on: the token request failed: %s", error)
        raise ProviderUnavailable(str(error)) from error
    except AuthlibBaseError as error:  # invalid_grant: a code used twice, expired, or not ours
        log.info("Single sign-on: the provider refused the code: %s", error)
        raise ValidationError(_("The provider did not accept this sign-on (it may have expired or been used "
                                "already). Start again.")) from error
    claims = _checked_id_token(client, token, started.get("nonce"), metadata)
    claims = _with_userinfo(client, token, claims, metadata)
    return _identity(metadata["issuer"], claims), next_url


def _checked_id_token(client, token: dict, nonce: str | None, metadata: dict) -> dict:
    """The ID token's claims, once its signature, issuer, audience, times and nonce are checked.

    :raises ValidationError: when there is no ID token or a check fails.
    """
    if "id_token" not in token or not nonce:
        raise ValidationError(_("The provider's answer is incomplete. Start again."))
    options = {"iss": {"essential": True, "value": metadata["issuer"]},
               "aud": {"essential": True, "value": current_app.config["OIDC_CLIENT_ID"]}}
    try:
        return dict(client.parse_id_token(token, nonce=nonce, claims_options=options))
    except RequestException as error:  # the provider's keys could not be fetched
        raise ProviderUnavailable(str(error)) from error
    except (JoseError, AuthlibBaseError, ValueError) as error:
        log.warning("Single sign-on: an ID token was refused: %r", error)
        raise ValidationError(_("The provider's answer failed a security check. Start again.")) from error


def _with_userinfo(client, token: dict, claims: dict, metadata: dict) -> dict:
    """Add what the user-info endpoint says when the ID token names no address (some providers keep it there)."""
    if claims.get("email") or not metadata.get("userinfo_endpoint"):
        return claims
    try:
        info = dict(client.userinfo(token=token))
    except (RequestException, AuthlibBaseError, ValueError) as error:
        raise ProviderUnavailable(str(error)) from error
    if info.get("sub") != claims.get("sub"):  # OpenID Connect Core 5.3.2: otherwise it must not be used
        return claims
    return {**info, **claims}


def _identity(issuer: str, claims: dict) -> Identity:
    """Read the claims we use, tolerating the shapes providers give them ("true" as a string)."""
    name = (claims.get("name") or " ".join(str(claims.get(part) or "").strip()
                                           for part in ("given_name", "family_name")).strip() or None)
    verified = claims.get("email_verified")
    return Identity(issuer=issuer, subject=str(claims["sub"]), email=(claims.get("email") or None),
                    email_verified=verified is True or str(verified).lower() == "true",
                    name=str(name) if name else None, locale=supported(claims.get("locale")))


# ------------------------------------------------------------------ the account

def sign_on(identity: Identity) -> SignOn:
    """Find, link or create the account a checked sign-on stands for (the caller then logs it in).

    1. The identity (issuer, subject) is linked: that account.
    2. Else the provider vouches for the address (``email_verified``) and an
       account has it (any case): the identity is linked to it, recorded as
       ``user.invitation_accepted`` when the account was an invitation never
       taken up (no usable password), else ``user.login_linked``.
    3. Else, when ``OIDC_CREATE_ACCOUNTS`` is on and registration is not by
       invitation: a participant's account is created (``user.registered``), its
       address verified, its password unusable; under ``REGISTRATION=approval``
       it waits for an admin like any other new account.

    An unverified address is refused, and nothing is created or linked.

    :raises ValidationError: when the account is deactivated or awaiting approval, the address is unverified,
        or nobody is linked and no account may be created.
    """
    email = None
    if identity.email:
        try:
            email = normalise_email(identity.email)
        except ValidationError:
            email = None  # an address we cannot use is no address: only the identity can find the account
    name = _name(identity, email)
    unusable = "!" + secrets.token_urlsafe(24)  # no password matches it; made before the write transaction
    return _sign_on(identity, email, name, unusable)


def _name(identity: Identity, email: str | None) -> str:
    """The name a new account gets: the provider's, else the address's local part."""
    name = (identity.name or (email.split("@")[0] if email else "") or identity.subject).strip()
    return name[:LIMITS["name"]]


@writes
def _sign_on(identity: Identity, email: str | None, name: str, unusable_hash: str) -> SignOn:
    """Write the sign-on: lock the account, link or create it, record the events."""
    linked = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.issuer == identity.issuer,
                                                              ExternalIdentity.subject == identity.subject))
    if linked is not None:
        user = lock_row(User, linked.user_id)
        _may_sign_in(user)
        linked.last_login_at = utcnow()
        if email:
            linked.email = email
        return SignOn(user, "identity")
    if not email or not identity.email_verified:
        raise ValidationError(_("The provider has not confirmed your email address, so it cannot be used to "
                                "sign you in here. Confirm it at the provider, or ask the secretariat."))
    existing = get_user_by_email(email)
    if existing is not None:
        user = lock_row(User, existing.id)
        _may_sign_in(user)
        invitation = user.password_hash.startswith("!")
        _link(user, identity, email)
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        record_event(user, "user.invitation_accepted" if invitation else "user.login_linked", user,
                     data={"method": "sso", "issuer": identity.issuer})
        return SignOn(user, "invitation" if invitation else "linked")
    config = current_app.config
    if not config.get("OIDC_CREATE_ACCOUNTS", True) or config.get("REGISTRATION", "open") == "invitation":
        raise ValidationError(_("No account is linked to this sign-on; ask the secretariat for an invitation."),
                              NOT_LINKED)
    user = User(email=email, name=name, password_hash=unusable_hash, role=Role.PARTICIPANT.value,
                locale=identity.locale, email_verified_at=utcnow(),
                awaiting_approval=config.get("REGISTRATION") == "approval")
    try:
        with db.session.begin_nested():  # the unique address settles a race with a registration at this moment
            db.session.add(user)
    except IntegrityError as exc:
        raise ValidationError(_("An account with this email address was created at this moment. "
                                "Sign on again to use it.")) from exc
    _link(user, identity, email)
    record_event(user, "user.registered", user, to_state=Role.PARTICIPANT.value, data={"method": "sso"})
    return SignOn(user, "created")


def _link(user: User, identity: Identity, email: str) -> None:
    """Link the identity to ``user``; a sign-on of the same identity linking it at this moment wins the race."""
    row = ExternalIdentity(user_id=user.id, issuer=identity.issuer, subject=identity.subject, email=email,
                           last_login_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError as exc:
        raise ValidationError(_("This sign-on was linked to an account at this very moment, "
                                "perhaps in another window. Sign on again.")) from exc


def _may_sign_in(user: User | None) -> None:
    """Refuse a deactivated account, or one an admin has not approved yet."""
    if user is None:
        raise ValidationError(_("No account is linked to this sign-on; ask the secretariat for an invitation."),
                              NOT_LINKED)
    if not user.active:
        raise ValidationError(_("This account has been deactivated. Ask an admin to reactivate it."))
    if user.awaiting_approval:
        raise ValidationError(_("Your account is waiting for an admin's approval. You can sign on once it is "
                                "approved."))
