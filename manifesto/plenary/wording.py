"""A vote's rule and result in the reader's words (the tally answers in codes and numbers)."""

from __future__ import annotations

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from .tally import Majority, Outcome, Rule, Why


def rule_text(rule: Rule) -> str:
    """How the vote is counted, in one sentence per part, for the vote page."""
    parts = [{Majority.SIMPLE: _("Simple majority: more yes than half of the votes cast."),
              Majority.ABSOLUTE: _("Absolute majority: more yes than half of the %(eligible)s eligible voters.",
                                   eligible=format_decimal(rule.eligible or 0)),
              Majority.TWO_THIRDS: _("Two thirds: yes at least two thirds of the votes cast.")}[rule.majority]]
    parts.append(_("Abstentions count among the votes cast.") if rule.abstentions_count
                 else _("Abstentions do not count among the votes cast."))
    if rule.quorum_votes:
        parts.append(ngettext("Quorum: at least %(voters)s voter.", "Quorum: at least %(voters)s voters.",
                              rule.quorum_votes, voters=format_decimal(rule.quorum_votes)))
    if rule.quorum_percent:
        parts.append(_("Quorum: at least %(percent)s%% of the %(eligible)s eligible voters.",
                       percent=rule.quorum_percent, eligible=format_decimal(rule.eligible or 0)))
    return " ".join(parts)


def why_text(outcome: Outcome) -> str:
    """Why the vote passed or not, with the numbers it rests on."""
    yes, needed = format_decimal(outcome.yes), format_decimal(outcome.needed)
    if outcome.why is Why.NO_QUORUM:
        return _("Not passed: %(participants)s took part, the quorum was %(quorum)s.",
                 participants=format_decimal(outcome.participants), quorum=format_decimal(outcome.quorum))
    if outcome.why is Why.NO_VOTES:
        return _("Not passed: no vote was cast that counts.")
    if outcome.why is Why.PASSED:
        return ngettext("Passed: %(yes)s yes, and %(needed)s was needed (%(cast)s votes cast).",
                        "Passed: %(yes)s yes, and %(needed)s were needed (%(cast)s votes cast).",
                        outcome.needed, yes=yes, needed=needed, cast=format_decimal(outcome.cast))
    return ngettext("Not passed: %(yes)s yes, but %(needed)s was needed (%(cast)s votes cast).",
                    "Not passed: %(yes)s yes, but %(needed)s were needed (%(cast)s votes cast).",
                    outcome.needed, yes=yes, needed=needed, cast=format_decimal(outcome.cast))
