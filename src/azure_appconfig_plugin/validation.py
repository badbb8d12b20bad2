"""Prove a connection works: offline checks, a token, then the store's permissions.

Every stage adds named checks to one report; later stages are ``skipped`` (with the reason)
when an earlier one failed. Check names: ``input``, ``instance settings``, ``endpoint``,
``token``, ``KeyValue.Read``, ``KeyValue.Write``, ``KeyValue.Delete`` (and ``cleanup`` in
write-probe mode).
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable, Mapping

from . import http_policy
from .clouds import get_cloud
from .errors import AppConnectionError, InvalidInput
from .formats import jwt_claims
from .records import ConnectionType, Credentials
from .reports import Check, CheckStatus, ValidationReport
from .schema import ClientSecretCredentials, OAuthInput, load_credentials
from .settings import InstanceSettings
from .store import SENTINEL_KEY

OK, FAILED, SKIPPED, INCONCLUSIVE = CheckStatus.OK, CheckStatus.FAILED, CheckStatus.SKIPPED, CheckStatus.INCONCLUSIVE
ROLE_DELAY = "New role assignments can take up to 15 minutes to apply."
STORE_CHECKS = ("KeyValue.Read", "KeyValue.Write", "KeyValue.Delete")
POLICY_REMEDY = {
    "foreign_host": "The store (or something in front of it) sent a link to another host; check the endpoint and any proxy.",
    "deadline_exceeded": "Retry later, or raise the deadline (README: Limits and timeouts).",
    "response_too_large": "Check the endpoint is an App Configuration store (or raise max_response_bytes).",
    "malformed_answer": "Check the endpoint is an App Configuration store and no proxy rewrites its answers.",
}


def _skip_all(names: tuple[str, ...] | list[str], why: str) -> list[Check]:
    return [Check(n, SKIPPED, why) for n in names]


def _parse(data: Mapping[str, Any] | Credentials, method: str | None, ctype: ConnectionType) -> Credentials:
    creds: Credentials
    if isinstance(data, OAuthInput):
        raise InvalidInput(
            "an oauth connection is validated after sign-in: complete the flow (or run "
            "`azure-appconfig connect oauth`) and validate the stored credentials",
            field="credentials",
        )
    if not isinstance(data, Mapping) and hasattr(data, "method") and hasattr(data, "to_dict"):
        creds = data
    elif not isinstance(data, Mapping):
        raise InvalidInput("credentials must be a mapping of form input or stored credentials", field="credentials")
    elif "method" in data and data["method"] in ("oauth", "client-secret"):
        creds = load_credentials(data)
    elif "method" in data:
        creds = ctype.method(str(data["method"])).parse({k: v for k, v in data.items() if k != "method"})
    elif method == "oauth":
        raise InvalidInput(
            "oauth needs stored credentials (tenantId, clientId, refreshToken) from a completed sign-in",
            field="credentials",
        )
    elif method:
        creds = ctype.method(method).parse(data)
    else:
        raise InvalidInput("say which method: 'oauth' or 'client-secret'", field="method")
    if method and creds.method != method:
        raise InvalidInput(f"the credentials are for method {creds.method!r}, not {method!r}", field="method")
    return creds


def _principal(credentials: Credentials) -> str:
    if isinstance(credentials, ClientSecretCredentials):
        return f"the service principal of app {credentials.client_id}"
    return "the signed-in user"


def _www_auth_description(header: str | None) -> str:
    if not header:
        return ""
    marker = 'error_description="'
    if marker in header:
        return header.split(marker, 1)[1].split('"', 1)[0]
    return header


@http_policy.bounded_by("validation_seconds")  # hardening #13: one deadline for the whole validation
def validate_credentials(
    data: Mapping[str, Any] | Credentials,
    *,
    method: str | None = None,
    endpoint: str | None = None,
    write_probe: bool = False,
    token_credential: Any = None,
    settings: InstanceSettings | None = None,
    env: Mapping[str, str] | None = None,
    probe_label: str | None = None,
    client_options: Mapping[str, Any] | None = None,
    on_rotate: Any = None,
    connection_type: ConnectionType | None = None,
) -> ValidationReport:
    """Validate form input or stored credentials; never raises for Azure's answers or bad input.

    ``connection_type`` is the (possibly plugin-extended) type, so methods added through
    ``register_auth_methods`` validate too; it defaults to ours.
    """
    if connection_type is None:
        from .connection import build_connection_type

        connection_type = build_connection_type()
    env = os.environ if env is None else env
    checks: list[Check] = []
    later = ["endpoint", "token", *STORE_CHECKS] if endpoint is not None else ["token"]  # "" is bad input (#13)

    # --- offline stage -------------------------------------------------------------------
    try:
        credentials = _parse(data, method, connection_type)
    except AppConnectionError as exc:
        checks.append(Check("input", FAILED, str(exc), "Correct the fields named above.", code="invalid_input"))
        return ValidationReport(tuple(checks + _skip_all(later, "not checked: the input is invalid")))
    checks.append(Check("input", OK, f"{credentials.method} input is well-formed"))
    cloud = get_cloud(getattr(credentials, "cloud", None))

    if credentials.method == "oauth" and token_credential is None:
        if settings is None:
            try:
                settings = InstanceSettings.from_env(env)
            except AppConnectionError as exc:
                checks.append(Check("instance settings", FAILED, str(exc), "Run `azure-appconfig doctor` and set what it lists."))
                return ValidationReport(tuple(checks + _skip_all(later, "not checked: instance settings are missing")), credentials)
        checks.append(Check("instance settings", OK, f"app registration {settings.client_id}, redirect URI {settings.redirect_uri}"))

    store = None
    if endpoint is not None:
        from .endpoints import parse_endpoint

        try:
            store = parse_endpoint(endpoint, cloud=cloud, env=env)
        except AppConnectionError as exc:
            checks.append(Check("endpoint", FAILED, str(exc), "Use https://<store>.%s (no path or query)." % cloud.store_suffix, code="endpoint_rejected"))
            return ValidationReport(tuple(checks + _skip_all(later[1:], "not checked: no token is sent to a rejected endpoint")), credentials)
        checks.append(Check("endpoint", OK, f"{store.url} ({store.cloud.title}{', allow-listed' if store.allow_listed else ''})"))

    # --- token stage ---------------------------------------------------------------------
    try:
        if token_credential is None:
            method_obj = connection_type.method(credentials.method)
            extra = {"settings": settings} if credentials.method == "oauth" else {}
            token_credential = method_obj.token_credential(credentials, on_rotate=on_rotate, **extra)
        token = token_credential.get_token(cloud.scope)
    except AppConnectionError as exc:  # AuthError, or a plugin method's InvalidInput/SettingsError
        checks.append(Check("token", FAILED, str(exc), _token_remedy(exc), code=exc.code))
        return ValidationReport(
            tuple(checks + _skip_all(list(STORE_CHECKS) if store else [], "not checked: no token")), credentials, token_credential
        )
    checks.append(Check("token", OK, f"token issued for {cloud.audience} by {cloud.login_host} (tenant {credentials_tenant(credentials)})"))

    if store is None:
        checks.extend(_skip_all(STORE_CHECKS, "no store endpoint given: pass an endpoint to check KeyValue permissions"))
        return ValidationReport(tuple(checks), credentials, token_credential)

    # --- store stage ---------------------------------------------------------------------
    from . import store as probes

    client = probes.make_client(store, token_credential, **dict(client_options or {}))
    interpret = functools.partial(
        _interpret, url=store.url, principal=_principal(credentials), tenant=credentials_tenant(credentials),
        audience=cloud.audience, claims=jwt_claims(token.token),
    )
    with client:
        read = probes.probe_read(client)
        checks.append(interpret("KeyValue.Read", read))
        if read.unreachable or read.status == 401:
            why = "not checked: the store is unreachable" if read.unreachable else "not checked: the token was rejected"
            checks.extend(_skip_all(STORE_CHECKS[1:], why))
            return ValidationReport(tuple(checks), credentials, token_credential)
        if write_probe:
            checks.extend(_real_write_delete(client, probes, probe_label or probes.new_probe_label(), interpret))
        else:
            checks.append(interpret("KeyValue.Write", probes.probe_write_precondition(client), precondition=True))
            checks.append(interpret("KeyValue.Delete", probes.probe_delete_precondition(client), precondition=True))
    return ValidationReport(tuple(checks), credentials, token_credential)


def credentials_tenant(credentials: Credentials) -> str:
    return str(getattr(credentials, "tenant_id", "?"))


def _token_remedy(exc: AppConnectionError) -> str:
    if getattr(exc, "transient", False):
        return "Retry in a minute; Azure is throttling or briefly unavailable."
    if exc.field == "clientSecret":
        return "Create a new client secret and update the connection."
    if exc.field == "tenantId":
        return "Correct the tenant ID."
    if exc.field == "clientId":
        return "Correct the client ID, or register the app in this tenant."
    return "Follow the message above; reconnect if it says so."


def _real_write_delete(client: Any, probes: Any, label: str, interpret: Callable[..., Check]) -> list[Check]:
    out: list[Check] = []
    write = probes.probe_write_real(client, label)
    out.append(interpret("KeyValue.Write", write))
    if write.status not in (200, 201):
        out.append(Check("KeyValue.Delete", SKIPPED, "not checked: the sentinel key was not written (nothing to delete)"))
        return out
    delete, attempts = probes.probe_delete_real(client, label)
    out.append(interpret("KeyValue.Delete", delete))
    key = f"{SENTINEL_KEY} (label {label})"
    if delete.status in (200, 204):
        note = f" after {attempts} attempts" if attempts > 1 else ""
        out.append(Check("cleanup", OK, f"sentinel key {key} deleted{note}; nothing left behind"))
    else:
        out.append(Check("cleanup", FAILED, f"the sentinel key {key} could not be deleted",
                         f"Delete the key {key} in the store's Configuration explorer.", code=str(delete.status or "unreachable")))
    return out


def _interpret(
    name: str, result: Any, *, url: str, principal: str, tenant: str, audience: str,
    claims: dict[str, Any], precondition: bool = False,
) -> Check:
    """One probe's answer as a check that says what to fix."""
    status = result.status
    if getattr(result, "policy", None):  # stopped by the HTTP policy (#13): foreign link, deadline, size cap, bad body
        return Check(name, FAILED, result.error or result.policy, POLICY_REMEDY.get(result.policy, "Retry later."), code=result.policy)
    if result.unreachable:
        error = result.error or ""
        if any(w in error for w in ("NameResolution", "Name or service not known", "getaddrinfo", "nodename nor servname")):
            detail = f"DNS has no address for {url}: no store by that name exists (check the name and the cloud)"
        else:
            detail = f"{url} could not be reached ({error}): the store may not exist, or a network rule blocks it"
        return Check(name, FAILED, detail,
                     "Check the endpoint on the store's Overview page; for a private endpoint, run this from inside its network.",
                     code="unreachable")
    if status in (200, 201, 204) or (precondition and status == 412):
        how = " (412 on a precondition that cannot match: allowed, nothing changed)" if status == 412 else ""
        return Check(name, OK, f"{principal} has {name} on {url}{how}")
    if status == 401:
        said = _www_auth_description(result.www_authenticate)
        token_aud, token_tid = claims.get("aud"), claims.get("tid")
        if token_aud and str(token_aud).rstrip("/") != audience.rstrip("/"):
            detail = f"the store rejected the token (401): its audience is {token_aud}, expected {audience}"
            remedy = f"Request tokens for {audience}/.default (the connection's cloud may be wrong)."
        else:
            detail = (f"the store rejected the token (401): the store is not in tenant {token_tid or tenant}; "
                      "a token only works for stores in the tenant that issued it")
            remedy = "Use the tenant ID of the store's directory (Azure portal > the store's subscription > Directory)."
        if said:
            from .text import clean

            detail += f". Azure said: {clean(said)}"
        return Check(name, FAILED, detail, remedy, code="401")
    if status == 403:
        role = "App Configuration Data Reader (read only) or App Configuration Data Owner" if name == "KeyValue.Read" else "App Configuration Data Owner"
        return Check(name, FAILED, f"{principal} lacks {name} on {url} (403)",
                     f"Assign the role {role} to {principal} on the store (Access control (IAM) > Add role assignment). {ROLE_DELAY}",
                     code="403")
    if status == 429 or (status is not None and status >= 500):
        wait = f"; Azure asked to wait {result.retry_after}" if result.retry_after else ""
        return Check(name, INCONCLUSIVE, f"the store kept answering {status} after retries{wait}", "Run the validation again in a minute.", code=str(status))
    if status == 409:
        return Check(name, INCONCLUSIVE, f"the sentinel key is locked (409): {result.error or 'conflict'}",
                     f"Unlock or delete the key {SENTINEL_KEY}, or use the other probe mode.", code="409")
    return Check(name, INCONCLUSIVE, f"unexpected answer {status}: {result.error or 'no details'}",
                 "Run with --write-probe to check with a real write and delete." if precondition else None, code=str(status))
