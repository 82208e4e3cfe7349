"""The editor's pages: sign in with a token, then create, edit and withdraw practices and results
through forms, and upload CSV files, all without script.

Every POST checks the CSRF token (web/sessions.py) and the session; a form with problems comes
back with the editor's values and one message per field, in the editor's language (status 422).
Writes go through the node's one write path (`Publisher.publish` / `withdraw`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

import msgspec
from aiohttp import web

from citynode.errors import NodeError, NotFound, Unauthorized
from citynode.record_ids import records_base
from citynode.storage import records as store
from citynode.web import practice_form as pf
from citynode.web import practice_form_parts as parts
from citynode.web.contract import Reply, Routes
from citynode.web.keys import IMPORT_JOBS, NODE
from citynode.web.render import Page, add_page, html, reply, wants_json
from citynode.web.search import searchable_write
from citynode.web.sessions import (
    SESSION_COOKIE,
    editor_of,
    posted_form,
    set_cookie,
    sign_in,
    sign_out,
)
from citynode.web.views import N_, text_of
from protocol.errors import ProtocolError
from protocol.records import PRACTICE_TYPES

routes = Routes("pages")
MAX_UPLOAD: Final = 20 * 1024 * 1024
#: The import templates (the vocabulary's CSV format, citynode/exports.py), with example rows.
CSV_TEMPLATES: Final = Path(__file__).parent.parent / "samples" / "templates"
SLUG: Final = r"{slug:[a-z0-9][a-z0-9-]{0,99}}"
#: Every field the practice and result forms send (practice_form.py reads them).
FORM_FIELDS: Final = pf.form_field_names()


def _languages(request: web.Request) -> list[str]:
    return list(request.app[NODE].config.node.languages)


def _require(request: web.Request, page: Page) -> Any:
    """The signed-in editor; others are sent to the sign-in form (401 for JSON clients)."""
    editor = editor_of(request)
    if editor is None:
        if wants_json(request):
            raise Unauthorized("sign in on the editor page first, or use the API with a token")
        raise web.HTTPSeeOther(page.link("/editor"))
    return editor


async def _own_records(request: web.Request, lang: str) -> list[dict[str, Any]]:
    node = request.app[NODE]
    rows = await store.list_current(
        node.db.reader, store.ListFilter(origins=(node.keyring.identity.did,), limit=500)
    )
    out = []
    for row in rows:
        title, title_lang = text_of(row.document().get("title"), lang)
        slug = row.id.removeprefix(records_base(node.config.base_url))
        out.append(
            {
                "id": row.id,
                "slug": slug,
                "type": row.type,
                "title": title or slug,
                "title_lang": title_lang,
                "version": row.version,
                "modified": row.modified,
            }
        )
    return out


@add_page(
    routes,
    "/editor",
    summary="The editor: sign in, then this city's records",
    query=("done", "what"),
)
async def editor_home(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    editor = editor_of(request)
    if editor is None:
        return reply(request, "sign_in.html", {"problem": None}, {"signed_in": False}, page=page)
    records = await _own_records(request, page.lang)
    data: dict[str, Any] = {"signed_in": True, "editor": editor.label, "records": records}
    values = {
        "records": records,
        "done": request.query.get("done"),
        "what": request.query.get("what"),
    }
    return reply(request, "editor.html", values, data, page=page)


@add_page(
    routes, "/editor/sign-in", "POST", summary="Sign in with an editor token", form=("token",)
)
async def sign_in_page(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    form = await posted_form(request)
    secret = await sign_in(request, str(form.get("token", "")))
    if secret is None:
        values = {"problem": page.gettext("That token is not valid or was revoked.")}
        return html(request, "sign_in.html", values, status=401, page=page)
    response = web.HTTPSeeOther(page.link("/editor"))
    set_cookie(request, response, SESSION_COOKIE, secret)
    raise response


@add_page(routes, "/editor/sign-out", "POST", summary="Sign out", form=())
async def sign_out_page(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    await posted_form(request)
    await sign_out(request)
    response = web.HTTPSeeOther(page.link("/"))
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def _form_page(
    request: web.Request,
    page: Page,
    kind: str,
    values: dict[str, Any],
    errors: dict[str, str],
    action: str,
    practices: list[dict[str, Any]],
    editing: dict[str, Any] | None = None,
) -> web.Response:
    return html(
        request,
        "edit.html",
        {
            "kind": kind,
            "form": values,
            "errors": {k: page.gettext(pf.MESSAGES.get(v, v)) for k, v in errors.items()},
            "action": action,
            "practices": practices,
            "editing": editing,
            "record_languages": _languages(request),
            "texts": [t for t in pf.TEXTS if kind != "Result" or t[0] in pf.RESULT_TEXTS],
            "themes": pf.themes(),
            "statuses": pf.STATUSES,
            "practice_types": pf.PRACTICE_TYPES,
            "roles": pf.ROLES,
            "indicators": pf.indicator_iris(),
            "choices": [
                (term, heading, parts.concepts(scheme)) for term, heading, scheme in parts.CHOICES
            ],
            "rows": parts.ROWS,
            "row_name": parts.name,
            "text_fields": [(f, h) for f, h, *_ in pf.TEXTS] + [("keywords", N_("Keywords"))],
        },
        status=422 if errors else 200,
        page=page,
    )


def _kind_of(request: web.Request) -> str:
    return "Result" if request.query.get("type") == "Result" else "practice"


async def _practice_choices(request: web.Request, lang: str) -> list[dict[str, Any]]:
    return [r for r in await _own_records(request, lang) if r["type"] in PRACTICE_TYPES]


@add_page(
    routes,
    "/editor/new",
    summary="The form for a new practice or result",
    query=("type", "of"),
    redirects=True,
)
async def new_form(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    _require(request, page)
    kind = _kind_of(request)
    values = pf.form_of({"type": "Project"}, _languages(request))
    if kind == "Result" and request.query.get("of"):
        values["resultOf"] = request.query["of"]
    action = page.link("/editor/new", type="Result" if kind == "Result" else None)
    choices = await _practice_choices(request, page.lang)
    return _form_page(request, page, kind, values, {}, action, choices)


async def _save(
    request: web.Request, page: Page, kind: str, record_id: str | None, action: str
) -> web.StreamResponse:
    node = request.app[NODE]
    form = await posted_form(request)
    languages = _languages(request)
    previous, held = None, None
    if record_id:
        held = await store.get_current(node.db.reader, record_id)
        previous = held.document() if held else None
    draft, errors = pf.read_form(form, languages, kind, previous)
    values = {**pf.form_of(previous or {}, languages), **dict(form)}
    values["themes"] = form.getall("themes", [])
    values["editorial"] = form.getall("editorial", [])
    values["illustrative"] = bool(form.get("illustrative"))
    choices = await _practice_choices(request, page.lang)
    editing = None
    if record_id:
        slug = record_id.removeprefix(records_base(node.config.base_url))
        editing = {"id": record_id, "slug": slug, "version": held.version if held else None}
    if not errors:
        if record_id:
            draft["id"] = record_id
        try:
            outcomes = await node.publisher.publish([draft], require_new=record_id is None)
        except (NodeError, ProtocolError) as exc:
            # One message per field the node refused, in the editor's language (a batch error
            # lists each one); the node's own words stay beside them for the record.
            for detail in exc.detail.get("errors") or [exc.detail]:
                field = pf.field_of_error(detail, languages)
                known = field in values or field.startswith("m")
                errors.setdefault(field if known else "form", pf.message_of_error(detail))
            values["rejected_detail"] = exc.message
        else:
            # Read your writes: the editor's next search finds what it just published.
            await searchable_write(request)
            outcome = outcomes[0]
            slug = outcome.id.removeprefix(records_base(node.config.base_url))
            raise web.HTTPSeeOther(page.link("/editor", done=slug, what=outcome.outcome))
    return _form_page(request, page, kind, values, errors, action, choices, editing)


@add_page(
    routes,
    "/editor/new",
    "POST",
    summary="Publish a new practice or result",
    query=("type",),
    form=FORM_FIELDS,
)
async def create(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    _require(request, page)
    kind = _kind_of(request)
    action = page.link("/editor/new", type="Result" if kind == "Result" else None)
    return await _save(request, page, kind, None, action)


async def _own(request: web.Request) -> store.StoredRecord:
    node = request.app[NODE]
    record_id = records_base(node.config.base_url) + request.match_info["slug"]
    row = await store.get_current(node.db.reader, record_id)
    if row is None or row.origin != node.keyring.identity.did or row.type == "Tombstone":
        raise NotFound(f"this node has no record {record_id} to edit", record=record_id)
    return row


@add_page(routes, f"/editor/records/{SLUG}", summary="The form to edit a record", redirects=True)
async def edit_form(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    _require(request, page)
    row = await _own(request)
    kind = "Result" if row.type == "Result" else "practice"
    values = pf.form_of(row.document(), _languages(request))
    action = page.link(f"/editor/records/{request.match_info['slug']}")
    choices = await _practice_choices(request, page.lang)
    editing = {"id": row.id, "slug": request.match_info["slug"], "version": row.version}
    return _form_page(request, page, kind, values, {}, action, choices, editing)


@add_page(routes, f"/editor/records/{SLUG}", "POST", summary="Save a new version", form=FORM_FIELDS)
async def update(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    _require(request, page)
    row = await _own(request)
    kind = "Result" if row.type == "Result" else "practice"
    action = page.link(f"/editor/records/{request.match_info['slug']}")
    return await _save(request, page, kind, row.id, action)


@add_page(
    routes,
    f"/editor/records/{SLUG}/withdraw",
    "POST",
    summary="Withdraw a record",
    form=("reason",),
)
async def withdraw(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    _require(request, page)
    form = await posted_form(request)
    row = await _own(request)
    reason = str(form.get("reason", "")).strip()[:400]
    await request.app[NODE].publisher.withdraw(row.id, {page.lang: reason} if reason else None)
    await searchable_write(request)
    raise web.HTTPSeeOther(page.link("/editor", done=request.match_info["slug"], what="withdrawn"))


class TemplatePath(msgspec.Struct, kw_only=True):
    name: Annotated[str, msgspec.Meta(pattern="^(practices|results)$")]


@routes.get(
    r"/editor/templates/{name:practices|results}.csv",
    summary="A CSV import template (practices or results), with example rows",
    path=TemplatePath,
    responses={200: Reply("the template", {"text/csv": str})},
)
async def csv_template(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    body = (CSV_TEMPLATES / f"{name}.csv").read_bytes()
    return web.Response(
        body=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@add_page(routes, "/editor/import", summary="The CSV upload form", redirects=True)
async def import_form(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    _require(request, page)
    return html(request, "import.html", {"job": None, "problem": None}, page=page)


@add_page(
    routes, "/editor/import", "POST", summary="Upload a CSV file", form=("file",), upload=True
)
async def upload(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    editor = _require(request, page)
    form = await posted_form(request)
    field = form.get("file")
    if not isinstance(field, web.FileField):
        values = {"job": None, "problem": page.gettext("Choose a CSV file to upload.")}
        return html(request, "import.html", values, status=422, page=page)
    data = field.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        values = {"job": None, "problem": page.gettext("The file is larger than 20 MB.")}
        return html(request, "import.html", values, status=413, page=page)
    job = request.app[IMPORT_JOBS].start(request.app[NODE], field.filename, data, editor.token_id)
    raise web.HTTPSeeOther(page.link(f"/editor/imports/{job.id}"))


@add_page(
    routes,
    "/editor/imports/{job:[A-Za-z0-9_-]{1,40}}",
    summary="An upload's progress and its report",
    redirects=True,
)
async def import_status(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    editor = _require(request, page)
    job = request.app[IMPORT_JOBS].get(request.match_info["job"], editor.token_id)
    if job is None:
        raise NotFound("there is no such upload (uploads are kept until the node restarts)")
    return reply(request, "import.html", {"job": job}, job, page=page)
