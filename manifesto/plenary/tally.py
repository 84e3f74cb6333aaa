"""Counting a consultative vote: pure arithmetic, no Flask and no database (like ``manifesto/text/``).

The assembly sets the rule when it opens a vote; :func:`tally` applies it to
the counts and says whether the motion passed and *why*, as a structured
:class:`Outcome` the page puts into the reader's words. The definitions:

- **Votes cast** are yes plus no, plus the abstentions when the assembly
  counts them (``abstentions_count``). Counted abstentions weigh like "no"
  under the simple and two-thirds rules; uncounted ones change nothing.
- **Simple majority:** more yes than half of the votes cast (without counted
  abstentions: more yes than no).
- **Absolute majority:** more yes than half of the eligible voters, however
  many took part.
- **Two thirds:** yes at least two thirds of the votes cast.
- **Quorum:** everyone who took part counts towards it, abstentions
  included (an abstention is presence): a minimum number of voters, or a
  percentage of the eligible voters.
- Nobody voted yes or no (and no counted abstention): nothing can pass.

Each rule is put as "the yes votes needed" (``Outcome.needed``), so the page
can say "12 yes, 9 were needed"; passing is ``yes >= needed``. Integer
arithmetic throughout: no rounding decides a vote.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Majority(str, Enum):
    """The majority a motion needs."""

    SIMPLE = "simple"
    ABSOLUTE = "absolute"
    TWO_THIRDS = "two_thirds"


class Why(str, Enum):
    """Why a vote passed or not; the page words each one."""

    PASSED = "passed"  # enough yes votes, and the quorum (if any) met
    TOO_FEW_YES = "too_few_yes"  # quorum met (or none), but yes fell short of ``needed``
    NO_QUORUM = "no_quorum"  # too few took part: the counts decide nothing
    NO_VOTES = "no_votes"  # no vote was cast that counts (nobody, or only uncounted abstentions)


@dataclass(frozen=True)
class Rule:
    """What the assembly decided before voting.

    ``eligible`` is the number of people entitled to vote (needed for the
    absolute majority and for a quorum in percent). ``quorum_votes`` is a
    minimum number of voters; ``quorum_percent`` a minimum share of the
    eligible, in whole percent (1 to 100). Either, both or neither.
    """

    majority: Majority = Majority.SIMPLE
    abstentions_count: bool = False
    eligible: int | None = None
    quorum_votes: int | None = None
    quorum_percent: int | None = None

    def __post_init__(self) -> None:
        """Refuse a rule that cannot be applied (a programming error: forms and services check first)."""
        object.__setattr__(self, "majority", Majority(self.majority))
        if self.eligible is not None and self.eligible < 0:
            raise ValueError("eligible must not be negative")
        if self.majority is Majority.ABSOLUTE and self.eligible is None:
            raise ValueError("an absolute majority needs the number of eligible voters")
        if self.quorum_percent is not None and (self.eligible is None or not 0 < self.quorum_percent <= 100):
            raise ValueError("a quorum in percent needs the number of eligible voters and 1 to 100 percent")
        if self.quorum_votes is not None and self.quorum_votes < 0:
            raise ValueError("a quorum must not be negative")


@dataclass(frozen=True)
class Outcome:
    """The result: passed or not, why, and the numbers the reason rests on."""

    passed: bool
    why: Why
    yes: int
    no: int
    abstain: int
    cast: int  # the votes cast, as the rule counts them
    participants: int  # everyone who took part, abstentions included
    needed: int  # yes votes the majority needed (given the votes cast or the eligible)
    quorum: int  # voters the quorum needed (0: no quorum)


def yes_needed(rule: Rule, cast: int) -> int:
    """The fewest yes votes that make the rule's majority, given ``cast`` votes cast."""
    if rule.majority is Majority.SIMPLE:
        return cast // 2 + 1  # more than half
    if rule.majority is Majority.ABSOLUTE:
        return (rule.eligible or 0) // 2 + 1  # more than half of the eligible
    return max(1, -(-2 * cast // 3))  # at least two thirds, rounded up; never zero


def quorum_needed(rule: Rule) -> int:
    """The fewest voters (abstentions included) the quorum needs; 0 without a quorum."""
    needed = rule.quorum_votes or 0
    if rule.quorum_percent is not None:
        needed = max(needed, -(-rule.quorum_percent * (rule.eligible or 0) // 100))  # rounded up
    return needed


def tally(yes: int, no: int, abstain: int, rule: Rule) -> Outcome:
    """Apply ``rule`` to the counts: passed or not, and why.

    :raises ValueError: for a negative count.
    """
    if min(yes, no, abstain) < 0:
        raise ValueError("counts must not be negative")
    cast = yes + no + (abstain if rule.abstentions_count else 0)
    participants = yes + no + abstain
    needed, quorum = yes_needed(rule, cast), quorum_needed(rule)
    if participants < quorum:
        why = Why.NO_QUORUM
    elif cast == 0:
        why = Why.NO_VOTES
    elif yes >= needed:
        why = Why.PASSED
    else:
        why = Why.TOO_FEW_YES
    return Outcome(passed=why is Why.PASSED, why=why, yes=yes, no=no, abstain=abstain, cast=cast,
                   participants=participants, needed=needed, quorum=quorum)
