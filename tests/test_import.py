"""Delegates from a list: the CSV file read and previewed, then imported in one transaction, and the list exported.

Every bad input the issue names: a byte order mark, semicolons, quoted
newlines, 10 MB of rows, formulas, duplicate and bad addresses, unknown
roles, missing columns. Nothing is written by a preview, nothing at all when
a row has a problem, nothing again when the same file comes back.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from html import unescape

import pytest
from harness import count_queries, live_markup
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from manifesto.accounts import importing
from manifesto.accounts.models import User
from manifesto.audit.models import AuditEvent
from manifesto.extensions import db
from manifesto.services import PermissionDenied, ValidationError
from manifesto.spreadsheets import csv_file, safe_cell, unescape_cell

HEADER = "name,email,organisation,country,role,language"


def csv_of(*lines: str, header: str = HEADER) -> bytes:
    """A CSV file of these lines under the header, in UTF-8."""
    return ("\r\n".join([header, *lines]) + "\r\n").encode()


def upload(client, data: bytes, name: str = "delegates.csv", **fields):
    """Send a file to the import's upload form; the response is the preview (or the form again).

    The body is built in memory: the test client would spool a large one to a file it never closes.
    """
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=name, content_type="text/csv"),
                                       **fields})
    return client.post("/admin/users/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def hidden(page: str, name: str) -> str:
    """The value of a hidden field of a page."""
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page) or \
        re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no hidden {name} on the page"
    return unescape(match.group(1))


def confirm(client, preview_page: str, **overrides):
    """Press the preview's import button."""
    data = {"payload": hidden(preview_page, "payload"), "digest": hidden(preview_page, "digest")}
    data.update(overrides)
    return client.post("/admin/users/import/confirm", data=data)


def accounts() -> dict[str, User]:
    """Every account by address, read afresh."""
    db.session.expire_all()
    return {user.email: user for user in db.session.scalars(select(User))}


def events(action: str | None = None) -> list[AuditEvent]:
    """The audit events, oldest first (of one action)."""
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt))


@pytest.fixture
def admin(users, login):
    """The admin, logged in on the test client."""
    login(users["admin"])
    return users["admin"]


# --- reading the file ------------------------------------------------------------------------------


def test_the_preview_says_what_each_row_would_do_and_writes_nothing(client, admin, make_user):
    make_user(email="fatou@example.org", name="Fatou Old", organisation="Coop")
    make_user(email="kofi@example.org", name="Kofi Mensah", organisation="Union")
    before = len(events())
    response = upload(client, csv_of("Amina Diallo,amina@example.org,Coop Sahel,Senegal,moderator,fr",
                                     "Fatou Ndiaye,FATOU@example.org,,,admin,",
                                     "Kofi Mensah,kofi@example.org,Union,,,"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "New account; an invitation is sent" in page
    assert "Name: Fatou Old → Fatou Ndiaye" in page and "Role: Participant → Admin" in page
    assert "Unchanged" in page
    assert "1 new account, its owner invited by email" in page and "1 account updated" in page
    assert "Import 3 rows" in page
    assert "amina@example.org" not in accounts() and accounts()["fatou@example.org"].name == "Fatou Old"
    assert len(events()) == before


def test_a_byte_order_mark_semicolons_and_french_headers(client, admin):
    data = codecs.BOM_UTF8 + "Nom;Courriel;Organisation;Pays;Rôle;Langue\r\nAïssata Bâ;aissata@example.org;Coop;Mali;Modérateur;Français\r\n".encode()
    response = upload(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "columns separated by semicolons" in page
    [row] = importing.read_delegates(data).rows
    assert (row.name, row.email, row.role, row.locale) == ("Aïssata Bâ", "aissata@example.org", "moderator", "fr")
    assert not row.has_problems


def test_spanish_headers_tabs_and_excel_unicode_text(app):
    text = "Nombre\tCorreo\tOrganización\tPaís\tRol\tIdioma\r\nJosé Pérez\tjose@example.org\tCoop\tPerú\tModerador\tes\r\n"
    preview = importing.read_delegates(text.encode("utf-16"))  # Excel's "Unicode text": UTF-16 with a BOM, tabs
    [row] = preview.rows
    assert preview.delimiter == "\t" and preview.encoding == "UTF-16"
    assert (row.name, row.country, row.role, row.locale) == ("José Pérez", "Perú", "moderator", "es")


def test_a_file_that_is_not_utf8_is_read_as_windows_1252_with_a_note(app):
    preview = importing.read_delegates("name,email\r\nJosé Müller,jose@example.org\r\n".encode("cp1252"))
    assert preview.rows[0].name == "José Müller" and preview.encoding == "Windows-1252"
    assert "not in UTF-8" in preview.notes[0]


def test_quoted_newlines_stay_in_their_cell_and_lines_are_counted(app):
    data = csv_of('"Amina\nDiallo",amina@example.org,"Coop\r\nSahel",,,', "Kofi,kofi@example.org,,,,")
    first, second = importing.read_delegates(data).rows
    assert (first.name, first.organisation, first.line) == ("Amina Diallo", "Coop Sahel", 2)
    assert (second.name, second.line) == ("Kofi", 5)


def test_the_missing_columns_are_named_in_the_readers_language(app):
    from flask_babel import force_locale

    with force_locale("fr"), pytest.raises(ValidationError) as refused:
        importing.read_delegates(csv_of("a,b", header="qui,où"))
    assert "Manquantes\xa0: nom, courriel." in refused.value.message


def test_extra_columns_are_left_out_with_a_note_and_columns_may_come_in_any_order(app):
    preview = importing.read_delegates(csv_of("moderator,Kofi,kofi@example.org,42", header="ROLE,Name,E-mail,Seat"))
    assert preview.columns == ["role", "name", "email"] and preview.ignored == ["Seat"]
    assert '"Seat"' in preview.notes[0]
    assert preview.rows[0].role == "moderator"


@pytest.mark.parametrize("header,missing", [("name,organisation", "email"), ("email,country", "name"),
                                            ("who,where", "name, email")])
def test_a_file_without_the_name_or_email_column_is_refused_whole(client, admin, header, missing):
    response = upload(client, csv_of("a,b", header=header))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"Missing: {missing}." in page and 'aria-invalid="true"' in page
    assert 'name="payload"' not in page


@pytest.mark.parametrize("data,message", [
    (b"", "The file is empty."),
    (b"\r\n  \r\n", "The file is empty."),
    (b"name,email\r\n", "no delegates below it"),
    (b"name,email,Email\r\nA,a@example.org,b@example.org\r\n", "twice"),
])
def test_files_refused_whole(app, data, message):
    with pytest.raises(ValidationError, match=message) as refused:
        importing.read_delegates(data)
    assert refused.value.field == "file"


def test_every_row_problem_is_shown_by_its_column_and_no_import_button(client, admin):
    response = upload(client, csv_of("Amina,amina@example.org,,,king,",
                                     ",nobody@example.org,,,,",
                                     "Kofi,not-an-address,,,,",
                                     "Fatou,fatou@example.org,,,,klingon",
                                     f"Long,long@example.org,{'x' * 201},,,",
                                     "Twin One,twin@example.org,,,,",
                                     "Twin Two,TWIN@example.org,,,,",
                                     "Fine,fine@example.org,,,,"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for message in ('Unknown role "king"', "Give the name others will see.", "not a valid email address",
                    'Unknown language "klingon"', "Use at most 200 characters.",
                    "This address is also on line 8.", "This address is also on line 7."):
        assert message in unescape(page), message
    assert "7 rows have a problem" in page
    assert 'name="payload"' not in page and "Import 8 rows" not in page
    assert "Preview the import" in page  # the form to upload the corrected file is on the page
    # Rows with problems come first, the fine one last.
    assert page.index("Twin Two") < page.index("fine@example.org")


def test_duplicates_are_flagged_on_both_rows(app):
    first, second, third = importing.read_delegates(
        csv_of("A,same@example.org,,,,", "B,other@example.org,,,,", "C,Same@Example.org,,,,")).rows
    assert first.problems == {"email": ["This address is also on line 4."]}
    assert third.problems == {"email": ["This address is also on line 2."]}
    assert not second.has_problems


def test_an_address_repeated_on_many_rows_names_a_few_of_the_other_lines(app):
    rows = importing.read_delegates(csv_of(*(f"D{i},same@example.org,,,," for i in range(3000)))).rows
    assert rows[0].problems["email"] == ["This address is also on lines 3, 4, 5, 6, 7 and 2994 others."]
    assert rows[2].problems["email"] == ["This address is also on lines 2, 3, 5, 6, 7 and 2994 others."]


def test_roles_and_languages_in_any_language_and_case(app):
    rows = importing.read_delegates(csv_of("A,a@example.org,,,ADMIN,EN", "B,b@example.org,,,Modératrice,",
                                           "C,c@example.org,,,Administrador,Español",
                                           "D,d@example.org,,,Participante,fr-CH")).rows
    assert [(row.role, row.locale) for row in rows] == [("admin", "en"), ("moderator", None), ("admin", "es"),
                                                        ("participant", "fr")]
    assert not any(row.has_problems for row in rows)


def test_control_characters_in_a_name_are_a_problem(app):
    [row] = importing.read_delegates(csv_of("Amina\x07Diallo,amina@example.org,,,,")).rows
    assert "control characters" in row.problems["name"][0]


def test_formulas_are_kept_as_written_and_flagged_in_the_preview(client, admin):
    data = csv_of('"=HYPERLINK(""http://x"",""y"")",amina@example.org,+33 Coop,@Mali,,')
    page = unescape(upload(client, data).get_data(as_text=True))
    assert '=HYPERLINK("http://x","y")' in page
    assert page.count("A spreadsheet would read this as a formula") == 3
    [row] = importing.read_delegates(data).rows
    assert (row.name, row.organisation, row.country) == ('=HYPERLINK("http://x","y")', "+33 Coop", "@Mali")
    assert not row.has_problems and row.formulas == ["name", "organisation", "country"]


def test_markup_in_the_cells_is_shown_as_text(client, admin):
    data = csv_of('"<img src=x onerror=alert(1)>",amina@example.org,<script>alert(1)</script>,,"<b>king</b>",')
    page = upload(client, data).get_data(as_text=True)
    assert live_markup(page) == []
    assert "&lt;script&gt;" in page and 'Unknown role "&lt;b&gt;king&lt;/b&gt;"' in page.replace("&#34;", '"')


# --- size -------------------------------------------------------------------------------------------


def test_a_10_mb_file_gets_a_message_by_the_file_field_and_nothing_is_read(client, admin):
    row = "Amina Diallo,amina{}@example.org,Coop Sahel,Senegal,participant,fr\r\n"
    data = (HEADER + "\r\n").encode() + b"".join(row.format(i).encode() for i in range(170_000))
    assert len(data) > 10 * 1024 * 1024
    count = len(accounts())
    response = upload(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The file is larger than 5 MB. Split the list into several files." in page
    assert 'aria-invalid="true"' in page and 'type="file"' in page
    assert len(accounts()) == count


def test_a_file_over_the_general_request_limit_but_within_the_import_limit_is_previewed(client, admin, app):
    rows = [f"Delegate {i} with a rather long name,delegate{i}@example.org,Cooperative number {i},Country,," for i in
            range(16_000)]
    data = csv_of(*rows)
    assert app.config["MAX_CONTENT_LENGTH"] < len(data) < app.config["IMPORT_MAX_BYTES"]
    response = upload(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Import 16,000 rows" in page
    assert "The first 2,000 of 16,000 rows" in page


def test_more_rows_than_allowed_is_refused_whole(make_app, users, login):
    app = make_app(IMPORT_MAX_ROWS=3)
    with app.app_context():
        client = app.test_client()
        login(users["admin"], test_client=client)
        page = upload(client, csv_of(*(f"D{i},d{i}@example.org,,,," for i in range(4)))).get_data(as_text=True)
        assert "The file has more than 3 rows. Split it into several files." in page
        assert upload(client, csv_of(*(f"D{i},d{i}@example.org,,,," for i in range(3)))).status_code == 200


def test_the_service_refuses_a_file_over_the_limit_too(make_app):
    app = make_app(IMPORT_MAX_BYTES=100)
    with app.app_context(), pytest.raises(ValidationError, match="larger than"):
        importing.read_delegates(csv_of(*(f"D{i},d{i}@example.org,,,," for i in range(10))))


def test_the_preview_of_1200_rows_reads_the_accounts_in_a_few_queries(app, users, make_user):
    for i in range(0, 1200, 100):
        make_user(email=f"delegate{i}@example.org", name=f"Delegate {i}")
    data = csv_of(*(f"Delegate {i},delegate{i}@example.org,,,," for i in range(1200)))
    with count_queries() as queries:
        preview = importing.preview_import(users["admin"], data)
    assert (preview.count(importing.NEW), preview.count(importing.UNCHANGED)) == (1188, 12)
    assert queries.count <= 5, queries.statements


# --- importing --------------------------------------------------------------------------------------


def test_importing_creates_invited_accounts_that_cannot_log_in_yet(client, admin):
    page = upload(client, csv_of("Amina Diallo,amina@example.org,Coop Sahel,Senegal,moderator,fr",
                                 "Kofi Mensah,kofi@example.org,,,,")).get_data(as_text=True)
    response = confirm(client, page)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/users")
    flashed = client.get("/admin/users").get_data(as_text=True)
    assert "2 accounts created, their owners invited by email. 0 accounts updated. 0 unchanged." in flashed
    assert flashed.count("Invited, not yet accepted") == 2
    amina, kofi = accounts()["amina@example.org"], accounts()["kofi@example.org"]
    assert (amina.name, amina.organisation, amina.country, amina.role, amina.locale) == \
        ("Amina Diallo", "Coop Sahel", "Senegal", "moderator", "fr")
    assert (kofi.role, kofi.locale, kofi.organisation) == ("participant", None, None)
    assert amina.invited_at is not None and amina.email_verified_at is None
    assert amina.password_hash.startswith("!") and amina.password_hash != kofi.password_hash
    assert client.post("/logout").status_code == 302
    refused = client.post("/login", data={"email": "amina@example.org", "password": amina.password_hash})
    assert refused.status_code == 400
    invited = events("user.invited")
    assert sorted(e.object_id for e in invited) == sorted([amina.id, kofi.id])
    assert {e.actor_id for e in invited} == {admin.id}
    [summary] = events("user.invitations_imported")
    assert (summary.object_id, summary.data) == (admin.id, {"created": 2, "updated": 0, "unchanged": 0, "rows": 2})


def test_importing_the_same_file_again_changes_nothing_and_records_nothing(client, admin):
    data = csv_of("Amina Diallo,amina@example.org,Coop Sahel,Senegal,moderator,fr", "Kofi,kofi@example.org,,,,")
    confirm(client, upload(client, data).get_data(as_text=True))
    before = [(e.id, e.action) for e in events()]
    stamps = {email: (user.invited_at, user.password_hash) for email, user in accounts().items()}
    page = upload(client, data).get_data(as_text=True)
    assert "2 accounts unchanged" in page
    response = confirm(client, page)
    assert "The file&#39;s 2 rows match the accounts already: nothing changed, nobody was invited." in \
        client.get(response.headers["Location"]).get_data(as_text=True)
    assert [(e.id, e.action) for e in events()] == before
    assert {email: (user.invited_at, user.password_hash) for email, user in accounts().items()} == stamps


def test_an_updated_file_updates_names_and_roles_and_invites_only_the_new_people(client, admin):
    confirm(client, upload(client, csv_of("Amina,amina@example.org,Coop,Senegal,participant,fr",
                                          "Kofi,kofi@example.org,Union,,moderator,")).get_data(as_text=True))
    invited_before = len(events("user.invited"))
    page = upload(client, csv_of("Amina Diallo,amina@example.org,,Senegal,moderator,",
                                 "Kofi,kofi@example.org,Union,,moderator,",
                                 "Fatou,fatou@example.org,,,,es")).get_data(as_text=True)
    assert "Name: Amina → Amina Diallo" in page and "Role: Participant → Moderator" in page
    confirm(client, page)
    found = accounts()
    amina = found["amina@example.org"]
    # An empty cell keeps what the account has.
    assert (amina.name, amina.role, amina.organisation, amina.locale) == ("Amina Diallo", "moderator", "Coop", "fr")
    assert found["fatou@example.org"].locale == "es"
    new_invitations = events("user.invited")[invited_before:]
    assert [e.object_id for e in new_invitations] == [found["fatou@example.org"].id]
    [role] = events("user.role_changed")
    assert (role.object_id, role.from_state, role.to_state, role.actor_id) == (amina.id, "participant", "moderator",
                                                                               admin.id)
    [profile] = events("user.profile_changed")
    assert profile.data == {"before": {"name": "Amina"}, "after": {"name": "Amina Diallo"}}
    assert events("user.invitations_imported")[-1].data == {"created": 1, "updated": 1, "unchanged": 1, "rows": 3}


def test_a_name_change_reaches_the_public_pages_and_an_invitation_alone_does_not(app, users):
    from manifesto.audit import states

    before = states.read(states.SITE).values
    importing.import_delegates(users["admin"], data := csv_of("Amina,amina@example.org,,,,"),
                               importing.file_digest(data))
    assert states.read(states.SITE).values == before  # a new, invited account shows on no public page
    importing.import_delegates(users["admin"], data := csv_of("Amina D.,amina@example.org,,,,"),
                               importing.file_digest(data))
    assert states.read(states.SITE).values[0] > before[0]


def test_nothing_is_imported_when_one_row_has_a_problem(app, users):
    data = csv_of("Amina,amina@example.org,,,,", "Kofi,kofi@example.org,,,wizard,")
    count = len(accounts())
    with pytest.raises(ValidationError, match="1 row has a problem; nothing was imported"):
        importing.import_delegates(users["admin"], data, importing.file_digest(data))
    assert len(accounts()) == count and events("user.invited") == []


def test_a_file_that_would_demote_the_last_admin_is_refused(client, admin):
    page = upload(client, csv_of(f"{admin.name},{admin.email},,,participant,")).get_data(as_text=True)
    assert "This would leave no admin." in page and 'name="payload"' not in page
    with pytest.raises(ValidationError):
        data = csv_of(f"{admin.name},{admin.email},,,participant,")
        importing.import_delegates(admin, data, importing.file_digest(data))
    assert accounts()[admin.email].role == "admin"


def test_an_admin_may_be_demoted_while_another_stays(client, admin, make_user):
    other = make_user("admin", email="other-admin@example.org")
    confirm(client, upload(client, csv_of(f"{other.name},{other.email},,,moderator,")).get_data(as_text=True))
    assert accounts()[other.email].role == "moderator"


def test_a_deactivated_account_is_updated_and_stays_deactivated(client, admin, make_user):
    from manifesto.accounts import services

    gone = make_user(email="gone@example.org", name="Gone")
    services.set_active(admin, gone.id, False)
    page = upload(client, csv_of("Gone Again,gone@example.org,,,,")).get_data(as_text=True)
    assert "This account is deactivated and stays so." in page
    confirm(client, page)
    assert (accounts()["gone@example.org"].name, accounts()["gone@example.org"].active) == ("Gone Again", False)


def test_a_forged_altered_or_foreign_preview_is_refused(client, admin, make_user, login, app):
    page = upload(client, csv_of("Amina,amina@example.org,,,,")).get_data(as_text=True)
    payload = hidden(page, "payload")
    altered = confirm(client, page, payload=payload[:-3] + ("xyz" if not payload.endswith("xyz") else "abc"))
    assert altered.status_code == 400 and "This preview was damaged on its way" in altered.get_data(as_text=True)
    other_digest = confirm(client, page, digest="0" * 64)
    assert other_digest.status_code == 400 and "This is not the file that was previewed" in \
        unescape(other_digest.get_data(as_text=True))
    other = make_user("admin", email="second-admin@example.org")
    second = app.test_client()
    login(other, test_client=second)
    foreign = confirm(second, page)
    assert foreign.status_code == 400 and "damaged" in foreign.get_data(as_text=True)
    assert "amina@example.org" not in accounts()


@pytest.mark.parametrize("method,path", [("get", "/admin/users/import"), ("post", "/admin/users/import"),
                                         ("post", "/admin/users/import/confirm"), ("get", "/admin/users.csv")])
@pytest.mark.parametrize("role", ["participant", "moderator"])
def test_only_admins_import_and_export(client, users, login, role, method, path):
    login(users[role])
    response = getattr(client, method)(path)
    assert response.status_code == 403


def test_the_services_refuse_non_admins(app, users):
    data = csv_of("Amina,amina@example.org,,,,")
    for call in (lambda: importing.preview_import(users["moderator"], data),
                 lambda: importing.import_delegates(users["moderator"], data, importing.file_digest(data)),
                 lambda: importing.delegate_rows(users["participant"])):
        with pytest.raises(PermissionDenied):
            call()
    assert "amina@example.org" not in accounts()


def test_visitors_are_sent_to_log_in(client):
    assert client.get("/admin/users/import").status_code == 302
    assert "/login" in client.get("/admin/users.csv").headers["Location"]


def test_with_csrf_on_the_upload_and_the_import_check_their_token(make_app, users, login):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = hidden(login_page, "csrf_token")
        client.post("/login", data={"email": users["admin"].email, "password": "correct-horse-battery",
                                    "csrf_token": token})
        form = client.get("/admin/users/import").get_data(as_text=True)
        token = hidden(form, "csrf_token")
        data = csv_of("Amina,amina@example.org,,,,")
        forged = upload(client, data)
        assert forged.status_code == 400 and 'name="payload"' not in forged.get_data(as_text=True)
        page = upload(client, data, csrf_token=token).get_data(as_text=True)
        assert "Import 1 row" in page
        without = client.post("/admin/users/import/confirm", data={"payload": hidden(page, "payload"),
                                                                   "digest": hidden(page, "digest")})
        assert without.status_code == 400 and "amina@example.org" not in accounts()
        done = client.post("/admin/users/import/confirm", data={"payload": hidden(page, "payload"),
                                                                "digest": hidden(page, "digest"),
                                                                "csrf_token": hidden(page, "csrf_token")})
        assert done.status_code == 302 and "amina@example.org" in accounts()


# --- the list as CSV, and formulas in every CSV ----------------------------------------------------


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x","y")'])
def test_every_formula_start_is_written_escaped_and_read_back(cell):
    assert safe_cell(cell) == "'" + cell
    assert unescape_cell(safe_cell(cell)) == cell


@pytest.mark.parametrize("cell", ["Amina", "O'Brien", "'quoted", "1+1", "", None, 42])
def test_ordinary_cells_are_written_as_they_are(cell):
    assert safe_cell(cell) == ("" if cell is None else str(cell))


def test_the_users_csv_escapes_formulas_and_imports_back_unchanged(client, admin):
    evil = '=HYPERLINK("http://x","y")'
    data = csv_of(f'"{evil.replace(chr(34), chr(34) * 2)}",amina@example.org,-Coop,@Mali,moderator,fr')
    confirm(client, upload(client, data).get_data(as_text=True))
    response = client.get("/admin/users.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(importing.EXPORT_HEADER)
    [amina] = [row for row in rows if row[1] == "amina@example.org"]
    assert amina[:6] == ["'" + evil, "amina@example.org", "'-Coop", "'@Mali", "moderator", "fr"]
    assert amina[7:] == ["pending", "no", "yes"]
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in body.decode("utf-8-sig")
    # The exported list imports back as it was: nothing would change.
    preview = importing.preview_import(admin, body)
    assert preview.count(importing.UNCHANGED) == len(rows) - 1 and preview.importable


def test_csv_file_quotes_every_cell(app):
    text = csv_file(["a", "b"], [["=x", "plain"]]).decode("utf-8-sig")
    assert text == '"a","b"\r\n"\'=x","plain"\r\n'
