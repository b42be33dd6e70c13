"""Injected failures: latency, 429, 5xx, hangs, malformed and truncated bodies.

Which request is hit is drawn from a random generator seeded with the sandbox seed and the
number of fault configurations so far, so a single-threaded client sees the same faults on
every run.
"""

import random
import threading

FAULT_RATES = ("rate_429", "rate_5xx", "timeout_rate", "malformed_json_rate",
               "truncated_page_rate")
LIST_SUFFIXES = (".list",)


class FaultPlan:
    """The active fault configuration; `decide()` picks the fault for one request."""

    def __init__(self, seed):
        self._seed = seed
        self._lock = threading.Lock()
        self._generation = 0
        self.clear()

    def clear(self):
        with self._lock:
            self.config = {}
            self._remaining = None
            self._rng = random.Random(f"faults:{self._seed}:{self._generation}")

    def configure(self, config):
        """Replace the configuration; raise ValueError on an invalid value."""
        clean = {
            "latency_ms": _number(config, "latency_ms", 0),
            "retry_after": _number(config, "retry_after", 1),
            "hang_seconds": _number(config, "hang_seconds", 30),
            "status_5xx": int(_number(config, "status_5xx", 500)),
            "endpoints": config.get("endpoints"),
            "fail_after_store": config.get("fail_after_store") or [],
            "fail_after_store_mode": config.get("fail_after_store_mode", "error"),
        }
        for name in FAULT_RATES:
            rate = _number(config, name, 0)
            if not 0 <= rate <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {rate}")
            clean[name] = rate
        if clean["endpoints"] is not None and not isinstance(clean["endpoints"], list):
            raise ValueError("endpoints must be a list of endpoint names like 'candidate.list'")
        if not isinstance(clean["fail_after_store"], list):
            raise ValueError("fail_after_store must be a list of endpoint names")
        if clean["fail_after_store_mode"] not in ("error", "hang"):
            raise ValueError("fail_after_store_mode must be 'error' or 'hang'")
        if not 500 <= clean["status_5xx"] <= 599:
            raise ValueError("status_5xx must be a 5xx status code")
        count = config.get("count")
        if count is not None and (not isinstance(count, int) or count < 0):
            raise ValueError("count must be a non-negative integer")
        unknown = set(config) - set(clean) - {"count"}
        if unknown:
            raise ValueError(f"Unknown fault settings: {', '.join(sorted(unknown))}")
        with self._lock:
            self._generation += 1
            self._rng = random.Random(f"faults:{self._seed}:{self._generation}")
            self.config = clean
            self._remaining = count
        return clean

    def decide(self, endpoint):
        """Return (fault name or None, latency seconds, config) for one Ashby API request."""
        with self._lock:
            config = self.config
            if not config:
                return None, 0, config
            names = config["endpoints"]
            if names is not None and endpoint not in names:
                return None, 0, config
            if self._remaining is not None:
                if self._remaining <= 0:
                    return None, 0, config
                self._remaining -= 1
            latency = config["latency_ms"] / 1000
            if endpoint in config["fail_after_store"]:
                return "fail_after_store", latency, config
            for name in FAULT_RATES:
                rate = config[name]
                if name == "truncated_page_rate" and not endpoint.endswith(LIST_SUFFIXES):
                    continue
                if rate and self._rng.random() < rate:
                    return name, latency, config
            return None, latency, config


def _number(config, name, default):
    value = config.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return value
