"""Command-line tools: create-user and seed-demo."""

from __future__ import annotations

from sqlalchemy import func, select

from manifesto.accounts.models import User
from manifesto.documents.models import Document, Section, SectionVersion
from manifesto.extensions import db


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_user(runner):
    result = runner.invoke(args=["create-user", "chair@example.org", "--name", "Chair", "--role", "admin",
                                 "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "chair@example.org"))
    assert user.role == "admin"


def test_create_user_prompts_for_password(runner):
    result = runner.invoke(args=["create-user", "p@example.org", "--name", "P"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output


def test_create_user_rejects_weak_password_and_duplicates(runner):
    weak = runner.invoke(args=["create-user", "w@example.org", "--name", "W", "--password", "short"])
    assert weak.exit_code != 0 and "at least 15" in weak.output
    runner.invoke(args=["create-user", "d@example.org", "--name", "D", "--password", "a-long-password"])
    again = runner.invoke(args=["create-user", "d@example.org", "--name", "D", "--password", "a-long-password"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_seed_demo_is_complete_and_idempotent(runner, client):
    result = runner.invoke(args=["seed-demo", "--password", "demo-password"])
    assert result.exit_code == 0, result.output
    counts = (count(User), count(Document), count(Section), count(SectionVersion))
    assert counts[0] == 5 and counts[1] == 1 and 8 <= counts[2] <= 10 and counts[3] > counts[2]
    assert runner.invoke(args=["seed-demo", "--password", "demo-password"]).exit_code == 0
    assert (count(User), count(Document), count(Section), count(SectionVersion)) == counts
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "social and solidarity economy" in page
    login = client.post("/login", data={"email": "moderator@example.org", "password": "demo-password"})
    assert login.status_code == 302


def test_set_password_lets_a_restored_account_in_again(app, runner, make_user, client):
    """An operator gives an account (e.g. restored from an archive) a new password and a real address."""
    user = make_user(email="someone@example.org")
    user.email, user.password_hash = f"user-{user.id}@archive.invalid", "!restored-from-archive"
    db.session.commit()
    result = runner.invoke(args=["set-password", f"user-{user.id}@archive.invalid", "--password",
                                 "a-new-long-password", "--new-email", "Back@Example.org"])
    assert result.exit_code == 0, result.output
    assert "New password set for back@example.org" in result.output
    response = client.post("/login", data={"email": "back@example.org", "password": "a-new-long-password"})
    assert response.status_code == 302
    result = runner.invoke(args=["set-password", "nobody@example.org", "--password", "a-new-long-password"])
    assert result.exit_code == 1 and "No account has that email address." in result.output
    result = runner.invoke(args=["set-password", "back@example.org", "--password", "short"])
    assert result.exit_code == 1 and "Traceback" not in result.output
