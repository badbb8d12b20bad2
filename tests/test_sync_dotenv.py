""".env files of `azure-appconfig sync`, checked against python-dotenv itself: what we write it reads
back exactly, what it reads from a file we read the same (or refuse), and no value is ever split
into another secret (Unicode line breaks, quotes, `$`, `#`, a PEM key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.sync.secret_files import dotenv_text, parse_dotenv, read_secrets, write_secrets

pytest_plugins = ["standins.fixtures"]  # the stand-in store, its CA and a fake token (sync_options)

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nbm90IGEgcmVhbCBrZXk=\n-----END PRIVATE KEY-----\n"
HOSTILE = {
    "LS": 'x"\u2028EVIL=pwned\u2028Y="',
    "PS": "a\u2029B=2",
    "NEL": "a\x85B=2",
    "VT_FF": "a\x0bB=2\x0cC=3",
    "SEPARATORS": "a\x1cB\x1dC\x1eD",
    "CRLF": "line1\r\nline2\rline3\n",
    "DOLLAR": "pa$$word$HOME\\$x",
    "HASH": "value # not a comment",
    "QUOTES": "'single' \"double\" `back`",
    "BACKSLASHES": "\\n is not a newline \\\\ \\",
    "PEM": PEM,
    "SPACES": "  padded  ",
    "EMPTY": "",
    "NUL_BEL_ESC": "\x00\x07\x1b[31m",
    "BOM": "\ufeffstart",
    "EQUALS": "A=B=C",
}


def _python_dotenv(path: Path) -> dict[str, str | None]:
    return dict(dotenv_values(path))


def test_hostile_values_written_to_env_are_read_back_exactly_by_python_dotenv_and_by_us(tmp_path: Path) -> None:
    path = write_secrets(tmp_path / "out.env", HOSTILE)
    assert _python_dotenv(path) == HOSTILE
    assert read_secrets(path) == HOSTILE
    # `$` is written as is (python-dotenv would keep a backslash written before it); a backslash doubled
    assert 'DOLLAR="pa$$word$HOME\\\\$x"\n' in path.read_text()


def test_a_file_python_dotenv_reads_is_read_the_same(tmp_path: Path) -> None:
    text = (
        "\ufeff# a comment\n"
        "export A=plain\n"
        "  B = spaced  # comment\n"
        "C='single # kept \\' quote'\n"
        'D="escapes \\n \\t \\" \\\\ \\$ \\q"\n'
        'KEY="-----BEGIN KEY-----\n'
        "abc\n"
        '-----END KEY-----"\n'
        "E=#not-a-comment\n"
        "F= # empty\n"
        "'G'=quoted-name\n"
        "H=\n"
        "I=x\u2028J=y\n"
        "K=1\r\n"
        "L='multi\n"
        "line'\r"
        "M=last"
    )
    path = tmp_path / "in.env"
    path.write_bytes(text.encode())
    expected = _python_dotenv(path)
    assert read_secrets(path) == expected
    assert expected["I"] == "x\u2028J=y" and "J" not in expected  # a Unicode line break ends no line


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("A=1\nB='open\n", "in.env:2: unterminated single quote (python-dotenv would skip it)"),
        ('A="open\n', "in.env:1: unterminated double quote (python-dotenv would skip it)"),
        ('A="x"y\n', "in.env:1: has text after its value (quote the whole value) (python-dotenv would skip it)"),
        ("A=1\n=2\n", "in.env:2: is not NAME=value (python-dotenv would skip it)"),
        ("A=1\nFLAG\n", "in.env:2: FLAG has no '=' (python-dotenv reads no value)"),
        ("A=1\nA=2\n", "in.env:2: A is defined twice"),
        ("A=pre${HOME}post\n", "in.env:1: A holds ${HOME}, which python-dotenv replaces from the environment"),
        ("A='${X:-d}'\n", "in.env:1: A holds ${X}"),
    ],
    ids=["open-single", "open-double", "text-after-quote", "no-name", "no-equals", "twice", "interpolated", "default"],
)
def test_what_python_dotenv_would_read_differently_is_refused_naming_the_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "in.env"
    path.write_text(text)
    with pytest.raises(InvalidInput) as info:
        read_secrets(path)
    assert problem in str(info.value)


def test_a_value_python_dotenv_would_interpolate_or_utf8_cannot_hold_is_refused_on_write(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as info:
        write_secrets(tmp_path / "out.env", {"A": "x${HOME}", "B": "\ud800", "C": "fine", "bad name": "v"})
    assert [e.field for e in info.value.errors] == ["--to['A']", "--to['B']", "--to['bad name']"]
    assert "replaces from the environment" in info.value.errors[0].message
    assert "lone surrogate" in info.value.errors[1].message
    assert "is not a secret name" in info.value.errors[2].message
    assert list(tmp_path.iterdir()) == []
    # the same values in JSON are written and read back exactly
    secrets = {"A": "x${HOME}", "B": "\ud800", "C": "fine"}
    assert read_secrets(write_secrets(tmp_path / "out.json", secrets)) == secrets


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,10}", fullmatch=True)
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
VALUES = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(LINE_BREAKS + "\"'`\\$#={} \t\x00\x1b\ufeff")),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secrets=st.dictionaries(NAMES, VALUES, max_size=6))
def test_any_value_written_to_env_round_trips_exactly_or_is_refused(tmp_path: Path, secrets: dict[str, str]) -> None:
    """An import (write) then a push (read) of any value: the same secrets, or a refusal; never a
    changed value or a new secret."""
    path = tmp_path / "prop.env"
    try:
        write_secrets(path, secrets, force=True)
    except InvalidInput:
        assert any("${" in v and "}" in v for v in secrets.values())
        return
    assert read_secrets(path) == secrets
    assert _python_dotenv(path) == secrets


FRAGMENTS = st.lists(
    st.sampled_from(
        [
            "A",
            "B",
            "export ",
            "=",
            " ",
            "\t",
            "#",
            "'",
            '"',
            "\\",
            "\n",
            "\r\n",
            "\r",
            "\u2028",
            "\x85",
            "x",
            "$",
            "${B}",
            "\\n",
            "\\'",
            '\\"',
        ]
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=FRAGMENTS)
def test_any_file_we_read_python_dotenv_reads_the_same(tmp_path: Path, parts: list[str]) -> None:
    path = tmp_path / "fuzz.env"
    path.write_bytes("".join(parts).encode())
    try:
        ours = read_secrets(path)
    except InvalidInput:
        return
    assert _python_dotenv(path) == ours


def test_the_parser_names_statements_by_their_first_line() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_dotenv('\n\nA="two\nlines"\n\n  B\n', "x.env")
    assert [e.field for e in info.value.errors] == ["x.env:6"]


def test_dotenv_text_quotes_every_value() -> None:
    assert dotenv_text({"A": 'a"b\\c\nd$e'}) == 'A="a\\"b\\\\c\\nd$e"\n'


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(VALUES.filter(lambda v: len(v.encode("utf-8", "surrogatepass")) < 9000), min_size=1, max_size=4))
def test_a_store_value_imported_to_env_then_pushed_back_changes_nothing_or_is_refused(
    standin: Any, sync_options: dict[str, Any], tmp_path: Path, values: list[str]
) -> None:
    """Through the store stand-in: what the store holds, imported to .env and pushed back from it,
    leaves the store as it was (no value changed, no new secret), or the import is refused."""
    from azure_appconfig_plugin.sync.destination import AppConfigurationDestination

    standin.reset()
    held = {f"S{i}": v for i, v in enumerate(values)}
    for name, value in held.items():
        standin.store.put(f"app/{name}", value)
    sync = AppConfigurationDestination()
    destination = {"endpoint": standin.endpoint, "keyPrefix": "app/", "deleteMissing": True}
    imported = sync.import_secrets(None, destination, **sync_options)
    assert imported.ok and dict(imported.imported) == held
    try:
        path = write_secrets(tmp_path / "round.env", imported.imported, force=True)
    except InvalidInput:
        assert any("${" in v for v in values)
        return
    report = sync.push(None, destination, read_secrets(path), **sync_options)
    assert report.ok and report.counts["unchanged"] == len(held) and report.requests == 1
    assert {k: e["value"] for (k, _), e in standin.store.snapshot().items()} == {f"app/{n}": v for n, v in held.items()}
