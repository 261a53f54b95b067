"""Import kinds `lots` and `genealogy` (manage.py import_data lots|genealogy FILE.csv).

Validation is set-based: `prepare` loads what the rows refer to in a few queries (chunked IN lists),
`validate_row` is pure Python, `write` uses bulk_create (the audit trail records it in bulk). Imported
lots skip the receipt gate (they are history) and land in quarantine at the default site.

A row with status `released` is imported as released only in a *history import* (the option
`release_as_history`, with the importer's e-signature meaning "released"): lots released in the system the
portal replaces. Every such row needs the importer's history-release authority at its site (checked per
row, so the refusal names each line); all rows are validated before anything is written, and the lots are
then released in the same transaction through the one door `lot.release_history`
(inspection.services.lot_release_history, reached through traceability.gates), which records a release
marked "history import" with the signature. Without the option a released row is refused.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from qms.core import policy
from qms.core.importing import (
    Column,
    ImportKind,
    RowError,
    check_unique_in_file,
    codes_taken,
    importable_sites,
    parse_choice,
    parse_decimal,
    require_code,
    unknown_site_error,
)
from qms.core.models import Part, Site

from . import gates
from .models import Lot, LotLink, LotStatus
from .selectors import existing_ancestor_edges

CHUNK = 5000


def _chunks(values):
    values = list(values)
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


def default_site():
    code = getattr(settings, "QMS_DEFAULT_SITE", "")
    qs = Site.objects.filter(is_active=True)
    return (qs.filter(code=code).first() if code else None) or qs.order_by("pk").first()


def _parts_by_number() -> dict:
    """part number -> Part (the latest revision when several exist)."""
    parts = {}
    for p in Part.objects.filter(is_active=True).order_by("number", "revision"):
        parts[p.number] = p
    return parts


class LotImport(ImportKind):
    name = "lots"
    perm = "lots.import"
    page_url_name = "traceability:lot_import"
    label = _lazy("Lots")
    columns = [
        Column("code"),
        Column("part_number"),
        Column("quantity"),
        Column("supplier_code", required=False),
        Column("supplier_lot", required=False),
        Column("site", required=False),
        Column("status", required=False),
        Column("expires_on", required=False),
    ]

    def prepare(self, rows):
        from suppliers.models import Supplier

        codes = {r.get("code", "").strip() for r in rows} - {""}
        supplier_codes = {r.get("supplier_code", "").strip() for r in rows} - {""}
        sites = importable_sites()
        default = default_site()
        return {
            "existing": codes_taken(Lot, "code", codes),
            "parts": _parts_by_number(),
            "sites": sites,
            "default_site": default if default is not None and default.code in sites else None,
            "suppliers": {s.code: s for s in Supplier.objects.filter(code__in=supplier_codes)},
            "today": timezone.localdate(),
        }

    def validate_row(self, row, ctx):
        from qms.core.importing import parse_date, require_text

        code = require_code(row, "code", 60)
        check_unique_in_file(ctx, code, _("Lot %(c)s") % {"c": code})
        if code in ctx["existing"]:
            raise RowError(_("Lot %(c)s already exists. Each lot code is unique.") % {"c": code})
        number = require_text(row, "part_number", 60)
        part = ctx["parts"].get(number)
        if part is None:
            raise RowError(_("Part “%(p)s” does not exist. Import the parts first.") % {"p": number})
        quantity = parse_decimal(row, "quantity", required=True, positive=True)
        site_code = row.get("site", "").strip()
        site = ctx["sites"].get(site_code) if site_code else ctx["default_site"]
        if site is None:
            raise unknown_site_error(site_code, ctx["sites"])
        supplier_code = row.get("supplier_code", "").strip()
        supplier = None
        if supplier_code:
            supplier = ctx["suppliers"].get(supplier_code)
            if supplier is None:
                raise RowError(_("Supplier “%(s)s” does not exist.") % {"s": supplier_code})
        supplier_lot = require_code(row, "supplier_lot", 60, required=False)
        if supplier_lot and supplier is None:
            raise RowError(_("A supplier_lot needs its supplier_code."))
        status = parse_choice(row, "status", LotStatus.choices, default=LotStatus.QUARANTINE)
        if status not in (LotStatus.QUARANTINE, LotStatus.RELEASED):
            raise RowError(
                _("A lot is imported in quarantine or as released, not as “%(s)s”.") % {"s": row.get("status", "")}
            )
        if status == LotStatus.RELEASED:
            self._check_history_release(code, site, ctx)
            self._count_history_release(ctx)
        expires_on = parse_date(row, "expires_on")
        lot = Lot(
            code=code,
            part=part,
            site=site,
            supplier=supplier,
            supplier_lot_code=supplier_lot[:60],
            quantity=quantity,
            unit=part.unit,
            status=LotStatus.QUARANTINE,
            received_on=ctx["today"] if supplier else None,
            produced_on=None if supplier else ctx["today"],
            expires_on=expires_on,
        )
        return lot, status == LotStatus.RELEASED

    def _check_history_release(self, code, site, ctx) -> None:
        options = ctx.get("options") or {}
        if not options.get("release_as_history"):
            raise RowError(
                _(
                    "Lot %(c)s is marked released. Lots are imported in quarantine; to import lots released in "
                    "your previous system, choose “history import” (you sign it, and need release authority at "
                    "%(site)s), or leave the status empty and release the lot on its release page."
                )
                % {"c": code, "site": site.code}
            )
        user = ctx.get("user")
        if not policy.can_decide(user, "lot.release_history", site):
            raise RowError(
                _(
                    "Lot %(c)s is marked released, but you have no release authority at %(site)s: a history "
                    "import of released lots is signed by someone who has it there."
                )
                % {"c": code, "site": site.code}
            )
        if not ctx.get("dry_run") and options.get("credential") is None:
            raise RowError(_("Lot %(c)s is marked released: sign the history import with your password.") % {"c": code})

    def _count_history_release(self, ctx) -> None:
        """A page's request releases a bounded number (each release is signed and chained, ~15 ms); larger
        loads go through `manage.py import_data --released-as-history`, which has no request to time out."""
        limit = (ctx.get("options") or {}).get("max_history")
        ctx["history_rows"] = ctx.get("history_rows", 0) + 1
        if limit and ctx["history_rows"] == limit + 1:
            raise RowError(
                _(
                    "More than %(n)s lots are marked released: a history import from this page releases at most "
                    "%(n)s per file. Split the file, or have an administrator run `manage.py import_data lots FILE "
                    "--released-as-history --signer NAME`."
                )
                % {"n": limit}
            )

    def write(self, items, ctx):
        created = Lot.objects.bulk_create([lot for lot, _release in items], batch_size=5000)
        released = [lot for lot, (_item, release) in zip(created, items, strict=True) if release]
        if released:
            options = ctx.get("options") or {}
            gates.history_release(
                lots=released,
                user=ctx.get("user"),
                credential=options.get("credential"),
                reason=_("history import from %(file)s") % {"file": ctx.get("filename", "")},
            )
        return len(items)


def find_cycle_edges(edges) -> set[tuple[int, int]]:
    """Edges lying on a cycle of the directed graph `edges` (iterative Tarjan SCC: an edge is on a cycle
    when both ends are in the same strongly connected component)."""
    graph: dict[int, list[int]] = {}
    for p, c in edges:
        graph.setdefault(p, []).append(c)
        graph.setdefault(c, [])
    index, low, on_stack, stack, comp = {}, {}, set(), [], {}
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = graph[node]
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp[w] = node
                    if w == node:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return {(p, c) for p, c in edges if comp[p] == comp[c]}


class GenealogyImport(ImportKind):
    name = "genealogy"
    perm = "lots.import"
    label = _lazy("Genealogy links")
    columns = [Column("parent_lot"), Column("child_lot"), Column("quantity")]

    def prepare(self, rows):
        codes = set()
        for r in rows:
            codes.add(r.get("parent_lot", "").strip())
            codes.add(r.get("child_lot", "").strip())
        codes.discard("")
        ids = {}
        for chunk in _chunks(codes):
            ids.update(Lot.objects.filter(code__in=chunk).values_list("code", "pk"))
        new_edges = set()
        for r in rows:
            p, c = ids.get(r.get("parent_lot", "").strip()), ids.get(r.get("child_lot", "").strip())
            if p and c and p != c:
                new_edges.add((p, c))
        existing = set()
        parents = {p for p, _c in new_edges}
        by_parent: dict[int, set] = {}
        for p, c in new_edges:
            by_parent.setdefault(p, set()).add(c)
        for chunk in _chunks(parents):
            for p, c in LotLink.objects.filter(parent_id__in=chunk).values_list("parent_id", "child_id"):
                if c in by_parent.get(p, ()):
                    existing.add((p, c))
        # A cycle closed by the new links runs through existing links only among the ancestors of new
        # parents: load those (one recursive query per 5,000 parents) and look for cycles in Python.
        region = existing_ancestor_edges(parents) if new_edges else []
        cyclic = find_cycle_edges(list(new_edges | set(region)))
        return {"ids": ids, "existing": existing, "cyclic": cyclic & new_edges}

    def validate_row(self, row, ctx):
        from qms.core.importing import require_text

        parent_code = require_text(row, "parent_lot", 60)
        child_code = require_text(row, "child_lot", 60)
        missing = [c for c in (parent_code, child_code) if c not in ctx["ids"]]
        if missing:
            raise RowError(_("Lot(s) %(l)s do not exist. Import the lots first.") % {"l": ", ".join(missing)})
        if parent_code == child_code:
            raise RowError(_("A lot cannot be consumed into itself."))
        check_unique_in_file(
            ctx, (parent_code, child_code), _("Link %(p)s → %(c)s") % {"p": parent_code, "c": child_code}
        )
        quantity = parse_decimal(row, "quantity", required=True, positive=True)
        key = (ctx["ids"][parent_code], ctx["ids"][child_code])
        if key in ctx["existing"]:
            raise RowError(_("Link %(p)s → %(c)s already exists.") % {"p": parent_code, "c": child_code})
        if key in ctx["cyclic"]:
            raise RowError(
                _(
                    "Link %(p)s → %(c)s would make a cycle in the genealogy (%(c)s is already among the ancestors of %(p)s)."
                )
                % {"p": parent_code, "c": child_code}
            )
        return LotLink(parent_id=key[0], child_id=key[1], quantity=Decimal(quantity))

    def write(self, items, ctx):
        LotLink.objects.bulk_create(items, batch_size=5000)
        return len(items)
