"""The API's schema says what an operation answers when it refuses, not only when it succeeds.

drf-spectacular documents an operation's success from its serializers; its refusals come from the one
exception handler (``calls.errors.api_exception_handler``) and from DRF, and are the same across the
API. ``AutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds each where it can happen:

- 403 to every operation: no credentials, a token that is not valid, or a role the view does not admit
  (the session authenticator comes first and asks for no ``WWW-Authenticate``, so DRF answers 403,
  never 401);
- 429 to every operation: throttled, with ``Retry-After`` (``calls.throttling``);
- 404 where the path names an object: not there, or not one the caller may see;
- 400 to every write (a malformed body, a rule a service enforces) and to every read that takes
  parameters beyond the page's ``limit`` and ``offset`` (a filter given a value it does not know);
- 409 to every delete (something still refers to the object). A write whose object's state may forbid
  it says so itself, ``extend_schema(responses={…, 409: None})``, and gets the body here.

The bodies: ``Error`` (``{"detail": …}`` and what the error carries beside it) and, for a 400, DRF's
validation errors by field as well (``FieldErrors``). tests/test_api_schema_conformance.py holds the
schema to every answer.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent

ERROR: dict[str, Any] = {
    "type": "object",
    "description": (
        "A refusal. Beside `detail` it may carry what the error names: a plan's `problems`, a "
        "model's validation by field (`fields`), the `run` already under way."
    ),
    "properties": {
        "detail": {
            "type": "string",
            "description": "Why, in the words the pages show, in the request's language.",
        }
    },
    "required": ["detail"],
}
FIELD_ERRORS: dict[str, Any] = {
    "type": "object",
    "description": (
        "A request DRF could not read: by parameter or field, its messages (a nested field's own "
        "errors by field, or by item of a list); `non_field_errors` for the request as a whole."
    ),
    "additionalProperties": {"oneOf": [{"type": "array", "items": {}}, {"type": "object"}]},
}
WHEN = {
    "400": "The request is malformed, or asks for what the rules forbid.",
    "403": "Not logged in, a token that is not valid, or a role this operation does not admit.",
    "404": "Not there, or not visible to the caller.",
    "409": "The present state of what the request names forbids it.",
    "429": "Throttled: too many requests; retry after the seconds `Retry-After` says.",
}
PAGE_PARAMETERS = {"limit", "offset"}
WRITES = {"post", "put", "patch", "delete"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, with the refusals each operation may answer (the module says which)."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        queried = {p["name"] for p in parameters if p["in"] == "query"} - PAGE_PARAMETERS
        write = method.lower() in WRITES
        codes = {"403", "429"}
        if any(p["in"] == "path" for p in parameters):
            codes.add("404")
        if write or queried:
            codes.add("400")
        if method.lower() == "delete":
            codes.add("409")
        responses = operation["responses"]
        codes |= {code for code in responses if code in WHEN}  # a view's own, e.g. ``409: None``
        for code in codes:
            if "content" not in responses.get(code, {}):
                responses[code] = self._refusal(code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _refusal(self, code: str) -> dict[str, Any]:
        error = self._component("Error", ERROR)
        schema: dict[str, Any] = error
        if code == "400":
            schema = {"oneOf": [error, self._component("FieldErrors", FIELD_ERRORS)]}
        response: dict[str, Any] = {
            "content": {"application/json": {"schema": schema}},
            "description": WHEN[code],
        }
        if code == "429":
            response["headers"] = {
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before the next request.",
                }
            }
        return response

    def _component(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name
        )
        self.registry.register_on_missing(component)
        return component.ref
