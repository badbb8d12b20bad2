"""The reference host's pages: connection types and methods found through the entry point, each
method's form rendered from its published schema, OAuth sign-in, encrypted storage, the validation
report, and a sync plan shown before the push."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from . import forms, kit
from .vault import Vault

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Import MSAL and the SDK (the provider's ``aio.warm_up``) off the loop, before the first request."""
    await kit.warm_up()
    yield


def create_app(settings: kit.InstanceSettings, vault: Vault, registry: kit.Registry | None = None) -> Starlette:
    """The host. ``registry`` defaults to the entry point's plugins under the allow-list
    (``APP_CONNECTIONS_ALLOWED_PLUGINS``) and this host's policy (``kit.POLICY``);
    ``settings`` are the instance's OAuth app and address."""
    registry = registry or kit.load_plugins(policy=kit.POLICY)
    flows = kit.AsyncInMemoryFlowStore()

    def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
        return TEMPLATES.TemplateResponse(request, template, {"registry": registry, **context}, status_code=status)

    def connection(cid: int) -> tuple[Any, dict[str, Any], Any]:
        """A stored connection: its row, its decrypted stored credentials and its connection type."""
        found = vault.get(cid)
        if found is None:
            raise HTTPException(404, "no such connection")
        row, stored = found
        return row, stored, registry.get(row["type"])

    def rotate(cid: int) -> dict[str, Any]:
        """``on_rotate=``: persist the credentials the identity platform rotated."""
        return {"on_rotate": lambda updated: vault.update(cid, updated.to_dict())}

    async def home(request: Request) -> Response:
        """Connection types and methods (from the entry point), stored connections, plugins."""
        return page(request, "index.html", connections=vault.connections())

    async def new(request: Request) -> Response:
        """A method's form (GET); parse it, then validate and save, or sign in (POST)."""
        slug, name = request.path_params["slug"], request.path_params["method"]
        ctype = registry.get(slug)
        if name not in ctype.methods:
            raise HTTPException(404, "no such method")
        schema, host = ctype.methods[name].input_schema(), {"name": "", "endpoint": ""}
        context: dict[str, Any] = {"ctype": ctype, "method": ctype.methods[name], "host": host, "errors": {}}
        if request.method == "GET":
            return page(request, "form.html", sections=forms.sections(schema, {}), **context)
        form = await request.form()
        host.update(name=str(form.get("name") or ctype.methods[name].name), endpoint=str(form.get("endpoint", "")))
        data = forms.read(schema, form)
        try:
            parsed = ctype.parse(name, data)
        except kit.InvalidInput as exc:
            context["errors"] = {e.field: e.message for e in exc.errors}
            return page(request, "form.html", 422, sections=forms.sections(schema, data), **context)
        if not ctype.is_interactive(name):
            return await save(request, slug, name, host, parsed)
        sign_in = await ctype.abegin(name, parsed, settings=settings, flow_store=flows)
        vault.begin(sign_in.state, host["name"], slug, name, host["endpoint"])
        return RedirectResponse(sign_in.url, 303)

    async def save(request: Request, slug: str, method: str, host: dict[str, str], credentials: Any) -> Response:
        """Validate before saving: a failing report is shown, a passing one stored and shown."""
        report = await registry.avalidate(slug, None, credentials, endpoint=host["endpoint"])
        if not report.ok:
            return page(request, "report.html", 422, report=report, host=host, slug=slug, method=method)
        cid = vault.add(host["name"], slug, method, host["endpoint"], credentials.to_dict())
        return await show(request, cid, report)

    async def callback(request: Request) -> Response:
        """The OAuth redirect URI: the code exchanged for credentials, or the error and its remedy."""
        params = dict(request.query_params)
        pending = vault.take(params.get("state", ""))
        if pending is None:
            error = {"message": "this sign-in is unknown or was already used: start the connection again"}
            return page(request, "error.html", 400, error=error, retry="/")
        slug, method = pending["type"], pending["method"]
        try:
            credentials = await registry.get(slug).acomplete(method, params, settings=settings, flow_store=flows)
        except kit.AppConnectionError as exc:  # declined (403), expired, forged...: the message says what to do
            return page(request, "error.html", exc.http_status, error=exc, retry=f"/connections/new/{slug}/{method}")
        host = {key: pending[key] for key in ("name", "endpoint")}
        return await save(request, slug, method, host, credentials)

    async def show(request: Request, cid: int, report: Any = None, values: Any = None, **context: Any) -> Response:
        """The connection page: non-secret stored fields, a report if any, the sync form."""
        row, stored, ctype = connection(cid)
        fields = ctype.methods[row["method"]].stored_schema()["properties"]
        shown = {k: v for k, v in stored.items() if not fields.get(k, {}).get("writeOnly")}  # never a secret
        sync: Any = registry.syncs.get(row["type"])  # SecretSyncDestination declares no destination_schema
        sections = forms.sections(sync.destination_schema(), values or {"endpoint": row["endpoint"]}) if sync else []
        return page(request, "connection.html", 422 if context.get("errors") else 200, row=row, shown=shown,
                    report=report, sections=sections, secrets=sorted(vault.secrets()), **context)  # fmt: skip

    async def view(request: Request) -> Response:
        """A stored connection (GET), validated again (POST)."""
        cid = int(request.path_params["id"])
        row, stored, ctype = connection(cid)
        report = None
        if request.method == "POST":  # validate again; a rotated refresh token is stored
            credentials, endpoint = ctype.load(stored), row["endpoint"]
            report = await registry.avalidate(row["type"], None, credentials, endpoint=endpoint, **rotate(cid))
        return await show(request, cid, report)

    async def sync(request: Request) -> Response:
        """The sync plan (nothing written), or the push: the destination form parsed by the server."""
        cid, action = int(request.path_params["id"]), request.url.path.rpartition("/")[2]
        row, stored, ctype = connection(cid)
        dest: Any = registry.syncs[row["type"]]
        data = forms.read(dest.destination_schema(), await request.form())
        try:
            destination = dest.parse_destination(data, env=kit.POLICY.env)
        except kit.InvalidInput as exc:
            return await show(request, cid, errors={e.field: e.message for e in exc.errors}, values=data)
        run = dest.apush if action == "push" else dest.aplan  # the plan lists the scope and writes nothing
        report = await run(ctype.load(stored), destination, vault.secrets(), env=kit.POLICY.env, **rotate(cid))
        return page(request, "sync.html", row=row, report=report, action=action, data=data, prefix=forms.PREFIX)

    return Starlette(
        routes=[
            Route("/", home),
            Route("/connections/new/{slug}/{method}", new, methods=["GET", "POST"]),
            Route(kit.CALLBACK_PATH, callback),
            Route("/connections/{id:int}", view, methods=["GET", "POST"]),
            Route("/connections/{id:int}/sync/plan", sync, methods=["POST"]),
            Route("/connections/{id:int}/sync/push", sync, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
