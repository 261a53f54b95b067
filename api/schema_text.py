"""The schema's own introduction (SPECTACULAR_SETTINGS reads it at settings time: plain strings only), so the
plant's IT can read how to call the API in the schema itself, without the repository's docs."""

DESCRIPTION = """\
REST API v1 for MES, ERP, WMS, SCM and CRM: the same services, policy, segregation of duties and site
isolation as the portal's pages.

**Authentication.** Each connected system has a *service account* holding roles at sites, like a person.
Send its token on every call: `Authorization: Bearer qms_<prefix>_<secret>`. Tokens are issued by an
administrator on the Integrations page (shown once), expire, and can be revoked. A signed-in browser may
read (this page's "try it"); writes need a token. Calls are throttled per token (429 with `Retry-After`).

**Errors** are RFC 9457 problem details (`application/problem+json`): `type`, `title`, `status`, `detail`,
`instance`; a gate's refusal adds `reasons` (one per reason, e.g. why a receipt or a shipment is refused);
invalid input and bulk refusals add `errors`, each with a JSON `pointer` into the body
(`#/values/17/value`) and its `detail`. 401: no or bad token; 403: not allowed at that site; 404: not among
the caller's sites (another plant's records do not exist for it); 409: an `Idempotency-Key` reused for a
different request; 422: a business rule refused it, nothing was written.

**Idempotency.** `POST /measurements/` requires an `Idempotency-Key` (a UUID per call): the same call sent
again records nothing twice and answers as the first time (`Idempotent-Replayed: true`).

**Lists** are paginated (`page`, `page_size` 1 … 1000, default 100) and filter by the fields named on each.

**Webhooks.** Subscribe with `POST /webhooks/`. Each delivery is a POST of JSON with `X-QMS-Event`,
`X-QMS-Delivery` (the event id: de-duplicate on it), `X-QMS-Timestamp` and `X-QMS-Signature:
v1=<hex HMAC-SHA256 of "<timestamp>.<body>" with the subscription's secret>`; answer 2xx. Failures are
retried with exponential back-off; redirects are not followed.

E-signed decisions (release, MRB, approvals) are not offered here: a person signs them in the portal.
"""

TAGS = [
    {
        "name": "lots",
        "description": "Receipts through the supplier gate, status, holds, ship and consume checks, "
        "genealogy, consumption, shipments, trace and recall scope.",
    },  # fmt: skip
    {
        "name": "production",
        "description": "Work orders: operation start and finish (FAI and patrol gates), "
        "production records with their 5M1E parameters.",
    },  # fmt: skip
    {
        "name": "measurements",
        "description": "Measured values from MES or a CMM, judged at once, feeding SPC; "
        "the answer says when the line must stop.",
    },  # fmt: skip
    {
        "name": "quality",
        "description": "Inspections (due work, results, CoA), NCRs from MES defects, complaints "
        "from CRM, NCR and CAPA status.",
    },  # fmt: skip
    {
        "name": "master data",
        "description": "Upserts of parts, customers and equipment (with calibration dates); "
        "suppliers with their approval status (read).",
    },  # fmt: skip
    {"name": "webhooks", "description": "Subscriptions to events, their delivery log and replay."},
]
