"""The vote tally on its own: majorities, abstentions, quorums, and the reason it gives (no app, no database)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manifesto.plenary.tally import Majority, Rule, Why, tally


@pytest.mark.parametrize(("counts", "rule", "passed", "why", "needed"), [
    # Simple: more yes than no; uncounted abstentions change nothing.
    ((5, 4, 10), Rule(), True, Why.PASSED, 5),
    ((4, 4, 0), Rule(), False, Why.TOO_FEW_YES, 5),
    # Counted abstentions weigh like no: 5 yes of 19 cast is no majority.
    ((5, 4, 10), Rule(abstentions_count=True), False, Why.TOO_FEW_YES, 10),
    # Absolute: more yes than half of the 20 eligible, however few voted no.
    ((10, 0, 0), Rule(majority="absolute", eligible=20), False, Why.TOO_FEW_YES, 11),
    ((11, 9, 0), Rule(majority="absolute", eligible=20), True, Why.PASSED, 11),
    # Two thirds of the votes cast: 6 of 9 is enough, 5 of 8 is not.
    ((6, 3, 0), Rule(majority="two_thirds"), True, Why.PASSED, 6),
    ((5, 3, 0), Rule(majority="two_thirds"), False, Why.TOO_FEW_YES, 6),
    ((6, 3, 1), Rule(majority="two_thirds", abstentions_count=True), False, Why.TOO_FEW_YES, 7),
    # Quorums count everyone who took part, abstentions too.
    ((3, 0, 1), Rule(quorum_votes=5), False, Why.NO_QUORUM, 2),
    ((3, 0, 2), Rule(quorum_votes=5), True, Why.PASSED, 2),
    ((3, 0, 0), Rule(eligible=10, quorum_percent=34), False, Why.NO_QUORUM, 2),
    ((3, 0, 1), Rule(eligible=10, quorum_percent=34), True, Why.PASSED, 2),
    # Nothing counted: nothing passes (only uncounted abstentions, or nobody).
    ((0, 0, 3), Rule(), False, Why.NO_VOTES, 1),
    ((0, 0, 0), Rule(majority="two_thirds"), False, Why.NO_VOTES, 1),
])
def test_the_rules_as_the_assembly_sets_them(counts, rule, passed, why, needed):
    outcome = tally(*counts, rule)
    assert (outcome.passed, outcome.why, outcome.needed) == (passed, why, needed)


@pytest.mark.parametrize("rule", [
    dict(majority="absolute"), dict(quorum_percent=50), dict(eligible=10, quorum_percent=0),
    dict(eligible=10, quorum_percent=101), dict(eligible=-1), dict(quorum_votes=-1), dict(majority="most"),
])
def test_a_rule_that_cannot_be_applied_is_refused(rule):
    with pytest.raises(ValueError):
        Rule(**rule)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        tally(-1, 0, 0, Rule())


counts = st.integers(min_value=0, max_value=2000)
rules = st.builds(Rule, majority=st.sampled_from(list(Majority)), abstentions_count=st.booleans(),
                  eligible=st.integers(min_value=0, max_value=3000),
                  quorum_votes=st.none() | st.integers(min_value=0, max_value=3000),
                  quorum_percent=st.none() | st.integers(min_value=1, max_value=100))


@settings(max_examples=300, deadline=None)
@given(yes=counts, no=counts, abstain=counts, rule=rules)
def test_the_tally_agrees_with_the_definitions_in_fractions(yes, no, abstain, rule):
    outcome = tally(yes, no, abstain, rule)
    cast = yes + no + (abstain if rule.abstentions_count else 0)
    quorum_met = (yes + no + abstain >= (rule.quorum_votes or 0)
                  and (rule.quorum_percent is None
                       or Fraction(yes + no + abstain) >= Fraction(rule.quorum_percent, 100) * rule.eligible))
    majority = {Majority.SIMPLE: Fraction(yes) > Fraction(cast, 2),
                Majority.ABSOLUTE: Fraction(yes) > Fraction(rule.eligible, 2),
                Majority.TWO_THIRDS: Fraction(yes) >= Fraction(2 * cast, 3)}[rule.majority]
    assert outcome.passed == (quorum_met and cast > 0 and majority)
    assert outcome.passed == (outcome.why is Why.PASSED)
    if outcome.why is Why.TOO_FEW_YES:
        assert yes < outcome.needed and quorum_met and cast > 0
    if outcome.why is Why.NO_QUORUM:
        assert not quorum_met and outcome.participants < outcome.quorum


@settings(max_examples=200, deadline=None)
@given(yes=counts, no=counts, abstain=counts, rule=rules)
def test_one_more_yes_never_hurts_and_one_more_no_never_helps(yes, no, abstain, rule):
    before = tally(yes, no, abstain, rule).passed
    assert tally(yes + 1, no, abstain, rule).passed >= before
    if tally(yes, no + 1, abstain, rule).passed:
        assert before or rule.quorum_votes or rule.quorum_percent  # only a quorum reached by that no could help


@settings(max_examples=200, deadline=None)
@given(yes=counts, no=counts, abstain=counts, rule=rules)
def test_needed_is_the_threshold_exactly(yes, no, abstain, rule):
    """``needed`` yes votes pass (quorum and votes cast aside) and one fewer does not."""
    outcome = tally(yes, no, abstain, rule)
    if outcome.why in (Why.PASSED, Why.TOO_FEW_YES):
        assert (yes >= outcome.needed) == outcome.passed
