"""The password policy (NIST SP 800-63B-4) and the hashes (Argon2id, older ones upgraded at login)."""

from __future__ import annotations

import pytest
from harness import PASSWORD
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from manifesto.accounts import passwords, services
from manifesto.accounts.models import User
from manifesto.audit.models import AuditEvent
from manifesto.extensions import db
from manifesto.services import ValidationError, utcnow

NAME, EMAIL = "Amina Diallo", "nadia.k@example.org"


def refused(password: str, **context) -> str:
    """The policy's message for a password it refuses."""
    with pytest.raises(ValidationError) as caught:
        passwords.check_new_password(password, **{"name": NAME, "email": EMAIL, **context})
    assert caught.value.field == context.get("field", "password")
    return caught.value.message


# ------------------------------------------------------------------ the policy


@pytest.mark.parametrize("password", [
    "correct-horse-battery", "the river bends near our village", "all lower case words here",
    "Amina writes the preamble today", "1984 was a novel, not a plan",
])
def test_long_phrases_pass_without_any_composition_rule(app, password):
    assert passwords.check_new_password(password, name=NAME, email=EMAIL) == password


@pytest.mark.parametrize("password", ["passwordstandard", "PasswordStandard", "1234qwerasdfzxcv",
                                      "iloveyou1234567!", "dragon!!!!!!!!!!!"])
def test_common_passwords_are_refused_whatever_their_case_or_the_digits_around_them(app, password):
    assert "most common passwords" in refused(password)


def test_the_shipped_list_is_the_published_corpus(app):
    common = passwords.common_passwords()
    assert len(common) > 99_000
    assert {"123456", "password", "qwerty", "iloveyou", "passwordpassword"} <= common


@pytest.mark.parametrize("password", [
    "aaaaaaaaaaaaaaaa", "abcabcabcabcabca", "sunflowersunflower", "1234567890123456", "abcdefghijklmnop",
    "ponmlkjihgfedcba", "9876543210987654", "qwertyuiopasdfgh", "1234 5678 9012 3456", "xyzabcdefghijklm",
])
def test_repeated_and_sequential_runs_are_refused(app, password):
    assert "repeated" in refused(password)


@pytest.mark.parametrize("password,context", [
    ("amina.diallo2024!", {}),
    ("DialloDialloDiallo1", {}),
    ("nadia.k@example.org", {}),  # the whole address
    ("nadia.k 123456789", {}),
    ("manifesto2026!!!!", {}),
    ("2026 MANIFESTO 2026!", {"name": None, "email": None}),
])
def test_passwords_built_from_ones_name_email_or_the_site_are_refused(app, password, context):
    assert "your name, your email address or the site's name" in refused(password, **context)


def test_a_name_inside_a_real_phrase_is_fine(app):
    assert passwords.check_new_password("amina drafts the manifesto at dawn", name=NAME, email=EMAIL)


def test_fifteen_characters_without_two_factors_eight_with(app):
    assert "at least 15 characters" in refused("violet-kettle")  # 13
    assert passwords.check_new_password("violet-kettle", two_factor=True) == "violet-kettle"
    assert "at least 8 characters" in refused("violet1", two_factor=True)
    assert "most common" in refused("password1234", two_factor=True)  # short common ones meet the list


def test_the_minimum_never_goes_below_eight_whatever_the_settings(app):
    app.config.update(PASSWORD_MIN_LENGTH=4, PASSWORD_MIN_LENGTH_TWO_FACTOR=2)
    assert "at least 8 characters" in refused("violet1")
    assert "at least 8 characters" in refused("violet1", two_factor=True)
    assert passwords.check_new_password("violet-k") == "violet-k"


def test_up_to_256_characters(app):
    words = ("river stone lamp cloud " * 20)[:256]
    assert passwords.check_new_password(words) == words
    assert "at most 256 characters" in refused(words + "x")


def test_unicode_is_normalised_before_checking_and_hashing(app):
    fullwidth = "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ"
    assert passwords.check_new_password(fullwidth) == "correct horse battery"
    assert "most common" in refused("ｐａｓｓｗｏｒｄｓｔａｎｄａｒｄ")
    assert "at least 15" in refused("ｃｏｒｒｅｃｔ")  # length counts normalised characters
    stored = passwords.hash_password(fullwidth)
    assert passwords.verify_password(stored, "correct horse battery")


def test_the_field_named_by_the_caller_carries_the_message(app):
    assert "at least 15" in refused("short", field="new_password")


# ------------------------------------------------------------------ the policy through the pages


def test_the_register_form_says_why_next_to_the_password_and_keeps_the_rest(client):
    response = client.post("/register", data={"email": "amina@example.org", "name": "Amina Diallo",
                                              "organisation": "Coop Sahel", "password": "amina.diallo2024!",
                                              "confirm": "amina.diallo2024!"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="password-error"' in page and "your name, your email address" in page
    assert 'value="amina@example.org"' in page and 'value="Amina Diallo"' in page and 'value="Coop Sahel"' in page
    assert "amina.diallo2024!" not in page  # never the password
    assert "At least 15 characters." in client.get("/register").get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "amina@example.org")) is None


def test_changing_the_password_applies_the_policy_with_two_factors_allowing_eight(app, client, make_user, login):
    user = make_user()
    login(user)
    data = {"current_password": PASSWORD, "new_password": "violet-kettle", "confirm": "violet-kettle"}
    response = client.post("/account/password", data=data)
    assert response.status_code == 400 and "at least 15 characters" in response.get_data(as_text=True)
    db.session.get(User, user.id).totp_enabled_at = utcnow()  # two factors on: 8 characters are enough
    db.session.commit()
    assert services.change_password(db.session.get(User, user.id), PASSWORD, "violet-kettle").id == user.id


def test_the_command_line_applies_the_policy(runner):
    result = runner.invoke(args=["create-user", "w@example.org", "--name", "W", "--password", "passwordstandard"])
    assert result.exit_code != 0 and "most common passwords" in result.output
    result = runner.invoke(args=["create-user", "w@example.org", "--name", "W", "--password", "w-from-the-wings"])
    assert result.exit_code == 0, result.output


def test_seeds_keep_their_documented_passwords(app):
    from manifesto.seed.demo import DEFAULT_PASSWORD, seed_demo

    seed_demo()
    assert services.authenticate("moderator@example.org", DEFAULT_PASSWORD).role == "moderator"


# ------------------------------------------------------------------ hashes


def test_argon2id_hashes_with_the_configured_parameters(app):
    app.config.update(PASSWORD_HASH_METHOD="argon2id", ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=16)
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=16,t=1,p=1$")
    assert passwords.verify_password(stored, PASSWORD) and not passwords.verify_password(stored, PASSWORD + "x")
    assert not passwords.needs_rehash(stored)
    app.config["ARGON2_MEMORY_COST"] = 32
    assert passwords.needs_rehash(stored)  # parameters changed: a new hash at the next login


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256:1000"])
def test_older_werkzeug_hashes_still_verify_and_ask_for_an_upgrade(app, method):
    app.config["PASSWORD_HASH_METHOD"] = "argon2id"
    stored = generate_password_hash(PASSWORD, method=method)
    assert passwords.verify_password(stored, PASSWORD) and not passwords.verify_password(stored, "wrong one")
    assert passwords.needs_rehash(stored)


@pytest.mark.parametrize("stored", ["!", passwords.UNUSABLE_PREFIX + "abc", "", None, "nonsense", "$argon2id$broken"])
def test_unusable_and_broken_hashes_never_verify(app, stored):
    assert not passwords.verify_password(stored, "")
    assert not passwords.verify_password(stored, "anything at all here")
    assert not passwords.verify_password(passwords.unusable_hash(), passwords.unusable_hash())


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256:1000"])
def test_an_old_hash_becomes_argon2id_at_login_without_logging_anyone_out(app, make_user, login, method):
    user = make_user()
    db.session.get(User, user.id).password_hash = generate_password_hash(PASSWORD, method=method)
    db.session.commit()
    first = app.test_client()
    assert login(user, test_client=first).status_code == 302  # logged in before the upgrade
    assert db.session.scalar(select(User.password_hash).where(User.id == user.id)).startswith(method.split(":")[0])

    app.config["PASSWORD_HASH_METHOD"] = "argon2id"  # the new default
    events_before = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    second = app.test_client()
    assert login(user, test_client=second).status_code == 302
    db.session.expire_all()
    upgraded = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert upgraded.startswith("$argon2id$")
    # Nobody was logged out, and the person "did" nothing: no password event.
    assert first.get("/account/password").status_code == 200
    assert second.get("/account/password").status_code == 200
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)
                                 .offset(events_before)).all()
    assert not any(action.startswith("user.password") for action in actions)
    third = app.test_client()
    assert login(user, test_client=third).status_code == 302  # the same password, now against Argon2id
    db.session.expire_all()
    assert db.session.scalar(select(User.password_hash).where(User.id == user.id)) == upgraded  # once only


def test_an_upgrade_never_overwrites_a_password_changed_meanwhile(app, make_user):
    user = make_user()
    app.config["PASSWORD_HASH_METHOD"] = "argon2id"
    changed = passwords.hash_password("a password set in another tab")
    db.session.get(User, user.id).password_hash = changed
    db.session.commit()
    services._upgrade_hash(user.id, "the hash that was verified", passwords.hash_password(PASSWORD))
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == changed
