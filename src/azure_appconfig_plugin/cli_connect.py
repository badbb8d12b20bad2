"""``azure-appconfig validate`` and ``connect``: argument handling and printing only."""

from __future__ import annotations

import argparse
import sys
import webbrowser
from typing import TYPE_CHECKING, TextIO, TypeVar
from urllib.parse import parse_qs, urlsplit

from app_connections.reports import ValidationReport

from .cli_common import (
    CONNECTION_TYPE,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    loaded_registry,
    print_json,
    rotation_writer,
)
from .errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from app_connections.auth_method import Credentials
    from app_connections.jsontypes import JSONInput
    from app_connections.loader import Registry

_P = TypeVar("_P", bound=argparse.ArgumentParser)

BAD_INPUT_CODES = {"invalid_input", "endpoint_rejected"}
MARK = {"ok": "ok", "failed": "FAILED", "skipped": "skipped", "inconclusive": "INCONCLUSIVE"}


# --- shared helpers ---------------------------------------------------------------------------


MAX_STDIN_LINE = 64 * 1024


def _stdin_line(flag: str) -> str:
    """The first line of stdin (the pasted callback URL), as UTF-8 text."""
    buffer = getattr(sys.stdin, "buffer", None)
    try:
        if buffer is not None:
            raw: bytes = buffer.readline(MAX_STDIN_LINE)
            return raw.decode("utf-8").rstrip("\r\n")
        line: str = sys.stdin.readline(MAX_STDIN_LINE)
        line.encode("utf-8")
        return line.rstrip("\r\n")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise InvalidInput(errors=[FieldError(flag, "the first line of stdin is not valid UTF-8 text")]) from None


def _check_output(args: argparse.Namespace) -> None:
    """Refuse an unusable --output before any sign-in or validation, so nothing is half-done."""
    from .credentials_file import output_problem

    if getattr(args, "output", None) is not None and not getattr(args, "stdout", False):
        problem = output_problem(args.output)
        if problem:
            from app_connections.text import clean

            raise InvalidInput(errors=[FieldError("--output", f"{clean(args.output, 200)} {problem}")])


def _exit_for(report: ValidationReport) -> int:
    if any(c.status.value == "failed" and c.code in BAD_INPUT_CODES for c in report.checks):
        return EXIT_USAGE
    return EXIT_OK if report.ok else EXIT_FAILED


def print_report(report: ValidationReport, method: str, out: TextIO, *, as_json: bool) -> None:
    """Write a validation report to ``out``: as JSON, or one line per check with its fix."""
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


# --- validate --------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """``validate``: check a stored connection or form input; 0 works, 1 a check failed, 2 bad input."""
    from .cli_inputs import stored_connection

    err = sys.stderr
    on_rotate = None
    method = args.method
    ctype = loaded_registry(args).get(CONNECTION_TYPE)
    if args.credentials:
        data: JSONInput = stored_connection(args, ctype)
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
            on_rotate = rotation_writer(args.credentials, err)
    else:
        from .cli_inputs import check_method, form_input

        check_method(method, ctype)
        data = form_input(args, method)
    from .cli_common import progress_line
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


def _save(args: argparse.Namespace, credentials: Credentials, out: TextIO) -> None:
    from .credentials_file import write_credentials

    if args.stdout:
        print_json(credentials.to_dict(), out)
    else:
        path = write_credentials(args.output, credentials.to_dict())
        sys.stderr.write(f"Saved the connection's credentials to {path} (mode 0600). Keep this file secret.\n")


def _finish(args: argparse.Namespace, method: str, credentials: Credentials, out: TextIO) -> int:
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


def cmd_connect_method(args: argparse.Namespace, out: TextIO) -> int:
    """``connect METHOD`` for a method whose form input gives its credentials (plugin ones included)."""
    from .cli_inputs import form_input, parse_credentials

    _check_output(args)
    method = args.connect_method
    ctype = loaded_registry(args).get(CONNECTION_TYPE)
    credentials = parse_credentials(ctype, method, form_input(args, method), args=args)
    return _finish(args, method, credentials, out)


def cmd_connect_oauth(args: argparse.Namespace, out: TextIO) -> int:
    """``connect oauth``: sign in through the browser, validate the connection and save its credentials."""
    from app_connections.flow_store import InMemoryFlowStore

    from .formats import LOOPBACK_HOSTS
    from .methods import OAuthMethod
    from .settings import InstanceSettings

    _check_output(args)
    settings = InstanceSettings.from_env()
    method = OAuthMethod()
    from app_connections.cli_flags import read_flags

    form = method.parse(read_flags(args, method.input_fields))
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


def _add_output(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--output", metavar="FILE", help="write the credentials to FILE (created with mode 0600)")
    group.add_argument("--stdout", action="store_true", help="print the credentials, secrets included, to stdout")
    p.add_argument("--force", action="store_true", help="save the credentials even when validation fails")


def add_commands(sub: argparse._SubParsersAction[_P], registry: Registry | None) -> None:
    """``validate`` and ``connect METHOD``: each method's flags derived from its declared input fields."""
    from app_connections.cli_flags import add_flags

    from .cli_inputs import add_connection_flags, add_input_flags, connection_type, method_choices

    p = sub.add_parser(
        "validate",
        help="prove a connection works, down to each App Configuration permission",
        description=(
            "Exit status: 0 when every check passed, 1 when a check failed or was inconclusive, 2 for bad input. "
            "Each method's flags come from its input fields (`azure-appconfig schema --method M`)."
        ),
    )
    _add_common(p)
    add_connection_flags(
        p,
        registry,
        stored="stored credentials (from `connect`; they name their method); rotated refresh tokens are written back",
    )
    p.set_defaults(handler=cmd_validate)

    connect = sub.add_parser("connect", help="create a connection, validate it, and save its credentials")
    csub = connect.add_subparsers(dest="connect_method", metavar="METHOD")
    csub.required = True
    ctype = connection_type(registry)
    choices = method_choices(registry)
    for slug, method in ctype.methods.items():
        if method.interactive:
            continue
        p = csub.add_parser(slug, help=method.name, description=getattr(method, "description", None) or None)
        _add_common(p)
        add_input_flags(p, {slug: tuple(method.input_fields)}, choices)
        _add_output(p)
        p.set_defaults(handler=cmd_connect_method)

    from .methods import OAuthMethod

    p = csub.add_parser(
        "oauth",
        help="sign in through the instance's app registration",
        description="With a loopback SITE_URL the CLI serves the callback itself; otherwise paste the callback URL.",
    )
    _add_common(p)
    add_flags(p, OAuthMethod().input_fields)
    p.add_argument("--no-browser", action="store_true", help="print the sign-in URL without opening a browser")
    p.add_argument("--timeout", type=int, default=300, help="seconds to wait for the loopback callback (default 300)")
    _add_output(p)
    p.set_defaults(handler=cmd_connect_oauth)
