"""Import kinds: controlled documents' metadata and training records (history), CSV or XLSX through
qms.core.importing (every row validated first, nothing written unless all are good, size and row limits)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qms.core.codes import code_problem
from qms.core.importing import (
    Column,
    ImportKind,
    RowError,
    check_unique_in_file,
    importable_sites,
    parse_choice,
    parse_date,
    parse_int,
    require_text,
    unknown_site_error,
)
from qms.core.models import Membership, Role, User
from qms.core.registries import register_import_kind

from .models import (
    TYPE_PREFIX,
    AssessmentResult,
    Document,
    DocumentType,
    DocumentVersion,
    TrainingMethod,
    TrainingRecord,
    VersionStatus,
)


def _actor(ctx):
    from qms.core.services import system_actor

    user = ctx.get("user")
    return user if user is not None and getattr(user, "pk", None) else system_actor()


def _site(row, ctx):
    code = require_text(row, "site", 20)
    site = ctx["sites"].get(code)
    if site is None:
        raise unknown_site_error(code, ctx["sites"])
    return site


def _user(row, name, ctx, site, *, required=True):
    username = row.get(name, "").strip()
    if not username:
        if required:
            raise RowError(_("Column “%(col)s” is empty; it is required.") % {"col": name})
        return None
    user = ctx["users"].get(username.lower())
    if user is None or site.pk not in ctx["member_sites"].get(user.pk, set()):
        raise RowError(_("“%(u)s” is not an active user at site %(s)s.") % {"u": username[:60], "s": site.code})
    return user


def _users_ctx(rows, names) -> dict:
    wanted = {r.get(n, "").strip().lower() for r in rows for n in names} - {""}
    users = {u.username.lower(): u for u in User.objects.filter(is_active=True) if u.username.lower() in wanted}
    member_sites: dict[int, set] = {}
    for uid, sid in Membership.objects.filter(user__in=list(users.values()), is_active=True).values_list(
        "user_id", "site_id"
    ):
        member_sites.setdefault(uid, set()).add(sid)
    return {"users": users, "member_sites": member_sites}


class DocumentImport(ImportKind):
    name = "documents"
    label = gettext_lazy("Controlled documents (metadata)")
    perm = "documents.import"
    columns = [
        Column("site"),
        Column("type", help=gettext_lazy("manual, sop, wi, spec, form")),
        Column("title"),
        Column("owner", help=gettext_lazy("username")),
        Column("number", required=False),
        Column("review_period_months", required=False),
        Column("distribution_roles", required=False, help=gettext_lazy("roles separated by ;")),
        Column("next_review_on", required=False),
    ]

    def prepare(self, rows):
        ctx = {"sites": importable_sites(), **_users_ctx(rows, ["owner"])}
        ctx["taken"] = set(Document._base_manager.values_list("site_id", "number"))
        ctx["next"] = {}
        return ctx

    def validate_row(self, row, ctx):
        site = _site(row, ctx)
        doc_type = parse_choice(row, "type", DocumentType.choices)
        title = require_text(row, "title", 200)
        owner = _user(row, "owner", ctx, site)
        number = row.get("number", "").strip()
        if number:
            problem = code_problem(number, label=_("document number"), max_length=40)
            if problem:
                raise RowError(problem)
            if (site.pk, number) in ctx["taken"]:
                raise RowError(_("Document number %(n)s is already used at this site.") % {"n": number})
        if number:
            check_unique_in_file(ctx, (site.pk, number), number)
        roles = [r.strip() for r in row.get("distribution_roles", "").replace(",", ";").split(";") if r.strip()]
        for r in roles:
            if r not in Role.values:
                raise RowError(
                    _("“%(r)s” is not a role. Use one of: %(all)s.") % {"r": r[:40], "all": ", ".join(Role.values)}
                )
        months = parse_int(row, "review_period_months", minimum=1) or 24
        if months > 120:
            raise RowError(_("The review period is between 1 and %(n)s months.") % {"n": 120})
        return {
            "site": site,
            "doc_type": doc_type,
            "title": title,
            "owner": owner,
            "number": number,
            "review_period_months": months,
            "distribution_roles": roles,
            "next_review_on": parse_date(row, "next_review_on"),
        }

    def write(self, items, ctx):
        actor = _actor(ctx)
        taken = {n for _s, n in ctx["taken"]} | {i["number"] for i in items if i["number"]}
        written = 0
        for item in items:
            number = item.pop("number")
            if not number:
                from .services import next_document_number

                stem = f"{item['site'].code}-{TYPE_PREFIX[item['doc_type']]}-"
                number = next_document_number(item["site"], item["doc_type"])
                while number in taken:
                    number = f"{stem}{int(number[len(stem) :]) + 1:04d}"
            taken.add(number)
            Document.objects.create(number=number, created_by=actor, **item)
            written += 1
        return written


class TrainingRecordImport(ImportKind):
    name = "training_records"
    label = gettext_lazy("Training records (history)")
    perm = "documents.import"
    columns = [
        Column("site"),
        Column("user", help=gettext_lazy("username of the trainee")),
        Column("document", help=gettext_lazy("document number")),
        Column("version", help=gettext_lazy("version label")),
        Column("trained_on"),
        Column("method", required=False, help=gettext_lazy("read, instructor or imported (default)")),
        Column("trainer", required=False),
        Column("assessment", required=False, help=gettext_lazy("passed or failed")),
        Column("score", required=False),
        Column("expires_on", required=False),
    ]

    def prepare(self, rows):
        ctx = {"sites": importable_sites(), **_users_ctx(rows, ["user", "trainer"])}
        numbers = {r.get("document", "").strip() for r in rows} - {""}
        ctx["versions"] = {
            (v.document.site_id, v.document.number, v.label): v
            for v in DocumentVersion.objects.filter(document__number__in=numbers).select_related("document")
        }
        return ctx

    def validate_row(self, row, ctx):
        site = _site(row, ctx)
        trainee = _user(row, "user", ctx, site)
        number = require_text(row, "document", 40)
        label = require_text(row, "version", 20)
        version = ctx["versions"].get((site.pk, number, label))
        if version is None:
            raise RowError(
                _("Document %(n)s has no version %(v)s at site %(s)s.") % {"n": number, "v": label, "s": site.code}
            )
        if version.status in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED):
            raise RowError(
                _("Version %(v)s of %(n)s was never in force; nobody was trained on it.") % {"v": label, "n": number}
            )
        trained_on = parse_date(row, "trained_on", required=True)
        if trained_on > timezone.localdate():
            raise RowError(_("The training date %(d)s is in the future.") % {"d": trained_on})
        method = parse_choice(row, "method", TrainingMethod.choices, default=TrainingMethod.IMPORTED)
        trainer = _user(row, "trainer", ctx, site, required=False)
        if trainer is not None and trainer.pk == trainee.pk:
            raise RowError(_("A trainer does not assess their own training: another trainer records it."))
        assessment = parse_choice(
            row, "assessment", [(AssessmentResult.PASSED, "passed"), (AssessmentResult.FAILED, "failed")], default=""
        )
        if method == TrainingMethod.INSTRUCTOR and (trainer is None or not assessment):
            raise RowError(_("An instructor-led training needs its trainer and the assessment result."))
        score = row.get("score", "").strip()
        if len(score) > 20:
            raise RowError(_("The score is at most 20 characters."))
        check_unique_in_file(ctx, (trainee.pk, version.pk, trained_on), f"{trainee.username} {number} {label}")
        return {
            "site": site,
            "user": trainee,
            "document": version.document,
            "version": version,
            "method": method,
            "trained_at": timezone.make_aware(datetime.datetime.combine(trained_on, datetime.time(12))),
            "trainer": trainer,
            "assessment": assessment,
            "score": score,
            "expires_on": parse_date(row, "expires_on"),
            "notes": _("imported"),
        }

    def write(self, items, ctx):
        actor = _actor(ctx)
        from .models import TaskStatus, TrainingTask

        records = TrainingRecord.objects.bulk_create(
            [TrainingRecord(recorded_by=actor, **i) for i in items], batch_size=1000
        )
        for record in records:  # the history covers an open task on the same version
            if not record.qualifies:
                continue
            task = (
                TrainingTask.objects.select_for_update()
                .filter(user=record.user, version=record.version, status=TaskStatus.OPEN)
                .first()
            )
            if task is not None:
                task.status, task.done_at = TaskStatus.DONE, record.trained_at
                task.save(reason=_("training record imported"))
        return len(items)


for _kind in (DocumentImport(), TrainingRecordImport()):
    register_import_kind(_kind)
