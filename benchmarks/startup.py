"""Host start-up cost of our plugin, measured in fresh interpreters.

Each run starts a new Python process that acts as a minimal host: build a pluggy plugin
manager with its own copy of the hookspec, load every entry point of a group, and call
``register_connection_types``. Runs alternate between

- ``with plugin``: group ``app_connections`` (our plugin is installed there);
- ``no plugin``: an empty group (same host code, nothing to load);
- ``eager SDK``: the ``no plugin`` host that also imports msal and azure.appconfiguration,
  i.e. what registration would cost if the plugin imported its SDKs at load time.

Then the same through the host kit's own loader (``app_connections.loader.load_plugins``: trust
report, isolation, contract check): over the ``app_connections`` group in open mode and with a pinned
allow-list (``APP_CONNECTIONS_ALLOWED_PLUGINS`` as ``app-connections plugins pin`` prints it), each
against the same loader over an empty group.

The time is measured inside each process (from before ``import pluggy`` to after the hook
call), so interpreter start-up noise is excluded. On a loaded machine the minimum is the steadier
figure. Where ``PYTHONDONTWRITEBYTECODE`` is set, every run compiles every module from source
(an installed wheel has bytecode).

Then the plugin-trust tamper check: this package's files are laid out like an
installed wheel in a temporary site directory (real ``RECORD``, sha256 per file), and fresh
interpreters time ``trust.judge`` for a ``name==version@sha256:<RECORD digest>`` pin: digest of
``RECORD``, every listed file hashed and compared, the entry point's module located (the page
cache is warm, as on a host that restarts). Run with bytecode, as deployed::

    env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=/tmp/pyc python benchmarks/startup.py [--runs 40]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

HOST = r"""
import sys, time
t0 = time.perf_counter()
import pluggy
from importlib.metadata import entry_points
group, eager = sys.argv[1], sys.argv[2] == "1"
if eager:
    import msal, azure.appconfiguration  # noqa: F401 - imported only to measure their cost
spec = pluggy.HookspecMarker("app_connections")
class Spec:
    @spec
    def register_connection_types(self, register):
        pass
pm = pluggy.PluginManager("app_connections")
pm.add_hookspecs(Spec)
t1 = time.perf_counter()
for ep in entry_points(group=group):
    pm.register(ep.load(), name=ep.name)
from types import SimpleNamespace
types = []
pm.hook.register_connection_types(register=SimpleNamespace(add=types.append))
t2 = time.perf_counter()
elapsed, part = t2 - t0, t2 - t1
assert (len(types) > 0) == (group == "app_connections"), types
print(f"{elapsed * 1000:.3f} {part * 1000:.3f}")
"""

KIT_HOST = r"""
import sys, time
t0 = time.perf_counter()
from app_connections.loader import load_plugins
group, allowed = sys.argv[1], sys.argv[2]
t1 = time.perf_counter()
registry = load_plugins(group=group, env={"APP_CONNECTIONS_ALLOWED_PLUGINS": allowed} if allowed else {})
t2 = time.perf_counter()
assert (len(registry.types) > 0) == (group == "app_connections"), registry.failures
print(f"{(t2 - t0) * 1000:.3f} {(t2 - t1) * 1000:.3f}")
"""

EMPTY_GROUP = "app_connections_benchmark_empty"

CASES = {
    "with plugin": ("app_connections", "0"),
    "no plugin": (EMPTY_GROUP, "0"),
    "eager SDK": (EMPTY_GROUP, "1"),
}


def run_once(group: str, eager: str, host: str = HOST) -> tuple[float, float]:
    """``(whole host start-up, the entry-point part: loading the group's plugins and registering)`` in ms."""
    out = subprocess.run([sys.executable, "-c", host, group, eager], capture_output=True, text=True, check=True)
    whole, part = out.stdout.split()
    return float(whole), float(part)


def pinned_line() -> str:
    """The allow-list ``app-connections plugins pin`` would print for what is installed now."""
    from app_connections import trust

    entries = [trust.pin_entry(d)[0] for d in trust.installed_plugin_distributions("app_connections")]
    return trust.AllowList(tuple(entries)).line().split("=", 1)[1]


def kit_loader(runs: int) -> None:
    """The host kit's ``load_plugins`` over our group, open and pinned, against an empty group."""
    pin = pinned_line()
    cases = {
        "open": ("app_connections", ""),
        "open, empty": (EMPTY_GROUP, ""),
        "pinned": ("app_connections", pin),
        "pinned, empty": (EMPTY_GROUP, pin),
    }
    parts: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, (group, allowed) in cases.items():
            parts[name].append(run_once(group, allowed, KIT_HOST)[1])
    med = {name: statistics.median(values) for name, values in parts.items()}
    low = {name: min(values) for name, values in parts.items()}
    print(f"host kit load_plugins(), median of {runs} fresh interpreters (ms, the load_plugins call alone):")
    for name in cases:
        print(f"  {name:<14} median {med[name]:7.2f}   min {low[name]:7.2f}")
    for mode, goal in (("open", 5), ("pinned", 8)):
        print(
            f"our plugin adds {med[mode] - med[mode + ', empty']:.2f} ms {mode} at the median, "
            f"{low[mode] - low[mode + ', empty']:.2f} ms at the minimum (goal: under {goal} ms)"
        )


TRUST = r"""
import sys, time
from importlib import metadata
from app_connections import trust
site, pin = sys.argv[1], sys.argv[2]
dist = next(d for d in metadata.distributions(path=[site]) if d.metadata["Name"] == "azure-appconfig-plugin")
allow = trust.parse_allow_list(pin)
t0 = time.perf_counter()
verdict = trust.judge(dist, allow, modules=["azure_appconfig_plugin.plugin"])
elapsed = time.perf_counter() - t0
assert verdict.status == "allowed", verdict
print(f"{elapsed * 1000:.3f} {verdict.checked_files}")
"""


def trust_check(runs: int) -> None:
    import os
    import tempfile
    from pathlib import Path

    import azure_appconfig_plugin
    from app_connections import trust
    from app_connections.testing import wheels

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        files = wheels.package_files(Path(azure_appconfig_plugin.__file__).parent)
        wheels.install(
            site,
            "azure-appconfig-plugin",
            azure_appconfig_plugin.__version__,
            files=files,
            entry_points={"app_connections": {"azure-app-configuration": "azure_appconfig_plugin.plugin"}},
        )
        dist = wheels.find(site, "azure-appconfig-plugin")
        pin = f"azure-appconfig-plugin=={dist.version}@sha256:{trust.record_digest(dist)}"
        env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
        times, checked = [], 0
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", TRUST, str(site), pin], capture_output=True, text=True, check=True, env=env
            )
            ms, n = out.stdout.split()
            times.append(float(ms))
            checked = int(n)
        size = sum(len(v) for v in files.values())
    med = statistics.median(times)
    q = statistics.quantiles(times, n=4)
    print(f"tamper check of this package (pinned by RECORD digest), median of {runs} fresh interpreters:")
    print(
        f"  {checked} files ({size / 1024:.0f} KiB): median {med:.2f} ms   "
        f"p25 {q[0]:.2f}   p75 {q[2]:.2f} (goal: under 5 ms)"
    )
    print(f"  per file: {med / checked * 1000:.0f} us")


REGISTER = r"""
import sys, time
from importlib import metadata
site, pin, mode = sys.argv[1:4]
from app_connections import trust  # what every host imports to check anything (stdlib only)
import pluggy
from app_connections import hostspec
pm = pluggy.PluginManager(hostspec.PROJECT_NAME)
pm.add_hookspecs(hostspec)
t0 = time.perf_counter()
dist = next(d for d in metadata.distributions(path=[site]) if d.metadata["Name"] == "azure-appconfig-plugin")
ep = next(e for e in dist.entry_points if e.group == "app_connections")
if mode == "pinned":
    verdict = trust.judge(dist, trust.parse_allow_list(pin), modules=[ep.module])
    assert verdict.status == "allowed" and verdict.pin is not None, verdict
    trust.GUARD.set_pins([verdict.pin])
pm.register(ep.load(), name=ep.name)
from types import SimpleNamespace
types = []
pm.hook.register_connection_types(register=SimpleNamespace(add=types.append))
elapsed = time.perf_counter() - t0
assert types and (mode != "pinned" or type(sys.modules[ep.module].__loader__).__name__ == "_VerifiedLoader")
print(f"{elapsed * 1000:.3f}")
"""


def pinned_registration(runs: int) -> None:
    """Registration of this package from a wheel-like site: open mode (plain import, byte-code as an
    installed wheel has it) against a digest pin (tamper check, files Python would import checked
    against RECORD, and the entry point imported through the import guard)."""
    import os
    import tempfile
    from pathlib import Path

    import azure_appconfig_plugin
    from app_connections import trust
    from app_connections.testing import wheels

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        wheels.install(
            site,
            "azure-appconfig-plugin",
            azure_appconfig_plugin.__version__,
            files=wheels.package_files(Path(azure_appconfig_plugin.__file__).parent),
            entry_points={"app_connections": {"azure-app-configuration": "azure_appconfig_plugin.plugin"}},
            bytecode=True,  # as pip installs a wheel: compiled, the byte-code listed in RECORD
        )
        dist = wheels.find(site, "azure-appconfig-plugin")
        pin = f"azure-appconfig-plugin=={dist.version}@sha256:{trust.record_digest(dist)}"
        env = {**os.environ, "PYTHONPATH": str(site)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        times: dict[str, list[float]] = {"open": [], "pinned": []}
        for i in range(runs + 1):
            for mode in times:  # interleaved; the first round only writes the byte-code cache
                out = subprocess.run(
                    [sys.executable, "-c", REGISTER, str(site), pin, mode],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=env,
                )
                if i:
                    times[mode].append(float(out.stdout))
    med = {mode: statistics.median(values) for mode, values in times.items()}
    low = {mode: min(values) for mode, values in times.items()}
    print(f"registration of this package, median of {runs} fresh interpreters (ms):")
    for mode in times:
        print(f"  {mode:<7} median {med[mode]:6.2f}   min {low[mode]:6.2f}")
    print(
        f"a digest pin adds {med['pinned'] - med['open']:.2f} ms at the median, "
        f"{low['pinned'] - low['open']:.2f} ms at the minimum (goal: under 10 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="fresh interpreters per case (default 40)")
    parser.add_argument("--pinned-only", action="store_true", help="measure only the digest-pinned registration")
    args = parser.parse_args()
    if args.pinned_only:
        pinned_registration(args.runs)
        return
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    parts: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, (group, eager) in CASES.items():  # interleaved, so drift hits every case alike
            whole, part = run_once(group, eager)
            samples[name].append(whole)
            parts[name].append(part)
    med = {name: statistics.median(values) for name, values in samples.items()}
    print(f"host start-up, median of {args.runs} fresh interpreters (ms):")
    for name, values in samples.items():
        q = statistics.quantiles(values, n=4)
        print(f"  {name:<12} median {med[name]:7.2f}   p25 {q[0]:7.2f}   p75 {q[2]:7.2f}   min {min(values):7.2f}")
    low = {name: min(values) for name, values in samples.items()}
    print(
        f"our plugin adds {med['with plugin'] - med['no plugin']:.2f} ms at the median, "
        f"{low['with plugin'] - low['no plugin']:.2f} ms at the minimum (goal: under 10 ms)"
    )
    print(f"importing msal + azure eagerly would add {med['eager SDK'] - med['no plugin']:.2f} ms")
    # The same cost measured inside each process: only the entry-point loop and the hook call are
    # timed, so interpreter and pluggy start-up noise (large on a shared machine) stays out.
    own = statistics.median(parts["with plugin"]) - statistics.median(parts["no plugin"])
    own_min = min(parts["with plugin"]) - min(parts["no plugin"])
    print(f"entry-point load + registration alone: {own:.2f} ms at the median, {own_min:.2f} ms at the minimum")
    kit_loader(args.runs)
    trust_check(args.runs)
    pinned_registration(args.runs)


if __name__ == "__main__":
    main()
