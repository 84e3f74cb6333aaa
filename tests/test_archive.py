"""The JSON archive: everything comes back, byte for byte; nothing private leaves; bad archives change nothing."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from manifesto.accounts.models import User
from manifesto.amendments.models import Amendment, Status
from manifesto.documents.models import Section
from manifesto.exports.archive import reader
from manifesto.exports.archive.reader import import_archive
from manifesto.exports.archive.schema import (EXCLUDED_TABLES, PRIVATE_COLUMNS, SCHEMA_VERSION, ArchiveError,
                                              archived_tables, column_kind)
from manifesto.exports.archive.writer import write_archive, write_archive_to
from manifesto.extensions import db

from harness import PASSWORD, count_queries, empty_tables

NON_ASCII = "Économie « solidaire » — café, niño, 日本語, emoji 🌍, no-break\u00a0space, \u2028line separator"


# ------------------------------------------------------------------ helpers

def _row_counts() -> dict[str, int]:
    """Rows in every table of the metadata."""
    db.session.commit()
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def _assert_empty() -> None:
    """Nothing at all is in the database."""
    assert {name: count for name, count in _row_counts().items() if count} == {}


def _tables(data: bytes) -> dict[str, list[dict]]:
    """The rows of an archive, by table."""
    return json.loads(data)["tables"]


def _refused(data: bytes | str) -> str:
    """Import what must be refused; return the message, after checking that nothing was written."""
    with pytest.raises(ArchiveError) as refused:
        import_archive(data)
    _assert_empty()
    return refused.value.message


def _edit(data: bytes, change) -> bytes:
    """An archive changed by ``change(archive_dict)``."""
    parsed = json.loads(data)
    change(parsed)
    return json.dumps(parsed, ensure_ascii=False).encode()


# ------------------------------------------------------------------ fixtures

@pytest.fixture
def rich(app):
    """The demo, plus what it lacks: settings, a merge into a later amendment, a release, many scripts."""
    from manifesto.amendments.services import decide_amendment
    from manifesto.discussion.comments import post_comment
    from manifesto.notifications.services import save_settings
    from manifesto.plenary.votes import cast_vote, close_vote, open_vote
    from manifesto.releases.services import publish_release
    from manifesto.seed.demo import seed_demo

    document = seed_demo(PASSWORD)
    people = {user.email.split("@")[0]: user for user in db.session.scalars(select(User))}
    save_settings(people["amina"], {"support": "immediate", "reply": "app"})
    open_ones = db.session.scalars(select(Amendment).where(
        Amendment.document_id == document.id, Amendment.status == Status.SUBMITTED.value,
        Amendment.conflicted.is_(False)).order_by(Amendment.id)).all()
    first, last = open_ones[0], open_ones[-1]
    assert first.id < last.id
    decider = people["moderator"] if first.author_id != people["moderator"].id else people["admin"]
    decide_amendment(decider, document.id, first.id, decision="merged", reason="Merged into a later amendment.",
                     revision=first.revision, merged_into=last.code)
    publish_release(people["moderator"], document.id, name="Draft 1 — for the regional consultations",
                    description="For *everyone*.")
    section_id = db.session.scalar(select(Section.id).where(Section.document_id == document.id).order_by(Section.id))
    post_comment(people["sofia"], document.id, body=NON_ASCII, section_id=section_id)
    # A named vote and a secret one (its ballots travel without voters).
    for secret in (False, True):
        vote = open_vote(people["moderator"], document.id, last.id, question="Adopt it?", secret=secret,
                         majority="simple", abstentions_count=False)
        for who, choice in (("amina", "yes"), ("lucas", "no"), ("sofia", "yes")):
            cast_vote(people[who], vote.id, choice)
        close_vote(people["moderator"], vote.id)
    # An open secret vote: its ballot travels sealed, to be opened where the secret key is the same.
    cast_vote(people["amina"], open_vote(people["moderator"], document.id, last.id, question="And now?", secret=True,
                                         majority="simple", abstentions_count=False).id, "no")
    db.session.commit()
    return document


# ------------------------------------------------------------------ what is archived

def test_every_table_is_archived_or_excluded_with_a_reason(app):
    archived = {table.name for table in archived_tables()}
    every = set(db.metadata.tables)
    assert archived | set(EXCLUDED_TABLES) == every
    assert not archived & set(EXCLUDED_TABLES)
    assert set(EXCLUDED_TABLES) <= every, "an excluded table that no longer exists: remove it from the list"
    assert all(len(reason) > 20 for reason in EXCLUDED_TABLES.values())
    assert {"users", "documents", "sections", "section_versions", "amendments", "amendment_revisions", "supports",
            "collisions", "audit_events", "comments", "comment_revisions", "reports", "releases",
            "release_sections", "follows", "notification_settings"} <= archived


def test_the_archive_knows_how_to_write_every_column(app):
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            column_kind(column)  # raises TypeError for a type the archive cannot write


def test_no_archived_table_depends_on_an_excluded_one(app):
    for table in archived_tables():
        for foreign_key in table.foreign_keys:
            assert foreign_key.column.table.name not in EXCLUDED_TABLES, foreign_key


def test_every_private_column_gets_a_value_on_import(app):
    for name, columns in PRIVATE_COLUMNS.items():
        for column_name in columns:
            column = db.metadata.tables[name].columns[column_name]
            # a nullable column left out comes back empty (two factors off, for instance)
            assert (name, column_name) in reader.PRIVATE_VALUES or column.default is not None or column.nullable


def test_every_archived_table_is_covered_with_rows_by_the_round_trip_data(rich):
    """A new table must come with data in the ``rich`` fixture, so that its round trip is tested too."""
    tables = _tables(write_archive())
    assert [name for name, rows in tables.items() if not rows] == []
    assert list(tables) == sorted(tables)


def test_the_archive_is_stable_readable_json(rich):
    data = write_archive()
    assert data == write_archive()
    assert data.startswith(b'{\n  "format": "manifesto-archive",\n  "includes_emails": false,\n'
                           b'  "schema_version": 1,\n')
    parsed = json.loads(data.decode("utf-8"))
    assert list(parsed) == ["format", "includes_emails", "schema_version", "tables"]
    for name, rows in parsed["tables"].items():
        ids = [row["id"] for row in rows]
        assert ids == sorted(ids), name
    # one row a line, keys sorted, text as it is (not \u escapes)
    assert "\u2028" not in data.decode()  # escaped: line-splitting tools see one row a line
    line = next(line for line in data.decode().splitlines() if "Économie" in line)
    row = json.loads(line.strip().rstrip(","))
    assert list(row) == sorted(row)
    assert row["body"] == NON_ASCII
    event = parsed["tables"]["audit_events"][0]
    assert event["at"].endswith("Z") and len(event["at"]) == len("2026-11-30T01:02:03.000456Z")
    amendment = next(row for row in parsed["tables"]["amendments"] if row["hunks"])
    assert isinstance(amendment["hunks"], list)  # JSON columns stay JSON, not strings


def test_emails_only_when_asked_and_never_a_password_or_a_session_token(rich):
    users = db.session.scalars(select(User)).all()
    plain, with_emails = write_archive(), write_archive(include_emails=True)
    for user in users:
        assert user.email.encode() not in plain
        assert user.email.encode() in with_emails
        for data in (plain, with_emails):
            assert user.password_hash.encode() not in data
            assert user.session_token.encode() not in data
    for data in (plain, with_emails):
        for row in _tables(data)["users"]:
            assert "password_hash" not in row and "session_token" not in row
    assert all("email" not in row for row in _tables(plain)["users"])
    assert json.loads(with_emails)["includes_emails"] is True


def test_exporting_costs_one_query_per_table_whatever_the_size(rich, make_user):
    with count_queries() as small:
        write_archive()
    for _ in range(5):
        make_user()
    with count_queries() as bigger:
        write_archive()
    assert small.count == bigger.count <= len(archived_tables()) + 2


def test_write_archive_to_streams_the_same_bytes(rich, tmp_path):
    path = tmp_path / "archive.json"
    with path.open("wb") as stream:
        written = write_archive_to(stream)
    assert path.read_bytes() == write_archive()
    assert written == path.stat().st_size


# ------------------------------------------------------------------ round trip

def test_round_trip_is_byte_identical_and_the_instance_keeps_working(rich):
    from manifesto.accounts.services import authenticate, register_user
    from manifesto.amendments.services import propose_amendment
    from manifesto.search.models import SearchEntry
    from manifesto.services import ValidationError

    first = write_archive()
    before = _row_counts()
    merged = db.session.scalar(select(Amendment).where(Amendment.status == Status.MERGED.value))
    assert merged.merged_into_id > merged.id  # a reference to a row inserted after it
    old_email = db.session.scalar(select(User.email).order_by(User.id))
    empty_tables()

    summary = import_archive(first)
    assert write_archive() == first
    assert summary.documents == 1 and summary.users == before["users"]
    after = _row_counts()
    assert {name: after[name] for name in summary.counts} == {name: before[name] for name in summary.counts}
    assert after["search_entries"] == before["search_entries"] > 0  # rebuilt
    assert db.session.scalar(select(func.count()).select_from(SearchEntry).where(
        SearchEntry.body.contains("solidaire"))) == 1
    assert db.session.get(Amendment, merged.id).merged_into_id == merged.merged_into_id
    sections = db.session.scalars(select(Section)).all()
    assert sections and all(section.current_version_id for section in sections)

    # Nobody gets in with an old password, and placeholder addresses receive no mail.
    users = db.session.scalars(select(User).order_by(User.id)).all()
    assert all(user.email == f"user-{user.id}@archive.invalid" for user in users)
    with pytest.raises(ValidationError):
        authenticate(old_email, PASSWORD)
    with pytest.raises(ValidationError):
        authenticate(users[0].email, PASSWORD)

    # New rows get new ids: on PostgreSQL the sequences were moved past the restored ones.
    newcomer = register_user("newcomer@example.org", "New Comer", PASSWORD, None, None, role="participant")
    assert newcomer.id == max(user.id for user in users) + 1
    assert authenticate("newcomer@example.org", PASSWORD).id == newcomer.id
    section = sections[0]
    amendment = propose_amendment(newcomer, section.document_id, kind="modify", section_id=section.id,
                                  heading=None, body="A new text for this section.", reason="After the restore.",
                                  submit=True)
    assert amendment.id == before["amendments"] + 1
    assert amendment.number == max(a.number or 0 for a in db.session.scalars(select(Amendment))
                                   if a.id != amendment.id) + 1


def test_round_trip_with_emails_restores_the_addresses(rich):
    users = {user.id: user.email for user in db.session.scalars(select(User))}
    first = write_archive(include_emails=True)
    empty_tables()
    summary = import_archive(first)
    assert summary.includes_emails
    assert write_archive(include_emails=True) == first
    assert {user.id: user.email for user in db.session.scalars(select(User))} == users


def test_a_gzipped_archive_imports_too(rich):
    first = write_archive()
    empty_tables()
    import_archive(gzip.compress(first))
    assert write_archive() == first


def test_an_archive_from_before_a_new_column_takes_its_default(rich):
    """Adding a column with a default does not make older archives unreadable."""
    first = write_archive()
    older = _edit(first, lambda a: [row.pop("credit_in_exports") for row in a["tables"]["users"]])
    empty_tables()
    import_archive(older)
    assert db.session.scalars(select(User.credit_in_exports)).all() == [False] * len(_tables(first)["users"])


# ------------------------------------------------------------------ refusals

def test_refuses_what_is_not_json(app):
    assert "not valid JSON" in _refused(b"<html><body>Not an archive</body></html>")
    assert "not UTF-8" in _refused(b"%PDF-1.7\n\xff\xfe\x00binary")
    assert "empty" in _refused(b"")
    assert "no \"format\"" in _refused(b"[1, 2, 3]")
    assert "nested too deeply" in _refused(b"[" * 100_000 + b"]" * 100_000)


def test_refuses_a_truncated_archive(rich):
    data = write_archive()
    empty_tables()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 5, 40):
        assert "truncated" in _refused(data[:cut]), cut
    assert "truncated" in _refused(gzip.compress(data)[:200])
    cut_in_a_character = data.index("É".encode()) + 1
    assert "truncated" in _refused(data[:cut_in_a_character])


def test_an_archive_cut_anywhere_inside_a_row_is_called_truncated(rich):
    data = write_archive()
    for needle in (b'"active": true', "Économie".encode(), b'"hunks": [['):
        start = data.rindex(b"\n", 0, data.index(needle))
        end = data.index(b"\n", start + 1)
        for cut in range(start, end + 1):
            with pytest.raises(ArchiveError, match="truncated"):
                reader.read_archive(data[:cut])
    with pytest.raises(ArchiveError, match="not valid JSON"):
        reader.read_archive(b'{"format": "manifesto-archive", "tables": {},}')


def test_refuses_another_format_and_a_newer_schema(rich):
    data = write_archive()
    empty_tables()
    assert "its format is \"something-else\"" in _refused(_edit(data, lambda a: a.update(format="something-else")))
    message = _refused(_edit(data, lambda a: a.update(schema_version=SCHEMA_VERSION + 1)))
    assert "newer version of Manifesto" in message and "Upgrade" in message
    assert "schema_version" in _refused(_edit(data, lambda a: a.update(schema_version="1")))


def test_refuses_missing_and_unknown_tables_and_fields(rich):
    data = write_archive()
    empty_tables()
    assert 'the table "supports" is missing' in _refused(_edit(data, lambda a: a["tables"].pop("supports")))
    assert 'table "visits"' in _refused(_edit(data, lambda a: a["tables"].update(visits=[])))
    assert 'table "polls"' in _refused(_edit(data, lambda a: a["tables"].update(polls=[])))

    def drop_a_name(a):
        """Lose one user's name."""
        del a["tables"]["users"][1]["name"]

    message = _refused(_edit(data, drop_a_name))
    assert 'users, row 2 (id 2): the field "name" is missing' in message

    def drop_every_heading(a):
        """Lose a field in every row."""
        for row in a["tables"]["section_versions"]:
            del row["heading"]

    assert 'no field "heading", which every row needs' in _refused(_edit(data, drop_every_heading))

    def smuggle_a_password(a):
        """Add a field archives never hold."""
        a["tables"]["users"][0]["password_hash"] = "pbkdf2:sha256:1000$salt$hash"

    assert 'unknown field "password_hash"' in _refused(_edit(data, smuggle_a_password))


def test_refuses_values_of_the_wrong_kind_listing_each(rich):
    data = write_archive()
    empty_tables()

    def spoil(a):
        """Five values of the wrong kind."""
        a["tables"]["users"][0]["active"] = "yes"
        a["tables"]["sections"][0]["position"] = 1.5
        a["tables"]["audit_events"][0]["at"] = "yesterday"
        a["tables"]["documents"][0]["slug"] = "x" * 81
        a["tables"]["documents"][0]["title"] = None

    message = _refused(_edit(data, spoil))
    assert "5 problems" in message
    assert 'the field "active" must be true or false, not "yes"' in message
    assert 'the field "position" must be a whole number' in message
    assert 'the field "at" is not an ISO 8601 date and time' in message
    assert 'the field "slug" is longer than 80 characters' in message
    assert 'the field "title" must not be null' in message


def test_refuses_references_that_do_not_resolve(rich):
    data = write_archive()
    empty_tables()

    def orphan(a):
        """Name an author the archive does not hold."""
        a["tables"]["comments"][-1]["author_id"] = 9999

    message = _refused(_edit(data, orphan))
    assert "author_id 9999 refers to a row of users that the archive does not hold" in message

    def duplicate(a):
        """Repeat a row with its id."""
        a["tables"]["supports"].append(dict(a["tables"]["supports"][0]))

    assert "the same id appears twice" in _refused(_edit(data, duplicate))


def test_refuses_a_database_that_is_not_empty(rich):
    data = write_archive()
    before = _row_counts()
    with pytest.raises(ArchiveError) as refused:
        import_archive(data)
    assert "already holds 1 document and 5 users: import only into an empty database" in refused.value.message
    assert _row_counts() == before


def test_refuses_a_database_with_one_left_over_row(rich):
    """Even one row of an earlier attempt is enough to refuse: ids would collide."""
    from manifesto.documents.models import Document

    data = write_archive()
    empty_tables()
    db.session.add(Document(slug="left", title="Left over"))
    db.session.commit()
    assert "already holds 1 document:" in _refused_keeping(data)


def _refused_keeping(data: bytes) -> str:
    """Import what must be refused into a database that is not empty; return the message."""
    before = _row_counts()
    with pytest.raises(ArchiveError) as refused:
        import_archive(data)
    assert _row_counts() == before
    return refused.value.message


def test_a_failure_in_the_last_table_leaves_the_database_empty(rich, monkeypatch):
    """One transaction: the database's own refusal, after most rows went in, rolls all of them back."""
    data = write_archive()
    empty_tables()
    order = [table for table in db.metadata.sorted_tables if table.name in _tables(data)]
    last = next(table for table in reversed(order)
                if table.foreign_keys and _tables(data)[table.name])
    column = sorted(last.foreign_keys, key=lambda fk: fk.parent.name)[0].parent.name

    def break_last(a):
        """Break a reference in the last table inserted."""
        a["tables"][last.name][-1][column] = 99999

    monkeypatch.setattr(reader, "_check_references", lambda plan, problems: None)
    inserted = []
    real_execute = Connection.execute

    def watching(self, statement, *args, **kwargs):
        """Note the table of every INSERT, then run it."""
        table = getattr(statement, "table", None)
        if getattr(statement, "is_insert", False) and table is not None:
            inserted.append(table.name)
        return real_execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(Connection, "execute", watching)
    message = _refused(_edit(data, break_last))
    assert "The database refused the archive, so nothing was imported" in message
    assert f"(while writing {last.name})" in message
    assert inserted[-1] == last.name and "users" in inserted and "section_versions" in inserted


def test_refuses_a_database_without_the_schema(app, monkeypatch):
    from sqlalchemy.engine.reflection import Inspector

    monkeypatch.setattr(Inspector, "get_table_names", lambda self, schema=None: [])
    message = _refused(b'{"format": "manifesto-archive", "schema_version": 1, "tables": {}}'.replace(
        b'"tables": {}', b'"tables": ' + json.dumps({t.name: [] for t in archived_tables()}).encode()))
    assert "flask --app manifesto db upgrade" in message


# ------------------------------------------------------------------ the command

def test_command_imports_a_file_and_says_what_it_did(rich, runner, tmp_path):
    path = tmp_path / "archive.json"
    path.write_bytes(write_archive())
    empty_tables()
    result = runner.invoke(args=["import-archive", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 document and 5 users" in result.output
    assert "archive.invalid" in result.output
    assert write_archive() == path.read_bytes()


def test_command_reads_standard_input(rich, runner):
    data = write_archive()
    empty_tables()
    result = runner.invoke(args=["import-archive", "-"], input=data)
    assert result.exit_code == 0, result.output
    assert write_archive() == data


def test_command_refuses_with_a_message_and_no_traceback(rich, runner, tmp_path):
    data = write_archive()
    path = tmp_path / "archive.json"
    path.write_bytes(data)
    result = runner.invoke(args=["import-archive", str(path)])  # the database is not empty
    assert result.exit_code == 1
    assert "Error: The database already holds 1 document" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)

    empty_tables()
    path.write_bytes(data[: len(data) // 2])
    result = runner.invoke(args=["import-archive", str(path)])
    assert result.exit_code == 1 and "Error: This archive is truncated" in result.output
    assert "Traceback" not in result.output
    _assert_empty()


def test_two_imports_at_once_one_wins_and_the_other_is_told_why(rich, app):
    import threading

    data = write_archive()
    empty_tables()
    db.session.remove()
    outcomes: list[str] = []
    ready = threading.Barrier(2)

    def run() -> None:
        """Import in a thread of its own."""
        with app.app_context():
            ready.wait()
            try:
                import_archive(data)
                outcomes.append("imported")
            except ArchiveError as error:
                outcomes.append(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 2 and outcomes.count("imported") == 1
    refusal = next(outcome for outcome in outcomes if outcome != "imported")
    assert "already holds 1 document" in refusal
    assert write_archive() == data
