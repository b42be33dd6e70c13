"""Command line entry point: `python -m ats_ashby.sandbox --port 8765`."""

import argparse
import json
import logging
import signal
import sys
import threading

from .keys import DEFAULT_KEYS
from .server import start_sandbox


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ats_ashby.sandbox",
                                     description="Serve a local imitation of Ashby's public API.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated data")
    parser.add_argument("--jobs", type=int, default=40, help="number of jobs to generate")
    parser.add_argument("--candidates", type=int, default=2000,
                        help="number of candidates to generate (about 3 applications each)")
    parser.add_argument("--keys", metavar="FILE",
                        help='JSON file {"<key>": {"title", "scopes": [...], "deactivated"}} '
                             "that replaces the default keys")
    parser.add_argument("--log-level", default="INFO", help="logging level (DEBUG logs requests)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")

    keys = None
    if args.keys:
        try:
            with open(args.keys, encoding="utf-8") as handle:
                keys = json.load(handle)
        except (OSError, ValueError) as exc:
            parser.error(f"cannot read --keys file {args.keys}: {exc}")

    try:
        sandbox = start_sandbox(args.host, args.port, args.seed, args.jobs, args.candidates, keys)
    except (OSError, ValueError) as exc:
        print(f"Failed to start the sandbox: {exc}", file=sys.stderr)
        return 1

    print(f"Ashby sandbox serving at {sandbox.url}")
    print("API keys (HTTP Basic username, empty password):")
    for key, config in (keys or DEFAULT_KEYS).items():
        state = "deactivated" if config.get("deactivated") else ", ".join(config.get("scopes", []))
        print(f"  {key}: {config.get('title', key)} [{state}]")
    sys.stdout.flush()

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    sandbox.stop()
    print("Ashby sandbox stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
