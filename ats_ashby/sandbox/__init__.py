"""A local server that behaves like Ashby's public API, for tests, demos and benchmarks.

Standard library only; it imports nothing from Django or the rest of Lavalier.
"""

from .keys import DEFAULT_KEYS, ENDPOINT_PERMISSIONS
from .server import Sandbox, start_sandbox

__all__ = ["DEFAULT_KEYS", "ENDPOINT_PERMISSIONS", "Sandbox", "start_sandbox"]
