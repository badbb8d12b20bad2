"""Data-plane probes against an App Configuration store (azure-appconfiguration).

Each probe returns a ``ProbeResult``: what Azure answered, never an exception. The default
probes change no data: a filtered read of a sentinel key, then a write and a delete of that
key under an ``If-Match`` precondition that cannot match, so the service answers 412 when the
caller is allowed and 403 when it is not. ``write_probe=True`` really writes and deletes a
sentinel key under a unique label, and always cleans it up.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeVar, cast, runtime_checkable

import attrs

from app_connections.text import clean

from .clouds import Cloud
from .endpoints import StoreEndpoint

if TYPE_CHECKING:
    from azure.appconfiguration import AzureAppConfigurationClient, ConfigurationSetting
    from azure.appconfiguration.aio import AzureAppConfigurationClient as AsyncAzureAppConfigurationClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import HttpResponseError

    from app_connections.aio import AsyncTokenCredential
    from app_connections.jsontypes import JSONValue
    from app_connections.records import TokenCredential

    from .http.limits import Limits
    from .http.pace import Pace

ClientT = TypeVar("ClientT")

API_VERSION = "2023-11-01"
"""Pinned so recorded traffic does not change when the SDK's default changes."""
SENTINEL_KEY = "azure-appconfig-plugin/connection-probe"
IMPOSSIBLE_ETAG = "azure-appconfig-plugin-never-matches"
CLEANUP_ATTEMPTS = 3


@runtime_checkable
class KeySigner(Protocol):
    """A request credential that signs each request with a store's access key (HMAC-SHA256), as an
    ``access-key`` method's ``request_credential`` returns (``AccessKeyCredentials``)."""

    def hmac_credential(self) -> tuple[AzureKeyCredential, str]:
        """``(AzureKeyCredential(secret), id)``: what ``AzureAppConfigurationClient`` signs requests with."""


@attrs.frozen
class ProbeResult:
    """What Azure answered one probe (never an exception): its status and what explains it."""

    status: int | None
    """HTTP status, or None when no answer came (DNS, connection failure) or the HTTP policy stopped
    the request (except a refused redirect: its status)."""
    error: str | None = None
    """Azure's error text / problem title, or the transport failure."""
    www_authenticate: str | None = None
    retry_after: str | None = None
    """The wait a throttled answer asked for, with its unit (``5 s``, ``1500 ms``)."""
    unreachable: bool = False
    no_such_host: bool = False
    """DNS answered that the store's name does not exist (not: DNS could not be reached)."""
    policy: str | None = None
    """The code of the HTTP policy's refusal (``foreign_host``, ``deadline_exceeded``,
    ``response_too_large``), ``malformed_answer`` for a body that is not what the API returns, or
    ``certificate_untrusted`` for a store certificate this machine does not trust."""


def make_client(
    endpoint: StoreEndpoint,
    credential: TokenCredential | KeySigner,
    *,
    limits: Limits | None = None,
    pool_maxsize: int = 10,
    pace: Pace | None = None,
    **pipeline_kwargs: object,
) -> AzureAppConfigurationClient:
    """The only factory of App Configuration clients: every request goes through the HTTP policy (``http``).

    The client is pinned to the endpoint's host and port (links and redirects elsewhere are
    refused), each call is bounded by the policy's deadline, waits and size cap. ``limits`` fixes
    an ``http.limits.Limits`` for this client; ``pool_maxsize`` sizes its connection pool (the sync
    engine's parallel writers need more than the default 10); a sync run's ``pace`` (``http.pace``)
    paces every attempt and retries its 429s. Any other keyword goes to the client's
    pipeline (e.g. ``user_agent``, ``logging_enable``), except ``connection_verify`` / ``connection_cert``,
    which go to the policy's transport; a ``transport`` or ``retry_policy`` given
    here replaces the policy's and is the caller's responsibility.
    """
    from azure.appconfiguration import AzureAppConfigurationClient

    from .http import transport

    return _client(
        AzureAppConfigurationClient,
        transport.client_kwargs,
        endpoint,
        credential,
        limits,
        pool_maxsize,
        pace,
        pipeline_kwargs,
    )


def make_async_client(
    endpoint: StoreEndpoint,
    credential: AsyncTokenCredential | KeySigner,
    *,
    limits: Limits | None = None,
    pool_maxsize: int = 10,
    pace: Pace | None = None,
    **pipeline_kwargs: object,
) -> AsyncAzureAppConfigurationClient:
    """``make_client``'s async twin: the SDK's ``azure.appconfiguration.aio.AzureAppConfigurationClient``
    on the policy's aiohttp transport (``http.transport_aio``), with the same pinning, deadlines, capped
    waits and size cap. ``credential`` is an ``AsyncTokenCredential`` (or an access key's signer)."""
    from .http import transport_aio

    transport_aio.require_aiohttp()
    from azure.appconfiguration.aio import AzureAppConfigurationClient

    kwargs = transport_aio.async_client_kwargs
    return _client(
        AzureAppConfigurationClient, kwargs, endpoint, credential, limits, pool_maxsize, pace, pipeline_kwargs
    )


def _client(
    client_class: Callable[..., ClientT],
    policy_kwargs: Callable[..., dict[str, object]],
    endpoint: StoreEndpoint,
    credential: object,
    limits: Limits | None,
    pool_maxsize: int,
    pace: Pace | None,
    pipeline_kwargs: dict[str, object],
) -> ClientT:
    from .http.retry import RETRY_OPTIONS
    from .http.transport import TRANSPORT_OPTIONS

    cloud: Cloud = endpoint.cloud
    if isinstance(credential, KeySigner):  # access keys: the SDK signs every request (HMAC-SHA256); no token is sent
        credential, pipeline_kwargs["id_credential"] = credential.hmac_credential()
    policy_options = RETRY_OPTIONS + TRANSPORT_OPTIONS
    retry = {k: pipeline_kwargs.pop(k) for k in policy_options if k in pipeline_kwargs}
    port = endpoint.port or 443
    options = policy_kwargs(endpoint.host, port, limits=limits, pool_maxsize=pool_maxsize, pace=pace, **retry)
    given = pipeline_kwargs.pop("per_retry_policies", None)
    options.update(pipeline_kwargs)
    if given is not None:  # a caller's policies run after the policy's own (a run's pace), never instead
        ours = cast("list[object]", options.get("per_retry_policies", []))
        options["per_retry_policies"] = [*ours, *cast("Iterable[object]", given)]
    return client_class(endpoint.url, credential, api_version=API_VERSION, audience=cloud.audience + "/", **options)


def _answer_failures() -> tuple[type[Exception], ...]:
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    from .http.errors import HttpPolicyError

    return (HttpPolicyError, HttpResponseError, ServiceRequestError, ServiceResponseError)


def probe_failures() -> tuple[type[Exception], ...]:
    """What a probe's call may raise that ``failed_probe`` turns into its ``ProbeResult``."""
    return (*_answer_failures(), *UNDECODABLE)


UNDECODABLE: tuple[type[Exception], ...] = (ValueError, TypeError, AttributeError, KeyError)
"""What the SDK raises for a body it could not deserialize."""


def _result(call: Callable[[], object]) -> ProbeResult:
    try:
        call()
        return ProbeResult(200)
    except probe_failures() as exc:
        return failed_probe(exc)


def failed_probe(exc: Exception) -> ProbeResult:
    """The ``ProbeResult`` of a probe that raised ``exc`` (one of ``probe_failures()``): sync and async alike."""
    from azure.core.exceptions import DecodeError, HttpResponseError

    from .http.answers import CERTIFICATE_UNTRUSTED, untrusted_certificate
    from .http.errors import policy_error

    if isinstance(exc, _answer_failures()):
        found = policy_error(exc)  # the policy's refusal, raised as is (or inside an SDK error)
        if found is not None:
            return ProbeResult(getattr(found, "status", None), str(found), policy=found.code)
        if isinstance(exc, DecodeError):
            return _malformed(exc.response, None)
        if isinstance(exc, HttpResponseError):
            return _answered(exc)
        untrusted = untrusted_certificate(exc)
        if untrusted is not None:  # not "unreachable": the store answered with a certificate not trusted here
            return ProbeResult(None, untrusted, unreachable=True, policy=CERTIFICATE_UNTRUSTED)
        return ProbeResult(
            None, f"{type(exc).__name__}: {_first_line(str(exc))}", unreachable=True, no_such_host=_no_such_host(exc)
        )
    doc = getattr(exc, "doc", None)  # a body the SDK could not deserialize
    return _malformed(None, doc.encode("utf-8", "replace") if isinstance(doc, str) else None)


def _answered(exc: HttpResponseError) -> ProbeResult:
    """An answer with an error status: its status, Azure's error text and the headers that explain it."""
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(exc, "status_code", None)
    headers = getattr(response, "headers", {}) or {}
    return ProbeResult(
        int(status) if status else None,
        _error_text(exc),
        clean(headers.get("WWW-Authenticate") or "", 500) or None,
        asked_wait(headers),
    )


def asked_wait(headers: Mapping[str, str]) -> str | None:
    """The wait a throttled answer asked for, with its unit (``5 s``, ``1500 ms``; an HTTP date as given)."""
    from .http.retry import RETRY_AFTER_HEADERS

    for name, unit in RETRY_AFTER_HEADERS:
        raw = clean(headers.get(name) or "", 60)
        if raw:
            return f"{raw} {unit}" if raw.replace(".", "", 1).isdigit() else raw
    return None


def _malformed(response: object, body: bytes | None) -> ProbeResult:
    from .http.answers import describe_body

    status = getattr(response, "status_code", None)
    content_type = None
    if response is not None:
        content_type = (getattr(response, "headers", None) or {}).get("Content-Type")
        # describing the answer must not fail (a caller's own transport may leave a body unread;
        # the policy transport always reads it whole before the SDK sees the response)
        with contextlib.suppress(Exception):
            read = _read_body(response)
            body = read if read is not None else body
    what = describe_body(body, content_type) if body is not None else "a body that is not the API's JSON"
    return ProbeResult(
        status,
        f"the store answered{f' {status}' if status else ''} with {what}, not App Configuration JSON: "
        "the endpoint may not be an App Configuration store, or a proxy rewrote the answer",
        policy="malformed_answer",
    )


NO_SUCH_NAME = (
    "Name or service not known",
    "nodename nor servname",
    "No address associated with hostname",
    "EAI_NONAME",
    "[Errno -2]",
    "[Errno 8]",
    "getaddrinfo failed",
)
"""Resolver answers that mean the name does not exist (not that DNS could not be reached)."""


def _no_such_host(exc: BaseException) -> bool:
    """Whether a transport failure (anywhere in its chain, before any text is shortened) is the
    resolver saying the name does not exist."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror) and current.errno in (
            socket.EAI_NONAME,
            getattr(socket, "EAI_NODATA", None),
        ):
            return True
        if any(marker in str(current) for marker in NO_SUCH_NAME):
            return True
        current = getattr(current, "inner_exception", None) or current.__cause__ or current.__context__
    return False


def _first_line(text: str) -> str:
    return clean(text.strip().splitlines()[0]) if text.strip() else ""


def _error_text(exc: HttpResponseError) -> str | None:
    response: object = exc.response  # azure-core types it by the members its exception reads, not json()
    try:
        body = response.json() if isinstance(response, _JsonAnswer) and response.text() else None
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        for key in ("title", "detail", "message"):
            if body.get(key):
                return clean(body[key])
    reason = getattr(response, "reason", None)
    return clean(reason) if reason else None


@runtime_checkable
class _JsonAnswer(Protocol):
    """What ``_error_text`` reads of an error answer (azure-core's ``HttpResponse``, sync or async)."""

    def text(self) -> str: ...

    def json(self) -> JSONValue: ...


def _read_body(response: object) -> bytes | None:
    """The body azure-core read of an answer, by its response type: the ``rest`` responses
    (``content``) and the pipeline transport's (``body()``). The ``rest`` ones answer ``body()``
    only through ``__getattr__``, which a runtime Protocol check does not see on Python 3.12+."""
    from azure.core.pipeline.transport import AsyncHttpResponse as AsyncTransportResponse
    from azure.core.pipeline.transport import HttpResponse as TransportResponse
    from azure.core.rest import AsyncHttpResponse, HttpResponse

    if isinstance(response, (HttpResponse, AsyncHttpResponse)):
        return response.content
    if isinstance(response, (TransportResponse, AsyncTransportResponse)):
        return response.body()
    return None


def probe_read(client: AzureAppConfigurationClient) -> ProbeResult:
    """A filtered read of the sentinel key (changes nothing)."""
    return _result(
        lambda: list(client.list_configuration_settings(key_filter=SENTINEL_KEY, label_filter="\0", fields=["key"]))
    )


def _not_matching_setting(label: str | None) -> ConfigurationSetting:
    from azure.appconfiguration import ConfigurationSetting

    return ConfigurationSetting(key=SENTINEL_KEY, label=label, value="", etag=IMPOSSIBLE_ETAG)


def probe_write_precondition(client: AzureAppConfigurationClient) -> ProbeResult:
    """A write of the sentinel under a precondition that cannot match (412 when allowed, nothing changed)."""
    from azure.core import MatchConditions

    return _result(
        lambda: client.set_configuration_setting(
            _not_matching_setting(None), match_condition=MatchConditions.IfNotModified
        )
    )


def probe_delete_precondition(client: AzureAppConfigurationClient) -> ProbeResult:
    """A delete of the sentinel under a precondition that cannot match (412 when allowed, nothing changed)."""
    from azure.core import MatchConditions

    return _result(
        lambda: client.delete_configuration_setting(
            SENTINEL_KEY, etag=IMPOSSIBLE_ETAG, match_condition=MatchConditions.IfNotModified
        )
    )


def new_probe_label() -> str:
    """A unique label for a real write probe's sentinel key."""
    return f"probe-{uuid.uuid4().hex}"


def probe_write_real(client: AzureAppConfigurationClient, label: str) -> ProbeResult:
    """Really write the sentinel key under ``label`` (``probe_delete_real`` removes it)."""
    from azure.appconfiguration import ConfigurationSetting

    setting = ConfigurationSetting(key=SENTINEL_KEY, label=label, value="connection probe; safe to delete")
    return _result(lambda: client.add_configuration_setting(setting))


def probe_delete_real(client: AzureAppConfigurationClient, label: str) -> tuple[ProbeResult, int]:
    """Delete the sentinel; retried so a transient failure leaves nothing behind.
    Returns the last result and how many attempts it took."""
    result = ProbeResult(None)
    for attempt in range(1, CLEANUP_ATTEMPTS + 1):
        result = _result(lambda: client.delete_configuration_setting(SENTINEL_KEY, label=label))
        if result.status in (200, 204, 401, 403) or result.policy == "deadline_exceeded":
            return result, attempt
    return result, CLEANUP_ATTEMPTS
