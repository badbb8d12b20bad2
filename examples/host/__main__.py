"""``python -m examples.host [--port 8000] [--db host.sqlite]``: the reference host on loopback
with a stand-in identity platform and store (a demo; Ctrl-C stops it)."""

from __future__ import annotations

import argparse
import threading

from .demo import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.host", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="loopback port of the host (0: any free port)")
    parser.add_argument("--db", default=":memory:", help="SQLite file (set EXAMPLE_HOST_KEY to reopen it)")
    args = parser.parse_args(argv)
    with serve(args.port, args.db) as (url, standins, _):
        print(f"reference host: {url}")
        print(f"store endpoint to give in the forms: {standins.store.endpoint}")
        print(f"identity platform stand-in: {standins.identity.server.url} (self-signed: the browser warns)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")


if __name__ == "__main__":
    main()
