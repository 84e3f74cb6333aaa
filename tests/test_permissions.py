"""The role matrix: every route, for anonymous visitors and each role."""

from __future__ import annotations

import pytest

from manifesto.documents import services

ROLES = ["anonymous", "participant", "moderator", "admin"]

# (method, url template, data, expected status per role in ROLES order)
# 302 for anonymous means "sent to the login page"; for others a successful POST.
MATRIX = [
    ("GET", "/", None, [302, 302, 302, 302]),
    ("GET", "/healthz", None, [200, 200, 200, 200]),
    ("GET", "/d/doc/", None, [200, 200, 200, 200]),
    ("GET", "/d/doc/?lines=1", None, [200, 200, 200, 200]),
    ("GET", "/d/doc/log", None, [200, 200, 200, 200]),
    ("GET", "/d/doc/sections/{s}", None, [200, 200, 200, 200]),
    ("GET", "/d/doc/sections/{s}/versions/1", None, [200, 200, 200, 200]),
    ("GET", "/d/doc/sections/{s}/compare?from=1&to=1", None, [200, 200, 200, 200]),
    ("GET", "/register", None, [200, 302, 302, 302]),
    ("GET", "/login", None, [200, 200, 200, 200]),
    ("GET", "/account/password", None, [302, 200, 200, 200]),
    ("GET", "/admin/users", None, [302, 403, 403, 200]),
    ("GET", "/d/doc/sections/new", None, [302, 403, 200, 200]),
    ("GET", "/d/doc/sections/{s}/edit", None, [302, 403, 200, 200]),
    ("GET", "/d/doc/sections/{s}/retire", None, [302, 403, 200, 200]),
    ("GET", "/d/doc/settings", None, [302, 403, 403, 200]),
    ("POST", "/d/doc/sections/{s}/edit",
     {"heading": "New heading", "body": "New body.", "reason": "Because.", "base_version": "1"}, [302, 403, 302, 302]),
    ("POST", "/d/doc/sections/new",
     {"heading": "Added", "body": "Added body.", "reason": "Because.", "after": "0"}, [302, 403, 302, 302]),
    ("POST", "/d/doc/sections/{s}/move", {"direction": "down"}, [302, 403, 302, 302]),
    ("POST", "/d/doc/sections/{s}/retire", {"reason": "Gone.", "base_version": "1"}, [302, 403, 302, 302]),
    # Version 1 is the current text: refused, back to the section with the message (303).
    ("POST", "/d/doc/sections/{s}/revert", {"to_number": "1", "reason": "Back.", "base_version": "1"},
     [302, 403, 303, 303]),
    ("POST", "/d/doc/settings", {"title": "T", "phase": "review", "min_supporters": "0"}, [302, 403, 403, 302]),
    ("POST", "/admin/users/{u}/role", {"role": "moderator"}, [302, 403, 403, 302]),
    ("POST", "/admin/users/{u}/active", {"active": "0"}, [302, 403, 403, 302]),
]


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
@pytest.mark.parametrize("method,url,data,expected", MATRIX, ids=[f"{m} {u}" for m, u, _, _ in MATRIX])
def test_role_matrix(client, users, login, document, make_user, role_index, role, method, url, data, expected):
    if role != "anonymous":
        login(users[role])
    section = services.current_sections(document)[0].section
    target = make_user("participant")
    url = url.format(s=section.id, u=target.id)
    response = client.open(url, method=method, data=data)
    assert response.status_code == expected[role_index], response.get_data(as_text=True)[:500]
    if role == "anonymous" and expected[0] == 302 and url not in ("/",):
        assert "/login" in response.headers["Location"]


def test_forbidden_post_changes_nothing(client, users, login, document):
    login(users["participant"])
    section = services.current_sections(document)[0]
    client.post(f"/d/doc/sections/{section.section.id}/edit",
                data={"heading": "Hijack", "body": "Hijacked.", "reason": "x", "base_version": "1"})
    assert services.current_sections(document)[0].version.body == section.version.body


def test_service_checks_permission_even_without_the_view(users, document):
    from manifesto.services import PermissionDenied

    section = services.current_sections(document)[0].section
    with pytest.raises(PermissionDenied):
        services.edit_section(users["participant"], document.id, section.id, heading="x", body="y",
                              reason="z", base_version=1)
    with pytest.raises(PermissionDenied):
        services.update_document(users["moderator"], document.id, title="x", introduction="", phase="final",
                                 amendment_deadline=None, min_supporters=0)
