"""ISO 2859-1 / Z1.4 tables and switching rules (pure module, no database)."""

from decimal import Decimal

import pytest

from inspection import sampling as s
from inspection.sampling import LotResult, SwitchingState, next_switching_state, single_sampling_plan

# ---------------------------------------------------------------------------------------------------------
# Table I


@pytest.mark.parametrize(
    "lot_size, expected",
    [
        # lot size: S-1 S-2 S-3 S-4 I II III
        (2, "AAAAAAB"),
        (8, "AAAAAAB"),
        (9, "AAAAABC"),
        (15, "AAAAABC"),
        (16, "AABBBCD"),
        (25, "AABBBCD"),
        (26, "ABBCCDE"),
        (50, "ABBCCDE"),
        (51, "BBCCCEF"),
        (90, "BBCCCEF"),
        (91, "BBCDDFG"),
        (150, "BBCDDFG"),
        (151, "BCDEEGH"),
        (280, "BCDEEGH"),
        (281, "BCDEFHJ"),
        (500, "BCDEFHJ"),
        (501, "CCEFGJK"),
        (1200, "CCEFGJK"),
        (1201, "CDEGHKL"),
        (3200, "CDEGHKL"),
        (3201, "CDFGJLM"),
        (10000, "CDFGJLM"),
        (10001, "CDFHKMN"),
        (35000, "CDFHKMN"),
        (35001, "DEGJLNP"),
        (150000, "DEGJLNP"),
        (150001, "DEGJMPQ"),
        (500000, "DEGJMPQ"),
        (500001, "DEHKNQR"),
        (10_000_000, "DEHKNQR"),
    ],
)
def test_code_letters_table_i(lot_size, expected):
    assert "".join(s.code_letter(lot_size, level) for level in s.LEVELS) == expected


def test_code_letter_refuses_bad_input():
    with pytest.raises(s.SamplingError):
        s.code_letter(0)
    with pytest.raises(s.SamplingError):
        s.code_letter(100, "IV")


# ---------------------------------------------------------------------------------------------------------
# Master tables. Expected values: (AQL, plan letter, n, Ac, Re) for every AQL column of one code letter.

NORMAL_K = [
    ("0.010", "Q", 1250, 0, 1),
    ("0.015", "P", 800, 0, 1),
    ("0.025", "N", 500, 0, 1),
    ("0.040", "M", 315, 0, 1),
    ("0.065", "L", 200, 0, 1),
    ("0.10", "K", 125, 0, 1),
    ("0.15", "J", 80, 0, 1),  # up arrow
    ("0.25", "L", 200, 1, 2),  # down arrow
    ("0.40", "K", 125, 1, 2),
    ("0.65", "K", 125, 2, 3),
    ("1.0", "K", 125, 3, 4),
    ("1.5", "K", 125, 5, 6),
    ("2.5", "K", 125, 7, 8),
    ("4.0", "K", 125, 10, 11),
    ("6.5", "K", 125, 14, 15),
    ("10", "K", 125, 21, 22),
    ("15", "J", 80, 21, 22),
    ("25", "H", 50, 21, 22),
    ("40", "G", 32, 21, 22),
    ("65", "F", 20, 21, 22),
    ("100", "E", 13, 21, 22),
    ("150", "E", 13, 30, 31),
    ("250", "E", 13, 44, 45),
    ("400", "D", 8, 44, 45),
    ("650", "C", 5, 44, 45),
    ("1000", "B", 3, 44, 45),
]

NORMAL_E = [
    ("0.010", "Q", 1250, 0, 1),
    ("0.015", "P", 800, 0, 1),
    ("0.025", "N", 500, 0, 1),
    ("0.040", "M", 315, 0, 1),
    ("0.065", "L", 200, 0, 1),
    ("0.10", "K", 125, 0, 1),
    ("0.15", "J", 80, 0, 1),
    ("0.25", "H", 50, 0, 1),
    ("0.40", "G", 32, 0, 1),
    ("0.65", "F", 20, 0, 1),
    ("1.0", "E", 13, 0, 1),
    ("1.5", "D", 8, 0, 1),
    ("2.5", "F", 20, 1, 2),
    ("4.0", "E", 13, 1, 2),
    ("6.5", "E", 13, 2, 3),
    ("10", "E", 13, 3, 4),
    ("15", "E", 13, 5, 6),
    ("25", "E", 13, 7, 8),
    ("40", "E", 13, 10, 11),
    ("65", "E", 13, 14, 15),
    ("100", "E", 13, 21, 22),
    ("150", "E", 13, 30, 31),
    ("250", "E", 13, 44, 45),
    ("400", "D", 8, 44, 45),
    ("650", "C", 5, 44, 45),
    ("1000", "B", 3, 44, 45),
]

NORMAL_A = [
    ("0.010", "Q", 1250, 0, 1),
    ("0.65", "F", 20, 0, 1),
    ("1.0", "E", 13, 0, 1),
    ("2.5", "C", 5, 0, 1),
    ("4.0", "B", 3, 0, 1),
    ("6.5", "A", 2, 0, 1),
    ("10", "C", 5, 1, 2),  # edge cell: read downwards
    ("15", "B", 3, 1, 2),
    ("25", "A", 2, 1, 2),
    ("40", "A", 2, 2, 3),
    ("65", "A", 2, 3, 4),
    ("100", "A", 2, 5, 6),
    ("150", "A", 2, 7, 8),
    ("250", "A", 2, 10, 11),
    ("400", "A", 2, 14, 15),
    ("650", "A", 2, 21, 22),
    ("1000", "A", 2, 30, 31),
]

NORMAL_R = [
    ("0.010", "Q", 1250, 0, 1),  # up arrow
    ("0.015", "P", 800, 0, 1),  # edge cell: read upwards
    ("0.025", "R", 2000, 1, 2),
    ("0.040", "R", 2000, 2, 3),
    ("0.065", "R", 2000, 3, 4),
    ("0.10", "R", 2000, 5, 6),
    ("0.15", "R", 2000, 7, 8),
    ("0.25", "R", 2000, 10, 11),
    ("0.40", "R", 2000, 14, 15),
    ("0.65", "R", 2000, 21, 22),
    ("1.0", "Q", 1250, 21, 22),
    ("1.5", "P", 800, 21, 22),
    ("2.5", "N", 500, 21, 22),
    ("10", "K", 125, 21, 22),
    ("1000", "B", 3, 44, 45),
]

TIGHTENED_K = [
    ("0.010", "R", 2000, 0, 1),
    ("0.015", "Q", 1250, 0, 1),
    ("0.025", "P", 800, 0, 1),
    ("0.040", "N", 500, 0, 1),
    ("0.065", "M", 315, 0, 1),
    ("0.10", "L", 200, 0, 1),
    ("0.15", "K", 125, 0, 1),
    ("0.25", "M", 315, 1, 2),  # two-cell down arrow
    ("0.40", "L", 200, 1, 2),
    ("0.65", "K", 125, 1, 2),
    ("1.0", "K", 125, 2, 3),
    ("1.5", "K", 125, 3, 4),
    ("2.5", "K", 125, 5, 6),
    ("4.0", "K", 125, 8, 9),
    ("6.5", "K", 125, 12, 13),
    ("10", "K", 125, 18, 19),
    ("15", "J", 80, 18, 19),
    ("25", "H", 50, 18, 19),
    ("40", "G", 32, 18, 19),
    ("65", "F", 20, 18, 19),
    ("100", "E", 13, 18, 19),
    ("150", "E", 13, 27, 28),
    ("250", "E", 13, 41, 42),
    ("400", "D", 8, 41, 42),
    ("650", "C", 5, 41, 42),
    ("1000", "B", 3, 41, 42),
]

TIGHTENED_EDGES = [
    # Table II-B: the S row's only plan stands under 0.025; under R at 0.015 there is nothing to point down
    # to, so the cell points up to Q's 0/1 (issue 10)
    ("R", "0.010", "R", 2000, 0, 1),
    ("R", "0.015", "Q", 1250, 0, 1),
    ("R", "0.025", "S", 3150, 1, 2),
    ("Q", "0.015", "Q", 1250, 0, 1),
    ("Q", "0.010", "R", 2000, 0, 1),
    ("R", "0.040", "R", 2000, 1, 2),
    ("Q", "0.025", "S", 3150, 1, 2),
    ("A", "10", "D", 8, 1, 2),
    ("A", "40", "A", 2, 1, 2),
    ("A", "1000", "A", 2, 27, 28),
    ("B", "6.5", "B", 3, 0, 1),
    ("G", "1.0", "J", 80, 1, 2),
    ("F", "6.5", "F", 20, 2, 3),
    ("F", "15", "F", 20, 5, 6),
]

REDUCED_K = [
    ("0.010", "Q", 500, 0, 1),
    ("0.015", "P", 315, 0, 1),
    ("0.025", "N", 200, 0, 1),
    ("0.040", "M", 125, 0, 1),
    ("0.065", "L", 80, 0, 1),
    ("0.10", "K", 50, 0, 1),
    ("0.15", "J", 32, 0, 1),
    ("0.25", "L", 80, 0, 2),
    ("0.40", "K", 50, 0, 2),
    ("0.65", "K", 50, 1, 3),
    ("1.0", "K", 50, 1, 4),
    ("1.5", "K", 50, 2, 5),
    ("2.5", "K", 50, 3, 6),
    ("4.0", "K", 50, 5, 8),
    ("6.5", "K", 50, 7, 10),
    ("10", "K", 50, 10, 13),
    ("15", "J", 32, 10, 13),
    ("100", "E", 5, 10, 13),
    ("150", "E", 5, 14, 17),
    ("250", "E", 5, 21, 24),
    ("1000", "B", 2, 21, 24),
]

REDUCED_EDGES = [
    ("A", "6.5", "A", 2, 0, 1),
    ("B", "6.5", "A", 2, 0, 1),
    ("C", "4.0", "B", 2, 0, 1),
    ("R", "0.010", "Q", 500, 0, 1),
    ("R", "0.015", "P", 315, 0, 1),
    ("R", "0.025", "R", 800, 0, 2),
    ("M", "1.0", "M", 125, 3, 6),
    ("G", "4.0", "G", 13, 1, 4),
]


def _check(letter, severity, rows):
    for aql, plan_letter, n, ac, re in rows:
        got = s.plan_for_code_letter(letter, aql, severity)
        assert got == (plan_letter, n, ac, re), f"{severity} {letter} at AQL {aql}: {got}"


def test_normal_row_k_every_aql_column():
    _check("K", "normal", NORMAL_K)


def test_normal_row_e_every_aql_column():
    _check("E", "normal", NORMAL_E)


def test_normal_first_and_last_rows():
    _check("A", "normal", NORMAL_A)
    _check("R", "normal", NORMAL_R)


def test_tightened_row_k_every_aql_column_and_edges():
    _check("K", "tightened", TIGHTENED_K)
    for letter, aql, *expected in TIGHTENED_EDGES:
        assert s.plan_for_code_letter(letter, aql, "tightened") == tuple(expected), (letter, aql)


def test_reduced_row_k_every_aql_column_and_edges():
    _check("K", "reduced", REDUCED_K)
    for letter, aql, *expected in REDUCED_EDGES:
        assert s.plan_for_code_letter(letter, aql, "reduced") == tuple(expected), (letter, aql)


@pytest.mark.parametrize(
    "letter, aql, n, ac",
    [
        # the Ac=0 diagonal of the normal table and the plans next to it
        ("A", "6.5", 2, 0),
        ("B", "4.0", 3, 0),
        ("C", "2.5", 5, 0),
        ("D", "1.5", 8, 0),
        ("F", "0.65", 20, 0),
        ("G", "0.40", 32, 0),
        ("H", "0.25", 50, 0),
        ("J", "0.15", 80, 0),
        ("L", "0.065", 200, 0),
        ("M", "0.040", 315, 0),
        ("N", "0.025", 500, 0),
        ("P", "0.015", 800, 0),
        ("Q", "0.010", 1250, 0),
        # well-known plans
        ("J", "1.0", 80, 2),
        ("J", "2.5", 80, 5),
        ("J", "4.0", 80, 7),
        ("H", "1.5", 50, 2),
        ("H", "4.0", 50, 5),
        ("G", "4.0", 32, 3),
        ("G", "6.5", 32, 5),
        ("L", "1.0", 200, 5),
        ("L", "2.5", 200, 10),
        ("M", "0.65", 315, 5),
        ("M", "1.5", 315, 10),
        ("N", "0.40", 500, 5),
        ("N", "1.0", 500, 10),
        ("P", "0.65", 800, 10),
        ("Q", "0.65", 1250, 14),
        ("D", "4.0", 13, 1),  # down arrow to E,
        ("D", "6.5", 8, 1),
        ("C", "6.5", 8, 1),  # down arrow to D,
        ("F", "2.5", 20, 1),
        ("F", "4.0", 20, 2),
        ("F", "10", 20, 5),
        ("B", "15", 3, 1),
        ("B", "25", 3, 2),
        ("H", "25", 50, 21),
        ("H", "40", 32, 21),  # up arrow to G
        ("G", "1.0", 50, 1),  # down arrow to H
    ],
)
def test_normal_table_points(letter, aql, n, ac):
    _letter, got_n, got_ac, got_re = s.plan_for_code_letter(letter, aql, "normal")
    assert (got_n, got_ac, got_re) == (n, ac, ac + 1)


@pytest.mark.parametrize("severity", s.SEVERITIES)
def test_every_cell_resolves_to_a_plan(severity):
    for letter in "ABCDEFGHJKLMNPQR":
        for aql in s.AQLS:
            _l, n, ac, re = s.plan_for_code_letter(letter, aql, severity)
            assert n >= 2 and 0 <= ac < re
            if severity != "reduced":
                assert re == ac + 1


def test_tightened_is_never_looser_than_normal_and_reduced_never_stricter():
    """Same code letter and AQL: tightened needs a bigger sample or accepts fewer; reduced the opposite."""
    for letter in "ABCDEFGHJKLMNPQR":
        for aql in s.AQLS:
            _, nn, an, _ = s.plan_for_code_letter(letter, aql, "normal")
            _, nt, at, _ = s.plan_for_code_letter(letter, aql, "tightened")
            _, nr, ar, _ = s.plan_for_code_letter(letter, aql, "reduced")
            assert nt > nn or at <= an, (letter, aql)
            assert nr <= nn, (letter, aql)


def test_single_sampling_plan_from_lot_size():
    plan = single_sampling_plan(2000, "0.65")
    assert (plan.code_letter, plan.sample_size, plan.accept, plan.reject) == ("K", 125, 2, 3)
    assert not plan.hundred_percent
    # the same lot, tightened and reduced
    assert single_sampling_plan(2000, "0.65", severity="tightened").accept == 1
    reduced = single_sampling_plan(2000, "0.65", severity="reduced")
    assert (reduced.sample_size, reduced.accept, reduced.reject) == (50, 1, 3)
    assert reduced.verdict(1) == "accept"
    assert reduced.verdict(2) == "accept_reinstate_normal"
    assert reduced.verdict(3) == "reject"
    # level I and special levels
    assert single_sampling_plan(2000, "1.0", level="I").sample_size == 50  # H
    assert single_sampling_plan(2000, "1.0", level="S-4").sample_size == 50  # G, down arrow to H
    assert single_sampling_plan(2000, "2.5", level="S-1").sample_size == 5  # C


def test_arrow_leads_to_other_sample_size():
    plan = single_sampling_plan(2000, "0.25")  # K, down arrow to L
    assert (plan.code_letter, plan.plan_code_letter, plan.sample_size, plan.accept) == ("K", "L", 200, 1)
    plan = single_sampling_plan(2000, "0.15")  # K, up arrow to J
    assert (plan.plan_code_letter, plan.sample_size, plan.accept) == ("J", 80, 0)


@pytest.mark.parametrize(
    "lot_size, aql, expected_n",
    [
        (5, "1.0", 5),
        (2, "0.65", 2),
        (10, "0.010", 10),
        (1200, "0.010", 1200),
        (1201, "0.010", 1201),
        (2000, "0.010", 1250),
    ],
)
def test_hundred_percent_when_sample_reaches_lot(lot_size, aql, expected_n):
    plan = single_sampling_plan(lot_size, aql)
    assert plan.sample_size == expected_n
    assert plan.hundred_percent == (expected_n == lot_size)


def test_aql_normalisation_and_refusals():
    assert s.normalise_aql("1") == "1.0"
    assert s.normalise_aql(Decimal("0.650")) == "0.65"
    assert s.normalise_aql(".01") == "0.010"
    assert s.tighter_aql("0.65") == "0.40"
    assert s.tighter_aql("0.010") is None
    with pytest.raises(s.SamplingError):
        s.normalise_aql("0.7")
    with pytest.raises(s.SamplingError):
        single_sampling_plan(100, "1.0", severity="strict")


def test_fixed_and_hundred_percent_and_class_schemes():
    assert s.fixed_sampling_plan(100, 5).sample_size == 5
    assert s.fixed_sampling_plan(3, 5).sample_size == 3
    assert s.hundred_percent_plan(40).sample_size == 40
    plans = s.class_sampling_plans(2000, {"critical": None, "major": "0.65", "minor": "2.5"})
    assert (plans["major"].accept, plans["minor"].accept) == (2, 7)
    assert (plans["critical"].sample_size, plans["critical"].accept, plans["critical"].reject) == (125, 0, 1)


# ---------------------------------------------------------------------------------------------------------
# Switching rules


def run(results, state=None):
    state = state or SwitchingState()
    trail = []
    for r in results:
        state = next_switching_state(state, r)
        trail.append(state)
    return state, trail


OK = LotResult(accepted=True, acceptance_number=1)
BAD = LotResult(accepted=False, acceptance_number=1)


def test_normal_to_tightened_two_of_five():
    state, trail = run([OK, BAD, OK, OK, BAD])
    assert state.severity == "tightened" and state.cause == "two_of_five_rejected"
    assert [t.severity for t in trail] == ["normal"] * 4 + ["tightened"]


def test_two_rejections_six_lots_apart_do_not_tighten():
    state, _ = run([BAD, OK, OK, OK, OK, BAD])
    assert state.severity == "normal"


def test_two_consecutive_rejections_tighten():
    state, _ = run([BAD, BAD])
    assert state.severity == "tightened"


def test_tightened_to_normal_after_five_consecutive_accepted():
    state, _ = run([BAD, BAD])
    state, trail = run([OK, OK, OK, OK], state)
    assert state.severity == "tightened"
    state, _ = run([BAD, OK, OK, OK, OK, OK], state)
    assert state.severity == "normal" and state.cause == "five_accepted_on_tightened"
    assert state.switching_score == 0 and state.normal_history == ()


def test_discontinued_after_five_not_accepted_on_tightened_and_restore_on_tightened():
    state, _ = run([BAD, BAD])  # tightened
    state, _ = run([BAD, OK, BAD, OK, BAD, BAD], state)
    assert state.severity == "tightened" and state.tightened_not_accepted == 4
    state, _ = run([BAD], state)
    assert state.severity == "discontinued" and state.cause == "five_not_accepted_on_tightened"
    # nothing moves until restored
    state, _ = run([OK] * 10, state)
    assert state.severity == "discontinued"
    state = s.switching_restore(state)
    assert state.severity == "tightened" and state.cause == "restored" and state.tightened_not_accepted == 0


def test_switching_score_ac_0_or_1_adds_2():
    state, _ = run([LotResult(accepted=True, acceptance_number=0)] * 14)
    assert state.switching_score == 28 and state.severity == "normal"
    state, _ = run([LotResult(accepted=True, acceptance_number=1)], state)
    assert state.switching_score == 30 and state.reduced_eligible and state.severity == "normal"


def test_switching_score_ac_2_or_more_needs_acceptance_at_tighter_aql():
    good = LotResult(accepted=True, acceptance_number=3, accepted_at_tighter_aql=True)
    borderline = LotResult(accepted=True, acceptance_number=3, accepted_at_tighter_aql=False)
    state, _ = run([good] * 5)
    assert state.switching_score == 15
    state, _ = run([borderline], state)
    assert state.switching_score == 0  # accepted, but not at the tighter AQL: reset
    state, _ = run([good, good, BAD], state)
    assert state.switching_score == 0


def test_normal_to_reduced_needs_score_steady_production_and_authority():
    approved = LotResult(accepted=True, acceptance_number=0, reduced_approved=True)
    state, trail = run([approved] * 15)
    assert state.severity == "reduced" and state.cause == "score_reached_30"
    assert [t.severity for t in trail].count("reduced") == 1
    # without the authority's approval the score may pass 30, inspection stays normal
    state, _ = run([LotResult(accepted=True, acceptance_number=0)] * 20)
    assert state.severity == "normal" and state.reduced_eligible and state.switching_score == 40
    state = s.reduced_approve(state)
    assert state.severity == "reduced"
    # unsteady production blocks it too
    unsteady = LotResult(accepted=True, acceptance_number=0, reduced_approved=True, production_steady=False)
    state, _ = run([unsteady] * 20)
    assert state.severity == "normal"


def test_reduced_back_to_normal():
    approved = LotResult(accepted=True, acceptance_number=0, reduced_approved=True)
    reduced, _ = run([approved] * 15)
    assert reduced.severity == "reduced"
    for result, cause in [
        (LotResult(accepted=False), "rejected_on_reduced"),
        (LotResult(accepted=True, reinstate_normal=True), "reinstate_on_reduced"),
        (LotResult(accepted=True, production_steady=False), "irregular_production"),
        (LotResult(accepted=True, authority_requests_normal=True), "authority_decision"),
    ]:
        state = next_switching_state(reduced, result)
        assert (state.severity, state.cause, state.changed) == ("normal", cause, True)
    state = next_switching_state(reduced, LotResult(accepted=True))
    assert state.severity == "reduced" and not state.changed


def test_accept_number_at_tighter_aql():
    assert s.accept_number_at_tighter_aql(2000, "2.5") == 5  # K at 1.5
    assert s.accept_number_at_tighter_aql(2000, "0.010") is None


def test_tightened_r_at_0015_is_q_not_s():
    plan = single_sampling_plan(600000, "0.015", level="III", severity="tightened")
    assert plan.code_letter == "R"
    assert (plan.plan_code_letter, plan.sample_size, plan.accept, plan.reject) == ("Q", 1250, 0, 1)


def test_tightened_row_s_has_one_plan_under_0025_and_only_r_and_q_reach_it():
    _order, sizes, cells = s._MASTER["tightened"]
    assert sizes["S"] == 3150
    assert {s.AQLS[i]: c for i, c in enumerate(cells["S"]) if c} == {"0.025": "1/2"}
    reaching = {
        (letter, aql)
        for letter in "ABCDEFGHJKLMNPQR"
        for aql in s.AQLS
        if s.plan_for_code_letter(letter, aql, "tightened")[0] == "S"
    }
    assert reaching == {("Q", "0.025"), ("R", "0.025")}
    with pytest.raises(AssertionError):  # a blank cell is never a plan
        s.plan_for_code_letter("S", "0.015", "tightened")


@pytest.mark.parametrize("severity", s.SEVERITIES)
def test_master_tables_keep_the_standard_diagonals(severity):
    """In Tables II-A/B/C one letter down and one AQL step left gives the same Ac/Re (the standard's
    diagonals): a transcription slip in any cell breaks this."""
    order, _sizes, cells = s._MASTER[severity]
    for i, letter in enumerate(order[:-1]):
        below = order[i + 1]
        for col in range(1, len(s.AQLS)):
            here, diagonal = cells[letter][col], cells[below][col - 1]
            if "/" in here and "/" in diagonal:
                assert here == diagonal, (severity, letter, s.AQLS[col], here, below, diagonal)


@pytest.mark.parametrize("severity", s.SEVERITIES)
def test_no_arrow_points_off_the_table_or_back(severity):
    order, _sizes, cells = s._MASTER[severity]
    assert "^" not in cells[order[0]]
    assert "v" not in cells[order[-1]]
    for i, letter in enumerate(order[:-1]):
        below = order[i + 1]
        for col in range(len(s.AQLS)):
            # a down arrow over an up arrow would send the reader back and forth
            assert not (cells[letter][col] == "v" and cells[below][col] == "^"), (severity, letter, s.AQLS[col])
            assert not (cells[letter][col] == "v" and cells[below][col] == ""), (severity, letter, s.AQLS[col])
