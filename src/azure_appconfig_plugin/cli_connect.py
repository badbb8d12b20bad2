"""``azure-appconfig validate`` and ``connect``: argument handling and printing only."""

from __future__ import annotations

import argparse
import os
import sys
import webbrowser
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from app_connections.reports import ValidationReport
from app_connections.text import shown_value

from .cli import CONNECTION_TYPE, EXIT_FAILED, EXIT_OK, EXIT_USAGE, loaded_registry, print_json
from .errors import FieldError, InvalidInput

BAD_INPUT_CODES = {"invalid_input", "endpoint_rejected"}
MARK = {"ok": "ok", "failed": "FAILED", "skipped": "skipped", "inconclusive": "INCONCLUSIVE"}


# --- shared helpers ---------------------------------------------------------------------------


MAX_STDIN_LINE = 64 * 1024


def _utf8(value: str, flag: str, where: str) -> str:
    """``value`` when it is valid UTF-8 text (no lone surrogates from undecodable bytes)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            errors=[FieldError(flag, f"{where} is not valid UTF-8 text; copy the secret's Value again")]
        ) from None
    return value


def _stdin_line(flag: str = "--client-secret-stdin") -> str:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        raw: bytes = buffer.readline(MAX_STDIN_LINE)
        try:
            return raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise InvalidInput(errors=[FieldError(flag, "the first line of stdin is not valid UTF-8 text")]) from None
    try:
        return _utf8(sys.stdin.readline(MAX_STDIN_LINE).rstrip("\r\n"), flag, "the first line of stdin")
    except UnicodeDecodeError:
        raise InvalidInput(errors=[FieldError(flag, "the first line of stdin is not valid UTF-8 text")]) from None


def _secret(args: argparse.Namespace) -> str | None:
    if getattr(args, "client_secret_stdin", False):
        return _stdin_line()
    name = getattr(args, "client_secret_env", None)
    if name:
        from app_connections.text import clean

        if name not in os.environ:
            raise InvalidInput(
                errors=[FieldError("--client-secret-env", f"environment variable {clean(name, 100)} is not set")]
            )
        return _utf8(os.environ[name], "--client-secret-env", f"environment variable {clean(name, 100)}")
    return None


def _check_output(args: argparse.Namespace) -> None:
    """Refuse an unusable --output before any sign-in or validation, so nothing is half-done."""
    from .credentials_file import output_problem

    if getattr(args, "output", None) is not None and not getattr(args, "stdout", False):
        problem = output_problem(args.output)
        if problem:
            from app_connections.text import clean

            raise InvalidInput(errors=[FieldError("--output", f"{clean(args.output, 200)} {problem}")])


def _client_secret_input(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if args.tenant_id:
        data["tenantId"] = args.tenant_id
    if getattr(args, "client_id", None):
        data["clientId"] = args.client_id
    secret = _secret(args)
    if secret is not None:
        data["clientSecret"] = secret
    if args.cloud:
        data["cloud"] = args.cloud
    return data


def _env_value(flag: str, name: str | None) -> str | None:
    if not name:
        return None
    if name not in os.environ:
        raise InvalidInput(errors=[FieldError(flag, f"environment variable {name} is not set")])
    return os.environ[name]


def _read_file(flag: str, path: str | None) -> str | None:
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_INPUT_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(
            errors=[FieldError(flag, f"cannot read {shown_value(path)}: {exc.strerror or type(exc).__name__}")]
        ) from None
    if len(data) > MAX_INPUT_FILE_BYTES:
        raise InvalidInput(
            errors=[FieldError(flag, f"{shown_value(path)} is larger than {MAX_INPUT_FILE_BYTES} bytes")]
        )
    return data.decode("latin-1")


def _pem_blocks(text: str, kind: str) -> str:
    """The PEM blocks of ``text`` whose label ends with ``kind`` (``CERTIFICATE`` / ``PRIVATE KEY``)."""
    import re

    blocks = re.finditer(r"-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----", text)
    return "\n".join(m.group(0) for m in blocks if m.group(1).endswith(kind)) + "\n"


def _certificate_input(args: argparse.Namespace) -> dict[str, Any]:
    import base64

    data: dict[str, Any] = {k: v for k, v in (("tenantId", args.tenant_id), ("clientId", args.client_id)) if v}
    pkcs12_path = getattr(args, "pkcs12", None)
    if pkcs12_path:
        try:
            with open(pkcs12_path, "rb") as f:
                data["pkcs12"] = base64.b64encode(f.read(MAX_INPUT_FILE_BYTES)).decode("ascii")
        except OSError as exc:
            raise InvalidInput(errors=[FieldError("--pkcs12", f"cannot read {pkcs12_path}: {exc.strerror}")]) from None
    pem = _read_file("--certificate", getattr(args, "certificate", None))
    key = _read_file("--private-key", getattr(args, "private_key", None))
    if pem is not None:
        data["certificate"] = _pem_blocks(pem, "CERTIFICATE") if "PRIVATE KEY" in pem else pem
        if key is None and "PRIVATE KEY" in pem:  # one file holding both, as many tools write it
            key = _pem_blocks(pem, "PRIVATE KEY")
    if key is not None:
        data["privateKey"] = key
    passphrase = _env_value("--passphrase-env", getattr(args, "passphrase_env", None))
    if passphrase is not None:
        data["passphrase"] = passphrase
    if getattr(args, "send_certificate_chain", False):
        data["sendCertificateChain"] = True
    if args.cloud:
        data["cloud"] = args.cloud
    return data


def _workload_identity_input(args: argparse.Namespace) -> dict[str, Any]:
    pairs = (
        ("tenantId", args.tenant_id),
        ("clientId", args.client_id),
        ("tokenFilePath", getattr(args, "token_file", None)),
        ("cloud", args.cloud),
    )
    return {k: v for k, v in pairs if v}


def _no_tenant(args: argparse.Namespace, method: str, why: str) -> None:
    if args.tenant_id:
        raise InvalidInput(errors=[FieldError("--tenant-id", f"is not used by {method}: {why}")])


def _managed_identity_input(args: argparse.Namespace) -> dict[str, Any]:
    _no_tenant(args, "managed-identity", "the host's identity belongs to the host's tenant")
    pairs = (
        ("clientId", args.client_id),
        ("resourceId", getattr(args, "resource_id", None)),
        ("objectId", getattr(args, "object_id", None)),
        ("cloud", args.cloud),
    )
    return {k: v for k, v in pairs if v}


def _access_key_input(args: argparse.Namespace) -> dict[str, Any]:
    _no_tenant(args, "access-key", "an access key belongs to its store, not to a tenant")
    data: dict[str, Any] = {"cloud": args.cloud} if args.cloud else {}
    if getattr(args, "connection_string_stdin", False):
        data["connectionString"] = sys.stdin.readline().rstrip("\r\n")
    elif getattr(args, "connection_string_env", None):
        data["connectionString"] = _env_value("--connection-string-env", args.connection_string_env)
    elif getattr(args, "access_key_id", None) or getattr(args, "access_key_secret_env", None):
        data.update(
            endpoint=args.endpoint,
            id=args.access_key_id,
            secret=_env_value("--access-key-secret-env", args.access_key_secret_env),
        )
        data = {k: v for k, v in data.items() if v is not None}
    else:
        raise InvalidInput(
            errors=[
                FieldError(
                    "--connection-string-env/--connection-string-stdin",
                    "the connection string is required: name an environment variable that holds it, "
                    "or pipe it on stdin "
                    "(or give --endpoint, --access-key-id and --access-key-secret-env)",
                )
            ]
        )
    return data


def _client_secret_validate_input(args: argparse.Namespace) -> dict[str, Any]:
    if not (args.client_secret_env or args.client_secret_stdin):
        raise InvalidInput(
            errors=[
                FieldError(
                    "--client-secret-env/--client-secret-stdin",
                    "the client secret is required: name an environment variable that holds it, or pipe it on stdin",
                )
            ]
        )
    return _client_secret_input(args)


MAX_INPUT_FILE_BYTES = 256 * 1024
METHOD_INPUTS = {
    "client-secret": _client_secret_validate_input,
    "certificate": _certificate_input,
    "workload-identity": _workload_identity_input,
    "managed-identity": _managed_identity_input,
    "access-key": _access_key_input,
}
"""How each non-interactive method's form input is read from the command line (secrets from
environment variables, stdin or files, never from arguments)."""
METHODS = ("oauth", *METHOD_INPUTS)


def _exit_for(report: ValidationReport) -> int:
    if any(c.status.value == "failed" and c.code in BAD_INPUT_CODES for c in report.checks):
        return EXIT_USAGE
    return EXIT_OK if report.ok else EXIT_FAILED


def print_report(report: ValidationReport, method: str, out: TextIO, *, as_json: bool) -> None:
    if as_json:
        print_json(report.to_dict(), out)
        return
    verdict = "works" if report.ok else "does NOT work yet"
    out.write(f"Azure App Configuration connection ({method}) {verdict}.\n\n")
    for check in report.checks:
        out.write(f"  [{MARK[check.status.value]:>12}] {check.name}: {check.detail}\n")
        if check.remediation and check.status.value in ("failed", "inconclusive"):
            out.write(f"  {'':>14} fix: {check.remediation}\n")
    out.write("\n")


def _rotation_writer(path: str, err: TextIO) -> Any:
    from .credentials_file import write_credentials

    def on_rotate(credentials: Any) -> None:
        write_credentials(path, credentials.to_dict())
        err.write(f"note: Azure rotated the refresh token; {path} was updated.\n")

    return on_rotate


# --- validate --------------------------------------------------------------------------------


def _read_json_file(path: str, flag: str) -> Mapping[str, Any]:
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deeply
        raise InvalidInput(
            errors=[FieldError(flag, f"cannot read {shown_value(path)}: {type(exc).__name__}")]
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(errors=[FieldError(flag, f"{shown_value(path)} must hold a JSON object")])
    return data


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    from .credentials_file import is_private, read_credentials

    err = sys.stderr
    on_rotate = None
    method = args.method
    ctype = loaded_registry(args).get(CONNECTION_TYPE)
    if args.credentials:
        data: Mapping[str, Any] = read_credentials(args.credentials)
        if not is_private(args.credentials):
            err.write(f"warning: {args.credentials} is readable by other users; run chmod 600 on it\n")
        stored_method = data.get("method")
        if method and stored_method != method:
            raise InvalidInput(
                errors=[
                    FieldError(
                        "--method",
                        f"{args.credentials} holds {stored_method!r} credentials, "
                        f"not {method!r}; drop --method (the file names its method)",
                    )
                ]
            )
        method = stored_method if isinstance(stored_method, str) else method
        if method == "oauth":
            on_rotate = _rotation_writer(args.credentials, err)
    elif not method:
        raise InvalidInput(
            errors=[FieldError("--method", f"say which method ({', '.join(ctype.methods)}) or pass --credentials FILE")]
        )
    elif ctype.is_interactive(method):
        raise InvalidInput(
            errors=[
                FieldError(
                    "--credentials",
                    f"{method} needs the credentials file written by `azure-appconfig connect {method}`",
                )
            ]
        )
    elif args.input:
        data = _read_json_file(args.input, "--input")
    elif method in METHOD_INPUTS:  # the built-in methods' own flags
        data = METHOD_INPUTS[method](args)
    else:
        raise InvalidInput(
            errors=[
                FieldError(
                    "--input",
                    f"{method} reads its form input from --input FILE (a JSON object; "
                    f"see `azure-appconfig schema --method {method}`)",
                )
            ]
        )
    from .cli_sync import progress_line
    from .http.retry import waits_reported

    line = progress_line(args, "validate")  # on a terminal only: each retry wait, with its unit
    with waits_reported(line.wait if line is not None else lambda seconds, status: None):
        try:
            report = loaded_registry(args).validate(
                CONNECTION_TYPE, method, data, endpoint=args.endpoint, write_probe=args.write_probe, on_rotate=on_rotate
            )
        finally:
            if line is not None:
                line.close()
    print_report(report, method or "?", out, as_json=args.json)
    return _exit_for(report)


# --- connect ---------------------------------------------------------------------------------


def _save(args: argparse.Namespace, credentials: Any, out: TextIO) -> None:
    from .credentials_file import write_credentials

    if args.stdout:
        print_json(credentials.to_dict(), out)
    else:
        path = write_credentials(args.output, credentials.to_dict())
        sys.stderr.write(f"Saved the connection's credentials to {path} (mode 0600). Keep this file secret.\n")


def _finish(args: argparse.Namespace, method: str, credentials: Any, out: TextIO) -> int:
    report = loaded_registry(args).validate(
        CONNECTION_TYPE, method, credentials, endpoint=args.endpoint, write_probe=args.write_probe
    )
    print_report(report, method, sys.stderr if args.stdout else out, as_json=args.json and not args.stdout)
    if not report.ok and not args.force:
        sys.stderr.write(
            "Nothing was saved: fix the failed checks and connect again (or pass --force to save anyway).\n"
        )
        return _exit_for(report)
    creds = report.credentials or credentials
    from .auth.credential import OAuthTokenCredential

    if isinstance(report.token_credential, OAuthTokenCredential):
        creds = report.token_credential.credentials  # a rotated refresh token must not be lost
    _save(args, creds, out)
    return _exit_for(report) if not report.ok else EXIT_OK


def cmd_connect_client_secret(args: argparse.Namespace, out: TextIO) -> int:
    from .methods import ClientSecretMethod

    _check_output(args)
    credentials = ClientSecretMethod().parse(_client_secret_input(args))
    return _finish(args, "client-secret", credentials, out)


def cmd_connect_method(args: argparse.Namespace, out: TextIO) -> int:
    """``connect certificate|workload-identity|managed-identity|access-key``."""
    _check_output(args)
    method = args.connect_method
    credentials = loaded_registry(args).get(CONNECTION_TYPE).parse(method, METHOD_INPUTS[method](args))
    return _finish(args, method, credentials, out)


def cmd_connect_oauth(args: argparse.Namespace, out: TextIO) -> int:
    from app_connections.flow_store import InMemoryFlowStore

    from .formats import LOOPBACK_HOSTS
    from .methods import OAuthMethod
    from .settings import InstanceSettings

    _check_output(args)
    settings = InstanceSettings.from_env()
    method = OAuthMethod()
    form = method.parse({k: v for k, v in (("tenantId", args.tenant_id), ("cloud", args.cloud)) if v})
    store = InMemoryFlowStore()
    request = method.begin(form, settings=settings, flow_store=store)
    site = urlsplit(settings.site_url)
    err = sys.stderr

    def show_url(how: str) -> None:
        err.write(f"Open this URL to sign in, {how}:\n")
        shown = err if args.stdout else out  # with --stdout, stdout carries only the credentials JSON
        shown.write(request.url + "\n")
        shown.flush()
        if not args.no_browser:
            webbrowser.open(request.url)

    if site.hostname in LOOPBACK_HOSTS and site.scheme == "http":  # serving https would need a certificate
        from .loopback import CallbackServer

        with CallbackServer(site.hostname, site.port or 80, site.path, state=request.state) as server:
            show_url(f"then wait (up to {args.timeout} s) for the callback on {settings.redirect_uri}")
            params = server.wait(args.timeout)
        if params is None:
            raise InvalidInput(
                errors=[
                    FieldError("callback", f"no sign-in callback arrived within {args.timeout} s; run connect again")
                ]
            )
    else:
        show_url(f"then paste the full URL your browser was sent to ({settings.redirect_uri}?code=...)")
        pasted = _stdin_line("callback").strip()
        if not pasted:
            raise InvalidInput(errors=[FieldError("callback", "no callback URL was pasted")])
        params = parse_qs(urlsplit(pasted).query, keep_blank_values=True)
    credentials = method.complete(params, settings=settings, flow_store=store)
    return _finish(args, "oauth", credentials, out)


# --- argument parsing ---------------------------------------------------------------------------


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tenant-id", help="Directory (tenant) ID or verified domain")
    p.add_argument("--cloud", choices=["public", "usgov", "china"], help="Azure cloud (default: public)")
    p.add_argument("--endpoint", help="store endpoint to check, e.g. https://mystore.azconfig.io")
    p.add_argument(
        "--write-probe",
        action="store_true",
        help=(
            "check Write/Delete by really writing and deleting a sentinel key"
            " (use when the precondition probe is inconclusive)"
        ),
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _add_secret_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-id", help="service principal's Application (client) ID")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--client-secret-env", metavar="VAR", help="read the client secret from environment variable VAR"
    )
    group.add_argument(
        "--client-secret-stdin", action="store_true", help="read the client secret from the first line of stdin"
    )


def _add_certificate_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--certificate", metavar="PEM", help="certificate file (PEM; may also hold the private key)")
    p.add_argument("--private-key", metavar="PEM", help="private key file (PEM), when not in --certificate")
    p.add_argument("--pkcs12", metavar="PFX", help="PKCS#12 file (.pfx/.p12) instead of --certificate/--private-key")
    p.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="read the key's or PKCS#12 file's passphrase from environment variable VAR",
    )
    p.add_argument(
        "--send-certificate-chain",
        action="store_true",
        help="send the certificate chain (x5c) for subject name/issuer auth",
    )


def _add_workload_identity_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--token-file", metavar="PATH", help="federated token file (default: $AZURE_FEDERATED_TOKEN_FILE)")


def _add_managed_identity_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resource-id", help="resource ID of a user-assigned managed identity")
    p.add_argument("--object-id", help="object (principal) ID of a user-assigned managed identity")


def _add_access_key_flags(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--connection-string-env",
        metavar="VAR",
        help="read the store's connection string from environment variable VAR",
    )
    group.add_argument(
        "--connection-string-stdin", action="store_true", help="read the connection string from the first line of stdin"
    )
    p.add_argument("--access-key-id", metavar="ID", help="access key Id (with --endpoint and --access-key-secret-env)")
    p.add_argument(
        "--access-key-secret-env", metavar="VAR", help="read the access key Secret from environment variable VAR"
    )


def _add_output(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--output", metavar="FILE", help="write the credentials to FILE (created with mode 0600)")
    group.add_argument("--stdout", action="store_true", help="print the credentials, secrets included, to stdout")
    p.add_argument("--force", action="store_true", help="save the credentials even when validation fails")


def add_commands(sub: Any, methods: list[str] | None = None) -> None:
    p = sub.add_parser(
        "validate",
        help="prove a connection works, down to each App Configuration permission",
        description=(
            "Exit status: 0 when every check passed, 1 when a check failed or was inconclusive, 2 for bad input."
        ),
    )
    p.add_argument(
        "--method",
        choices=methods or ["oauth", "client-secret"],
        help="auth method (plugin-added ones included); implied by --credentials",
    )
    _add_common(p)
    _add_secret_flags(p)
    p.add_argument(
        "--credentials",
        metavar="FILE",
        help="stored credentials (from `connect`; they name their method); rotated refresh tokens are written back",
    )
    p.add_argument(
        "--input", metavar="FILE", help="form input of the method as a JSON object (any non-interactive method)"
    )
    _add_certificate_flags(p)
    _add_workload_identity_flags(p)
    _add_managed_identity_flags(p)
    _add_access_key_flags(p)
    p.set_defaults(handler=cmd_validate)

    connect = sub.add_parser("connect", help="create a connection, validate it, and save its credentials")
    csub = connect.add_subparsers(dest="connect_method", metavar="METHOD")
    csub.required = True
    p = csub.add_parser("client-secret", help="service principal with a client secret")
    _add_common(p)
    _add_secret_flags(p)
    _add_output(p)
    p.set_defaults(handler=cmd_connect_client_secret)

    for slug, help_text, add in (
        ("certificate", "service principal with a certificate (PEM or PKCS#12)", _add_certificate_flags),
        (
            "workload-identity",
            "workload identity federation (AKS: defaults from AZURE_* variables)",
            _add_workload_identity_flags,
        ),
        ("managed-identity", "this Azure host's managed identity", _add_managed_identity_flags),
        ("access-key", "a store access key (connection string)", _add_access_key_flags),
    ):
        p = csub.add_parser(slug, help=help_text)
        _add_common(p)
        if slug != "access-key":
            p.add_argument(
                "--client-id",
                help=(
                    "client ID of the user-assigned identity"
                    if slug == "managed-identity"
                    else "Application (client) ID"
                ),
            )
        add(p)
        _add_output(p)
        p.set_defaults(handler=cmd_connect_method)

    p = csub.add_parser(
        "oauth",
        help="sign in through the instance's app registration",
        description="With a loopback SITE_URL the CLI serves the callback itself; otherwise paste the callback URL.",
    )
    _add_common(p)
    p.add_argument("--no-browser", action="store_true", help="print the sign-in URL without opening a browser")
    p.add_argument("--timeout", type=int, default=300, help="seconds to wait for the loopback callback (default 300)")
    _add_output(p)
    p.set_defaults(handler=cmd_connect_oauth)
