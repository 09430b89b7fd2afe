"""The OpenAPI schema (``/api/schema/``): what every operation may answer, errors included.

Each view declares its own successful answer with ``@extend_schema``. The errors come from
``mendel.api.exception_handler`` and are the same everywhere, so ``AutoSchema`` adds them to
every operation from what the view is made of:

- 400 where the operation takes input (a parameter or a body);
- 403 everywhere: a bad token is refused on every view, and so are a missing login, a
  missing CSRF token and a change to someone else's work where those apply;
- 404 where the path names something (a creation, a space, a user);
- 429 where the view is throttled, or says it is ``rate_limited`` (it spends the render
  budget, or counts failed logins).

There is no 401: the first authenticator is the session cookie, which has no
``WWW-Authenticate`` challenge, so DRF answers 403 for "not logged in" and "bad token" alike.
A view documents any other error itself (``error_response``), and its own wins.
"""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers (see ``mendel.api``)."""

    error = serializers.CharField(help_text="What went wrong, in a sentence a person understands.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only for an invalid request: each bad field (dotted, `[i]` for an item of "
        "a list, empty for the request as a whole) and what is wrong with it.",
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="Only for 429: seconds to wait before asking again."
    )


ERRORS = {
    400: "The request is invalid: `error` says why, and `fields` says where.",
    403: "Refused: a wrong token, no login where one is needed, a session request without "
    "its CSRF token, or a change to someone else's work.",
    404: "Nothing here by that name, or nothing the requester may see.",
    429: "Too many requests: wait `retry_after` seconds (also in the Retry-After header).",
}


def error_response(description: str) -> OpenApiResponse:
    """An error answer a view documents itself, e.g. ``responses={404: error_response(...)}``."""
    return OpenApiResponse(ErrorSerializer, description=description)


def whole_number_parameter(name: str, default: int, low: int, high: int,
                           description: str = "") -> OpenApiParameter:
    """A query parameter read with ``common.params.int_param(request, name, default, low, high)``."""
    return OpenApiParameter(name, {"type": "integer", "minimum": low, "maximum": high},
                            default=default, description=description)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus the errors each operation can answer."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:  # excluded from the schema
            return None
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        responses = operation["responses"]
        for code in self.error_codes(operation):
            answer = {
                "description": ERRORS[code],
                "content": {"application/json": {"schema": error}},
            }
            if code == 429:
                answer["headers"] = {"Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before asking again.",
                }}
            responses.setdefault(str(code), answer)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_codes(self, operation) -> list[int]:
        parameters = operation.get("parameters", [])
        codes = [403]
        if parameters or "requestBody" in operation:
            codes.append(400)
        if any(p["in"] == "path" for p in parameters):
            codes.append(404)
        if self.view.get_throttles() or getattr(self.view, "rate_limited", False):
            codes.append(429)
        return codes


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class ObtainAuthTokenSchema(OpenApiViewExtension):
    """DRF's ``obtain_auth_token`` (``/api/token/``), described as it is: no login needed,
    a username and password in, the user's token out."""

    target_class = "rest_framework.authtoken.views.ObtainAuthToken"
    priority = 1  # over drf-spectacular's own, which only fixes DRF before 3.12

    def view_replacement(self):
        @extend_schema(
            description="The API token of a user (made on first use), for a username and "
            "password.",
            auth=[],
            responses={200: TokenSerializer},
        )
        class ObtainAuthToken(self.target):
            pass

        return ObtainAuthToken
