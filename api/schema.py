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
