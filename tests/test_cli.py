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
    assert weak.exit_code != 0 and "at least 10" in weak.output
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
