"""OpenAPI descriptions of the API's own authentication (imported in AppConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "qms_<prefix>_<secret>",
            "description": "A service account's token, issued on the Integrations page or with `manage.py api_token`.",
        }


class SessionReadScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.SessionReadAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid", "description": "Signed-in browser: reads only."}


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
                "required": ["pointer", "detail"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

PROBLEM_STATUSES = {
    "400": "Invalid request (`errors` point at each field).",
    "401": "No token, or a malformed, expired or revoked token.",
    "403": "Not allowed (permission at this site, or a write from a browser session).",
    "404": "Not found among your sites.",
    "405": "Method not allowed.",
    "409": "Idempotency-Key already used for a different request.",
    "415": "Send JSON.",
    "422": "Refused by a rule (`reasons` for gates, `errors` for bulk items).",
    "429": "Too many requests for this token.",
}


def add_problem_responses(result, generator, request, public):
    """Postprocessing hook: every operation may answer with problem details."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, text in PROBLEM_STATUSES.items():
                responses.setdefault(
                    status, {"description": text, "content": {"application/problem+json": {"schema": ref}}}
                )
    return result
