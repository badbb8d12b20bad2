"""The host policy (``app_connections.policy``) and path-like input (``app_connections.paths``),
with stand-in methods only: what a method declares decides whether a policy offers it, and a path
is refused or read without an oracle and without blocking."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app_connections import paths
from app_connections import policy as policies
from app_connections.declared import DeclaredAuthMethod
from app_connections.errors import MethodDisabled, PathRefused, PathUnusable, UnknownAuthMethod
from app_connections.fields import Field
from app_connections.loader import load_plugins
from app_connections.paths import PATH_REFUSED, PATH_UNUSABLE, check_path, read_path
from app_connections.policy import HostPolicy
from app_connections.records import AuthMethod, ConnectionType
from app_connections.testing.audit import opened_files


class _Record:
    def __init__(self, method: str, **values: Any) -> None:
        self.method, self.values = method, values

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, **self.values}


class Plain(DeclaredAuthMethod):
    slug, name, connection_type = "plain", "Plain", "t"
    input_fields = (Field("token", title="Token", description="A token.", required=True, secret=True),)

    def credentials_from(self, values: dict[str, Any]) -> Any:
        return _Record(self.slug, seen_env=dict(policies.current().env), **values)


class HostItself(Plain):
    slug, name, ambient_identity = "host", "The host itself", "always"
    input_fields = ()


class FromFile(Plain):
    slug, name, ambient_identity, path_fields = "file", "From a file", "fallback", ("path",)
    input_fields = (Field("path", title="Path", description="A file.", required=True),)


class Undeclared(AuthMethod):
    """A method that declares neither member: AuthMethod's defaults (never the host, no file)."""

    slug, name = "old", "Old"

    def input_schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def parse(self, data: Any) -> Any:
        return _Record(self.slug)


CT = ConnectionType("t", "T", {m.slug: m for m in (Plain(), HostItself(), FromFile(), Undeclared())})  # type: ignore[misc]


def test_the_library_policy_offers_only_what_does_not_act_as_the_host() -> None:
    bound = CT.with_policy(HostPolicy.library())
    assert list(bound.methods) == ["plain", "old"] and set(bound.disabled) == {"host", "file"}
    assert "ambient_identity=True" in bound.disabled["host"] and "allowed_dirs" in bound.disabled["file"]
    assert list(CT.with_policy(HostPolicy.library(allowed_dirs=["/tmp"])).methods) == ["plain", "file", "old"]
    assert list(CT.with_policy(HostPolicy.operator(env={})).methods) == ["plain", "host", "file", "old"]
    assert list(bound.with_policy(HostPolicy.operator(env={})).methods) == list(CT.methods)  # rebinding sees all


def test_a_disabled_method_is_refused_with_a_typed_error_naming_the_fix() -> None:
    for ctype in (CT, CT.with_policy(HostPolicy.library())):  # unbound: the policy in effect, the library one
        with pytest.raises(MethodDisabled) as err:
            ctype.parse("host", {})
        assert isinstance(err.value, UnknownAuthMethod) and err.value.field == "method"
        assert "'host'" in str(err.value) and "HostPolicy(ambient_identity=True)" in str(err.value)
        with pytest.raises(MethodDisabled):
            ctype.load({"method": "host"})
        with pytest.raises(MethodDisabled):
            ctype.token_credential(_Record("host"))  # type: ignore[arg-type]
    assert CT.parse("host", {}, policy=HostPolicy.operator(env={})).method == "host"
    with policies.use(HostPolicy.operator(env={})):
        assert CT.parse("host", {}).method == "host"


def test_methods_per_type() -> None:
    policy = HostPolicy.library(methods={"t": ["old"], "other": []})
    bound = CT.with_policy(policy)
    assert list(bound.methods) == ["old"]
    with pytest.raises(MethodDisabled, match=r"HostPolicy\(methods="):
        bound.parse("plain", {"token": "x"})
    with pytest.raises(UnknownAuthMethod) as err:
        bound.parse("nope", {})
    assert not isinstance(err.value, MethodDisabled)


def test_parse_reads_the_policy_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANARY_HOST_VARIABLE", "from-os-environ")
    assert CT.parse("plain", {"token": "x"}).values["seen_env"] == {}
    env = {"CANARY_HOST_VARIABLE": "from-the-policy"}
    assert CT.with_policy(HostPolicy.library(env=env)).parse("plain", {"token": "x"}).values["seen_env"] == env
    assert policies.current() == HostPolicy.library()  # nothing leaks out of the call


def test_load_plugins_binds_the_registry_to_its_policy() -> None:
    from app_connections.hostspec import hookimpl

    class Plugin:
        @hookimpl
        def register_connection_types(self, register: Any) -> None:
            register.add(CT)

    registry = load_plugins(plugins=[("t", Plugin())], use_entry_points=False, env={})
    assert registry.policy == HostPolicy.library() and set(registry.get("t").disabled) == {"host", "file"}
    with pytest.raises(TypeError):
        load_plugins(plugins=[], use_entry_points=False, env={}, policy={"ambient_identity": True})  # type: ignore[arg-type]


def test_policy_values() -> None:
    with pytest.raises(ValueError, match="absolute"):
        HostPolicy(allowed_dirs=["relative"])
    with pytest.raises(TypeError):
        HostPolicy(allowed_dirs="/tmp")  # type: ignore[arg-type]
    assert "env" not in repr(HostPolicy.library(env={"SECRET": "canary-policy-env"}))
    assert HostPolicy.library(env={"A": "1"}) == HostPolicy.library()  # the environment is not compared
    assert HostPolicy.operator().env is os.environ


# --- paths -------------------------------------------------------------------------------------------


@pytest.fixture
def root(tmp_path: Path) -> Path:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "file").write_bytes(b"content")
    (allowed / "out").symlink_to(tmp_path)
    (tmp_path / "secret").write_text("canary-outside")
    return allowed


@pytest.mark.parametrize("path", ["/nonexistent", "/root", "/etc/shadow", "../../etc/passwd", "relative", ""])
def test_a_path_outside_is_refused_alike_before_touching_the_disk(root: Path, path: str) -> None:
    with opened_files() as opened, pytest.raises(PathRefused) as err:
        check_path("path", path, (str(root),))
    assert str(err.value) == f"invalid input: path: {PATH_REFUSED}" and opened == []


def test_a_link_out_of_the_allowed_directory_is_refused_alike(root: Path) -> None:
    with pytest.raises(PathRefused) as err:
        read_path("path", str(root / "out" / "secret"), (str(root),), max_bytes=100)
    assert str(err.value) == f"invalid input: path: {PATH_REFUSED}"
    assert not HostPolicy.library(allowed_dirs=[root]).allows_path(str(root / ".." / "secret"))


def test_a_regular_file_inside_is_read(root: Path) -> None:
    assert read_path("path", str(root / "file"), (str(root),), max_bytes=100) == b"content"


def _unusable(root: Path, name: str, **options: Any) -> str:
    with pytest.raises(PathUnusable) as err:
        read_path("path", str(root / name), (str(root),), **{"max_bytes": 100, **options})
    assert str(err.value) == f"invalid input: path: {PATH_UNUSABLE}"
    return str(err.value)


def test_what_cannot_be_used_is_one_message_and_the_reason_is_logged(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (root / "dir").mkdir()
    (root / "big").write_bytes(b"x" * 101)
    (root / "link").symlink_to(root / "file")  # a link that stays inside is fine (a projected volume's token is one)
    for name, reason in [
        ("absent", "ENOENT"),
        ("dir", "not a regular file"),
        ("big", "larger than 100"),
    ]:
        _unusable(root, name)
        assert reason in caplog.text
    assert "content" not in caplog.text
    assert read_path("path", str(root / "link"), (str(root),), max_bytes=100) == b"content"


def test_a_fifo_or_a_device_is_never_waited_on(root: Path) -> None:
    os.mkfifo(root / "fifo")
    started = time.monotonic()
    _unusable(root, "fifo")
    assert time.monotonic() - started < 0.5
    with pytest.raises(PathUnusable):
        read_path("path", "/dev/zero", ("/dev",), max_bytes=100)


def test_no_time_left_is_unusable(root: Path) -> None:
    _unusable(root, "file", seconds=0)


def test_the_audit_recorder_sees_this_thread_and_filters(root: Path) -> None:
    with opened_files(lambda p: p.endswith("file")) as mine, opened_files(all_threads=True) as every:
        (root / "file").read_bytes()
        thread = threading.Thread(target=(root / "other").write_text, args=("x",))
        thread.start()
        thread.join()
    assert mine == [str(root / "file")] and str(root / "other") in every


def test_a_file_moved_out_while_it_is_opened_is_not_read(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "_opened_path", lambda fd: "/etc/passwd")  # what the kernel says it opened
    _unusable(root, "file")


def test_a_policy_is_hashable_alike_to_what_it_equals() -> None:
    first = HostPolicy.library(methods={"t": ["plain", "old"], "u": []}, env={"SECRET": "canary-hash-env"})
    same = HostPolicy.library(methods={"u": (), "t": ("old", "plain")})
    assert first == same and hash(first) == hash(same)  # the environment and the order do not count
    assert len({first, same, HostPolicy.library(), HostPolicy.operator(env={})}) == 3
    assert {HostPolicy.library(): "cached"}[HostPolicy.library(env={"A": "1"})] == "cached"


def test_a_method_declaring_an_unknown_ambient_use_is_disabled_with_the_reason() -> None:
    class Sometimes(Plain):
        slug, ambient_identity = "sometimes", "sometimes"

    ctype = ConnectionType("t", "T", {"sometimes": Sometimes()})  # type: ignore[misc]
    for policy in (HostPolicy.library(), HostPolicy.operator(env={})):  # not even an operator's tool offers it
        bound = ctype.with_policy(policy)
        assert list(bound.methods) == []
        assert bound.disabled["sometimes"] == (
            "auth method 'sometimes' declares ambient_identity='sometimes'; expected one of never, fallback, always"
        )
        with pytest.raises(MethodDisabled, match="declares ambient_identity='sometimes'"):
            bound.parse("sometimes", {"token": "x"})


def test_only_a_host_policy_is_taken_where_a_policy_is_given() -> None:
    given: Any = {"ambient_identity": True}
    with pytest.raises(TypeError, match="expected a HostPolicy, got dict"), policies.use(given):
        pass
    with pytest.raises(TypeError, match="policy= takes a HostPolicy, not dict"):
        policies.effective(given)
    with pytest.raises(TypeError, match=r"policy= takes a HostPolicy, not dict"):
        CT.parse("plain", {"token": "x"}, policy=given)
    with pytest.raises(TypeError, match=r"with_policy\(\) takes a HostPolicy, not dict"):
        CT.with_policy(given)
    assert policies.current() == HostPolicy.library()  # nothing was put in effect


def test_the_deadline_passing_while_reading_is_unusable(
    root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    readings = iter([100.0, 100.5])  # the start, then the first check in the loop: past the 0.25 s
    monkeypatch.setattr(paths, "time", type("Clock", (), {"monotonic": staticmethod(lambda: next(readings))}))
    _unusable(root, "file", seconds=0.25)
    assert "the operation's deadline passed while reading" in caplog.text and "content" not in caplog.text


class _OsWith:
    """``os`` as ``app_connections.paths`` sees it, with some functions replaced (the rest of the
    process, pytest's own threads included, keeps the real ones)."""

    def __init__(self, **replaced: Any) -> None:
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def test_a_read_that_fails_is_unusable_and_the_reason_logged(
    root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import errno

    def failing(fd: int, size: int) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(paths, "os", _OsWith(read=failing))
    with pytest.raises(PathUnusable) as err:
        read_path("path", str(root / "file"), (str(root),), max_bytes=100)
    assert str(err.value) == f"invalid input: path: {PATH_UNUSABLE}"
    assert "EIO (Input/output error)" in caplog.text


def test_a_file_that_grows_past_the_cap_while_it_is_read_is_unusable(
    root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_read = os.read
    grown: list[int] = []

    def growing(fd: int, size: int) -> bytes:  # another process appends after the size was checked
        if not grown:
            grown.append(size)
            with (root / "file").open("ab") as more:
                more.write(b"x" * 200)
        return real_read(fd, size)

    monkeypatch.setattr(paths, "os", _OsWith(read=growing))
    with pytest.raises(PathUnusable):
        read_path("path", str(root / "file"), (str(root),), max_bytes=100)
    assert grown == [101]  # never more than one byte past the cap is asked for
    assert "larger than 100 bytes" in caplog.text


def test_where_the_kernel_does_not_name_the_open_file_the_file_is_still_read(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_proc(path: str) -> str:
        raise FileNotFoundError(path)  # no /proc (macOS, a sandbox)

    monkeypatch.setattr(paths, "os", _OsWith(readlink=no_proc))
    assert paths._opened_path(0) is None
    assert read_path("path", str(root / "file"), (str(root),), max_bytes=100) == b"content"


def test_the_audit_hook_records_only_paths_it_can_name() -> None:
    """The hook itself (CPython runs it untraced, so it is called directly here too): events other
    than ``open``, file descriptors and targets that are not paths are skipped; bytes are decoded."""
    from app_connections.testing import audit

    audit._hook("open", ("/canary-before/no-recorder", "r", 0))  # nothing records: nothing to do
    asked: list[str] = []

    def keep(path: str) -> bool:
        asked.append(path)
        return path.startswith("/canary-audit/")

    with opened_files(keep) as mine, opened_files(all_threads=True) as every:
        audit._hook("exec", ("/canary-audit/not-an-open",))
        audit._hook("open", ())
        audit._hook("open", (7, "r", 0))  # os.open(..., dir_fd) or an fd: nothing to name
        audit._hook("open", (object(), "r", 0))
        audit._hook("open", (b"/canary-audit/bytes", "r", 0))
        audit._hook("open", ("/canary-other/str", "w", 0))
    assert asked == ["/canary-audit/bytes", "/canary-other/str"]
    assert mine == ["/canary-audit/bytes"]
    assert [p for p in every if p.startswith("/canary-")] == ["/canary-audit/bytes", "/canary-other/str"]
