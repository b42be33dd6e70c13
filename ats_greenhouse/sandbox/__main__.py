"""Command line entry point: `python -m ats_greenhouse.sandbox --port 8766 --seed 1`."""

import argparse
import json
import logging
import signal
import sys
import threading

from .server import start_sandbox
from .state import DEFAULT_CREDENTIALS, DEFAULT_USER_ID


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m ats_greenhouse.sandbox",
        description="Serve a local imitation of Greenhouse Harvest v3.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8766, help="TCP port; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=1, help="seed for the generated data")
    parser.add_argument("--jobs", type=int, default=30, help="number of jobs to generate")
    parser.add_argument(
        "--candidates",
        type=int,
        default=600,
        help="number of candidates to generate (one to three applications each)",
    )
    parser.add_argument(
        "--credentials",
        metavar="FILE",
        help='JSON file {"<client id>": {"secret", "scopes": [...], "token_ttl"}} '
        "that replaces the default credentials",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (DEBUG logs requests)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )

    credentials = None
    if args.credentials:
        try:
            with open(args.credentials, encoding="utf-8") as handle:
                credentials = json.load(handle)
        except (OSError, ValueError) as exc:
            parser.error(f"cannot read --credentials file {args.credentials}: {exc}")
    try:
        sandbox = start_sandbox(
            args.host, args.port, args.seed, args.jobs, args.candidates, credentials
        )
    except (OSError, ValueError) as exc:
        print(f"Failed to start the sandbox: {exc}", file=sys.stderr)
        return 1

    print(
        f"Greenhouse sandbox serving at {sandbox.url} (API {sandbox.api_url}, token {sandbox.url}/token)"
    )
    print(f"Client credentials (user id {DEFAULT_USER_ID} works as the acting user):")
    for client_id, config in (credentials or DEFAULT_CREDENTIALS).items():
        print(f"  {client_id} / {config.get('secret')}: {len(config.get('scopes', []))} scopes")
    sys.stdout.flush()

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    sandbox.stop()
    print("Greenhouse sandbox stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
