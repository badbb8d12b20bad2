"""Host start-up cost of our plugin, measured in fresh interpreters.

Each run starts a new Python process that acts as a minimal host: build a pluggy plugin
manager with its own copy of the hookspec, load every entry point of a group, and call
``register_connection_types``. Runs alternate between

- ``with plugin``: group ``app_connections`` (our plugin is installed there);
- ``no plugin``: an empty group (same host code, nothing to load);
- ``eager SDK``: the ``no plugin`` host that also imports msal and azure.appconfiguration,
  i.e. what registration would cost if the plugin imported its SDKs at load time.

The time is measured inside each process (from before ``import pluggy`` to after the hook
call), so interpreter start-up noise is excluded. On a loaded machine the minimum is the steadier
figure. Where ``PYTHONDONTWRITEBYTECODE`` is set, every run compiles every module from source
(an installed wheel has bytecode); run with bytecode, as deployed::

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
    import msal, azure.appconfiguration  # noqa: F401
spec = pluggy.HookspecMarker("app_connections")
class Spec:
    @spec
    def register_connection_types(self, register):
        pass
pm = pluggy.PluginManager("app_connections")
pm.add_hookspecs(Spec)
for ep in entry_points(group=group):
    pm.register(ep.load(), name=ep.name)
types = []
pm.hook.register_connection_types(register=types.append)
elapsed = time.perf_counter() - t0
assert (len(types) > 0) == (group == "app_connections"), types
print(f"{elapsed * 1000:.3f}")
"""

CASES = {
    "with plugin": ("app_connections", "0"),
    "no plugin": ("app_connections_benchmark_empty", "0"),
    "eager SDK": ("app_connections_benchmark_empty", "1"),
}


def run_once(group: str, eager: str) -> float:
    out = subprocess.run([sys.executable, "-c", HOST, group, eager], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="fresh interpreters per case (default 40)")
    args = parser.parse_args()
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):
        for name, (group, eager) in CASES.items():  # interleaved, so drift hits every case alike
            samples[name].append(run_once(group, eager))
    med = {name: statistics.median(values) for name, values in samples.items()}
    print(f"host start-up, median of {args.runs} fresh interpreters (ms):")
    for name, values in samples.items():
        q = statistics.quantiles(values, n=4)
        print(f"  {name:<12} median {med[name]:7.2f}   p25 {q[0]:7.2f}   p75 {q[2]:7.2f}   min {min(values):7.2f}")
    low = {name: min(values) for name, values in samples.items()}
    print(f"our plugin adds {med['with plugin'] - med['no plugin']:.2f} ms at the median, "
          f"{low['with plugin'] - low['no plugin']:.2f} ms at the minimum (goal: under 10 ms)")
    print(f"importing msal + azure eagerly would add {med['eager SDK'] - med['no plugin']:.2f} ms")


if __name__ == "__main__":
    main()
