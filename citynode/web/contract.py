"""The API contract: each route declares its parameters, body and answers beside its handler.

`/openapi.json` is built from these declarations (`citynode/web/openapi.py`), and the types
declared are the ones the handler decodes and encodes, so the document cannot drift from the code.
Schemathesis checks the running node against it in `make test` (tests/test_contract.py).

How to add an endpoint (docs/api.md says the same at more length):

    routes = Routes("search")                     # one per web module, installed in app.py

    class FacetQuery(msgspec.Struct, kw_only=True):  # query parameters: one field each
        name: Annotated[str, Meta(pattern="^[a-z_]+$")]
        limit: Annotated[int, Meta(ge=1, le=100)] = 20

    class FacetCounts(msgspec.Struct, kw_only=True):  # the JSON answer
        name: str
        values: list[FacetValue]

    @routes.get(
        "/api/facets",
        summary="Counts of one facet's values",
        query=FacetQuery,
        responses={200: FacetCounts},
    )
    async def facets(request: web.Request) -> web.Response:
        params = read_query(request, FacetQuery)     # a bad value is a 400 naming it
        return respond(FacetCounts(...))

- `query` / `path`: a Struct whose fields are the query (or path) parameters. Path parameters
  keep their aiohttp regex in the route (`/records/{slug:[a-z0-9-]+}`); the document shows
  `/records/{slug}`.
- `body`: a `Body` (media type -> type), e.g. `Body({"application/json": PeerBody})`; decode it
  with `citynode.web.bodies.read_json`.
- `responses`: status -> a Struct (JSON) or a `Reply` for other media types (`Reply("the feed",
  {"application/atom+xml": str})`; `str` means "text in that format"). The error shape is
  added for every status listed in `errors=`, and for the ones the route's kind implies: 400
  when it takes parameters or a body, 401 with `auth="editor"` or `auth="signed"`, 413/415 with a
  body, 507 on writes.
- `auth="editor"` is enforced as well as declared: the route is served behind the editor-token
  check (`Routes.add_to`), so the handler never repeats it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: A check run before a handler; it raises (401, 403) to refuse the request.
Guard = Callable[[web.Request], Awaitable[object]]
Auth = Literal["public", "editor", "signed"]

JSON = "application/json"
_REGEX_PART = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):(?:[^{}]|\{[^{}]*\})*\}")


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every error the node answers: what went wrong in words, and what it concerns."""

    code: str
    message: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """One answer of an operation: its description and its media types with their types."""

    description: str
    content: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnyOf:
    """One of several untagged Structs (msgspec needs a tag to decode such a union; a document
    can still say "either")."""

    types: tuple[Any, ...]

    def __init__(self, *types: Any) -> None:
        object.__setattr__(self, "types", types)


@dataclass(frozen=True)
class Body:
    """A request body: media type -> the type it decodes to (`str` for text formats)."""

    content: Mapping[str, Any]
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """One declared operation: what `/openapi.json` says of it, and the handler that serves it."""

    method: str
    route: str  # the aiohttp route, with its path regexes
    path: str  # the OpenAPI path
    handler: Handler
    summary: str
    description: str
    query: type[msgspec.Struct] | None
    path_type: type[msgspec.Struct] | None
    headers: tuple[tuple[str, str], ...]  # (header name, what it carries) read by the handler
    body: Body | None
    responses: Mapping[int, Reply]
    auth: Auth
    tag: str


#: What each error status means, for the document.
ERROR_DESCRIPTIONS: Mapping[int, str] = {
    400: "the request is malformed (a parameter, header or body names what)",
    401: "a credential is missing or not valid",
    403: "the caller may not do this",
    404: "there is nothing here",
    406: "none of the accepted media types is available",
    409: "the request conflicts with what the node holds",
    410: "the record was withdrawn",
    412: "the precondition (If-Match) does not hold",
    413: "the body is too large",
    415: "the body's media type is not accepted",
    422: "the body is well-formed but not a valid record or message",
    429: "too many requests; slow down",
    502: "a peer did not answer as it should",
    503: "the node cannot do this now; retry later",
    504: "a peer did not answer in time",
    507: "the node's storage is full: reads go on, writes are refused until space returns",
}


def openapi_path(route: str) -> str:
    """`/records/{slug:[a-z0-9-]+}` -> `/records/{slug}`."""
    return _REGEX_PART.sub(lambda m: "{" + m.group(1) + "}", route)


def _reply(value: Reply | type[Any] | Any) -> Reply:
    if isinstance(value, Reply):
        return value
    return Reply("the answer", {JSON: value})


class Routes:
    """The operations of one web module; `install` adds them to an app and to its contract."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.operations: list[Operation] = []

    def route(
        self,
        method: str,
        route: str,
        *,
        summary: str,
        description: str = "",
        query: type[msgspec.Struct] | None = None,
        path: type[msgspec.Struct] | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: Body | None = None,
        responses: Mapping[int, Reply | Any],
        errors: Iterable[int] = (),
        auth: Auth = "public",
    ) -> Callable[[Handler], Handler]:
        statuses = {status: _reply(value) for status, value in responses.items()}
        implied = set(errors)
        if query is not None or path is not None or body is not None:
            implied.add(400)
        if path is not None:  # a path its pattern does not match is not routed at all
            implied.add(404)
        if auth != "public":
            implied.add(401)
        if auth == "signed":
            implied.update((400, 403, 413, 429))
        if body is not None:
            implied.update((413, 415))
        if method in ("POST", "PUT", "DELETE", "PATCH"):
            implied.add(507)
        for status in sorted(implied):
            statuses.setdefault(status, Reply(ERROR_DESCRIPTIONS[status], {JSON: ErrorBody}))
        names = set(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)", route))
        declared = {f.encode_name for f in msgspec.structs.fields(path)} if path else set()
        if names != declared:
            raise TypeError(f"{route}: path parameters {names} but the path type has {declared}")

        def decorator(handler: Handler) -> Handler:
            self.operations.append(
                Operation(
                    method=method,
                    route=route,
                    path=openapi_path(route),
                    handler=handler,
                    summary=summary,
                    description=description or (handler.__doc__ or "").strip(),
                    query=query,
                    path_type=path,
                    headers=tuple(headers),
                    body=body,
                    responses=statuses,
                    auth=auth,
                    tag=self.tag,
                )
            )
            return handler

        return decorator

    def get(self, route: str, **declared: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", route, **declared)

    def post(self, route: str, **declared: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", route, **declared)

    def put(self, route: str, **declared: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", route, **declared)

    def delete(self, route: str, **declared: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", route, **declared)

    def add_to(self, router: web.UrlDispatcher, guards: Mapping[Auth, Guard]) -> None:
        """Add the operations to `router`. An `auth="editor"` operation is served behind
        `guards["editor"]` (it raises for a caller without a valid token), so what the contract
        declares is what the node enforces; `auth="signed"` handlers verify the signature
        themselves, since it covers the body they read."""
        for operation in self.operations:
            handler = operation.handler
            if operation.auth == "editor":
                handler = _guarded(handler, guards["editor"])
            if operation.method == "GET":  # and HEAD, as aiohttp's add_get does
                router.add_get(operation.route, handler)
            else:
                router.add_route(operation.method, operation.route, handler)


def _guarded(handler: Handler, guard: Guard) -> Handler:
    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        await guard(request)
        return await handler(request)

    return guarded
