"""Trace at million-lot scale: backward, forward (~10,000 lots) and recall scope, done three ways on the
same graph: in the database (one recursive SQL query, the app's selectors), naively (one ORM query per
lot) and in memory (networkx). Prints median and p95 of each and the ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qms_bench_trace .venv/bin/python bench/traceability_trace.py

The plant is generated with set-based SQL (generate_series), bypassing the audit layer (bench data
only): 1,000,000 lots in four layers (100,000 raw -> 400,000 components -> 300,000 assemblies ->
200,000 finished) and 3,000,000 consumption links, then ~267,000 shipments to 500 customers. Production
is local in time (each lot consumes lots made shortly before it); 150 raw lots are bulk materials
(resin, grease, steel coil) used by many components, which gives the forward traces of ~10,000 lots.
The data is kept between runs; pass --regenerate to build it again.
"""

import os
import random
import statistics
import sys
import time
from collections import defaultdict, deque

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qms_bench_trace")


def _ensure_database():
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


_ensure_database()

import _setup  # noqa: E402,F401  (django.setup)
from _setup import summary, timed  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

N_RAW, N_BULK, N_COMP, N_ASM, N_FIN = 100_000, 150, 400_000, 300_000, 200_000
N_CUSTOMERS = 500
RAW0, COMP0, ASM0, FIN0 = 1, 1 + N_RAW, 1 + N_RAW + N_COMP, 1 + N_RAW + N_COMP + N_ASM
N_LOTS = N_RAW + N_COMP + N_ASM + N_FIN


def p95(samples):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def generate():
    from qms.core.audit import audit_context
    from qms.core.models import Customer, Industry, Part, PartType, Site
    from traceability.models import Lot, LotLink, Shipment

    t0 = time.perf_counter()
    with audit_context(reason="benchmark set-up", source="bench"):
        site, _ = Site.objects.get_or_create(
            code="BENCH", defaults={"name": "Benchmark plant", "industry": Industry.AUTOMOTIVE}
        )
        parts = {}
        for number, ptype, unit in [
            ("B-RAW", PartType.RAW, "kg"),
            ("B-COMP", PartType.COMPONENT, "pcs"),
            ("B-ASM", PartType.SEMI_FINISHED, "pcs"),
            ("B-FIN", PartType.FINISHED, "pcs"),
        ]:
            parts[number], _ = Part.objects.get_or_create(
                number=number, revision="A", defaults={"name": number, "part_type": ptype, "unit": unit}
            )
        have = set(Customer.objects.filter(code__startswith="BC-").values_list("code", flat=True))
        Customer.objects.bulk_create(
            [
                Customer(code=f"BC-{i:04d}", name=f"Bench customer {i}")
                for i in range(N_CUSTOMERS)
                if f"BC-{i:04d}" not in have
            ]
        )
    cust_ids = list(Customer.objects.filter(code__startswith="BC-").order_by("code").values_list("pk", flat=True))
    lot_t, link_t, ship_t = Lot._meta.db_table, LotLink._meta.db_table, Shipment._meta.db_table
    with connection.cursor() as c:
        c.execute(f"TRUNCATE {ship_t}, {link_t}, {lot_t} RESTART IDENTITY CASCADE")
        c.execute("SET synchronous_commit = off")
        c.execute("SELECT setseed(0.42)")
        layers = [
            ("R", RAW0, N_RAW, parts["B-RAW"].pk, "consumed", "kg"),
            ("C", COMP0, N_COMP, parts["B-COMP"].pk, "consumed", "pcs"),
            ("A", ASM0, N_ASM, parts["B-ASM"].pk, "consumed", "pcs"),
            ("F", FIN0, N_FIN, parts["B-FIN"].pk, "shipped", "pcs"),
        ]
        for prefix, first, n, part_id, status, unit in layers:
            purchased = prefix == "R"
            c.execute(
                f"""
                INSERT INTO {lot_t} (id, code, part_id, site_id, supplier_id, supplier_lot_code, work_order_id,
                    quantity, unit, received_on, produced_on, expires_on, status, public_token, created_at, created_by_id)
                SELECT {first} + g, '{prefix}' || lpad(g::text, 7, '0'), %s, %s, NULL,
                       {"'SL-' || g" if purchased else "''"}, NULL, 1000, %s,
                       {"date '2024-01-01' + (g * 700 / %s)" if purchased else "NULL"},
                       {"NULL" if purchased else "date '2024-01-01' + (g * 700 / %s)"},
                       NULL, CASE WHEN %s = 'shipped' AND g >= %s * 0.95 THEN 'released' ELSE %s END, NULL, now(), NULL
                FROM generate_series(0, %s - 1) g
                """,
                [part_id, site.pk, unit, n, status, n, status, n],
            )
        c.execute(f"SELECT setval(pg_get_serial_sequence('{lot_t}', 'id'), {N_LOTS})")
        t_lots = time.perf_counter()
        # Links: drop the link indexes during the load and build them once afterwards.
        c.execute(f"ALTER TABLE {link_t} DROP CONSTRAINT IF EXISTS trace_link_parent_child")
        c.execute("DROP INDEX IF EXISTS trace_link_child_parent")
        c.execute("DROP INDEX IF EXISTS trace_link_fwd_cover")
        c.execute("DROP INDEX IF EXISTS trace_link_back_cover")
        mod = "((({x}) % {n}) + {n}) % {n}"
        # component c: one local raw lot near its time, one bulk raw lot near its time
        local = mod.format(
            x=f"floor(g::float8 / {N_COMP} * {N_RAW - N_BULK} + (random() - 0.5) * 100)::int", n=N_RAW - N_BULK
        )
        bulk = mod.format(x=f"floor(g::float8 / {N_COMP} * {N_BULK} + (random() - 0.5) * 2)::int", n=N_BULK)
        c.execute(
            f"""
            INSERT INTO {link_t} (parent_id, child_id, quantity, work_order_id, created_at)
            SELECT {RAW0 + N_BULK} + {local}, {COMP0} + g, 10, NULL::bigint, now() FROM generate_series(0, {N_COMP - 1}) g
            UNION ALL
            SELECT {RAW0} + {bulk}, {COMP0} + g, 2, NULL::bigint, now() FROM generate_series(0, {N_COMP - 1}) g
            """
        )
        # assembly a: 4 components from disjoint slices of a window around its time
        asm = mod.format(
            x=f"floor(g::float8 / {N_ASM} * {N_COMP})::int + k * 500 + floor(random() * 500)::int - 1000", n=N_COMP
        )
        c.execute(
            f"""
            INSERT INTO {link_t} (parent_id, child_id, quantity, work_order_id, created_at)
            SELECT {COMP0} + {asm}, {ASM0} + g, 1, NULL::bigint, now()
            FROM generate_series(0, {N_ASM - 1}) g, generate_series(0, 3) k
            """
        )
        # finished f: 5 assemblies
        fin = mod.format(
            x=f"floor(g::float8 / {N_FIN} * {N_ASM})::int + k * 400 + floor(random() * 400)::int - 1000", n=N_ASM
        )
        c.execute(
            f"""
            INSERT INTO {link_t} (parent_id, child_id, quantity, work_order_id, created_at)
            SELECT {ASM0} + {fin}, {FIN0} + g, 1, NULL::bigint, now()
            FROM generate_series(0, {N_FIN - 1}) g, generate_series(0, 4) k
            """
        )
        c.execute(f"ALTER TABLE {link_t} ADD CONSTRAINT trace_link_parent_child UNIQUE (parent_id, child_id)")
        c.execute(f"CREATE INDEX trace_link_child_parent ON {link_t} (child_id, parent_id)")
        # the covering indexes of migration 0002 (PostgreSQL)
        c.execute(f"CREATE INDEX trace_link_fwd_cover ON {link_t} (parent_id, child_id) INCLUDE (quantity)")
        c.execute(f"CREATE INDEX trace_link_back_cover ON {link_t} (child_id, parent_id) INCLUDE (quantity)")
        t_links = time.perf_counter()
        # Shipments: every finished lot shipped except the last 5 %, every third one in two deliveries.
        c.execute(
            f"""
            INSERT INTO {ship_t} (lot_id, customer_id, quantity, shipped_on, delivery_note, created_at, created_by_id)
            SELECT {FIN0} + g, (%s::bigint[])[1 + (g * 7919 + s * 104729) %% {N_CUSTOMERS}], 500,
                   date '2024-01-01' + (g * 700 / {N_FIN}) + 3, 'DN-' || g || '-' || s, now(), NULL
            FROM generate_series(0, {int(N_FIN * 0.95) - 1}) g, generate_series(0, 1) s
            WHERE s = 0 OR g %% 3 = 0
            """,
            [cust_ids],
        )
    with connection.cursor() as c:
        c.execute(f"VACUUM ANALYZE {lot_t}")
        c.execute(f"VACUUM ANALYZE {link_t}")
        c.execute(f"VACUUM ANALYZE {ship_t}")
    t_end = time.perf_counter()
    print(
        f"generated {N_LOTS:,} lots in {t_lots - t0:.1f} s, links in {t_links - t_lots:.1f} s, "
        f"shipments + vacuum/analyze in {t_end - t_links:.1f} s (total {t_end - t0:.1f} s)"
    )


def counts():
    from traceability.models import LotLink, Shipment

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM traceability_lot")
        lots = c.fetchone()[0]
    return lots, LotLink.objects.count(), Shipment.objects.count()


def naive_trace(lot_id, direction):
    """One ORM query per lot, breadth first: what a Python loop over the ORM does."""
    from traceability.models import LotLink

    here, there = ("child_id", "parent_id") if direction == "backward" else ("parent_id", "child_id")
    depth = {lot_id: 0}
    queue = deque([lot_id])
    while queue:
        x = queue.popleft()
        for nxt in LotLink.objects.filter(**{here: x}).values_list(there, flat=True):
            if nxt not in depth:
                depth[nxt] = depth[x] + 1
                queue.append(nxt)
    del depth[lot_id]
    return depth


def naive_recall(lot_id):
    from traceability.models import Shipment

    lots = naive_trace(lot_id, "forward")
    per_customer = defaultdict(int)
    for x in [lot_id, *lots]:
        for cid, qty in Shipment.objects.filter(lot_id=x).values_list("customer_id", "quantity"):
            per_customer[cid] += qty
    return lots, per_customer


def main():
    from traceability import selectors

    regenerate = "--regenerate" in sys.argv
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - t0:.1f} s")
    n_lots, n_links, n_ships = counts()
    if regenerate or n_lots != N_LOTS or n_links < 2_900_000:
        generate()
        n_lots, n_links, n_ships = counts()
    else:
        print("reusing the generated plant (pass --regenerate to build it again)")
    print(f"plant: {n_lots:,} lots, {n_links:,} links, {n_ships:,} shipments")

    # The forward-trace subject: the bulk raw lot whose forward trace is closest to 10,000 lots.
    t0 = time.perf_counter()
    reach = {rid: len(selectors.trace_forward(rid)) for rid in range(RAW0 + 10, RAW0 + N_BULK - 10, 7)}
    fwd_lot = min(reach, key=lambda r: abs(reach[r] - 10_000))
    print(
        f"forward subject: lot id {fwd_lot} reaches {reach[fwd_lot]:,} lots "
        f"(bulk raw lots reach {min(reach.values()):,}-{max(reach.values()):,}; picked in {time.perf_counter() - t0:.1f} s)"
    )
    rng = random.Random(7)
    finished = [FIN0 + rng.randrange(N_FIN) for _ in range(400)]

    # ---- in the database (the app's selectors)
    it = iter(finished * 2)
    sql_back = timed(lambda: selectors.trace_backward(next(it)), 300)
    sql_fwd = timed(lambda: selectors.trace_forward(fwd_lot), 40)
    sql_recall = timed(lambda: selectors.recall_scope(fwd_lot), 30)
    sql_fwd_lean = timed(lambda: selectors._trace([fwd_lot], "forward", lean=True), 40)
    scope = selectors.recall_scope(fwd_lot)
    back_rows = selectors.trace_backward(finished[0])

    # ---- naive: one ORM query per lot
    it2 = iter(finished)
    naive_back = timed(lambda: naive_trace(next(it2), "backward"), 40)
    naive_fwd = timed(lambda: naive_trace(fwd_lot, "forward"), 3)
    naive_rec = timed(lambda: naive_recall(fwd_lot), 3)

    # ---- in memory: networkx on the same graph
    import networkx as nx

    t0 = time.perf_counter()
    graph = nx.DiGraph()
    with connection.cursor() as c:
        c.execute("SELECT parent_id, child_id FROM traceability_lotlink")
        while True:
            chunk = c.fetchmany(200_000)
            if not chunk:
                break
            graph.add_edges_from(chunk)
        c.execute("SELECT lot_id, customer_id, quantity FROM traceability_shipment")
        ships_by_lot = defaultdict(list)
        for lot_id, cid, qty in c.fetchall():
            ships_by_lot[lot_id].append((cid, qty))
    build_s = time.perf_counter() - t0
    rev = graph.reverse(copy=False)

    def mem_recall(x):
        lots = nx.single_source_shortest_path_length(graph, x)
        per_customer = defaultdict(int)
        for y in lots:
            for cid, qty in ships_by_lot.get(y, ()):
                per_customer[cid] += qty
        return lots, per_customer

    it3 = iter(finished * 2)
    mem_back = timed(lambda: nx.single_source_shortest_path_length(rev, next(it3)), 300)
    mem_fwd = timed(lambda: nx.single_source_shortest_path_length(graph, fwd_lot), 40)
    mem_rec = timed(lambda: mem_recall(fwd_lot), 30)

    # ---- the three agree
    ok_back = {r["lot_id"]: r["depth"] for r in back_rows} == naive_trace(finished[0], "backward")
    mem_f = dict(nx.single_source_shortest_path_length(graph, fwd_lot))
    del mem_f[fwd_lot]
    ok_fwd = {r["lot_id"]: r["depth"] for r in selectors.trace_forward(fwd_lot)} == mem_f
    _lots, naive_cust = naive_recall(fwd_lot)
    ok_rec = {e["customer_id"]: e["quantity"] for e in scope["customers"]} == dict(naive_cust)
    print(f"results agree (SQL = naive = networkx): backward {ok_back}, forward {ok_fwd}, recall customers {ok_rec}")
    print(
        f"backward trace of a finished lot reaches {len(back_rows)} lots; recall scope: {scope['lot_count']:,} lots, "
        f"{len(scope['in_stock']):,} in stock, {len(scope['customers'])} customers, {scope['shipped_quantity']:,} shipped"
    )
    print(
        f"networkx graph built in {build_s:.1f} s ({graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges)"
    )
    print()
    rows = [
        ("backward trace, finished lot", sql_back, naive_back, mem_back, 20),
        (f"forward trace, raw lot -> {reach[fwd_lot]:,} lots", sql_fwd, naive_fwd, mem_fwd, 150),
        ("recall scope (lots, shipments, customers)", sql_recall, naive_rec, mem_rec, 300),
    ]
    print(summary("SQL      forward, lots and depths only (recall)", sql_fwd_lean))
    for label, sql, naive, mem, target in rows:
        print(
            summary("SQL      " + label, sql)
            + f"   target p95 <= {target} ms: {'MET' if p95(sql) <= target else 'MISSED'}"
        )
        print(summary("naive    " + label, naive))
        print(summary("networkx " + label, mem))
        print(
            f"{'':<9}ratio naive/SQL (median) {statistics.median(naive) / statistics.median(sql):8.1f}x   "
            f"networkx/SQL (median) {statistics.median(mem) / statistics.median(sql):6.2f}x"
        )


if __name__ == "__main__":
    main()
