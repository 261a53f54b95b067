"""ISO 2859-1 / ANSI/ASQ Z1.4 / MIL-STD-105E single sampling by attributes, and the switching rules.

Pure module: no ORM, no Django. Everything else in the inspection app asks it:

    single_sampling_plan(lot_size, aql, level="II", severity="normal") -> SamplingPlan
    next_switching_state(state, result) -> SwitchingState

Tables (transcribed from the standard's master tables; columns are the standard AQL series 0.010 .. 1000,
rows the sample size code letters):

* Table I: sample size code letters for lot sizes, special levels S-1..S-4 and general levels I, II, III.
* Table II-A normal, II-B tightened (with the extra letter S, n = 3150), II-C reduced single sampling.
  A cell is "Ac/Re", "v" (use the first plan below the arrow), "^" (use the first plan above it) or
  "-" (no entry: only in the tightened row S, whose single plan 1/2 stands under AQL 0.025).
  The sample size is the one of the row the arrow leads to. When n reaches or exceeds the lot size, the
  whole lot is inspected (100 %) with the same acceptance and rejection numbers.
* Reduced inspection keeps the standard's gap between Ac and Re (e.g. K at 0.65: n = 50, Ac 1, Re 3):
  a lot with more than Ac but fewer than Re nonconforming items is accepted, and normal inspection is
  reinstated (``SamplingPlan.verdict`` answers "accept_reinstate_normal").

Edge cells. Three arrows of the printed tables point off the table (normal and reduced A at AQL 10 point
up from the first row; normal and reduced R at AQL 0.015 point down from the last row). They are
written here in the direction that has a plan: A at 10 down, R at 0.015 up, and the test-suite pins the
resulting plans so that a change is deliberate. In the tightened table the extra row S (n = 3150) has a
plan only under AQL 0.025, so tightened R at 0.015 has nothing below it either: it points up, to the
plan of letter Q (n = 1250, Ac 0, Re 1); tightened R and Q at 0.025 point down to S (1/2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

__all__ = [
    "AQLS",
    "LEVELS",
    "SEVERITIES",
    "LotResult",
    "SamplingPlan",
    "SamplingError",
    "SwitchingState",
    "class_sampling_plans",
    "code_letter",
    "fixed_sampling_plan",
    "hundred_percent_plan",
    "next_switching_state",
    "normalise_aql",
    "plan_for_code_letter",
    "single_sampling_plan",
    "switching_restore",
    "tighter_aql",
]


class SamplingError(ValueError):
    """A request the standard cannot answer (unknown AQL, level, severity, lot size < 1)."""


AQLS: tuple[str, ...] = tuple(
    "0.010 0.015 0.025 0.040 0.065 0.10 0.15 0.25 0.40 0.65 1.0 1.5 2.5 4.0 6.5 10 15 25 40 65 100 150 250 400 650 1000".split()
)
_AQL_BY_VALUE = {Decimal(a): a for a in AQLS}

LEVELS = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")
SEVERITIES = ("normal", "tightened", "reduced")

# Table I. Sample size code letters: upper lot size bound -> letters for S-1 S-2 S-3 S-4 I II III.
_TABLE_I = """
#  upper  S-1 S-2 S-3 S-4  I  II III
       8    A   A   A   A  A   A   B
      15    A   A   A   A  A   B   C
      25    A   A   B   B  B   C   D
      50    A   B   B   C  C   D   E
      90    B   B   C   C  C   E   F
     150    B   B   C   D  D   F   G
     280    B   C   D   E  E   G   H
     500    B   C   D   E  F   H   J
    1200    C   C   E   F  G   J   K
    3200    C   D   E   G  H   K   L
   10000    C   D   F   G  J   L   M
   35000    C   D   F   H  K   M   N
  150000    D   E   G   J  L   N   P
  500000    D   E   G   J  M   P   Q
     inf    D   E   H   K  N   Q   R
"""

_NORMAL = """
#   n    0.010 0.015 0.025 0.040 0.065 0.10 0.15  0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
A     2    v   v   v   v   v   v   v     v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31
B     3    v   v   v   v   v   v   v     v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45
C     5    v   v   v   v   v   v   v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ^
D     8    v   v   v   v   v   v   v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ^     ^
E    13    v   v   v   v   v   v   v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ^     ^     ^
F    20    v   v   v   v   v   v   v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^
G    32    v   v   v   v   v   v   v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^
H    50    v   v   v   v   v   v   v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^
J    80    v   v   v   v   v   v 0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^
K   125    v   v   v   v   v 0/1   ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L   200    v   v   v   v 0/1   ^   v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M   315    v   v   v 0/1   ^   v 1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N   500    v   v 0/1   ^   v 1/2 2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P   800    v 0/1   ^   v 1/2 2/3 3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q  1250  0/1   ^   v 1/2 2/3 3/4 5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R  2000    ^   ^ 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
"""
_TIGHTENED = """
#   n    0.010 0.015 0.025 0.040 0.065 0.10 0.15 0.25  0.40  0.65   1.0   1.5   2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
A     2    v   v   v   v   v   v   v   v     v     v     v     v     v     v     v     v     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28
B     3    v   v   v   v   v   v   v   v     v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42
C     5    v   v   v   v   v   v   v   v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42     ^
D     8    v   v   v   v   v   v   v   v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42     ^     ^
E    13    v   v   v   v   v   v   v   v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42     ^     ^     ^
F    20    v   v   v   v   v   v   v   v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^
G    32    v   v   v   v   v   v   v   v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^
H    50    v   v   v   v   v   v   v   v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^
J    80    v   v   v   v   v   v   v 0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^
K   125    v   v   v   v   v   v 0/1   v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L   200    v   v   v   v   v 0/1   v   v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M   315    v   v   v   v 0/1   v   v 1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N   500    v   v   v 0/1   v   v 1/2 2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P   800    v   v 0/1   v   v 1/2 2/3 3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q  1250    v 0/1   v   v 1/2 2/3 3/4 5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R  2000  0/1   ^   v 1/2 2/3 3/4 5/6 8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
S  3150    -   -  1/2
"""
_REDUCED = """
#   n    0.010 0.015 0.025 0.040 0.065 0.10 0.15 0.25 0.40  0.65   1.0   1.5   2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
A     2    v   v   v   v   v   v   v   v    v     v     v     v     v     v   0/1     v     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17
B     2    v   v   v   v   v   v   v   v    v     v     v     v     v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17 21/24
C     2    v   v   v   v   v   v   v   v    v     v     v     v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17 21/24     ^
D     3    v   v   v   v   v   v   v   v    v     v     v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17 21/24     ^     ^
E     5    v   v   v   v   v   v   v   v    v     v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17 21/24     ^     ^     ^
F     8    v   v   v   v   v   v   v   v    v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^
G    13    v   v   v   v   v   v   v   v  0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^
H    20    v   v   v   v   v   v   v 0/1    ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^
J    32    v   v   v   v   v   v 0/1   ^    v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^
K    50    v   v   v   v   v 0/1   ^   v  0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L    80    v   v   v   v 0/1   ^   v 0/2  1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M   125    v   v   v 0/1   ^   v 0/2 1/3  1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N   200    v   v 0/1   ^   v 0/2 1/3 1/4  2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P   315    v 0/1   ^   v 0/2 1/3 1/4 2/5  3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q   500  0/1   ^   v 0/2 1/3 1/4 2/5 3/6  5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R   800    ^   ^ 0/2 1/3 1/4 2/5 3/6 5/8 7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
"""


def _parse_table_i(text: str) -> list[tuple[float, dict[str, str]]]:
    rows = []
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        upper, *letters = line.split()
        rows.append((float(upper), dict(zip(LEVELS, letters, strict=True))))
    return rows


def _parse_master(text: str) -> tuple[list[str], dict[str, int], dict[str, list[str]]]:
    order, sizes, cells = [], {}, {}
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        letter, n, *row = line.split()
        order.append(letter)
        sizes[letter] = int(n)
        row = ["" if c == "-" else c for c in row]
        cells[letter] = row + [""] * (len(AQLS) - len(row))
    return order, sizes, cells


_CODE_LETTERS = _parse_table_i(_TABLE_I)
_MASTER = {
    "normal": _parse_master(_NORMAL),
    "tightened": _parse_master(_TIGHTENED),
    "reduced": _parse_master(_REDUCED),
}


def normalise_aql(aql) -> str:
    """'0.65', '.65', 0.65, Decimal('0.650') -> '0.65' (the column label of the standard)."""
    try:
        value = Decimal(str(aql).strip())
    except (InvalidOperation, ValueError):
        raise SamplingError(f"AQL {aql!r} is not a number") from None
    label = _AQL_BY_VALUE.get(value)
    if label is None:
        raise SamplingError(f"AQL {aql!r} is not one of the standard AQLs ({', '.join(AQLS)})")
    return label


def tighter_aql(aql) -> str | None:
    """The AQL one step tighter in the standard series (None below 0.010)."""
    index = AQLS.index(normalise_aql(aql))
    return AQLS[index - 1] if index else None


def code_letter(lot_size: int, level: str = "II") -> str:
    """Table I: the sample size code letter for a lot size at an inspection level."""
    if level not in LEVELS:
        raise SamplingError(f"Inspection level {level!r} is not one of {', '.join(LEVELS)}")
    if int(lot_size) < 1:
        raise SamplingError("The lot size must be at least 1")
    for upper, letters in _CODE_LETTERS:
        if lot_size <= upper:
            return letters[level]
    raise AssertionError("unreachable: the last row of Table I has no upper bound")


@dataclass(frozen=True)
class SamplingPlan:
    """How many pieces to inspect and the acceptance / rejection numbers for the lot."""

    lot_size: int
    sample_size: int
    accept: int
    reject: int
    code_letter: str = ""  # Table I letter for the lot size and level
    plan_code_letter: str = ""  # the letter of the plan actually used, after following the arrows
    aql: str = ""
    level: str = ""
    severity: str = "normal"
    scheme: str = "iso2859"  # iso2859 | fixed | hundred_percent | class
    hundred_percent: bool = False

    def verdict(self, nonconforming: int) -> str:
        """'accept', 'reject', or (reduced inspection, Ac < d < Re) 'accept_reinstate_normal'."""
        if nonconforming <= self.accept:
            return "accept"
        if nonconforming >= self.reject:
            return "reject"
        return "accept_reinstate_normal"

    def accepts(self, nonconforming: int) -> bool:
        return self.verdict(nonconforming) != "reject"


def _cell(severity: str, letter: str, column: int) -> tuple[str, str]:
    """Follow the arrows from (letter, column); returns (plan letter, "Ac/Re")."""
    order, _sizes, cells = _MASTER[severity]
    row = order.index(letter)
    for _ in range(len(order) + 1):
        value = cells[order[row]][column]
        if value == "v":
            row += 1
        elif value == "^":
            row -= 1
        elif value:
            return order[row], value
        else:  # blank cell (only the extra tightened row S has them): never reached by an arrow
            break
        if not 0 <= row < len(order):
            break
    raise AssertionError(f"{severity} table: no plan for {letter} at AQL {AQLS[column]}")


def plan_for_code_letter(letter: str, aql, severity: str = "normal") -> tuple[str, int, int, int]:
    """Master table lookup for a code letter: (plan letter, sample size, Ac, Re), arrows followed."""
    if severity not in SEVERITIES:
        raise SamplingError(f"Severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    plan_letter, acre = _cell(severity, letter, AQLS.index(normalise_aql(aql)))
    accept, reject = (int(x) for x in acre.split("/"))
    return plan_letter, _MASTER[severity][1][plan_letter], accept, reject


def single_sampling_plan(lot_size: int, aql, level: str = "II", severity: str = "normal") -> SamplingPlan:
    """ISO 2859-1 single sampling plan for a lot: Table I letter, master table, arrows, 100 % rule."""
    if severity not in SEVERITIES:
        raise SamplingError(f"Severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    lot_size = int(lot_size)
    label = normalise_aql(aql)
    letter = code_letter(lot_size, level)
    plan_letter, n, accept, reject = plan_for_code_letter(letter, label, severity)
    full = n >= lot_size
    return SamplingPlan(
        lot_size=lot_size,
        sample_size=lot_size if full else n,
        accept=accept,
        reject=reject,
        code_letter=letter,
        plan_code_letter=plan_letter,
        aql=label,
        level=level,
        severity=severity,
        hundred_percent=full,
    )


def fixed_sampling_plan(lot_size: int, sample_size: int, accept: int = 0) -> SamplingPlan:
    """A plan's own fixed sample size (capped at the lot size) with its acceptance number."""
    lot_size, sample_size = int(lot_size), int(sample_size)
    if sample_size < 1 or lot_size < 1:
        raise SamplingError("Lot size and sample size must be at least 1")
    full = sample_size >= lot_size
    return SamplingPlan(
        lot_size=lot_size,
        sample_size=lot_size if full else sample_size,
        accept=accept,
        reject=accept + 1,
        scheme="fixed",
        hundred_percent=full,
    )


def hundred_percent_plan(lot_size: int, accept: int = 0) -> SamplingPlan:
    lot_size = int(lot_size)
    if lot_size < 1:
        raise SamplingError("The lot size must be at least 1")
    return SamplingPlan(
        lot_size=lot_size,
        sample_size=lot_size,
        accept=accept,
        reject=accept + 1,
        scheme="hundred_percent",
        hundred_percent=True,
    )


def class_sampling_plans(
    lot_size: int, aqls: dict[str, object], level: str = "II", severity: str = "normal"
) -> dict[str, SamplingPlan]:
    """Per defect class AQLs (e.g. {"critical": None, "major": "0.65", "minor": "2.5"}).

    Each class is judged on its own plan. A class whose AQL is None or 0 accepts no defect at all: it is
    judged on the largest sample drawn for the other classes (Ac 0, Re 1). The inspector draws the largest
    sample; a class with a smaller n is judged on its first n pieces.
    """
    plans: dict[str, SamplingPlan] = {}
    zero = []
    for cls, aql in aqls.items():
        if aql in (None, "", 0, "0") or (not isinstance(aql, str) and Decimal(str(aql)) == 0):
            zero.append(cls)
        else:
            plans[cls] = single_sampling_plan(lot_size, aql, level, severity)
    if zero:
        n = max(
            (p.sample_size for p in plans.values()), default=single_sampling_plan(lot_size, "0.65", level).sample_size
        )
        for cls in zero:
            plans[cls] = SamplingPlan(
                lot_size=int(lot_size),
                sample_size=n,
                accept=0,
                reject=1,
                code_letter=code_letter(lot_size, level),
                level=level,
                severity=severity,
                scheme="class",
                hundred_percent=n >= int(lot_size),
            )
    return plans


def accept_number_at_tighter_aql(lot_size: int, aql, level: str = "II") -> int | None:
    """Ac of the normal plan one AQL step tighter, same lot and level (switching score, clause 9.3.3.2)."""
    tighter = tighter_aql(aql)
    if tighter is None:
        return None
    return single_sampling_plan(lot_size, tighter, level, "normal").accept


# ---------------------------------------------------------------------------------------------------------
# Switching rules (ISO 2859-1:1999 clause 9.3), per supplier x part.

NORMAL, TIGHTENED, REDUCED, DISCONTINUED = "normal", "tightened", "reduced", "discontinued"


@dataclass(frozen=True)
class LotResult:
    """One lot's result on original inspection (not re-submissions)."""

    accepted: bool
    acceptance_number: int = 0
    # Ac >= 2 only: would the lot also have been accepted at the AQL one step tighter?
    accepted_at_tighter_aql: bool | None = None
    # Reduced inspection: accepted with Ac < d < Re (standard's "reinstate normal").
    reinstate_normal: bool = False
    production_steady: bool = True
    # The responsible authority's standing approval of reduced inspection for this source.
    reduced_approved: bool = False
    # Reduced -> normal on the authority's decision (other conditions warrant it).
    authority_requests_normal: bool = False


@dataclass(frozen=True)
class SwitchingState:
    severity: str = NORMAL
    # Original-inspection results on normal since it began, most recent last (only the last 5 are kept).
    normal_history: tuple[bool, ...] = ()
    switching_score: int = 0
    tightened_accepted_run: int = 0  # consecutive lots accepted on tightened
    tightened_not_accepted: int = 0  # lots not accepted since tightened began
    reduced_eligible: bool = False  # score reached 30 but the authority has not approved (or production unsteady)
    changed: bool = False  # did the last step change the severity?
    cause: str = ""  # machine cause of the last change (see CAUSES)
    lots: int = 0


CAUSES = {
    "two_of_five_rejected": "2 of 5 or fewer consecutive lots not accepted on normal inspection",
    "five_accepted_on_tightened": "5 consecutive lots accepted on tightened inspection",
    "score_reached_30": "switching score reached 30, production steady, reduced approved by the authority",
    "rejected_on_reduced": "a lot was not accepted on reduced inspection",
    "reinstate_on_reduced": "Ac exceeded on reduced inspection (lot accepted, normal reinstated)",
    "irregular_production": "production irregular or delayed",
    "authority_decision": "decision of the responsible authority",
    "five_not_accepted_on_tightened": "5 lots not accepted while on tightened inspection: inspection discontinued",
    "restored": "inspection restored by the quality manager after corrective action (on tightened)",
}


def _enter(state: SwitchingState, severity: str, cause: str, **kw) -> SwitchingState:
    return replace(
        state,
        severity=severity,
        normal_history=(),
        switching_score=0,
        tightened_accepted_run=0,
        tightened_not_accepted=0,
        reduced_eligible=False,
        changed=True,
        cause=cause,
        **kw,
    )


def _score(state: SwitchingState, result: LotResult) -> int:
    if not result.accepted:
        return 0
    if result.acceptance_number >= 2:
        return state.switching_score + 3 if result.accepted_at_tighter_aql else 0
    return state.switching_score + 2


def next_switching_state(state: SwitchingState, result: LotResult) -> SwitchingState:
    """Apply one lot's original-inspection result to the switching state (clause 9.3, figure 1)."""
    state = replace(state, changed=False, cause="", lots=state.lots + 1)
    if state.severity == DISCONTINUED:
        return state  # nothing moves until the quality manager restores inspection (switching_restore)

    if state.severity == NORMAL:
        history = (state.normal_history + (result.accepted,))[-5:]
        if history.count(False) >= 2:
            return _enter(state, TIGHTENED, "two_of_five_rejected")
        score = _score(state, result)
        if score >= 30:
            if result.production_steady and result.reduced_approved:
                return _enter(state, REDUCED, "score_reached_30")
            return replace(state, normal_history=history, switching_score=score, reduced_eligible=True)
        return replace(state, normal_history=history, switching_score=score, reduced_eligible=False)

    if state.severity == TIGHTENED:
        if result.accepted:
            run = state.tightened_accepted_run + 1
            if run >= 5:
                return _enter(state, NORMAL, "five_accepted_on_tightened")
            return replace(state, tightened_accepted_run=run)
        not_accepted = state.tightened_not_accepted + 1
        if not_accepted >= 5:
            return _enter(state, DISCONTINUED, "five_not_accepted_on_tightened")
        return replace(state, tightened_accepted_run=0, tightened_not_accepted=not_accepted)

    # reduced
    if not result.accepted:
        return _enter(state, NORMAL, "rejected_on_reduced")
    if result.reinstate_normal:
        return _enter(state, NORMAL, "reinstate_on_reduced")
    if not result.production_steady:
        return _enter(state, NORMAL, "irregular_production")
    if result.authority_requests_normal:
        return _enter(state, NORMAL, "authority_decision")
    return state


def reduced_approve(state: SwitchingState) -> SwitchingState:
    """The responsible authority approves reduced inspection now (score already >= 30 on normal)."""
    if state.severity == NORMAL and state.switching_score >= 30:
        return _enter(state, REDUCED, "score_reached_30")
    return replace(state, changed=False, cause="")


def switching_restore(state: SwitchingState) -> SwitchingState:
    """Resume a discontinued source after corrective action: always on tightened inspection."""
    if state.severity != DISCONTINUED:
        return replace(state, changed=False, cause="")
    return _enter(state, TIGHTENED, "restored")
