"""Who is calling the API: a personal access token in ``Authorization: Bearer``, or a visitor. Never the cookie.

:func:`identify` runs before every API view (the blueprint's
``before_request``): it reads the token, makes its user the request's
``current_user`` (a visitor without one, whatever cookie the browser sent,
so no CSRF token is needed and none is checked), and counts the call
against the rate limits. :func:`require` then checks, for each operation,
that a token is there when it must be and that it carries the operation's
scope. What the token's *user* may do is the services' business, as on
the pages.
"""

from __future__ import annotations

from flask import Response, g, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin

from ..accounts import limits
from . import problems, tokens


def _bearer() -> str | None:
    """The token of the ``Authorization`` header; None without one.

    :raises problems.Problem: 401 for an ``Authorization`` header that is not a bearer token.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _space, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorized("invalid_request", _("Send the token as: Authorization: Bearer <token>."))
    return value.strip()


def unauthorized(error: str, detail: str) -> problems.Problem:
    """A 401 with the ``WWW-Authenticate`` challenge of RFC 6750."""
    return problems.Problem(401, "unauthorized", detail=detail,
                            headers={"WWW-Authenticate": f'Bearer realm="manifesto", error="{error}"'})


def identify() -> None:
    """Before each API view: the caller (token or visitor) becomes ``current_user``, and the call is counted.

    :raises problems.Problem: 401 for a malformed, unknown, revoked or expired
        token, or one whose account is deactivated; 429 past a rate limit.
    """
    g.api_token = None
    g._login_user = AnonymousUserMixin()  # the cookie is never read here: no session, no CSRF
    secret = _bearer()
    if secret is not None:
        token = tokens.authenticate(secret)
        if token is None or not token.user.is_active:
            raise unauthorized("invalid_token", _("This token is not valid: it may be mistyped, expired or revoked. "
                                                  "Make a new one on your account's API tokens page."))
        g.api_token = token
        g._login_user = token.user
        allowance = limits.api_allowance(limits.API_PER_TOKEN, f"token:{token.id}")
    else:
        allowance = limits.api_allowance(limits.API_PER_ADDRESS, f"api-address:{limits.client_address()}")
    g.api_allowance = allowance
    if allowance is not None and not allowance.allowed:
        raise problems.Problem(
            429, "rate-limited",
            detail=_("Too many requests: wait %(seconds)d seconds before the next one.", seconds=allowance.reset),
            headers={"Retry-After": str(allowance.reset), **rate_headers(allowance)})


def rate_headers(allowance: limits.Allowance) -> dict[str, str]:
    """The ``RateLimit-*`` headers (IETF draft) of an allowance."""
    return {"RateLimit-Limit": str(allowance.limit), "RateLimit-Remaining": str(allowance.remaining),
            "RateLimit-Reset": str(allowance.reset), "RateLimit-Policy": allowance.policy}


def add_rate_headers(response: Response) -> Response:
    """After each API answer: say how much of the limit is left."""
    allowance = g.get("api_allowance")
    if allowance is not None:
        for name, value in rate_headers(allowance).items():
            response.headers.setdefault(name, value)
    return response


def require(scope: str | None, *, login: bool) -> None:
    """Check the token an operation needs: present when ``login`` (it writes), carrying ``scope``.

    A visitor reads without a token; a token reads only with ``read``.

    :raises problems.Problem: 401 without a token where one is needed, 403 without the scope.
    """
    token = g.get("api_token")
    if token is None:
        if login:
            raise unauthorized("invalid_request", _("This needs an API token: send Authorization: Bearer <token>."))
        return
    needed = scope or "read"
    if needed not in token.scope_set:
        raise problems.Problem(
            403, "insufficient-scope",
            detail=_("This token may not do this: it needs the \u201c%(scope)s\u201d scope.", scope=needed),
            headers={"WWW-Authenticate": f'Bearer realm="manifesto", error="insufficient_scope", scope="{needed}"'})


def token_user():
    """The person the token acts for (None for a visitor)."""
    token = g.get("api_token")
    return token.user if token is not None else None

