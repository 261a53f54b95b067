"""Alarm rules and objectives as CSV: export what the user sees, import through the services (each row
checked by the same rules as the form; one bad row refuses the whole file, with its line number)."""

from __future__ import annotations

import csv
import io

from django.db import transaction
from django.utils.translation import gettext as _

from qms.core import policy
from qms.core.errors import DomainError
from qms.core.models import Site, User

from . import selectors, services

RULE_COLUMNS = [
    "site", "name", "kpi", "dim_key", "dim_value", "window", "window_size", "comparator", "threshold",
    "consecutive", "min_denominator", "severity", "recipient_roles", "cooldown_minutes", "action",
    "evaluate_on_event", "is_active",
]  # fmt: skip
OBJECTIVE_COLUMNS = [
    "site", "title", "kpi", "dim_key", "dim_value", "comparator", "target", "period", "year", "owner",
    "review_every_months", "escalate_after_periods",
]  # fmt: skip
KINDS = {"rules": "alarms.manage", "objectives": "objectives.manage"}  # kind -> permission to import
MAX_ROWS = 2000


def export(kind: str, user, out) -> None:
    writer = csv.writer(out)
    if kind == "rules":
        writer.writerow(RULE_COLUMNS)
        for r in selectors.rules_for(user):
            writer.writerow([r.site.code] + [getattr(r, c) for c in RULE_COLUMNS[1:]])
    else:
        writer.writerow(OBJECTIVE_COLUMNS)
        for o in selectors.objectives_for(user).select_related("owner"):
            row = [o.site.code] + [getattr(o, c) for c in OBJECTIVE_COLUMNS[1:]]
            row[OBJECTIVE_COLUMNS.index("owner")] = o.owner.username
            writer.writerow(row)


def _bool(value: str) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y", "是")


def import_rows(kind: str, user, upload) -> int:
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(_("The file is not UTF-8 text; save it as CSV UTF-8.")) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = RULE_COLUMNS if kind == "rules" else OBJECTIVE_COLUMNS
    missing = {"site", "kpi", "comparator"} - set(reader.fieldnames or [])
    if missing:
        raise DomainError(_("Columns missing: %(c)s. Expected: %(all)s.") % {"c": ", ".join(sorted(missing)),
                                                                           "all": ", ".join(columns)})  # fmt: skip
    sites = {s.code: s for s in Site.objects.filter(pk__in=policy.sites_for(user, KINDS[kind]))}
    count = 0
    with transaction.atomic():
        for line, row in enumerate(reader, start=2):
            if count >= MAX_ROWS:
                raise DomainError(_("At most %(n)s rows per file.") % {"n": MAX_ROWS})
            row = {k: (v or "").strip() for k, v in row.items() if k in columns}
            site = sites.get(row.pop("site", ""))
            try:
                if site is None:
                    raise DomainError(_("unknown site, or not one where you may import"))
                if kind == "rules":
                    for flag in ("evaluate_on_event", "is_active"):
                        if flag in row:
                            row[flag] = _bool(row[flag]) if row[flag] else flag == "is_active"
                    for num in ("window_size", "consecutive", "min_denominator", "cooldown_minutes"):
                        if row.get(num) == "":
                            row.pop(num)
                    services.alarm_rule_create(site=site, user=user, **row)
                else:
                    owner = User.objects.filter(username=row.pop("owner", "")).first()
                    for num in ("review_every_months", "escalate_after_periods"):
                        if row.get(num) == "":
                            row.pop(num)
                    services.objective_create(site=site, owner=owner, user=user, **row)
            except (DomainError, TypeError, ValueError) as exc:
                raise DomainError(_("Line %(n)s: %(e)s") % {"n": line, "e": exc}) from None
            count += 1
    return count
