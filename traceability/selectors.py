"""Reads of traceability: the trace (one recursive SQL query over the indexed link table, in the
database, never lot by lot from Python), recall scope, lists and pages.

The same SQL runs on PostgreSQL and SQLite (both have WITH RECURSIVE and window functions).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Prefetch, Q, Sum
from django.utils import timezone

from .models import IN_STOCK, LinkKind, Lot, LotHold, LotLink, Serial, Shipment
from .overlays import overlays_for

BACKWARD, FORWARD = "backward", "forward"
MAX_DEPTH = 200  # safety net: the genealogy is acyclic (links that would close a cycle are refused)

_DIRECTIONS = {
    # direction: (column we stand on, column we step to)
    BACKWARD: ("child_id", "parent_id"),
    FORWARD: ("parent_id", "child_id"),
}


def _tables():
    return Lot._meta.db_table, LotLink._meta.db_table


def _id_list_sql(ids) -> tuple[str, list]:
    ids = [int(i) for i in ids]
    return ", ".join(["%s"] * len(ids)), ids


def _trace_sql(direction: str, n_start: int) -> str:
    here, there = _DIRECTIONS[direction]
    lot_t, link_t = _tables()
    placeholders = ", ".join(["%s"] * n_start)
    # walk: every (lot, depth, link) reached; UNION dedups. Then each lot once at its smallest depth,
    # with the link it was first reached by (lowest lot id on ties) and the quantity on that link,
    # read from the covering index on PostgreSQL (index-only scans).
    return f"""
        WITH RECURSIVE walk(lot_id, depth, via_id, qty) AS (
            SELECT l.{there}, 1, l.{here}, l.quantity FROM {link_t} l WHERE l.{here} IN ({placeholders})
            UNION
            SELECT l.{there}, w.depth + 1, l.{here}, l.quantity
            FROM walk w JOIN {link_t} l ON l.{here} = w.lot_id
            WHERE w.depth < %s
        ),
        ranked AS (
            SELECT lot_id, depth, via_id, qty,
                   ROW_NUMBER() OVER (PARTITION BY lot_id ORDER BY depth, via_id) AS rn
            FROM walk
        )
        SELECT r.lot_id, lot.code, r.depth, r.via_id, r.qty, lot.status, lot.part_id,
               lot.site_id, lot.supplier_id, lot.supplier_lot_code, lot.quantity, lot.unit
        FROM ranked r
        JOIN {lot_t} lot ON lot.id = r.lot_id
        WHERE r.rn = 1 AND r.lot_id NOT IN ({placeholders})
        ORDER BY r.depth, lot.code
    """  # noqa: S608 - table names from model meta, values are parameters


_COLUMNS = (
    "lot_id",
    "code",
    "depth",
    "via_id",
    "quantity",
    "status",
    "part_id",
    "site_id",
    "supplier_id",
    "supplier_lot_code",
    "lot_quantity",
    "unit",
)


def _lean_trace_sql(direction: str, n_start: int) -> str:
    """Lots and smallest depths only (no link back): what the recall scope needs. The walk keeps one
    row per (lot, depth), so it is cheaper than the full trace."""
    here, there = _DIRECTIONS[direction]
    lot_t, link_t = _tables()
    placeholders = ", ".join(["%s"] * n_start)
    return f"""
        WITH RECURSIVE walk(lot_id, depth) AS (
            SELECT l.{there}, 1 FROM {link_t} l WHERE l.{here} IN ({placeholders})
            UNION
            SELECT l.{there}, w.depth + 1
            FROM walk w JOIN {link_t} l ON l.{here} = w.lot_id
            WHERE w.depth < %s
        ),
        best AS (SELECT lot_id, MIN(depth) AS depth FROM walk GROUP BY lot_id)
        SELECT b.lot_id, lot.code, b.depth, NULL, NULL, lot.status, lot.part_id,
               lot.site_id, lot.supplier_id, lot.supplier_lot_code, lot.quantity, lot.unit
        FROM best b
        JOIN {lot_t} lot ON lot.id = b.lot_id
        WHERE b.lot_id NOT IN ({placeholders})
        ORDER BY b.depth, lot.code
    """  # noqa: S608 - table names from model meta, values are parameters


def _run(sql: str, params: list) -> list:
    # PostgreSQL would JIT-compile these queries (the planner cannot foresee how small a recursive
    # walk stays), which costs far more than the walk itself: JIT off for this transaction only.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _trace(start_ids, direction: str, max_depth: int = MAX_DEPTH, *, lean: bool = False) -> list[dict]:
    start_ids = [int(getattr(s, "pk", s)) for s in start_ids]
    if not start_ids:
        return []
    sql = (_lean_trace_sql if lean else _trace_sql)(direction, len(start_ids))
    rows = _run(sql, [*start_ids, max_depth, *start_ids])
    return [dict(zip(_COLUMNS, row, strict=True)) for row in rows]


def trace_backward(lot, *, max_depth: int = MAX_DEPTH) -> list[dict]:
    """Where from: every ancestor lot (down to supplier lots), each once at its smallest depth, the
    start lot excluded. Each row: lot_id, code, depth, via_id (the lot one level nearer the start it
    was consumed into), quantity (consumed on that link), status, part_id, site_id, supplier_id, ..."""
    return _trace([lot], BACKWARD, max_depth)


def trace_forward(lot, *, max_depth: int = MAX_DEPTH) -> list[dict]:
    """Where used: every descendant lot, each once at its smallest depth, the start lot excluded.
    via_id is the lot it was made from on the way; quantity is what of via_id went into it."""
    return _trace([lot], FORWARD, max_depth)


def trace_many(lots, direction: str) -> list[dict]:
    return _trace(lots, direction)


def is_ancestor(*, ancestor_id: int, of_id: int) -> bool:
    """Is `ancestor_id` among the ancestors of `of_id`? (Used to refuse links that close a cycle.)"""
    if ancestor_id == of_id:
        return True
    _lot_t, link_t = _tables()
    sql = f"""
        WITH RECURSIVE up(lot_id) AS (
            SELECT parent_id FROM {link_t} WHERE child_id = %s
            UNION
            SELECT l.parent_id FROM {link_t} l JOIN up ON l.child_id = up.lot_id
        )
        SELECT 1 FROM up WHERE lot_id = %s LIMIT 1
    """  # noqa: S608
    return bool(_run(sql, [of_id, ancestor_id]))


def existing_ancestor_edges(seed_ids) -> list[tuple[int, int]]:
    """(parent, child) links among the ancestors-or-self of `seed_ids` (set-based, for the genealogy
    import's cycle check: a cycle closed by new links runs through existing links only in this region)."""
    seed_ids = sorted({int(i) for i in seed_ids})
    if not seed_ids:
        return []
    _lot_t, link_t = _tables()
    edges: list[tuple[int, int]] = []
    # Chunks keep the parameter count within every backend's limit.
    for start in range(0, len(seed_ids), 5000):
        chunk = seed_ids[start : start + 5000]
        ph, params = _id_list_sql(chunk)
        sql = f"""
            WITH RECURSIVE up(lot_id) AS (
                SELECT parent_id FROM {link_t} WHERE child_id IN ({ph})
                UNION
                SELECT l.parent_id FROM {link_t} l JOIN up ON l.child_id = up.lot_id
            )
            SELECT l.parent_id, l.child_id FROM {link_t} l
            WHERE l.child_id IN (SELECT lot_id FROM up) OR l.child_id IN ({ph})
        """  # noqa: S608
        edges.extend(_run(sql, params + params))
    return list(set(edges))


def _in_chunks(ids, size=20000):
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _lot_id_filter_sql(ids) -> tuple[str, list]:
    """`lot_id = ANY(array)` on PostgreSQL (one parameter), an IN list elsewhere."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [list(ids)]
    ph, params = _id_list_sql(ids)
    return f"IN ({ph})", params


def shipments_of(lot_ids) -> list[tuple]:
    """(lot_id, customer_id, quantity, shipped_on, delivery_note) of the given lots, set-based."""
    ship_t = Shipment._meta.db_table
    rows: list[tuple] = []
    for chunk in _in_chunks(lot_ids):
        cond, params = _lot_id_filter_sql(chunk)
        rows.extend(
            _run(
                f"SELECT lot_id, customer_id, quantity, shipped_on, delivery_note FROM {ship_t} WHERE lot_id {cond}",  # noqa: S608
                params,
            )
        )
    return rows


def recall_scope(lot, *, extra_lots=()) -> dict:
    """What a recall of `lot` (and `extra_lots`, e.g. every lot of one supplier lot) reaches: the
    start lots and every descendant (forward trace), which of them are still in stock, and the shipped
    quantities per customer. Three queries whatever the size."""
    from qms.core.models import Customer

    starts = [lot, *extra_lots]
    start_ids = [int(getattr(s, "pk", s)) for s in starts]
    rows = _trace(start_ids, FORWARD, lean=True)
    start_rows = list(
        Lot.objects.filter(pk__in=start_ids).values_list(
            "pk", "code", "status", "part_id", "site_id", "supplier_id", "supplier_lot_code", "quantity", "unit"
        )
    )
    lots = [
        {
            "lot_id": pk,
            "code": code,
            "depth": 0,
            "via_id": None,
            "quantity": None,
            "status": status,
            "part_id": part_id,
            "site_id": site_id,
            "supplier_id": supplier_id,
            "supplier_lot_code": slc,
            "lot_quantity": qty,
            "unit": unit,
        }
        for pk, code, status, part_id, site_id, supplier_id, slc, qty, unit in start_rows
    ] + rows
    code_of = {r["lot_id"]: r["code"] for r in lots}
    in_stock = [r for r in lots if r["status"] in IN_STOCK]
    per_customer: dict[int, dict] = {}
    for lot_id, customer_id, qty, _shipped_on, _note in shipments_of(code_of):
        entry = per_customer.setdefault(
            customer_id, {"customer_id": customer_id, "quantity": Decimal(0), "lots": set(), "shipments": 0}
        )
        entry["quantity"] += qty
        entry["lots"].add(code_of[lot_id])
        entry["shipments"] += 1
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=list(per_customer))}
    by_customer = []
    for cid, entry in per_customer.items():
        entry["customer"] = customers[cid]
        entry["lots"] = sorted(entry["lots"])
        by_customer.append(entry)
    by_customer.sort(key=lambda e: e["customer"].code)
    return {
        "lots": lots,
        "in_stock": in_stock,
        "customers": by_customer,
        "lot_count": len(lots),
        "shipped_quantity": sum((e["quantity"] for e in by_customer), Decimal(0)),
        "computed_at": timezone.now(),
    }


# ---------------------------------------------------------------------------------------------- pages


def active_holds_prefetch():
    return Prefetch(
        "holds", queryset=LotHold.objects.filter(lifted_at__isnull=True).order_by("placed_at"), to_attr="_active_holds"
    )


def lots_for_list(*, site_ids, q: str = "", status: str = ""):
    qs = (
        Lot.objects.filter(site_id__in=site_ids)
        .select_related("part", "site", "supplier")
        .prefetch_related(active_holds_prefetch())
    )
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(supplier_lot_code__icontains=q) | Q(part__number__icontains=q))
    if status == "hold":
        qs = qs.filter(holds__lifted_at__isnull=True).distinct()
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def lot_by_code(code: str) -> Lot | None:
    return Lot.objects.select_related("part", "site", "supplier", "work_order").filter(code=code).first()


def lot_remaining(lot) -> Decimal:
    """What is left of a lot: its quantity less what was consumed and shipped. Splits are not counted:
    splitting a lot already moved the quantity out of it (see services.lot_split)."""
    consumed = LotLink.objects.filter(parent=lot).exclude(kind=LinkKind.SPLIT).aggregate(s=Sum("quantity"))[
        "s"
    ] or Decimal(0)
    shipped = Shipment.objects.filter(lot=lot).aggregate(s=Sum("quantity"))["s"] or Decimal(0)
    return lot.quantity - consumed - shipped


def public_recall(lot):
    """The recall a consumer must be told about: the lot is in the frozen scope of an approved (not draft,
    not a mock drill) recall. Shipped lots are covered too, not only lots held in stock."""
    from .models import RecallLot, RecallStatus

    entry = (
        RecallLot.objects.filter(lot=lot, recall__is_mock=False)
        .exclude(recall__status=RecallStatus.DRAFT)
        .select_related("recall")
        .order_by("-recall__approved_at")
        .first()
    )
    return entry.recall if entry else None


def split_origin(lot) -> Lot | None:
    """The lot this one was split off (e.g. the conceded part of a held lot), else None. Lets higher apps
    (inspection results, CoA) look at the lot the split-off quantity came from."""
    link = LotLink.objects.filter(child=lot, kind=LinkKind.SPLIT).select_related("parent").first()
    return link.parent if link else None


def resolve_code(code: str) -> Lot | None:
    """A lot code, else a serial number, else a supplier's lot number when it names one lot."""
    code = code.strip()
    if not code:
        return None
    lot = Lot.objects.filter(code=code).first()
    if lot:
        return lot
    serial = Serial.objects.select_related("lot").filter(serial=code).first()
    if serial:
        return serial.lot
    matches = list(Lot.objects.filter(supplier_lot_code=code)[:2])
    return matches[0] if len(matches) == 1 else None


def trace_view(lot) -> dict:
    """Everything the trace page shows, in a constant number of queries: both traces, the lots'
    part/site/supplier, active holds, the overlays of higher apps (inspection results, NCRs), the
    shipments of every lot reached and the links among them for the graph."""
    from qms.core.models import Customer, Part, Site

    back = trace_backward(lot)
    fwd = trace_forward(lot)
    ids = {lot.pk} | {r["lot_id"] for r in back} | {r["lot_id"] for r in fwd}
    lots = {
        x.pk: x
        for x in Lot.objects.filter(pk__in=ids).select_related("supplier").prefetch_related(active_holds_prefetch())
    }
    parts = {p.pk: p for p in Part.objects.filter(pk__in={x.part_id for x in lots.values()})}
    sites = {s.pk: s for s in Site.objects.filter(pk__in={x.site_id for x in lots.values()})}
    overlays = overlays_for(sorted(ids))
    ships = shipments_of(ids)
    customers = {c.pk: c for c in Customer.objects.filter(pk__in={s[1] for s in ships})}
    shipments_by_lot: dict[int, list] = defaultdict(list)
    for lot_id, cid, qty, shipped_on, note in ships:
        shipments_by_lot[lot_id].append(
            {"customer": customers[cid], "quantity": qty, "shipped_on": shipped_on, "delivery_note": note}
        )

    def decorate(rows, forward=False):
        out = []
        for r in rows:
            obj = lots[r["lot_id"]]
            via = lots.get(r["via_id"])
            out.append(
                {
                    **r,
                    "lot": obj,
                    # the quantity is of the consumed lot: the ancestor itself backward, the lot it was made
                    # from forward
                    "qty_unit": (via.unit if forward and via else obj.unit),
                    "part": parts.get(obj.part_id),
                    "site": sites.get(obj.site_id),
                    "holds": obj.active_holds(),
                    "overlays": overlays.get(obj.pk, []),
                    "shipments": shipments_by_lot.get(obj.pk, []),
                }
            )
        return out

    start = lots[lot.pk]
    return {
        "lot": start,
        "start": {
            "lot": start,
            "part": parts.get(start.part_id),
            "site": sites.get(start.site_id),
            "holds": start.active_holds(),
            "overlays": overlays.get(start.pk, []),
            "shipments": shipments_by_lot.get(start.pk, []),
        },
        "backward": decorate(back),
        "forward": decorate(fwd, forward=True),
        "backward_tree": tree_order(decorate(back), lot.pk),
        "forward_tree": tree_order(decorate(fwd, forward=True), lot.pk),
        "customers": sorted(
            {s["customer"].pk: s["customer"] for v in shipments_by_lot.values() for s in v}.values(),
            key=lambda c: c.code,
        ),
    }


def tree_order(rows: list[dict], root_id: int) -> list[dict]:
    """Rows in depth-first order of the shortest-path tree (each lot under the lot it was reached
    through), for the indented tree. Pure Python over the trace rows: no queries."""
    children: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        children[r["via_id"]].append(r)
    ordered: list[dict] = []
    stack = [(c, 1) for c in sorted(children.get(root_id, []), key=lambda r: r["code"], reverse=True)]
    while stack:
        row, level = stack.pop()
        ordered.append({**row, "indent": level})
        stack.extend(
            (c, level + 1) for c in sorted(children.get(row["lot_id"], []), key=lambda r: r["code"], reverse=True)
        )
    return ordered


def graph_layout(view: dict, *, max_per_layer: int = 40) -> dict:
    """A server-drawn SVG of the genealogy around the lot: one column per signed depth (ancestors left,
    descendants right), links between the drawn lots. Layers larger than `max_per_layer` are cut with a
    "+ n more" note (the tree and the CSV list everything)."""
    col_w, row_h, box_w, box_h = 190, 44, 160, 32
    layers: dict[int, list[dict]] = defaultdict(list)
    layers[0].append({"lot_id": view["lot"].pk, "code": view["lot"].code, "lot": view["lot"], "start": True})
    for r in view["backward"]:
        layers[-r["depth"]].append(r)
    for r in view["forward"]:
        layers[r["depth"]].append(r)
    depths = sorted(layers)
    if not depths:
        return {"width": 0, "height": 0, "nodes": [], "edges": [], "more": []}
    tallest = min(max(len(v) for v in layers.values()), max_per_layer)
    pos: dict[int, tuple[int, int]] = {}
    nodes, more = [], []
    for ci, d in enumerate(depths):
        items = sorted(layers[d], key=lambda r: r["code"])
        shown = items[:max_per_layer]
        offset = (tallest - len(shown)) * row_h // 2
        for ri, r in enumerate(shown):
            x, y = 10 + ci * col_w, 30 + offset + ri * row_h
            lot = r["lot"]
            holds = r.get("holds") if "holds" in r else lot.active_holds()
            tone = (
                "bad"
                if (holds or lot.status in ("rejected", "expired"))
                else ("ok" if lot.status in ("released", "shipped", "consumed") else "warn")
            )
            pos[r["lot_id"]] = (x, y)
            nodes.append(
                {
                    "x": x,
                    "y": y,
                    "tx": x + 8,
                    "ty": y + 20,
                    "code": r["code"],
                    "tone": tone,
                    "lot": lot,
                    "w": box_w,
                    "h": box_h,
                    "start": r.get("start", False),
                }
            )
        if len(items) > len(shown):
            more.append(
                {"x": 10 + ci * col_w, "y": 30 + offset + len(shown) * row_h + 14, "n": len(items) - len(shown)}
            )
    ids = list(pos)
    edges = []
    if ids:
        for parent_id, child_id in LotLink.objects.filter(parent_id__in=ids, child_id__in=ids).values_list(
            "parent_id", "child_id"
        ):
            (x1, y1), (x2, y2) = pos[parent_id], pos[child_id]
            if x1 == x2:
                continue
            edges.append({"x1": x1 + box_w, "y1": y1 + box_h // 2, "x2": x2, "y2": y2 + box_h // 2})
    headers = [{"x": 10 + ci * col_w, "depth": d} for ci, d in enumerate(depths)]
    return {
        "width": 20 + len(depths) * col_w,
        "height": 60 + tallest * row_h + (20 if more else 0),
        "nodes": nodes,
        "edges": edges,
        "more": more,
        "headers": headers,
        "box_w": box_w,
        "box_h": box_h,
    }
