"""Generate a party-convention-sized event for load tests: ``flask --app manifesto seed-scale``.

Everything goes through the services, one committed transaction per call,
exactly as the web forms would: a long document with a few heavily edited
sections, hundreds of participants, thousands of amendments with supporters,
collisions and conflicts, and decisions that rebase what stays open.

The text is generated deterministically from ``random.Random(seed)``: the
same arguments give the same document, people and amendments.

Scale accounts are for load tests only: they all have the password
``scale-password``, hashed with a deliberately cheap method
(``pbkdf2:sha256:1000``) so that creating hundreds of them takes seconds.
Never run this against a production instance.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..accounts import services as accounts
from ..accounts.models import User
from ..amendments import services as amendments
from ..amendments.models import Amendment, Collision, Status
from ..documents import services as documents
from ..documents.models import Document, Phase, Section, SectionVersion
from ..discussion.models import Comment
from ..extensions import db
from ..services import ServiceError, ValidationError, utcnow
from .scale_discussion import DiscussionPlan, lose_passages, moderate, seed_discussion

SCALE_PASSWORD = "scale-password"
CHEAP_HASH = "pbkdf2:sha256:1000"
PROGRESS_EVERY = 500
# How many amendments get 0, 1, ... 6 supporters (relative weights).
SUPPORT_WEIGHTS = [15, 15, 20, 17, 13, 10, 10]

# --------------------------------------------------------------- vocabulary

AREAS: dict[str, list[str]] = {
    "Housing": ["social housing", "rent controls", "the renovation of old buildings", "housing cooperatives",
                "empty homes", "tenants' rights", "land for public housing"],
    "Public transport": ["regional rail lines", "night trains", "rural bus services", "cycling networks",
                         "public transport fares", "accessible stations", "freight by rail"],
    "Energy": ["renewable energy production", "municipal energy companies", "the electricity grid",
               "energy poverty", "home insulation", "community solar projects", "heat networks"],
    "Health": ["community health centres", "public hospitals", "mental health care", "the shortage of nurses",
               "prevention programmes", "access to medicines", "maternity wards in small towns"],
    "Education": ["public schools", "free school meals", "teacher training", "vocational education",
                  "class sizes", "adult learning", "school buildings"],
    "Work and wages": ["the minimum wage", "collective bargaining", "working time", "health and safety at work",
                       "platform workers", "equal pay", "apprenticeships"],
    "Pensions": ["public pensions", "the retirement age", "pensions for care workers", "minimum pensions",
                 "early retirement for arduous jobs", "pension funds"],
    "Agriculture": ["small farms", "organic farming", "local food chains", "farm incomes", "pesticide use",
                    "young farmers", "agricultural land"],
    "Water": ["access to clean water", "public water utilities", "river restoration", "water tariffs",
              "drought preparedness", "groundwater protection"],
    "Digital rights": ["public broadband", "personal data", "open-source software in administrations",
                       "digital skills", "algorithmic decisions", "online platforms"],
    "Culture": ["libraries and cultural centres", "artists' incomes", "public broadcasting", "local festivals",
                "heritage sites", "cultural education"],
    "Local democracy": ["participatory budgets", "citizens' assemblies", "municipal councils",
                        "local referendums", "neighbourhood committees", "public consultations"],
    "Taxation": ["wealth taxation", "tax havens", "corporate tax", "VAT on essential goods",
                 "inheritance tax", "tax administration"],
    "Climate": ["greenhouse gas emissions", "climate adaptation plans", "the carbon budget",
                "heatwave preparedness", "flood defences", "climate finance"],
    "Biodiversity": ["protected areas", "wetlands", "urban green spaces", "pollinators", "forests",
                     "ecological corridors"],
    "Equality": ["equality between women and men", "anti-discrimination law", "the gender pay gap",
                 "violence against women", "LGBTQ+ rights", "equal access to public services"],
    "Youth": ["youth unemployment", "student grants", "youth centres", "civic service", "student housing",
              "the voting age"],
    "Care": ["elderly care", "childcare places", "home care workers", "carers' leave", "care homes",
             "disability support"],
    "Research": ["public research funding", "open science", "research careers", "universities",
                 "technology transfer", "doctoral contracts"],
    "Public finance": ["public investment", "the national debt", "public procurement", "the budget process",
                       "public banks", "the stability rules"],
    "Justice": ["access to legal aid", "court delays", "prison conditions", "juvenile justice",
                "victims' support", "the independence of judges"],
    "Industry": ["industrial jobs", "steel and chemicals", "the circular economy", "repair and reuse",
                 "strategic supply chains", "industrial cooperatives"],
    "Europe": ["European cooperation", "the single market", "European social rights", "cohesion funds",
               "the European Parliament", "cross-border regions"],
    "Peace": ["arms exports", "disarmament treaties", "civilian peace services", "development aid",
              "humanitarian corridors", "the United Nations"],
    "Migration": ["the reception of refugees", "family reunification", "language courses",
                  "the recognition of qualifications", "safe and legal routes", "integration in work"],
    "Rural areas": ["village shops", "rural post offices", "doctors in rural areas", "mobile coverage",
                    "local schools in villages", "rural public services"],
}

ASPECTS = ["principles", "first measures", "financing", "local implementation", "rights and guarantees",
           "evaluation", "timetable", "public investment", "participation", "regional balance",
           "workers and unions", "transparency"]

VERBS = ["guarantee", "expand", "fund", "protect", "strengthen", "democratise", "modernise", "simplify",
         "regulate", "support", "restore", "decentralise", "open up", "rebuild", "secure", "double",
         "reorganise", "bring back into public hands"]
SUBJECTS = ["The state", "Every municipality", "Public authorities", "Regional councils", "A new public agency",
            "Our government", "Local assemblies", "The national investment fund", "Each region",
            "Public employers", "The responsible ministry", "Parliament"]
GROUPS = ["citizen", "worker", "tenant", "student", "patient", "family", "farmer", "pensioner",
          "young person", "person with a disability", "resident", "carer"]
RIGHTS = ["affordable housing", "a decent income", "free public healthcare", "lifelong learning", "clean air",
          "a secure pension", "a say in the decisions that affect them", "reliable public transport",
          "clean drinking water", "a fast internet connection", "a childcare place", "legal advice"]
GOALS = ["end energy poverty", "close the gap between regions", "cut emissions in half", "make work pay",
         "restore trust in our institutions", "protect the commons", "keep public services close to people",
         "give every child the same chances", "stop the flight from the countryside",
         "share wealth more fairly", "prepare our towns for the heat to come"]
GOAL_NOUNS = ["a fair society", "full employment", "a carbon-neutral economy", "real equality",
              "a living democracy", "strong public services", "security for every household",
              "prosperity that lasts"]
ANTI_GOALS = ["short-term profit", "austerity", "privatisation", "the logic of the market alone",
              "endless cuts", "the interests of a few shareholders", "bureaucracy for its own sake"]
MEASURES = ["a ten-year investment plan", "a binding framework law", "a public guarantee fund",
            "a permanent citizens' assembly", "a tax on windfall profits", "an independent observatory",
            "a national fund for the regions", "multi-year contracts with local authorities",
            "a public register", "an annual report to Parliament", "a right of appeal for users",
            "a dedicated budget line"]
QUALIFIERS = ["in every region", "within the first year of government", "without raising the burden on low incomes",
              "in cooperation with the trade unions", "under democratic control", "with binding climate targets",
              "for every generation", "starting with the poorest districts", "through a public investment bank",
              "with full transparency", "in rural and urban areas alike", "before the end of the legislature",
              "with the people who use them", "on the basis of clear indicators"]
CONNECTORS = ["In addition", "At the same time", "Moreover", "For this reason", "Above all", "In the long term",
              "As a first step", "In practice", "Where necessary", "Beyond that", "Concretely"]
ADJECTIVES = ["publicly owned", "renovated", "accessible to all", "powered by renewables",
              "managed democratically", "free of charge", "available locally", "fully funded"]
ADVERBS = ["progressively", "fully", "rapidly", "permanently", "substantially", "fairly", "jointly",
           "effectively", "transparently"]
SWAPS = {"guarantee": "ensure", "expand": "extend", "fund": "finance", "protect": "safeguard",
         "strengthen": "reinforce", "every": "each", "must": "shall", "will": "shall", "new": "dedicated",
         "public": "common", "local": "municipal", "clear": "measurable", "fair": "just", "rapidly": "swiftly",
         "support": "back", "first": "initial", "permanent": "standing", "binding": "enforceable",
         "national": "federal", "poorest": "most deprived", "affordable": "decent", "independent": "autonomous",
         "regions": "territories", "people": "residents", "close": "near", "least": "minimum of"}
REASONS = ["The current wording is too vague to be enforced.", "This makes the commitment measurable.",
           "Our local branch asks for a clearer timetable.", "The text should reflect the congress resolution.",
           "Rural members want their situation to be named explicitly.", "This avoids a promise we cannot fund.",
           "The trade union caucus proposes a stronger formulation.", "Simplifies the sentence without changing its meaning.",
           "Brings the section in line with the climate chapter.", "The youth organisation asks for this addition.",
           "A more precise legal term is needed here.", "Adds the missing financing side of the measure.",
           "The regional federation considers this passage redundant.", "Responds to the consultation of our members."]
FIRST_NAMES = ["Amina", "Lucas", "Sofia", "Jonas", "Chloé", "Mateo", "Ines", "Noah", "Lea", "Omar", "Elena",
               "Hugo", "Maya", "Karim", "Nora", "Pablo", "Aylin", "Tomasz", "Freya", "Yusuf", "Clara", "Malik",
               "Irene", "Bastien", "Zainab", "Jan", "Marta", "Samir", "Ana", "Victor", "Leila", "Ruben"]
LAST_NAMES = ["Diallo", "Martin", "Rossi", "Schmidt", "Dubois", "García", "Haddad", "Novak", "Jensen", "Costa",
              "Kowalski", "Lefebvre", "Moreau", "Yilmaz", "Bauer", "Fernández", "Petit", "Nielsen", "Ricci",
              "Mensah", "Laurent", "Berg", "Silva", "Bernard", "Okafor", "Fontaine", "Weber", "Lopez"]
ORGANISATIONS = [None, None, "Northern federation", "Southern federation", "Youth organisation",
                 "Trade union caucus", "Women's network", "Rural committee", "Capital city branch",
                 "Coastal branch", "Students' network", "Pensioners' group", "Green caucus"]
COUNTRIES = [None, "France", "Belgium", "Germany", "Spain", "Italy", "Portugal", "Austria", "Denmark"]


# -------------------------------------------------------------------- prose

class Prose:
    """Deterministic, varied policy prose drawn from the word lists above."""

    def __init__(self, rng: random.Random):
        """Use ``rng`` for every choice."""
        self.rng = rng

    def pick(self, items: list):
        """One item of a list."""
        return self.rng.choice(items)

    def sentence(self, area: str) -> str:
        """One sentence about ``area``, from a random template."""
        r, p = self.rng, self.pick
        obj = p(AREAS[area]) if r.random() < 0.75 else p(AREAS[p(list(AREAS))])
        template = r.randrange(12)
        if template == 0:
            return f"We will {p(VERBS)} {obj} {p(QUALIFIERS)}."
        if template == 1:
            return f"{p(SUBJECTS)} must {p(VERBS)} {obj} by {r.randint(2027, 2040)}."
        if template == 2:
            return f"Every {p(GROUPS)} shall have the right to {p(RIGHTS)}, {p(QUALIFIERS)}."
        if template == 3:
            return f"To {p(GOALS)}, we propose {p(MEASURES)} for {obj}."
        if template == 4:
            return f"{p(CONNECTORS)}, {p(SUBJECTS).lower()} will {p(VERBS)} {obj} {p(QUALIFIERS)}."
        if template == 5:
            return f"Our aim is {p(GOAL_NOUNS)}, not {p(ANTI_GOALS)}."
        if template == 6:
            return f"By {r.randint(2028, 2040)}, at least {r.randrange(20, 95, 5)} per cent of {obj} will be {p(ADJECTIVES)}."
        if template == 7:
            return f"This requires {p(MEASURES)}, {p(QUALIFIERS)}."
        if template == 8:
            return (f"{p(CONNECTORS)}, {p(MEASURES)} will make sure that {obj} remain "
                    f"{p(ADJECTIVES)} {p(QUALIFIERS)}.")
        if template == 9:
            return f"Decades of {p(ANTI_GOALS)} have weakened {obj}; we will {p(VERBS)} them {p(ADVERBS)}."
        if template == 10:
            return f"{p(SUBJECTS)} will report every year on {obj}, and the results will be public."
        return f"No {p(GROUPS)} should be left without {p(RIGHTS)}: this is the test of {p(GOAL_NOUNS)}."

    def paragraph(self, area: str, target: int) -> str:
        """Sentences about ``area`` until the paragraph is about ``target`` characters long."""
        sentences = [self.sentence(area)]
        size = len(sentences[0])
        while True:
            candidate = self.sentence(area)
            if size + len(candidate) / 2 > target:  # stop nearest the target, not always past it
                return " ".join(sentences)
            sentences.append(candidate)
            size += len(candidate) + 1

    def body(self, area: str, target: int) -> str:
        """A section body of 3 to 8 paragraphs, about ``target`` characters in all."""
        count = self.rng.randint(3, 8)
        each = max(60, target // count - 2)
        return "\n\n".join(self.paragraph(area, int(each * self.rng.uniform(0.7, 1.3))) for _ in range(count))

    def reason(self) -> str:
        """A plausible reason for a change."""
        return self.pick(REASONS)


# --------------------------------------------------------------- text edits

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _paragraphs(body: str) -> list[str]:
    """Split a body into its paragraphs."""
    return body.split("\n\n")


def _sentences(paragraph: str) -> list[str]:
    """Split a paragraph into its sentences."""
    return SENTENCE_END.split(paragraph)


@dataclass(frozen=True)
class Site:
    """Where an edit lands: a paragraph and a sentence in it."""

    paragraph: int
    sentence: int


def _replace_words(sentence: str, rng: random.Random) -> str:
    """Replace one to three words of a sentence (synonyms, or an adverb slipped in)."""
    words = sentence.split(" ")
    swappable = [i for i, w in enumerate(words) if w.strip(".,;:").lower() in SWAPS and i > 0]
    if swappable:
        for i in rng.sample(swappable, min(len(swappable), rng.randint(1, 3))):
            core = words[i].rstrip(".,;:")
            words[i] = SWAPS[core.lower()] + words[i][len(core):]
        return " ".join(words)
    i = rng.randrange(1, max(2, len(words) - 1))
    words.insert(i, rng.choice(ADVERBS))
    return " ".join(words)


def _delete_clause(sentences: list[str], index: int, rng: random.Random) -> list[str]:
    """Delete a sentence, or a few words of it when it stands alone."""
    if len(sentences) > 1:
        return sentences[:index] + sentences[index + 1:]
    words = sentences[index].split(" ")
    if len(words) < 6:
        return [sentences[index].rstrip(".") + " " + rng.choice(QUALIFIERS) + "."]
    start = rng.randrange(2, len(words) - 3)
    del words[start:start + rng.randint(1, 3)]
    return [" ".join(words)]


def modify_body(body: str, site: Site, prose: Prose, area: str) -> str:
    """Apply one small word-level edit at ``site``: replace words, add a sentence, or delete a clause."""
    rng = prose.rng
    paragraphs = _paragraphs(body)
    p = min(site.paragraph, len(paragraphs) - 1)
    sentences = _sentences(paragraphs[p])
    s = min(site.sentence, len(sentences) - 1)
    roll = rng.random()
    if roll < 0.55:
        sentences[s] = _replace_words(sentences[s], rng)
    elif roll < 0.8:
        sentences.insert(s + 1, prose.sentence(area))
    else:
        sentences = _delete_clause(sentences, s, rng)
    paragraphs[p] = " ".join(sentences)
    new = "\n\n".join(paragraphs)
    if new == body:  # a swap that changed nothing: add a sentence instead
        paragraphs[p] += " " + prose.sentence(area)
        new = "\n\n".join(paragraphs)
    return new


def edit_version_body(body: str, prose: Prose, area: str) -> str:
    """A moderator's small revision: replace a sentence, add a paragraph, or reword a few words."""
    rng = prose.rng
    paragraphs = _paragraphs(body)
    roll = rng.random()
    if roll < 0.45:
        p = rng.randrange(len(paragraphs))
        sentences = _sentences(paragraphs[p])
        sentences[rng.randrange(len(sentences))] = prose.sentence(area)
        paragraphs[p] = " ".join(sentences)
    elif roll < 0.7 or len(paragraphs) < 3:
        paragraphs.insert(rng.randint(1, len(paragraphs)), prose.paragraph(area, rng.randint(150, 400)))
    elif roll < 0.85:
        del paragraphs[rng.randrange(1, len(paragraphs))]
    else:
        p = rng.randrange(len(paragraphs))
        sentences = _sentences(paragraphs[p])
        s = rng.randrange(len(sentences))
        sentences[s] = _replace_words(sentences[s], rng)
        paragraphs[p] = " ".join(sentences)
    new = "\n\n".join(paragraphs)
    return new if new != body else new + "\n\n" + prose.paragraph(area, 200)


# ------------------------------------------------------------------ running

@dataclass
class Progress:
    """Counts service calls and prints a line every PROGRESS_EVERY of them."""

    echo: Callable[[str], None]
    started: float = field(default_factory=time.perf_counter)
    calls: int = 0

    def tick(self, phase: str, done: int, total: int) -> None:
        """Count one call; report when a multiple of PROGRESS_EVERY is reached or a phase ends."""
        self.calls += 1
        if done % PROGRESS_EVERY == 0 or done == total:
            self.echo(f"  {phase}: {done}/{total} ({self.elapsed():.1f}s, {self.calls} service calls)")

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.started


@dataclass
class Plan:
    """One amendment to propose, and the state it should end up in."""

    kind: str
    section_id: int
    author_id: int
    submit: bool
    target: str = "submitted"
    site: Site | None = None
    amendment_id: int | None = None


def _user(user_id: int) -> User:
    """Load an account for one service call, as a request loads its current user.

    The generator keeps ids, not ORM objects: every object held in the session
    is expired on every commit, and holding 800 accounts made each of the
    ~20,000 commits several times slower than the service call itself.
    """
    return db.session.get(User, user_id)


def _people(slug: str, participants: int, prose: Prose, progress: Progress) -> tuple[int, list[int], list[int]]:
    """Create (or find) the admin, the moderators and the participants of the event; return their ids."""
    rng = prose.rng
    domain = f"{slug}.example.org"
    moderators_count = max(3, participants // 100)
    specs = [("admin", f"admin@{domain}", "Convention Chair", "admin")]
    specs += [("moderator", f"moderator{i:02d}@{domain}", None, "moderator") for i in range(1, moderators_count + 1)]
    specs += [("participant", f"participant{i:04d}@{domain}", None, "participant") for i in range(1, participants + 1)]
    made: dict[str, list[int]] = {"admin": [], "moderator": [], "participant": []}
    for done, (kind, email, name, role) in enumerate(specs, start=1):
        name = name or f"{prose.pick(FIRST_NAMES)} {prose.pick(LAST_NAMES)}"
        user = accounts.get_user_by_email(email)
        if user is None:
            user = accounts.register_user(email, name, SCALE_PASSWORD, rng.choice(ORGANISATIONS),
                                          rng.choice(COUNTRIES), role=role, check_policy=False)
        made[kind].append(user.id)
        progress.tick("accounts", done, len(specs))
    return made["admin"][0], made["moderator"], made["participant"]


def _plan_states(plans: list[Plan], rng: random.Random) -> None:
    """Give each submitted amendment the state it should end in (the rest stay open)."""
    shares = [("accept", 0.10), ("accept_modified", 0.03), ("reject", 0.15), ("obsolete", 0.03),
              ("merged", 0.02), ("withdrawn", 0.05)]
    accepted_deletes = 0
    for plan in plans:
        if not plan.submit:
            plan.target = "draft"
            continue
        roll, target = rng.random(), "submitted"
        for name, share in shares:
            if roll < share:
                target = name
                break
            roll -= share
        if plan.kind == "delete" and target in ("accept", "accept_modified"):
            # Retiring a section conflicts everything open on it: keep it rare.
            target = "accept" if accepted_deletes < 2 else "reject"
            accepted_deletes += target == "accept"
        plan.target = target


def _propose(document: Document, plans: list[Plan], bodies: dict[int, tuple[str, str]], areas: dict[int, str],
             prose: Prose, progress: Progress) -> None:
    """Propose every planned amendment, on the sections' current text."""
    rng = prose.rng
    sites: dict[int, list[Site]] = {}
    for done, plan in enumerate(plans, start=1):
        heading, body = bodies[plan.section_id]
        area = areas[plan.section_id]
        new_heading = new_body = None
        if plan.kind == "modify":
            earlier = sites.setdefault(plan.section_id, [])
            if earlier and rng.random() < 0.25:
                site = rng.choice(earlier)  # deliberately the same passage as an earlier amendment
            else:
                paragraphs = _paragraphs(body)
                p = rng.randrange(len(paragraphs))
                site = Site(p, rng.randrange(len(_sentences(paragraphs[p]))))
            earlier.append(site)
            plan.site = site
            new_body = modify_body(body, site, prose, area)
            if rng.random() < 0.03:
                new_heading = f"{heading} ({rng.choice(['revised', 'and the commons', 'for all'])})"
        elif plan.kind == "insert":
            new_area = rng.choice(list(AREAS))
            new_heading = f"{new_area}: {rng.choice(ASPECTS)} (new)"
            new_body = prose.body(new_area, rng.randint(500, 1200))
        amendment = amendments.propose_amendment(
            _user(plan.author_id), document.id, kind=plan.kind, section_id=plan.section_id, heading=new_heading,
            body=new_body, reason=prose.reason(), submit=plan.submit)
        plan.amendment_id = amendment.id
        progress.tick("amendments", done, len(plans))


def _support(document: Document, plans: list[Plan], participants: list[int], rng: random.Random,
             progress: Progress) -> int:
    """Co-sign the submitted amendments: 0 to 6 supporters each, at least 2 for those to be accepted."""
    jobs = []
    for plan in plans:
        if not plan.submit:
            continue
        count = rng.choices(range(7), SUPPORT_WEIGHTS)[0]
        if plan.target in ("accept", "accept_modified"):
            count = max(2, count)
        others = [p for p in rng.sample(participants, min(len(participants), count + 1)) if p != plan.author_id]
        jobs += [(plan.amendment_id, supporter) for supporter in others[:count]]
    for done, (amendment_id, supporter) in enumerate(jobs, start=1):
        amendments.support_amendment(_user(supporter), document.id, amendment_id)
        progress.tick("supports", done, len(jobs))
    return len(jobs)


def _final_text(text: str, prose: Prose) -> str:
    """The committee's modification of a proposal: one more sentence at the end."""
    return text.rstrip() + " " + prose.sentence(prose.pick(list(AREAS)))


def _decide(document: Document, plans: list[Plan], moderators: list[int], prose: Prose,
            progress: Progress) -> Counter:
    """Bring the planned amendments into their final states, in random order; count what was refused."""
    rng = prose.rng
    jobs = [plan for plan in plans if plan.target not in ("submitted", "draft")]
    rng.shuffle(jobs)
    by_section: dict[int, list[Plan]] = {}
    for plan in plans:
        if plan.submit:
            by_section.setdefault(plan.section_id, []).append(plan)
    refused: Counter = Counter()
    for done, plan in enumerate(jobs, start=1):
        fresh = db.session.scalar(select(Amendment).where(Amendment.id == plan.amendment_id))
        try:
            if fresh.status != Status.SUBMITTED.value:  # decided meanwhile (merged into another): refused
                refused[plan.target] += 1
            elif plan.target == "withdrawn":
                amendments.withdraw_amendment(_user(plan.author_id), document.id, fresh.id, revision=fresh.revision,
                                              reason="Withdrawn after talks with the drafting committee.")
            else:
                kwargs = {}
                if plan.target == "accept_modified":
                    kwargs["final_body"] = _final_text(fresh.proposed_body or "", prose)
                if plan.target == "merged":
                    siblings = [p for p in by_section.get(plan.section_id, []) if p is not plan] or \
                               [p for p in plans if p.submit and p is not plan]
                    target = db.session.get(Amendment, rng.choice(siblings).amendment_id)
                    kwargs["merged_into"] = target.code
                amendments.decide_amendment(
                    _user(rng.choice([m for m in moderators if m != fresh.author_id])), document.id, fresh.id,
                    decision=plan.target, reason=prose.reason(), revision=fresh.revision, **kwargs)
        except ServiceError:
            refused[plan.target] += 1
        progress.tick("decisions", done, len(jobs))
    return refused


def _summary(document: Document, echo: Callable[[str], None], *, refused: Counter, supports: int,
             collisions_before: int, initial_chars: int, elapsed: float, phases: dict[str, float]) -> None:
    """Print what was built: statuses, conflicts, collisions, versions, time."""
    rows = db.session.execute(select(Amendment.status, func.count()).where(Amendment.document_id == document.id)
                              .group_by(Amendment.status)).all()
    statuses = dict(rows)
    conflicted = db.session.scalar(select(func.count()).select_from(Amendment).where(
        Amendment.document_id == document.id, Amendment.conflicted.is_(True),
        Amendment.status == Status.SUBMITTED.value))
    collisions = db.session.scalar(select(func.count()).select_from(Collision).join(
        Amendment, Amendment.id == Collision.amendment_id).where(Amendment.document_id == document.id))
    section_ids = select(Section.id).where(Section.document_id == document.id)
    versions = db.session.scalar(select(func.count()).select_from(SectionVersion)
                                 .where(SectionVersion.section_id.in_(section_ids)))
    counts = db.session.execute(select(func.count(), func.max(Section.version_count),
                                       func.count().filter(Section.version_count >= 10),
                                       func.count().filter(Section.retired_at.is_not(None)))
                                .where(Section.document_id == document.id)).one()
    chars = db.session.scalar(select(func.sum(func.length(SectionVersion.body))).select_from(Section)
                              .join(SectionVersion, SectionVersion.id == Section.current_version_id)
                              .where(Section.document_id == document.id, Section.retired_at.is_(None)))
    echo(f"Scale event ready: /d/{document.slug}/")
    echo(f"  sections: {counts[0]} ({counts[3]} retired); {initial_chars:,} characters of text at first, "
         f"{chars:,} now")
    echo(f"  versions: {versions} in all, {counts[2]} sections with 10+ versions, at most {counts[1]}")
    echo("  amendments: " + ", ".join(f"{status} {statuses.get(status.value, 0)}" for status in Status)
         + f" (total {sum(statuses.values())})")
    echo(f"  open and conflicted: {conflicted}; collision pairs: {collisions_before} before decisions, "
         f"{collisions} now; supports: {supports}")
    echo("  refused decisions: " + (", ".join(f"{k} {v}" for k, v in sorted(refused.items())) or "none")
         + f" ({sum(refused.values())} skipped)")
    echo("  phases: " + ", ".join(f"{name} {secs:.1f}s" for name, secs in phases.items()))
    echo(f"  elapsed: {elapsed:.1f}s")


def seed_scale(sections: int = 300, chars: int = 450_000, participants: int = 800, amendments: int = 3600,
               versioned_sections: int = 30, versions: int = 10, seed: int = 1, slug: str = "convention",
               comments: int = 20_000, echo: Callable[[str], None] = print) -> Document:
    """Build a convention-sized document, people and amendments through the services; return the document.

    Accounts get the password ``scale-password`` with a cheap hash (load tests only).

    :raises ValidationError: when a document with ``slug`` exists already.
    """
    if sections < 1 or participants < 2 or versions < 1:
        raise ValidationError(_("Use at least one section, two participants and one version."))
    if db.session.scalar(select(Document.id).where(Document.slug == slug)) is not None:
        raise ValidationError(_("A document with the address “%(slug)s” exists already; choose another --slug "
                                "or start from an empty database.", slug=slug), "slug")
    rng = random.Random(seed)
    prose = Prose(rng)
    progress = Progress(echo)
    phases: dict[str, float] = {}
    phase_start = progress.started
    n_amendments = amendments

    def lap(name: str) -> None:
        """Record how long the phase that just ended took."""
        nonlocal phase_start
        now = time.perf_counter()
        phases[name] = now - phase_start
        phase_start = now

    saved_method = current_app.config["PASSWORD_HASH_METHOD"]
    current_app.config["PASSWORD_HASH_METHOD"] = CHEAP_HASH
    try:
        echo(f"Seeding “{slug}”: {sections} sections, ~{chars:,} characters, {participants} participants, "
             f"{n_amendments} amendments (seed {seed})")
        admin, moderators, people = _people(slug, participants, prose, progress)
    finally:
        current_app.config["PASSWORD_HASH_METHOD"] = saved_method
    lap("accounts")

    document = documents.create_document(
        _user(admin), title="Convention programme", slug=slug,
        introduction="The programme the convention debates and amends, section by section. "
                     "*Generated for load tests.*")
    document_id = document.id
    bodies: dict[int, tuple[str, str]] = {}
    areas: dict[int, str] = {}
    area_names = list(AREAS)
    after = None
    for done in range(1, sections + 1):
        area = area_names[(done - 1) % len(area_names)]
        heading = f"{area}: {ASPECTS[((done - 1) // len(area_names)) % len(ASPECTS)]}"
        if done > len(area_names) * len(ASPECTS):
            heading += f" ({done})"
        # Aim at what is left of the budget, so the total lands near ``chars``.
        left = chars - sum(len(text) + 2 for _, text in bodies.values())
        body = prose.body(area, int(max(left, 300) / (sections - done + 1) * rng.uniform(0.6, 1.4)))
        section = documents.create_section(_user(admin), document_id, heading=heading, body=body,
                                           reason="First draft of the programme.", after_section_id=after)
        after = section.id
        bodies[section.id], areas[section.id] = (heading, body), area
        progress.tick("sections", done, sections)
    lap("sections")
    initial = dict(bodies)

    section_ids = list(bodies)
    edited = rng.sample(section_ids, min(versioned_sections, len(section_ids)))
    edits = [(sid, number) for sid in edited for number in range(2, versions + 1)]
    for done, (sid, number) in enumerate(edits, start=1):
        heading, body = bodies[sid]
        body = edit_version_body(body, prose, areas[sid])
        documents.edit_section(_user(rng.choice(moderators)), document_id, sid, heading=heading, body=body,
                               reason=prose.reason(), base_version=number - 1)
        bodies[sid] = (heading, body)
        progress.tick("versions", done, len(edits))
    lap("versions")

    documents.update_document(_user(admin), document_id, title="Convention programme", introduction=document.introduction,
                              phase=Phase.AMENDMENTS.value, amendment_deadline=utcnow() + timedelta(days=30),
                              min_supporters=2)

    # Some sections draw many more amendments than others, as in a real convention.
    weights = [rng.random() ** 2 + 0.05 for _ in section_ids]
    plans = []
    for _plan in range(n_amendments):
        roll = rng.random()
        kind = "delete" if roll < 0.03 else "insert" if roll < 0.06 else "modify"
        plans.append(Plan(kind=kind, section_id=rng.choices(section_ids, weights)[0], author_id=rng.choice(people),
                          submit=rng.random() >= 0.05))
    _plan_states(plans, rng)
    _propose(document, plans, bodies, areas, prose, progress)
    lap("amendments")

    supports = _support(document, plans, people, rng, progress)
    collisions_before = db.session.scalar(select(func.count()).select_from(Collision).join(
        Amendment, Amendment.id == Collision.amendment_id).where(Amendment.document_id == document_id))
    lap("supports")

    # Delegates discuss before the committee decides, so accepted amendments move or lose some passages.
    talk = DiscussionPlan(comments=comments)
    seed_discussion(db.session.get(Document, document_id), talk, people, moderators, rng, _user, progress.tick)
    lap("comments")

    refused = _decide(document, plans, moderators, prose, progress)
    lap("decisions")

    document = db.session.get(Document, document_id)
    lost_by_edits = lose_passages(document, moderators, rng, _user) if comments else 0
    moderated = moderate(document, talk, people, moderators, rng, _user)
    lap("moderation")
    _summary(document, echo, refused=refused, supports=supports, collisions_before=collisions_before,
             initial_chars=sum(len(body) for _, body in initial.values()), elapsed=progress.elapsed(),
             phases=phases)
    lost = db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.document_id == document.id, Comment.passage_lost.is_(True)))
    echo(f"  comments: {sum(v for k, v in talk.made.items() if k != 'refused')} "
         f"({talk.made['section']} on sections, {talk.made['passage']} on passages, {talk.made['amendment']} on "
         f"amendments, {talk.made['reply']} replies); {lost} passages lost ({lost_by_edits} sections rewritten); "
         f"{moderated['reports']} reports, {moderated['hidden']} hidden")
    return document
