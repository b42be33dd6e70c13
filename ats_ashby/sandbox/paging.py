"""Opaque cursors and sync tokens.

Both are signed, base64url-encoded JSON, so garbage or edited values are detected
(`invalid_next_cursor` / `sync_token_invalid`). Each carries the expiry epoch it was issued in;
the control API bumps the epoch to expire every cursor or token issued so far.

A cursor records the position in the endpoint's stable order (creation order, which never
changes), the change sequence when the pass started, and the `since` sequence of the sync token
the pass began with. A sync token records the change sequence at the start of the pass that
issued it, so changes made during that pass are returned again by the next incremental pass.
"""

import base64
import hashlib
import hmac
import json

from .errors import AshbyError

MAX_LIMIT = 100

# NOTE: Ashby does not document the HTTP status of `sync_token_expired` and
# `next_cursor_expired`; the sandbox answers them with 200 like Ashby's other business errors.
EXPIRED_STATUS = 200


class TokenCodec:
    def __init__(self, secret):
        self._secret = secret
        self.cursor_epoch = 0
        self.token_epoch = 0

    def _sign(self, payload):
        raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        mac = hmac.new(self._secret, raw, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac + raw).decode().rstrip("=")

    def _verify(self, value):
        if not isinstance(value, str) or not value:
            return None
        try:
            blob = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (ValueError, TypeError):
            return None
        mac, raw = blob[:12], blob[12:]
        expected = hmac.new(self._secret, raw, hashlib.sha256).digest()[:12]
        if not hmac.compare_digest(mac, expected):
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def encode_cursor(self, kind, position, pass_seq, since, filters):
        return self._sign({"k": kind, "p": position, "s": pass_seq, "t": since,
                           "f": filters, "e": self.cursor_epoch, "c": 1})

    def decode_cursor(self, value, kind):
        payload = self._verify(value)
        if not payload or payload.get("c") != 1 or payload.get("k") != kind:
            raise AshbyError("invalid_next_cursor",
                             "The cursor is not valid for this endpoint. Restart the pass from "
                             "the first page without a cursor.")
        if payload["e"] != self.cursor_epoch:
            raise AshbyError("next_cursor_expired",
                             "The cursor has expired. Restart the pass from the first page "
                             "(keep the same syncToken, if any).", status=EXPIRED_STATUS)
        return payload

    def encode_sync_token(self, kind, seq):
        return self._sign({"k": kind, "s": seq, "e": self.token_epoch, "c": 0})

    def decode_sync_token(self, value, kind):
        payload = self._verify(value)
        if not payload or payload.get("c") != 0 or payload.get("k") != kind:
            raise AshbyError("sync_token_invalid",
                             "The syncToken is not valid for this endpoint. Drop it and run a "
                             "full sync without a syncToken.")
        if payload["e"] != self.token_epoch:
            raise AshbyError("sync_token_expired",
                             "The syncToken has expired. Drop it and run a full sync without a "
                             "syncToken.", status=EXPIRED_STATUS)
        return payload["s"]


def read_limit(body):
    limit = body.get("limit", MAX_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int | float) or limit != int(limit):
        raise AshbyError("invalid_input", f"limit must be a whole number, got {limit!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise AshbyError("invalid_input", f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return int(limit)


def paginate(codec, body, kind, records, seq_now, matches, filters, incremental):
    """Return one page of `records` (a list in stable order) as a list-endpoint envelope.

    `matches(record)` applies visibility and filters. With `incremental`, the response carries a
    `syncToken` on the last page and a request with `syncToken` returns only records whose `seq`
    is newer than the token's.
    """
    limit = read_limit(body)
    cursor = body.get("cursor")
    token = body.get("syncToken")
    if cursor is not None and not isinstance(cursor, str):
        raise AshbyError("invalid_input", "cursor must be a string")
    if token is not None and not isinstance(token, str):
        raise AshbyError("invalid_input", "syncToken must be a string")

    if cursor:
        state = codec.decode_cursor(cursor, kind)
        position, pass_seq, since, filters = state["p"], state["s"], state["t"], state["f"]
    else:
        position, pass_seq = 0, seq_now
        since = codec.decode_sync_token(token, kind) if (token and incremental) else None

    page = []
    index = position
    total = len(records)
    while index < total and len(page) < limit:
        record = records[index]
        index += 1
        if since is not None and _seq(record) <= since:
            continue
        if matches(record, filters):
            page.append(record)

    more = False
    probe = index
    while probe < total:
        record = records[probe]
        if (since is None or _seq(record) > since) and matches(record, filters):
            more = True
            break
        probe += 1

    envelope = {"success": True, "results": page, "moreDataAvailable": more}
    if more:
        envelope["nextCursor"] = codec.encode_cursor(kind, index, pass_seq, since, filters)
    elif incremental:
        envelope["syncToken"] = codec.encode_sync_token(kind, pass_seq)
    return envelope


def _seq(record):
    return record["seq"] if isinstance(record, dict) else record.seq
