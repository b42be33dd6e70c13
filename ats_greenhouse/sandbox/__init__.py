"""A local server that imitates Greenhouse Harvest v3 and its OAuth token endpoint.

Standard library only; it imports nothing from Django or the rest of Lavalier.
"""

from .server import Sandbox, start_sandbox
from .state import ALL_SCOPES, DEFAULT_CREDENTIALS, DEFAULT_SECRET, DEFAULT_USER_ID

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_SECRET",
    "DEFAULT_USER_ID",
    "Sandbox",
    "start_sandbox",
]
