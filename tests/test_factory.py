"""The application factory, its configuration layers, and the health check."""

from __future__ import annotations

from manifesto import create_app
from manifesto.config import database_uri, env_overrides, load_or_create_secret_key


def test_test_config_overrides_defaults(app):
    assert app.testing
    assert app.config["LINE_LENGTH"] == 80
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None, "CSRF tokens must live as long as the session"


def test_default_database_is_sqlite_in_instance(tmp_path):
    assert database_uri({}, str(tmp_path)) == f"sqlite:///{tmp_path}/manifesto.sqlite"


def test_database_url_is_normalised_to_psycopg():
    assert database_uri({"DATABASE_URL": "postgres://u@h/db"}, "/x") == "postgresql+psycopg://u@h/db"
    assert database_uri({"DATABASE_URL": "postgresql://u@h/db"}, "/x") == "postgresql+psycopg://u@h/db"


def test_environment_overrides(monkeypatch):
    env = {"SECRET_KEY": "from-env", "LINE_LENGTH": "72", "SESSION_COOKIE_SECURE": "true", "UNRELATED": "x"}
    assert env_overrides(env) == {"SECRET_KEY": "from-env", "LINE_LENGTH": 72, "SESSION_COOKIE_SECURE": True}


def test_instance_config_then_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text("LINE_LENGTH = 70\nAMENDMENTS_PER_PAGE = 20\nSECRET_KEY = 'instance'\n")
    monkeypatch.setenv("MANIFESTO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LINE_LENGTH", "66")
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["AMENDMENTS_PER_PAGE"] == 20  # from instance/config.py
    assert app.config["LINE_LENGTH"] == 66  # environment beats the instance file
    assert app.config["SECRET_KEY"] == "instance"


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("MANIFESTO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"DATABASE_URL": "sqlite://"}).config["SECRET_KEY"]
    second = create_app({"DATABASE_URL": "sqlite://"}).config["SECRET_KEY"]
    assert len(first) >= 32 and first == second
    assert (tmp_path / "secret_key").read_text() == first
    assert load_or_create_secret_key(str(tmp_path)) == first


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"


def test_healthz_reports_unreachable_database(make_app):
    app = make_app(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1",
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_sqlite_runs_in_wal_with_foreign_keys(app):
    from sqlalchemy import text

    from manifesto.extensions import db

    if db.engine.dialect.name != "sqlite":
        return
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


def test_postgresql_connections_get_timeouts_keepalives_and_a_name():
    from manifesto.config import Defaults
    from manifesto.database import engine_options

    config = {name: getattr(Defaults, name) for name in dir(Defaults) if name.isupper()}
    options = engine_options("postgresql+psycopg://u@h/db", config)
    assert options["pool_pre_ping"] and options["pool_timeout"] == 5
    args = options["connect_args"]
    assert args["connect_timeout"] == 5 and args["application_name"] == "manifesto"
    assert args["options"] == "-c statement_timeout=10000 -c idle_in_transaction_session_timeout=60000"
    assert args["keepalives"] == 1 and args["tcp_user_timeout"] == 10000
    # A dead peer is noticed within the TCP timeout: idle time plus the unanswered probes.
    assert args["keepalives_idle"] + args["keepalives_interval"] * args["keepalives_count"] <= 10


def test_database_url_parameters_win_and_zero_turns_a_timeout_off():
    from manifesto.config import Defaults
    from manifesto.database import engine_options

    config = {name: getattr(Defaults, name) for name in dir(Defaults) if name.isupper()}
    config.update(DATABASE_STATEMENT_TIMEOUT=0, DATABASE_TCP_TIMEOUT=0, DATABASE_CONNECT_TIMEOUT=1)
    args = engine_options("postgresql+psycopg://u@h/db?application_name=ops", config)["connect_args"]
    assert "application_name" not in args  # the URL's own value is used
    assert args["connect_timeout"] == 2  # libpq's smallest
    assert args["options"] == "-c idle_in_transaction_session_timeout=60000"
    assert "keepalives" not in args and "tcp_user_timeout" not in args


def test_sqlite_keeps_its_busy_timeout():
    from manifesto.database import engine_options

    options = engine_options("sqlite:///x.sqlite", {"SQLITE_BUSY_TIMEOUT_MS": 15000})
    assert options["connect_args"]["timeout"] == 15


def test_timeouts_come_from_the_environment():
    env = {"DATABASE_CONNECT_TIMEOUT": "3", "DATABASE_STATEMENT_TIMEOUT": "2.5", "DATABASE_POOL_TIMEOUT": "1",
           "DATABASE_TCP_TIMEOUT": "20", "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": "0",
           "DATABASE_APPLICATION_NAME": "manifesto-eu"}
    assert env_overrides(env) == {"DATABASE_CONNECT_TIMEOUT": 3, "DATABASE_STATEMENT_TIMEOUT": 2.5,
                                  "DATABASE_POOL_TIMEOUT": 1.0, "DATABASE_TCP_TIMEOUT": 20.0,
                                  "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": 0.0,
                                  "DATABASE_APPLICATION_NAME": "manifesto-eu"}
