"""Secret sync speed against the local HTTPS App Configuration stand-in.

The stand-in runs in its own process (tests/standins/appconfig.py) with an added round-trip time
per request. For N secrets (default 1,000 at 20 ms) it measures four pushes, each for our sync and
for a sequential baseline client (one SDK client: list the scope, then one PUT per differing value,
no concurrency; the SDK's own retry policy handles 429s):

- (a) first push into an empty store;
- (b) a push where 10% of the values changed;
- (c) a no-op push;
- (d) a first push with a 429 (``retry-after-ms``) injected on every 10th write.

Goals: (a) ours at least 10x faster than the baseline; (b) and (c) requests = list pages +
changed entries; (d) every key applied, none failed, requests within 15% of (a). Usage::

    python benchmarks/sync.py [--secrets 1000] [--latency-ms 20] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from azure_appconfig_plugin.sync.destination import AppConfigurationDestination  # noqa: E402 - after the sys.path insert

ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"
PREFIX = "bench/"
LABEL = "prod"


class FakeToken:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("benchmark-token", int(time.time()) + 3600)


class Standin:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "standins" / "appconfig.py")],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT / "tests",
        )
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.port, self.ca = info["port"], info["ca"]
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self._ctx = ssl.create_default_context(cafile=self.ca)

    def admin(self, path: str, body: Any = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else b"{}"
        req = urllib.request.Request(
            f"{self.endpoint}/_standin/{path}", data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, context=self._ctx, timeout=60) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
            return answer

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def secrets(n: int, changed_every: int = 0) -> dict[str, str]:
    return {
        f"SECRET_{i:05}": (f"value-{i}-changed" if changed_every and i % changed_every == 0 else f"value-{i}")
        for i in range(n)
    }


def seed(standin: Standin, values: dict[str, str]) -> None:
    standin.admin("reset")
    standin.admin("seed", [{"key": PREFIX + k, "label": LABEL, "value": v} for k, v in values.items()])


def ours(standin: Standin, values: dict[str, str], concurrency: int) -> dict[str, Any]:
    dest = {"endpoint": standin.endpoint, "keyPrefix": PREFIX, "label": LABEL}
    before = standin.admin("stats")["requests"]
    started = time.perf_counter()
    report = AppConfigurationDestination().push(
        None,
        dest,
        values,
        token_credential=FakeToken(),
        env={ALLOW: f"127.0.0.1:{standin.port}"},
        client_options={"connection_verify": standin.ca},
        concurrency=concurrency,
    )
    wall = time.perf_counter() - started
    served = standin.admin("stats")["requests"] - before
    c = report.counts
    return {
        "wall": wall,
        "requests": report.requests,
        "served": served,
        "applied": c["created"] + c["updated"],
        "failed": c["failed"] + c["conflicts"],
        "ok": report.ok,
    }


def baseline(standin: Standin, values: dict[str, str]) -> dict[str, Any]:
    """A sequential client: list, then one PUT per differing value (values compared only)."""
    from azure.appconfiguration import ConfigurationSetting

    from azure_appconfig_plugin.endpoints import parse_endpoint
    from azure_appconfig_plugin.store import make_client

    store = parse_endpoint(standin.endpoint, env={ALLOW: f"127.0.0.1:{standin.port}"})
    before = standin.admin("stats")["requests"]
    started = time.perf_counter()
    applied = failed = 0
    with make_client(store, FakeToken(), connection_verify=standin.ca, retry_backoff_factor=0.1) as client:
        current = {
            s.key: s.value for s in client.list_configuration_settings(key_filter=PREFIX + "*", label_filter=LABEL)
        }
        for name, value in values.items():
            if current.get(PREFIX + name) == value:
                continue
            try:
                client.set_configuration_setting(ConfigurationSetting(key=PREFIX + name, label=LABEL, value=value))
                applied += 1
            except Exception:
                failed += 1
    wall = time.perf_counter() - started
    served = standin.admin("stats")["requests"] - before
    return {"wall": wall, "requests": served, "served": served, "applied": applied, "failed": failed, "ok": failed == 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secrets", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--skip-baseline", action="store_true", help="measure our sync only")
    args = parser.parse_args()
    n = args.secrets
    standin = Standin()
    try:
        standin.admin("config", {"latency": args.latency_ms / 1000})
        changed = n // 10
        pages_full = max(1, math.ceil(n / 100))
        scenarios: list[tuple[str, Callable[[], object], dict[str, str], int]] = [
            ("(a) first push, empty store", lambda: standin.admin("reset"), secrets(n), 1 + n),
            ("(b) 10% changed", lambda: seed(standin, secrets(n)), secrets(n, changed_every=10), pages_full + changed),
            ("(c) no-op", lambda: seed(standin, secrets(n)), secrets(n), pages_full),
            (
                "(d) 429 on 10% of writes",
                lambda: (standin.admin("reset"), standin.admin("config", {"throttle_every": 10})),
                secrets(n),
                0,
            ),
        ]
        rows = []
        results: dict[str, dict[str, Any]] = {}
        for name, prepare, values, expected in scenarios:
            prepare()
            mine = ours(standin, values, args.concurrency)
            throttled = standin.admin("stats")["throttled"]
            base = None
            if not args.skip_baseline:
                prepare()
                base = baseline(standin, values)
            results[name] = mine
            rows.append((name, mine, base, expected, throttled))
        print(
            f"{n} secrets, {args.latency_ms:g} ms added round-trip, concurrency {args.concurrency}, "
            f"{os.cpu_count()} CPU(s)\n"
        )
        print("| scenario | ours: wall | ours: requests | baseline: wall | baseline: requests | speed-up | goal |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
        a_requests = results[rows[0][0]]["requests"]
        all_met = True
        for name, mine, base, expected, throttled in rows:
            speed = f"{base['wall'] / mine['wall']:.1f}x" if base else "-"
            if name.startswith("(a)"):
                met = base is not None and base["wall"] / mine["wall"] >= 10 and mine["ok"]
                goal = f">= 10x: {'met' if met else 'NOT met'}"
            elif name.startswith("(d)"):
                met = mine["ok"] and mine["applied"] == n and mine["requests"] <= 1.15 * a_requests
                goal = (
                    f"all {mine['applied']} applied, {mine['failed']} failed, {throttled} x 429, "
                    f"{mine['requests'] / a_requests - 1:+.1%} requests vs (a): {'met' if met else 'NOT met'}"
                )
            else:
                met = mine["requests"] == expected and mine["ok"]
                goal = f"= {expected} (list pages + changed): {'met' if met else 'NOT met'}"
            all_met &= met
            bw = f"{base['wall']:.2f} s" if base else "-"
            br = f"{base['requests']}" if base else "-"
            print(f"| {name} | {mine['wall']:.2f} s | {mine['requests']} | {bw} | {br} | {speed} | {goal} |")
        return 0 if all_met else 1
    finally:
        standin.close()


if __name__ == "__main__":
    sys.exit(main())
