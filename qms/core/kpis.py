"""The KPI registry (issue 11): every KPI is one registered definition, computed from the records.

A domain registers its KPIs in its AppConfig.ready(), as it registers its reports:

    register_kpi(Kpi(key="iqc.ppm", label=_("Incoming ppm"), definition=_("..."), unit="ppm",
                     better="lower", model="inspection.Inspection", time_field="completed_at",
                     numerator=lambda: Sum("nonconforming"), denominator=lambda: Sum("sample_size"),
                     scale=1_000_000, filters={"stage": "IQC"}, dimensions={"supplier": "supplier__code"}))

`monitoring` keeps daily roll-ups of every registered KPI (numerator and denominator per site, dimension
value and day) and reads series, objectives and alarm rules from them. A KPI is either a ratio
(`numerator / denominator * scale`), a sum (`denominator` None), or `ratio_of` two other KPIs (complaints
per million units shipped). The definitions hold ORM paths and expression factories only: the kernel
imports no domain model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# better direction
HIGHER = "higher"
LOWER = "lower"


@dataclass(frozen=True)
class Kpi:
    key: str
    label: object  # lazy translation
    definition: object  # lazy translation a quality manager can read: what is counted, over what
    unit: str  # "%", "ppm", "count", "days", "qty", "cost", "per 100"
    better: str  # HIGHER or LOWER
    model: str = ""  # "app_label.Model" of the records behind it
    time_field: str = ""  # ORM path of the date or time a record counts on
    numerator: Callable | None = None  # () -> aggregate expression (Sum, Count ...)
    denominator: Callable | None = None  # () -> aggregate expression; None: the KPI is the numerator's sum
    scale: float = 1.0
    site_field: str = "site_id"
    filters: dict = field(default_factory=dict)
    excludes: dict = field(default_factory=dict)
    # () -> a boolean expression the records must also meet, where `filters` cannot say it (a subquery)
    condition: Callable | None = None
    # dimension key -> ORM path of a readable code, or a tuple of paths (the first one set counts)
    dimensions: dict = field(default_factory=dict)
    ratio_of: tuple[str, str] | None = None  # (numerator KPI key, denominator KPI key)
    code_field: str = "code"  # shown on the drill-down list
    url_name: str = ""  # detail page of one record, reversed with the record's code_field
    part_field: str = "part"  # ORM path of the part (an alarm that opens an NCR names it)
    order: int = 100

    @property
    def unit_label(self) -> str:
        """The unit as a reader sees it, in the active language (a cost in the installation's currency)."""
        from django.conf import settings
        from django.utils.translation import gettext

        if self.unit == "cost":
            return settings.QMS_CURRENCY
        labels = {"count": gettext("count"), "qty": gettext("pcs"), "days": gettext("days"),
                  "per 100": gettext("per 100")}  # fmt: skip
        return labels.get(self.unit, self.unit)

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None or self.ratio_of is not None

    def value(self, num, den):
        """The KPI from summed numerator and denominator; None when there is nothing to divide by."""
        if not self.is_ratio:
            return float(num or 0)
        if not den:
            return None
        return float(num or 0) / float(den) * self.scale

    def meets(self, value, comparator: str, target) -> bool | None:
        if value is None:
            return None
        return COMPARATORS[comparator](float(value), float(target))


COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

# Dimensions a KPI may be cut by. "" is the whole site.
DIMENSIONS = ("", "line", "operation", "part", "supplier", "customer", "defect_code")

KPIS: dict[str, Kpi] = {}


def register_kpi(kpi: Kpi) -> None:
    for dim in kpi.dimensions:
        if dim not in DIMENSIONS:
            raise ValueError(f"KPI {kpi.key}: unknown dimension {dim!r}")
    KPIS[kpi.key] = kpi


def get_kpi(key: str) -> Kpi | None:
    return KPIS.get(key)


def kpis_sorted() -> list[Kpi]:
    return sorted(KPIS.values(), key=lambda k: (k.order, k.key))
