"""What an operator sees: request ids, one log line per request (text or JSON), and metrics only for them.

The metrics endpoint is refused with the app's own 404 to anyone without the
token or an allowed address; the counters it shows move with what the app does.
Several gunicorn workers share their counts through files (one process per
worker is simulated by forking), and gunicorn.conf.py prepares and cleans them.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import exc

from manifesto import jobs, observability
from manifesto.services import DatabaseUnavailable, writes

from harness import count_queries

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "s3cret-scrape-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
FRESH_ID = re.compile(r"[0-9a-f]{32}")


@jobs.task("manifesto.tests.observability_fails")
def _a_job_that_fails() -> None:
    """A job that always raises, to see the failed-jobs counter move."""
    raise RuntimeError("this job fails on purpose")


@pytest.fixture
def request_log(caplog):
    """The ``manifesto.requests`` records of the test, as a function returning them."""
    caplog.set_level(logging.INFO, logger="manifesto.requests")
    return lambda: [record for record in caplog.records if record.name == "manifesto.requests"]


def scrape(client, **kwargs) -> dict[tuple[str, tuple], float]:
    """The metrics as {(sample name, sorted labels): value}, read through the endpoint with the token."""
    response = client.get("/metrics", headers=BEARER, **kwargs)
    assert response.status_code == 200
    return parse(response.get_data(as_text=True))


def parse(text: str) -> dict[tuple[str, tuple], float]:
    """Prometheus text as {(sample name, sorted labels): value}."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    """One sample's value, 0 when absent (a labelled counter appears with its first event)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# ---------------------------------------------------------------- request ids and the request line

def test_every_response_has_its_own_id_and_the_log_line_names_it(client, request_log):
    first, second = client.get("/healthz"), client.get("/healthz")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(FRESH_ID.fullmatch(i) for i in ids) and ids[0] != ids[1]
    lines = request_log()
    assert [record.request_id for record in lines] == ids
    line = lines[0]
    assert (line.method, line.route, line.status, line.cache) == ("GET", "/healthz", 200, None)
    assert line.duration_ms >= 0 and line.queries == 1


def test_the_line_names_the_route_never_the_address_or_its_query(client, document, request_log):
    client.get("/d/doc/?token=SECRET-IN-QUERY")
    client.get("/d/doc")  # the router's redirect to the address with a slash
    client.get("/notifications/unsubscribe/SECRET-TOKEN-IN-PATH")
    lines = request_log()
    assert [record.route for record in lines] == ["/d/<slug>/", "(redirect)", "/notifications/unsubscribe/<token>"]
    assert not any("SECRET" in record.getMessage() for record in lines)


def test_an_incoming_id_is_ignored_without_trusted_proxies(client):
    response = client.get("/healthz", headers={"X-Request-ID": "from-anyone-123"})
    assert FRESH_ID.fullmatch(response.headers["X-Request-ID"])


def test_behind_a_trusted_proxy_its_id_and_client_address_are_taken(make_app):
    app = make_app(TRUSTED_PROXIES=1, METRICS_ALLOW="203.0.113.7")
    client = app.test_client()
    proxy = {"environ_base": {"REMOTE_ADDR": "10.0.0.2"}}
    response = client.get("/healthz", headers={"X-Request-ID": "proxy-req.42:a/b+c=d"}, **proxy)
    assert response.headers["X-Request-ID"] == "proxy-req.42:a/b+c=d"
    # The client's address is the one the proxy saw, not the proxy's own.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}, **proxy).status_code == 200
    assert client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.1"}, **proxy).status_code == 404


@pytest.mark.parametrize("sent", ["", "x" * 129, "two words", "<script>", "naïve", 'quo"te', "semi;colon"])
def test_a_bad_incoming_id_is_replaced(make_app, sent):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    assert FRESH_ID.fullmatch(response.headers["X-Request-ID"])


def test_the_query_count_is_the_number_of_statements_the_page_ran(client, document, request_log):
    with count_queries() as health:
        client.get("/healthz")
    with count_queries() as page:
        client.get("/d/doc/")
    health_line, page_line = request_log()
    assert health_line.queries == health.count == 1
    assert page_line.queries == page.count > 1


def test_json_logs_put_one_object_per_line_with_the_request_fields(make_app, monkeypatch):
    app = make_app(LOG_FORMAT="json")
    handler = next(h for h in logging.getLogger("manifesto").handlers if isinstance(h, observability._AppLogHandler))
    stream = io.StringIO()
    monkeypatch.setattr(handler, "stream", stream)
    response = app.test_client().get("/healthz")
    logging.getLogger("manifesto.tests").warning("outside any request")
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    line = next(entry for entry in entries if entry["logger"] == "manifesto.requests")
    assert {key: line[key] for key in ("level", "method", "route", "status", "queries", "cache", "request_id")} == {
        "level": "INFO", "method": "GET", "route": "/healthz", "status": 200, "queries": 1, "cache": None,
        "request_id": response.headers["X-Request-ID"]}
    assert isinstance(line["duration_ms"], float) and line["time"].endswith("+00:00")
    other = next(entry for entry in entries if entry["logger"] == "manifesto.tests")
    assert (other["message"], other["request_id"]) == ("outside any request", "-")


def test_text_logs_carry_the_request_id(make_app, monkeypatch):
    app = make_app(LOG_FORMAT="text")
    handler = next(h for h in logging.getLogger("manifesto").handlers if isinstance(h, observability._AppLogHandler))
    stream = io.StringIO()
    monkeypatch.setattr(handler, "stream", stream)
    response = app.test_client().get("/healthz")
    assert f"[{response.headers['X-Request-ID']}] GET /healthz 200 " in stream.getvalue()


@pytest.mark.parametrize("setting", [{"LOG_FORMAT": "xml"}, {"TRUSTED_PROXIES": -1}, {"METRICS_ALLOW": "10.0.0.x"}])
def test_a_wrong_setting_fails_at_start(make_app, setting):
    with pytest.raises(ValueError):
        make_app(**setting)


# ---------------------------------------------------------------- error pages

def test_an_error_page_shows_the_request_id(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert f"Request id: {response.headers['X-Request-ID']}" in response.get_data(as_text=True)


def test_the_database_down_page_shows_the_id_and_counts_the_error(make_app):
    app = make_app(METRICS_TOKEN=TOKEN)

    @app.get("/test-database-down")
    def database_down():
        """A view whose database is too busy."""
        raise DatabaseUnavailable("busy")

    client = app.test_client()
    before = scrape(client)
    response = client.get("/test-database-down")
    assert response.status_code == 503
    assert f"Request id: {response.headers['X-Request-ID']}" in response.get_data(as_text=True)
    after = scrape(client)
    assert value(after, "manifesto_db_errors_total", kind="busy") == value(before, "manifesto_db_errors_total",
                                                                            kind="busy") + 1
    labels = {"route": "/test-database-down", "method": "GET", "status": "5xx"}
    assert value(after, "manifesto_http_requests_total", **labels) == value(before, "manifesto_http_requests_total",
                                                                            **labels) + 1


# ---------------------------------------------------------------- the metrics endpoint

@pytest.mark.parametrize("settings, headers, address", [
    ({}, {}, "127.0.0.1"),
    ({}, BEARER, "127.0.0.1"),  # no token configured: no token works
    ({"METRICS_TOKEN": TOKEN}, {}, "127.0.0.1"),
    ({"METRICS_TOKEN": TOKEN}, {"Authorization": "Bearer wrong-token"}, "127.0.0.1"),
    ({"METRICS_TOKEN": TOKEN}, {"Authorization": f"Basic {TOKEN}"}, "127.0.0.1"),
    ({"METRICS_TOKEN": TOKEN}, {"Authorization": f"Bearer {TOKEN}x"}, "127.0.0.1"),
    ({"METRICS_ALLOW": "10.1.0.0/16, 192.0.2.5"}, {}, "10.2.0.1"),
    ({"METRICS_ALLOW": "10.1.0.0/16"}, {"X-Forwarded-For": "10.1.0.9"}, "198.51.100.3"),  # no trusted proxy
])
def test_metrics_are_refused_with_the_page_of_an_unknown_address(make_app, settings, headers, address):
    client = make_app(**settings).test_client()
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert "manifesto_" not in response.get_data(as_text=True)


@pytest.mark.parametrize("settings, headers, address", [
    ({"METRICS_TOKEN": TOKEN}, BEARER, "198.51.100.3"),
    ({"METRICS_TOKEN": TOKEN}, {"Authorization": f"bearer {TOKEN}"}, "198.51.100.3"),
    ({"METRICS_ALLOW": "10.1.0.0/16, 192.0.2.5"}, {}, "10.1.200.3"),
    ({"METRICS_ALLOW": "10.1.0.0/16, 192.0.2.5"}, {}, "192.0.2.5"),
    ({"METRICS_ALLOW": "::1"}, {}, "::1"),
    ({"METRICS_TOKEN": TOKEN, "METRICS_ALLOW": "192.0.2.5"}, {}, "192.0.2.5"),
])
def test_metrics_are_served_with_the_token_or_from_an_allowed_address(make_app, settings, headers, address):
    client = make_app(**settings).test_client()
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "manifesto_http_requests_total" in response.get_data(as_text=True)
    # No session, no cookie, no cache: a scrape leaves nothing behind.
    assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "no-store"


def test_metrics_are_compressed_for_a_scraper_that_asks(make_app):
    import gzip

    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    response = client.get("/metrics", headers={**BEARER, "Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"manifesto_http_requests_total" in gzip.decompress(response.data)


def test_the_counters_move_with_requests_and_the_page_cache(make_app, document):
    client = make_app(METRICS_TOKEN=TOKEN, PAGE_CACHE="memory").test_client()
    before = scrape(client)
    client.get("/healthz")
    client.get("/d/doc/")
    client.get("/d/doc/")
    after = scrape(client)
    health = {"route": "/healthz", "method": "GET", "status": "2xx"}
    assert value(after, "manifesto_http_requests_total", **health) == \
        value(before, "manifesto_http_requests_total", **health) + 1
    assert value(after, "manifesto_http_request_duration_seconds_count", **health) == \
        value(before, "manifesto_http_request_duration_seconds_count", **health) + 1
    for outcome in ("miss", "replay"):  # a visitor's page again: replayed beneath Flask (documents/replay.py)
        assert value(after, "manifesto_page_cache_lookups_total", outcome=outcome) == \
            value(before, "manifesto_page_cache_lookups_total", outcome=outcome) + 1
    # The scrapes themselves are not requests of the app.
    assert not any(name == "manifesto_http_requests_total" and ("route", "/metrics") in labels
                   for name, labels in after)
    assert value(after, "manifesto_db_pool_size") >= 1
    assert value(after, "manifesto_db_pool_checked_out") >= 0
    assert (value(after, "manifesto_job_queue_reachable"), value(after, "manifesto_jobs_pending")) == (1, 0)
    assert value(after, "manifesto_worker_resident_memory_bytes") > 0
    assert value(after, "manifesto_page_cache_memory_bytes") > 0  # the reading page, held in memory


def test_database_retries_are_counted(make_app):
    app = make_app(METRICS_TOKEN=TOKEN)
    client = app.test_client()
    attempts = []

    @writes
    def busy_once():
        """A service that finds SQLite busy on its first attempt."""
        attempts.append(1)
        if len(attempts) == 1:
            raise exc.OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))

    before = scrape(client)
    with app.app_context():
        busy_once()
    assert len(attempts) == 2
    assert value(scrape(client), "manifesto_db_retries_total", kind="contention") == \
        value(before, "manifesto_db_retries_total", kind="contention") + 1


def test_a_read_run_again_after_a_lost_connection_is_counted(make_app):
    app = make_app(METRICS_TOKEN=TOKEN)
    runs = []

    @app.get("/test-connection-lost")
    def connection_lost_once():
        """A page whose database connection dies the first time."""
        runs.append(1)
        if len(runs) == 1:
            raise exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"),
                                       connection_invalidated=True)
        return "read again"

    client = app.test_client()
    before = scrape(client)
    assert client.get("/test-connection-lost").get_data(as_text=True) == "read again"
    assert value(scrape(client), "manifesto_db_retries_total", kind="read") == \
        value(before, "manifesto_db_retries_total", kind="read") + 1


def test_failed_jobs_are_counted_by_name(make_app, caplog):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    job = {"job": "manifesto.tests.observability_fails"}
    before = scrape(client)
    with caplog.at_level(logging.CRITICAL, logger="huey"):  # Huey logs the traceback; expected here
        jobs.enqueue(_a_job_that_fails)
    assert value(scrape(client), "manifesto_job_failures_total", **job) == \
        value(before, "manifesto_job_failures_total", **job) + 1


# ---------------------------------------------------------------- several workers

# Two "workers" forked from one app each answer a request; a scrape of the parent adds both up, as gunicorn's
# workers do through PROMETHEUS_MULTIPROC_DIR.
FORKED_WORKERS = """
import os, sys
from manifesto import create_app
from prometheus_client import multiprocess
app = create_app({"TESTING": True, "SECRET_KEY": "x", "METRICS_TOKEN": "t", "SERVER_NAME": "localhost",
                  "DATABASE_URL": "sqlite:///" + os.path.join(os.environ["MANIFESTO_INSTANCE_PATH"], "db.sqlite")})
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        app.test_client().get("/no-such-page")
        os._exit(0)
    os.waitpid(pid, 0)
    multiprocess.mark_process_dead(pid)
sys.stdout.write(app.test_client().get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_workers_add_up_their_counts_in_multiprocess_mode(tmp_path):
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "MANIFESTO_INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", FORKED_WORKERS], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    samples = parse(done.stdout)
    assert value(samples, "manifesto_http_requests_total", route="(unmatched)", method="GET", status="4xx") == 2
    # Live gauges of the finished workers are gone; the parent's own remain.
    pids = {dict(labels).get("pid") for name, labels in samples if name == "manifesto_worker_resident_memory_bytes"}
    assert len(pids) == 1


GUNICORN_CONF = """
import json, os, runpy, sys
from types import SimpleNamespace
conf = runpy.run_path("gunicorn.conf.py")
directory = conf["METRICS_DIR"]
for name in ("counter_1.db", "gauge_liveall_4242.db", "keep-me.txt"):
    open(os.path.join(directory, name), "w").close()
server = SimpleNamespace(log=SimpleNamespace(info=lambda *args: None))
conf["on_starting"](server)
after_start = sorted(os.listdir(directory))
open(os.path.join(directory, "gauge_liveall_4242.db"), "w").close()
open(os.path.join(directory, "counter_4242.db"), "w").close()
conf["child_exit"](server, SimpleNamespace(pid=4242))
after_exit = sorted(os.listdir(directory))
conf["on_exit"](server)
print(json.dumps({key: conf[key] for key in ("workers", "threads", "worker_class", "timeout", "graceful_timeout",
                                             "keepalive", "max_requests", "max_requests_jitter", "bind",
                                             "forwarded_allow_ips", "preload_app", "accesslog")}
                 | {"dir": directory, "env_dir": os.environ["PROMETHEUS_MULTIPROC_DIR"], "after_start": after_start,
                    "after_exit": after_exit, "exists": os.path.isdir(directory), "json": "logconfig_dict" in conf}))
"""


def _gunicorn_conf(**env: str) -> dict:
    """Read gunicorn.conf.py in a fresh interpreter with ``env`` and run its hooks there."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("GUNICORN_", "PROMETHEUS_", "WEB_CONCURRENCY", "PORT", "LOG_FORMAT",
                                      "MANIFESTO_MADE"))}
    done = subprocess.run([sys.executable, "-c", GUNICORN_CONF], cwd=ROOT, env={**environ, **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_gunicorn_conf_reads_the_environment_and_keeps_an_operators_metrics_directory(tmp_path):
    named = tmp_path / "metrics"
    conf = _gunicorn_conf(WEB_CONCURRENCY="3", GUNICORN_THREADS="8", GUNICORN_BIND="0.0.0.0:9000",
                          GUNICORN_MAX_REQUESTS="0", PROMETHEUS_MULTIPROC_DIR=str(named), LOG_FORMAT="json")
    assert (conf["workers"], conf["threads"], conf["worker_class"], conf["bind"]) == (3, 8, "gthread", ["0.0.0.0:9000"])
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (0, 0)
    assert conf["forwarded_allow_ips"] == "" and conf["preload_app"] is False and conf["accesslog"] is None
    assert conf["json"] is True
    # Stale metrics files are removed at start, nothing else; a dead worker's live gauges go, its counters stay.
    assert conf["after_start"] == ["keep-me.txt"]
    assert conf["after_exit"] == ["counter_4242.db", "keep-me.txt"]
    assert conf["exists"]  # the operator's directory is never removed


def test_gunicorn_conf_makes_its_own_metrics_directory_and_removes_it(tmp_path):
    conf = _gunicorn_conf()
    assert conf["workers"] == 2 * (os.cpu_count() or 1) and conf["threads"] == 4
    assert conf["dir"] == conf["env_dir"] and "manifesto-metrics-" in conf["dir"]
    assert conf["max_requests_jitter"] == conf["max_requests"] // 10 > 0
    assert not conf["exists"] and conf["json"] is False


@pytest.mark.parametrize("settings, warned", [
    ({"METRICS_ALLOW": "127.0.0.1"}, True),
    ({"METRICS_ALLOW": "::1"}, True),
    ({"METRICS_ALLOW": "127.0.0.1", "TRUSTED_PROXIES": 1}, False),
    ({"METRICS_ALLOW": "10.0.0.0/8"}, False),
])
def test_allowing_the_machines_own_address_without_trusted_proxies_is_warned_of(make_app, caplog, settings, warned):
    with caplog.at_level(logging.WARNING, logger="manifesto.observability"):
        make_app(**settings)
    assert ("a proxy on this machine would let everyone" in caplog.text) is warned
