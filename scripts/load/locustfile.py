"""A convention day for Locust: delegates, visitors and two moderators on one ``seed-scale`` document.

Run it through ``scripts/load/run.py`` (which starts gunicorn, runs Locust
headless and prints the figures per page), or by hand::

    locust -f scripts/load/locustfile.py --headless --host http://127.0.0.1:8000 \\
        --users 200 --spawn-rate 20 --run-time 5m

The people (``flask --app manifesto seed-scale``: password ``scale-password``):

- **Delegates** (``participant0001@<slug>.example.org`` and on, one account
  each) log in through the real form: GET ``/login``, take ``csrf_token``
  from it, POST email and password. Then they read the text (with and without
  line numbers), open sections, amendments and amendment lists (filters,
  sorts, later pages), search, support amendments and comment on amendments
  and sections, each time with the CSRF token of the page they are on.
- **Visitors** only read, without an account.
- **Exactly two moderators** (``moderator01`` and ``moderator02``) open the
  list of what needs a decision, read an amendment and accept or reject it
  with a public reason.

Everyone comes from one address (the loopback address here), as a convention
hall behind one NAT does; nothing in the app may tell them apart by address.
Think times: 5-20 s between a delegate's or visitor's actions, 20-40 s
between a moderator's decisions (plus the reading before each).

Each simulated browser keeps what a real one keeps: its cookies, and the
``ETag`` of every page it has seen, which it sends back as ``If-None-Match``
(a 304 counts as a success), and it asks for compressed answers
(``Accept-Encoding: gzip, deflate, br``, Locust's default). It fetches the
stylesheet and scripts of its first page once.

Every answer outside 2xx and 3xx is an error, except the deliberate refusals
of a decision that the other moderator's work made stale: 409 (the other
moderator decided that amendment first, or a decision on the same section
moved its revision) and 400 whose page says the amendment "conflicts with a
newer version of its section" (the other moderator accepted a change to the
same passage). That is what the app must answer then; such an answer counts
as a success and the runner tallies it as an expected refusal. A support of one's own amendment or a second support
answers with a redirect and a message, so it is a 3xx anyway.

Requests are named by page kind (``name=``), so the figures are per page.
With ``LOAD_LOG_DIR`` set, every request is also written to a CSV file there
(one per Locust process) with its start time, so the runner can cut out the
ramp-up and report the steady state.

Settings (environment): ``LOAD_SLUG`` (default ``convention``),
``LOAD_PASSWORD`` (``scale-password``), ``LOAD_PARTICIPANTS`` (800),
``LOAD_PROCESSES`` (1; the number of Locust processes, so each takes other
accounts), ``LOAD_BROWSER_CACHE`` (1: send ``If-None-Match``; 0: never),
``LOAD_LOG_DIR`` (unset: no per-request log), ``LOAD_WRITES`` (1: every
support or comment task posts; 0.25: a quarter of them do, the others stop
after reading the page; the moderators decide all the same).
"""

from __future__ import annotations

import csv
import html
import itertools
import os
import random
import re
import threading
import time

from locust import FastHttpUser, between, events, task

SLUG = os.environ.get("LOAD_SLUG", "convention")
PASSWORD = os.environ.get("LOAD_PASSWORD", "scale-password")
DOMAIN = f"{SLUG}.example.org"
PARTICIPANTS = int(os.environ.get("LOAD_PARTICIPANTS", "800"))
PROCESSES = max(1, int(os.environ.get("LOAD_PROCESSES", "1")))
BROWSER_CACHE = os.environ.get("LOAD_BROWSER_CACHE", "1") != "0"
LOG_DIR = os.environ.get("LOAD_LOG_DIR")
# The share of delegates' supports and comments that are sent (the rest stop after reading the page): 1 by default.
WRITES = float(os.environ.get("LOAD_WRITES", "1"))
BASE = f"/d/{SLUG}"
# Bodies up to this size are kept with their ETag, so a 304 still lets the browser read the page's links.
KEEP_BODY_BELOW = 256 * 1024

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SECTION_LINK = re.compile(rf'href="{re.escape(BASE)}/sections/(\d+)"')
AMENDMENT_LINK = re.compile(rf'class="a-title"><a href="{re.escape(BASE)}/amendments/(\d+)"')
DECIDE_FORM = re.compile(r'action="[^"]*/decide[^"]*"[^>]*>(.*?)</form>', re.S)
REVISION = re.compile(r'name="revision"[^>]*value="(\d*)"')
STATIC = re.compile(r'(?:href|src)="(/static/[^"]+)"')
LAST_PAGE = re.compile(r'[?&]page=(\d+)')

# A decision the other moderator made stale (see the module docstring): status -> words of its page.
STALE_DECISION = {409: "", 400: "conflicts with a newer version of its section"}
# Words delegates look for: the seed's policy vocabulary.
SEARCH_WORDS = ["housing", "rail", "pensions", "cooperatives", "climate", "water", "broadband", "nurses",
                "minimum wage", "renewable energy", "childcare", "public investment", "refugees", "libraries",
                "tax havens", "farmers", "heat networks", "citizens' assemblies", "universities", "flood"]
COMMENTS = ["I support this: our branch asked for exactly this wording.",
            "Could the committee say how this would be financed?",
            "The timetable seems too ambitious for rural areas.",
            "This is clearer than the current text. Thanks to the authors.",
            "We should keep the original sentence and add this one after it.",
            "The youth organisation discussed this last week and agrees."]
REASONS = ["The committee agrees with the proposal.", "Already covered by the section as it stands.",
           "Consistent with the resolution adopted this morning.", "Too vague to be enforced."]


class Catalogue:
    """What this Locust process has learnt of the document: sections and amendments seen in its pages.

    Shared by the users of one process, as browsers of one hall would share
    links; filled from the pages they read, so no request is spent on it.
    """

    def __init__(self):
        """Start empty."""
        self.lock = threading.Lock()
        self.sections: list[int] = []
        self.amendments: list[int] = []
        self.open_amendments: list[int] = []
        self.list_pages = 1

    def learn(self, kind: str, ids: list[str]) -> None:
        """Remember the ids of ``kind`` found in a page (sections once: the outline barely changes)."""
        if not ids:
            return
        with self.lock:
            known = getattr(self, kind)
            if kind == "sections" and known:
                return
            seen = set(known)
            known.extend(int(i) for i in ids if int(i) not in seen)
            if len(known) > 5000:  # bounded: keep the newest
                del known[:len(known) - 5000]

    def pick(self, kind: str) -> int | None:
        """A random id of ``kind``, or None before any page showed one."""
        known = getattr(self, kind)
        return random.choice(known) if known else None


CATALOGUE = Catalogue()
_accounts = itertools.count()


def _worker_index(user) -> int:
    """This Locust process's index among ``LOAD_PROCESSES`` (0 when it runs alone)."""
    return getattr(user.environment.runner, "worker_index", 0) or 0


class Browser(FastHttpUser):
    """A browser with cookies and a cache of validators; the base of every person below."""

    abstract = True

    def on_start(self):
        """Start with an empty cache."""
        self.validators: dict[str, tuple[str, str]] = {}  # url -> (etag, body kept for a 304)
        self.static_done = False
        self.token = ""

    def page(self, url: str, name: str) -> str:
        """GET a page as a browser would (sending its ETag back); return its text, the kept one on a 304."""
        headers = {}
        kept = self.validators.get(url) if BROWSER_CACHE else None
        if kept:
            headers["If-None-Match"] = kept[0]
        with self.client.get(url, name=name, headers=headers, catch_response=True) as response:
            if response.status_code == 304 and kept:
                response.success()
                text = kept[1]
            elif 200 <= response.status_code < 400:
                text = response.text or ""
                etag = response.headers.get("ETag") if BROWSER_CACHE else None
                if etag:
                    self.validators[url] = (etag, text if len(text) < KEEP_BODY_BELOW else "")
            else:
                response.failure(f"HTTP {response.status_code}")
                return ""
        found = CSRF.search(text)
        if found:
            self.token = html.unescape(found.group(1))
        if not self.static_done:
            self.static_done = True
            for asset in sorted(set(STATIC.findall(text))):
                self.client.get(asset, name="static file")
        return text

    def post(self, url: str, data: dict, name: str, expected: dict[int, str] | None = None) -> str | None:
        """POST a form with the token of the page we are on; return the redirect's target (None if refused).

        ``expected`` maps a status to words its page must contain ("" for any page) for the refusal to
        count as deliberate rather than as an error.
        """
        with self.client.post(url, data={"csrf_token": self.token, **data}, name=name, allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code in (301, 302, 303):
                response.success()
                return response.headers.get("Location")
            words = (expected or {}).get(response.status_code)
            if words is not None and words in (response.text or ""):
                response.success()  # a deliberate refusal (see the module docstring); the runner counts it
                return None
            response.failure(f"HTTP {response.status_code}")
            return None

    # ------------------------------------------------------------- reading

    def read_text(self, lines: bool = False) -> None:
        """The whole document, as most people read it."""
        if lines:
            self.page(f"{BASE}/?lines=1", "text, line numbers")
        else:
            text = self.page(f"{BASE}/", "text")
            if not CATALOGUE.sections:  # the outline once per process: scanning 700 KiB costs Locust's CPU
                CATALOGUE.learn("sections", SECTION_LINK.findall(text))

    def read_section(self) -> None:
        """One section with its history and comments."""
        section = CATALOGUE.pick("sections")
        if section is None:
            return self.read_text()
        self.page(f"{BASE}/sections/{section}", "section")

    def read_list(self) -> None:
        """A list of amendments: the default, a filter, a sort or a later page."""
        roll = random.random()
        section = CATALOGUE.pick("sections")
        if roll < 0.35:
            url, name = f"{BASE}/amendments/", "amendment list"
        elif roll < 0.55 and section:
            url, name = f"{BASE}/amendments/?status=all&section={section}", "amendment list, one section"
        elif roll < 0.70:
            order = random.choice(["support", "section", "date"])
            url, name = f"{BASE}/amendments/?status=all&sort={order}", "amendment list, sorted"
        elif roll < 0.80:
            url, name = f"{BASE}/amendments/?conflicted=1", "amendment list, conflicted"
        else:
            last = max(2, CATALOGUE.list_pages)
            url, name = f"{BASE}/amendments/?page={random.randint(2, last)}", "amendment list, later page"
        text = self.page(url, name)
        ids = AMENDMENT_LINK.findall(text)
        CATALOGUE.learn("amendments", ids)
        if name in ("amendment list", "amendment list, later page"):
            CATALOGUE.learn("open_amendments", ids)
            pages = [int(n) for n in LAST_PAGE.findall(text)]
            if pages:
                CATALOGUE.list_pages = max(CATALOGUE.list_pages, *pages)

    def read_amendment(self, side: bool = False, open_only: bool = False) -> int | None:
        """One amendment page; return its id (None before any list showed one)."""
        amendment = CATALOGUE.pick("open_amendments" if open_only else "amendments") or \
            CATALOGUE.pick("amendments")
        if amendment is None:
            self.read_list()
            return None
        if side:
            self.page(f"{BASE}/amendments/{amendment}?view=side", "amendment, side by side")
        else:
            self.page(f"{BASE}/amendments/{amendment}", "amendment")
        return amendment

    def search(self) -> None:
        """Look for a few words."""
        words = random.choice(SEARCH_WORDS)
        self.page(f"{BASE}/search?q={words.replace(' ', '+')}", "search")


class Delegate(Browser):
    """A delegate: logs in through the form, reads, supports and comments."""

    weight = 7
    wait_time = between(5, 20)

    def on_start(self):
        """Log in as the next participant account of this process."""
        super().on_start()
        number = next(_accounts) * PROCESSES + _worker_index(self)
        email = f"participant{number % PARTICIPANTS + 1:04d}@{DOMAIN}"
        self.page("/login", "login page")
        target = self.post("/login", {"email": email, "password": PASSWORD, "next": ""}, "login (POST)")
        if target:
            self.page(target, "home, after login")
        self.read_text()

    @task(6)
    def text(self):
        """Read the text."""
        self.read_text()

    @task(2)
    def text_with_lines(self):
        """Read the text with line numbers, to cite a line."""
        self.read_text(lines=True)

    @task(5)
    def section(self):
        """Open a section."""
        self.read_section()

    @task(6)
    def amendment_list(self):
        """Browse the amendments."""
        self.read_list()

    @task(6)
    def amendment(self):
        """Read an amendment."""
        self.read_amendment()

    @task(1)
    def amendment_side(self):
        """Read an amendment side by side."""
        self.read_amendment(side=True)

    @task(2)
    def search_text(self):
        """Search the document."""
        self.search()

    @task(2)
    def support(self):
        """Read an open amendment, then support it."""
        amendment = self.read_amendment(open_only=True)
        if amendment is None:
            return
        if random.random() >= WRITES:
            return  # read, and left it at that
        time.sleep(random.uniform(2, 6))  # reading before deciding to co-sign
        target = self.post(f"{BASE}/amendments/{amendment}/support", {"action": "support"}, "support (POST)")
        if target:
            self.page(target.split("#")[0], "amendment, after a write")

    @task(1)
    def comment_amendment(self):
        """Read an amendment, then comment on it."""
        amendment = self.read_amendment()
        if amendment is None:
            return
        if random.random() >= WRITES:
            return
        time.sleep(random.uniform(5, 15))  # writing the comment
        target = self.post(f"{BASE}/amendments/{amendment}/comments", {"body": random.choice(COMMENTS)},
                           "comment on an amendment (POST)")
        if target:
            self.page(target.split("#")[0], "page after a comment")

    @task(1)
    def comment_section(self):
        """Open a section, then comment on it."""
        section = CATALOGUE.pick("sections")
        if section is None:
            return self.read_text()
        self.page(f"{BASE}/sections/{section}", "section")
        if random.random() >= WRITES:
            return
        time.sleep(random.uniform(5, 15))
        target = self.post(f"{BASE}/sections/{section}/comments",
                           {"body": random.choice(COMMENTS), "quote": "", "quote_prefix": "", "quote_suffix": ""},
                           "comment on a section (POST)")
        if target:
            self.page(target.split("#")[0], "page after a comment")


class Visitor(Browser):
    """Someone without an account who only reads."""

    weight = 3
    wait_time = between(5, 20)

    def on_start(self):
        """Arrive on the text, as a shared link brings people."""
        super().on_start()
        self.read_text()

    @task(6)
    def text(self):
        """Read the text."""
        self.read_text()

    @task(1)
    def text_with_lines(self):
        """Read the text with line numbers."""
        self.read_text(lines=True)

    @task(4)
    def section(self):
        """Open a section."""
        self.read_section()

    @task(4)
    def amendment_list(self):
        """Browse the amendments."""
        self.read_list()

    @task(4)
    def amendment(self):
        """Read an amendment."""
        self.read_amendment()

    @task(1)
    def search_text(self):
        """Search the document."""
        self.search()


_moderators = itertools.count(1)


class Moderator(Browser):
    """One of exactly two moderators: opens what needs a decision, reads it, accepts or rejects it."""

    fixed_count = 2
    wait_time = between(20, 40)

    def on_start(self):
        """Log in as moderator01 or moderator02 (by order of start across the processes)."""
        super().on_start()
        number = (next(_moderators) - 1) * PROCESSES + _worker_index(self)
        email = f"moderator{number % 2 + 1:02d}@{DOMAIN}"
        self.page("/login", "login page")
        target = self.post("/login", {"email": email, "password": PASSWORD, "next": ""}, "login (POST)")
        if target:
            self.page(target, "home, after login")

    @task
    def decide(self):
        """Pick an amendment that needs a decision, read it, then accept (a third) or reject it."""
        # Without arguments a moderator's list shows what needs a decision.
        text = self.page(f"{BASE}/amendments/", "amendment list, moderator")
        ids = AMENDMENT_LINK.findall(text)
        if not ids:
            return
        amendment = random.choice(ids)
        text = self.page(f"{BASE}/amendments/{amendment}", "amendment, moderator")
        form = DECIDE_FORM.search(text)
        if not form:
            return
        revision = REVISION.search(form.group(1))
        time.sleep(random.uniform(10, 20))  # reading the amendment and its comments
        decision = "accept" if random.random() < 1 / 3 else "reject"
        target = self.post(f"{BASE}/amendments/{amendment}/decide",
                           {"decision": decision, "reason": random.choice(REASONS),
                            "revision": revision.group(1) if revision else "",
                            "final_heading": "", "final_body": "", "merged_into": ""},
                           f"decide: {decision} (POST)", expected=STALE_DECISION)
        if target:
            self.page(target.split("#")[0], "amendment, after a write")


# ---------------------------------------------------------------- the log

_log = {"writer": None, "file": None}


@events.init.add_listener
def _open_log(environment, **_kwargs):
    """Open this process's request log when ``LOAD_LOG_DIR`` asks for one."""
    if not LOG_DIR or _log["writer"] is not None:
        return
    os.makedirs(LOG_DIR, exist_ok=True)
    handle = open(os.path.join(LOG_DIR, f"requests-{os.getpid()}.csv"), "w", newline="", buffering=1)
    _log["file"], _log["writer"] = handle, csv.writer(handle)
    _log["writer"].writerow(["start", "method", "name", "ms", "status", "error", "bytes", "wire_bytes"])


@events.request.add_listener
def _log_request(request_type, name, response_time, response_length, response=None, exception=None,
                 start_time=None, **_kwargs):
    """Write one request: when it started, what it was, how long it took and how it ended."""
    writer = _log["writer"]
    if writer is None:
        return
    status = getattr(response, "status_code", 0) or 0
    wire = ""
    headers = getattr(response, "headers", None)
    if headers is not None:
        wire = headers.get("Content-Length") or ""
    writer.writerow([f"{start_time or time.time():.3f}", request_type, name, f"{response_time:.1f}", status,
                     "" if exception is None else str(exception)[:120].replace("\n", " "), response_length, wire])


@events.quitting.add_listener
def _close_log(environment, **_kwargs):
    """Flush the request log."""
    if _log["file"] is not None:
        _log["file"].close()
        _log["file"] = _log["writer"] = None
