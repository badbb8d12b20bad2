"""``app_connections.cli_flags``: flags derived from declared fields; secrets never from argv."""

from __future__ import annotations

import argparse
import base64
import io
from pathlib import Path

import pytest

from app_connections.cli_flags import FlagParser, add_flags, flags_of, kebab, named_by_flags, read_flags
from app_connections.errors import FieldError, InvalidInput
from app_connections.fields import Field

TENANT = Field("tenantId", title="Tenant ID", description="The tenant (100% yours).", required=True)
SECRET = Field("clientSecret", title="Client secret", description="The secret.", secret=True)
KEY = Field("privateKey", title="Key", description="PEM key.", secret=True, multiline=True)
CERT = Field("certificate", title="Certificate", description="PEM.", multiline=True)
BLOB = Field("pkcs12", title="PKCS#12", description="A .pfx.", secret=True, multiline=True, encoding="base64")
COUNT = Field("retryCount", type="integer", title="Retries", description="How many.")
CHAIN = Field("sendChain", type="boolean", title="Chain", description="Send it.")
CLOUD = Field("cloud", title="Cloud", description="Which.", enum=("public", "china"))
FIELDS = (TENANT, SECRET, KEY, CERT, BLOB, COUNT, CHAIN, CLOUD)


def parse(*argv: str, fields: tuple[Field, ...] = FIELDS) -> argparse.Namespace:
    parser = FlagParser(exit_on_error=False)
    add_flags(parser, fields)
    return parser.parse_args(list(argv))


def parse_help() -> str:
    parser = FlagParser()
    add_flags(parser, FIELDS)
    return parser.format_help()


def error_of(excinfo: pytest.ExceptionInfo[InvalidInput]) -> tuple[str, str]:
    (error,) = excinfo.value.errors
    return error.field, error.message


def test_names_are_kebab_case_and_derived_from_the_kind_of_field() -> None:
    assert kebab("tenantId") == "tenant-id" and kebab("sendCertificateChain") == "send-certificate-chain"
    assert list(flags_of(TENANT)) == ["--tenant-id"]
    assert list(flags_of(SECRET)) == ["--client-secret-env", "--client-secret-stdin"]
    assert list(flags_of(KEY)) == ["--private-key-env", "--private-key-file", "--private-key-stdin"]
    assert list(flags_of(CERT)) == ["--certificate-file"]
    assert list(flags_of(CHAIN)) == ["--send-chain"]


def test_values_are_read_typed(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")
    args = parse(
        "--tenant-id", "t", "--certificate-file", str(cert), "--retry-count", "3", "--no-send-chain", "--cloud", "china"
    )
    assert read_flags(args, FIELDS) == {
        "tenantId": "t",
        "certificate": cert.read_text(),
        "retryCount": 3,
        "sendChain": False,
        "cloud": "china",
    }
    assert read_flags(parse(), FIELDS) == {}


def test_a_secret_never_takes_its_value_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:  # refused by name, not left to argparse's prefix matching
        parse("--client-secret", "s3cr3t-value")
    error = capsys.readouterr().err
    assert exited.value.code == 2 and "s3cr3t-value" not in error
    assert "--client-secret is not accepted: a secret is never a command-line value" in error
    assert "use --client-secret-env or --client-secret-stdin" in error
    assert "--client-secret " not in parse_help()
    parser = FlagParser()
    add_flags(parser, FIELDS)
    secret_flags = [f for f in parser._option_string_actions if "secret" in f or "private" in f or "pkcs12" in f]
    for flag in secret_flags:
        action = parser._option_string_actions[flag]
        if action.help == argparse.SUPPRESS:  # the bare name: refused, as above
            assert flag in ("--client-secret", "--private-key", "--pkcs12")
            continue
        assert flag.endswith(("-env", "-stdin", "-file")) and (action.nargs == 0 or action.metavar in ("VAR", "PATH"))


def test_secrets_come_from_the_environment_or_stdin() -> None:
    args = parse("--client-secret-env", "MY_SECRET")
    assert read_flags(args, FIELDS, environ={"MY_SECRET": "from-env"}) == {"clientSecret": "from-env"}
    args = parse("--client-secret-stdin")
    assert read_flags(args, FIELDS, stdin=io.StringIO("first\nsecond\n")) == {"clientSecret": "first"}
    args = parse("--private-key-stdin")  # multiline: all of stdin
    assert read_flags(args, FIELDS, stdin=io.StringIO("a\nb\n")) == {"privateKey": "a\nb\n"}


def test_an_unset_variable_names_the_flag_and_never_echoes_values() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--client-secret-env", "NOPE"), FIELDS, environ={"OTHER": "s3cr3t"})
    assert error_of(excinfo) == ("--client-secret-env", "environment variable NOPE is not set; export it first")
    assert "s3cr3t" not in str(excinfo.value)


def test_a_binary_field_is_read_as_bytes_and_base64_encoded(tmp_path: Path) -> None:
    pfx = tmp_path / "app.pfx"
    pfx.write_bytes(b"\x30\x82\xff\x00binary")
    values = read_flags(parse("--pkcs12-file", str(pfx)), FIELDS)
    assert values == {"pkcs12": base64.b64encode(b"\x30\x82\xff\x00binary").decode()}


def test_files_are_capped_and_errors_name_the_flag(tmp_path: Path) -> None:
    big = tmp_path / "big.pem"
    big.write_bytes(b"A" * 11)
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--certificate-file", str(big)), FIELDS, max_file_bytes=10)
    assert error_of(excinfo) == ("--certificate-file", f"{big} is larger than 10 bytes")
    assert read_flags(parse("--certificate-file", str(big)), FIELDS, max_file_bytes=11) == {"certificate": "A" * 11}
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--certificate-file", str(tmp_path / "absent")), FIELDS)
    assert error_of(excinfo) == ("--certificate-file", f"cannot read {tmp_path / 'absent'}: No such file or directory")
    bad = tmp_path / "latin1.pem"
    bad.write_bytes(b"caf\xe9")
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--certificate-file", str(bad)), FIELDS)
    assert error_of(excinfo) == ("--certificate-file", f"{bad} is not valid UTF-8 text")
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--private-key-stdin"), FIELDS, stdin=io.StringIO("x" * 11), max_file_bytes=10)
    assert error_of(excinfo)[0] == "--private-key-stdin"


def test_typed_errors_for_integers_stdin_and_doubled_fields() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--retry-count", "three"), FIELDS)
    assert error_of(excinfo) == ("--retry-count", "must be a whole number, e.g. --retry-count 3")
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--client-secret-stdin", "--private-key-stdin"), FIELDS, stdin=io.StringIO("x\n"))
    assert error_of(excinfo) == (
        "--private-key-stdin",
        "stdin can carry one value only (--client-secret-stdin); use --private-key-env VAR",
    )
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--client-secret-stdin"), FIELDS, stdin_taken="--from -")
    assert error_of(excinfo) == ("--client-secret-stdin", "stdin already carries --from -; use --client-secret-env VAR")
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--private-key-env", "K", "--private-key-stdin"), FIELDS, environ={"K": "k"})
    assert error_of(excinfo) == (
        "--private-key-stdin",
        "give privateKey once: --private-key-env or --private-key-stdin, not both",
    )
    undecodable = io.TextIOWrapper(io.BytesIO(b"s\xffcret\n"), encoding="utf-8")
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(parse("--client-secret-stdin"), FIELDS, stdin=undecodable)
    assert error_of(excinfo) == ("--client-secret-stdin", "the first line of stdin is not valid UTF-8 text")


def test_a_flag_of_another_method_is_refused() -> None:
    args = parse("--tenant-id", "t", "--cloud", "public")
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(args, (CLOUD,), offered=FIELDS, method="managed-identity")
    assert error_of(excinfo) == ("--tenant-id", "is not used by managed-identity")


def test_a_host_option_is_shared_or_the_field_left_out() -> None:
    parser = FlagParser()
    parser.add_argument("--endpoint")
    parser.add_argument("--json", action="store_true")
    endpoint = Field("endpoint", title="Endpoint", description="The store.")
    json_field = Field("json", title="JSON", description="A field named like a host switch.")
    add_flags(parser, (endpoint, json_field, TENANT))
    add_flags(parser, (TENANT,))  # a second method with the same field: declared once
    args = parser.parse_args(["--endpoint", "https://x", "--json", "--tenant-id", "t"])
    assert read_flags(args, (endpoint, json_field, TENANT)) == {"endpoint": "https://x", "tenantId": "t"}


def test_declaring_flags_imports_the_standard_library_only() -> None:
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import argparse, sys
        before = set(sys.modules)
        from app_connections.cli_flags import FlagParser, add_flags
        from app_connections.fields import Field
        add_flags(FlagParser(), [Field("clientSecret", title="S", description="S.", secret=True)])
        new = {m.split(".")[0] for m in set(sys.modules) - before}
        print(sorted(new - set(sys.stdlib_module_names) - {"app_connections"}))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_shared_host_option_fills_its_field_only_in_its_own_choice_group() -> None:
    from app_connections.fields import OneOf

    parser = FlagParser()
    parser.add_argument("--endpoint")
    fields = (
        Field("connectionString", title="C", description="C.", secret=True),
        Field("endpoint", title="E", description="E."),
        Field("id", title="I", description="I."),
    )
    choice = OneOf(("connectionString",), ("endpoint", "id"))
    add_flags(parser, fields)
    args = parser.parse_args(["--endpoint", "https://x", "--connection-string-env", "CS"])
    assert read_flags(args, fields, choices=[choice], environ={"CS": "cs"}) == {"connectionString": "cs"}
    args = parser.parse_args(["--endpoint", "https://x", "--id", "k"])
    assert read_flags(args, fields, choices=[choice]) == {"endpoint": "https://x", "id": "k"}
    assert read_flags(args, fields) == {"endpoint": "https://x", "id": "k"}


def test_a_secret_boolean_is_read_as_true_or_false_and_nothing_else() -> None:
    hidden = Field("useVault", type="boolean", title="Vault", description="Use it.", secret=True)
    assert list(flags_of(hidden)) == ["--use-vault-env", "--use-vault-stdin"]
    args = parse("--use-vault-env", "FLAG", fields=(hidden,))
    assert read_flags(args, (hidden,), environ={"FLAG": " TRUE "}) == {"useVault": True}
    assert read_flags(args, (hidden,), environ={"FLAG": "false"}) == {"useVault": False}
    with pytest.raises(InvalidInput) as excinfo:
        read_flags(args, (hidden,), environ={"FLAG": "yes-s3cr3t"})
    assert error_of(excinfo) == ("--use-vault-env", "must be true or false")
    assert "s3cr3t" not in str(excinfo.value)


def test_a_binary_secret_pasted_on_stdin_is_taken_without_its_blanks() -> None:
    encoded = base64.b64encode(b"\x30\x82binary").decode()
    values = read_flags(parse("--pkcs12-stdin"), FIELDS, stdin=io.StringIO(f"  {encoded}\n\n"))
    assert values == {"pkcs12": encoded}


def test_a_shared_option_is_judged_by_the_choice_that_holds_its_field() -> None:
    from app_connections.fields import OneOf

    parser = FlagParser()
    parser.add_argument("--endpoint")
    fields = (
        Field("region", title="R", description="R."),
        Field("zone", title="Z", description="Z."),
        Field("connectionString", title="C", description="C.", secret=True),
        Field("endpoint", title="E", description="E."),
    )
    unrelated = OneOf(("region",), ("zone",))  # comes first and does not hold the endpoint
    choice = OneOf(("connectionString",), ("endpoint",))
    add_flags(parser, fields)
    args = parser.parse_args(["--endpoint", "https://x", "--connection-string-env", "CS", "--region", "r"])
    values = read_flags(args, fields, choices=[unrelated, choice], environ={"CS": "cs"})
    assert values == {"region": "r", "connectionString": "cs"}


def test_a_parse_error_is_named_by_the_flag_that_gave_the_field() -> None:
    args = parse("--tenant-id", "t", "--client-secret-env", "MY_SECRET")
    error = InvalidInput(
        errors=[FieldError("tenantId", "is wrong"), FieldError("clientSecret", "too short"), FieldError("other", "x")]
    )
    named = named_by_flags(error, args, FIELDS)
    assert [str(e) for e in named.errors] == ["--tenant-id: is wrong", "--client-secret-env: too short", "other: x"]


def test_secret_flags_need_a_parser_without_abbreviations() -> None:
    with pytest.raises(ValueError, match=r"use app_connections\.cli_flags\.FlagParser"):
        add_flags(argparse.ArgumentParser(), FIELDS)
    add_flags(argparse.ArgumentParser(), (TENANT, COUNT))  # no secret: any parser
    add_flags(argparse.ArgumentParser(allow_abbrev=False), FIELDS)


@pytest.mark.parametrize(
    ("argv", "hidden", "shown"),
    [
        (["-pHunter2Secret"], "Hunter2Secret", "unrecognized arguments: ***"),
        (["--x=abc -leaked-part def"], "leaked", "unrecognized arguments: --x=*** *** ***"),
        (["--Secret123"], "Secret123", "unrecognized arguments: ***"),
        (["--endpo", "s3cret-value"], "s3cret", "unrecognized arguments: --endpo ***"),
        (["--cloud", "abc'Secret-Value-XYZ"], "Secret-Value", "invalid choice: '***' (choose from 'public', 'china')"),
        (["--client-secret-stdin=hunter-two"], "hunter-two", "ignored explicit argument '***'"),
    ],
)
def test_a_usage_error_repeats_no_value(
    argv: list[str], hidden: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = FlagParser(prog="host")
    add_flags(parser, FIELDS)
    with pytest.raises(SystemExit):
        parser.parse_args(argv)
    err = capsys.readouterr().err
    assert shown in err and hidden not in err


def test_a_parse_error_it_cannot_rename_whole_is_returned_as_it_is() -> None:
    from app_connections.errors import MethodDisabled

    args = parse("--tenant-id", "t")
    disabled = MethodDisabled("method x is disabled; enable it with ...", field="method")
    assert named_by_flags(disabled, args, FIELDS) is disabled
    own = InvalidInput("tenantId: see the docs", errors=[FieldError("tenantId", "is wrong")])
    assert named_by_flags(own, args, FIELDS) is own
    untouched = InvalidInput(errors=[FieldError("other", "x")])
    assert named_by_flags(untouched, args, FIELDS) is untouched


def test_a_quoted_text_that_is_no_string_literal_is_hidden(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        FlagParser(prog="host").error("argument --x: invalid value: '\\N{oops' (see 'public')")
    err = capsys.readouterr().err
    assert "invalid value: '***' (see 'public')" in err and "oops" not in err
