"""Verify and decode the webhooks Herald sends. Python 3.8+, standard library only.

The three signatures (Herald's docs/signatures.md), all HMAC-SHA256 keyed with the
subscription's signingKey as UTF-8 bytes:

- "standard-webhooks", on every request: webhook-signature "v1,<base64>" over
  "<webhook-id>.<webhook-timestamp>.<raw body>"; webhook-timestamp checked against the
  tolerance.
- "herald", on Inventory (payment terminal) envelopes: X-Herald-Signature
  "t=<unix>,v1=<hex>" over "<t>.<raw body>"; t checked against the tolerance.
- "izettle", on Pusher envelopes (as Zettle's original): X-iZettle-Signature "<hex>" over
  "<body.timestamp>.<body.payload>". The body's timestamp is when the event was accepted
  (retries keep it), so no tolerance applies, and the body's other fields are not
  covered. Checked only when asked for (scheme="izettle"), never chosen by "auto": a
  request stripped of its other signatures must not pass on this one.

    from herald_webhooks import verify_delivery, WebhookVerificationError
    try:
        delivery = verify_delivery(raw_body, request.headers, keys=SIGNING_KEY)
    except WebhookVerificationError as e:
        return 400, e.reason

Pass the body exactly as received (bytes or str), before any JSON parsing.
"""
import base64
import binascii
import hashlib
import hmac
import json
import re
import time

__all__ = ["verify_delivery", "decode_envelope", "WebhookVerificationError", "DEFAULT_TOLERANCE_SECONDS"]

DEFAULT_TOLERANCE_SECONDS = 300
# Signature entries looked at, at most (Herald sends two during a key rotation).
MAX_SIGNATURES = 10
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")

REASONS = (
    "no_signature",
    "malformed_header",
    "signature_mismatch",
    "timestamp_too_old",
    "timestamp_in_future",
    "malformed_body",
    "no_key",
)


class WebhookVerificationError(Exception):
    """Why a delivery was refused: .reason is one of REASONS, .scheme the scheme checked."""

    def __init__(self, reason, message, scheme=None):
        super().__init__(message)
        self.reason = reason
        self.scheme = scheme


def _key_bytes(key):
    raw = key.encode("utf-8")
    if key.startswith("whsec_"):
        try:
            raw = base64.b64decode(key[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError):
            pass
    if not raw:
        raise WebhookVerificationError("no_key", "an empty signing key was given")
    return raw


def _any_key_signed(keys, message, signatures):
    found = False
    for key in keys:
        mac = hmac.new(_key_bytes(key), message, hashlib.sha256).digest()
        for sig in signatures[:MAX_SIGNATURES]:
            if hmac.compare_digest(mac, sig):
                found = True
    return found


def _header_text(value):
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(_header_text(v) for v in value if v is not None)
    raise WebhookVerificationError("malformed_header", "a header value is neither text nor bytes")


_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


def _hex(value):
    return bytes.fromhex(value) if _HEX.fullmatch(value) else None


def _unix_seconds(scheme, value):
    if not _UNIX_SECONDS.fullmatch(value):
        raise WebhookVerificationError("malformed_header", "the timestamp %r is not Unix seconds" % value[:40], scheme)
    return int(value)


def _check_time(scheme, seconds, now, tolerance):
    if seconds < now - tolerance:
        raise WebhookVerificationError("timestamp_too_old", "the signed timestamp (%d) is more than %d s old" % (seconds, tolerance), scheme)
    if seconds > now + tolerance:
        raise WebhookVerificationError("timestamp_in_future", "the signed timestamp (%d) is more than %d s ahead" % (seconds, tolerance), scheme)


def _refuse_constant(name):
    raise ValueError("not JSON: %s" % name)


def _json_object(body):
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def decode_envelope(body):
    """The envelope as a dict (the Pusher payload string parsed into "payload", kept as
    "raw_payload"), or None when the body is neither envelope."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    o = _json_object(body)
    if o is None:
        return None
    if isinstance(o.get("eventName"), str) and isinstance(o.get("payload"), str):
        if not all(isinstance(o.get(k), str) for k in ("organizationUuid", "messageUuid", "messageId", "timestamp")):
            return None
        try:
            payload = json.loads(o["payload"], parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            return None
        return dict(o, envelope="pusher", payload=payload, raw_payload=o["payload"])
    if isinstance(o.get("event"), str) and "data" in o:
        if not (isinstance(o.get("id"), str) and isinstance(o.get("attemptId"), str) and isinstance(o.get("livemode"), bool) and isinstance(o.get("created"), int) and not isinstance(o.get("created"), bool)):
            return None
        return dict(o, envelope="inventory")
    return None


def verify_delivery(raw_body, headers, keys, scheme="auto", tolerance_seconds=DEFAULT_TOLERANCE_SECONDS, now=None):
    """Verifies a delivery and returns its decoded envelope (a dict) with "scheme" and
    "webhook_id" (stable across retries: drop duplicates by it). Raises
    WebhookVerificationError saying why when it does not verify.

    keys: the subscription's signingKey, or a list of them during a key rotation (a
    Standard Webhooks "whsec_..." secret works too). headers: any mapping; names are
    matched in any case. now: Unix seconds (default: the clock)."""
    if isinstance(keys, str):
        keys = [keys]
    keys = list(keys)
    if not keys or any(not isinstance(k, str) or k == "" for k in keys):
        raise WebhookVerificationError("no_key", "no signing key was given")
    body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
    h = {}
    for k, v in dict(headers).items():
        if v is None:
            continue
        name = k.decode("latin-1") if isinstance(k, bytes) else str(k)
        h[name.lower()] = _header_text(v)
    now = int(time.time()) if now is None else int(now)

    if scheme == "auto":
        if "webhook-signature" in h:
            scheme = "standard-webhooks"
        elif "x-herald-signature" in h:
            scheme = "herald"
        else:
            raise WebhookVerificationError(
                "no_signature",
                "the request carries neither webhook-signature nor X-Herald-Signature (X-iZettle-Signature alone is checked only with scheme='izettle')",
            )

    webhook_id = None
    if scheme == "standard-webhooks":
        msg_id, ts, sig = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
        if msg_id is None or ts is None or sig is None:
            raise WebhookVerificationError("no_signature", "webhook-id, webhook-timestamp and webhook-signature are all needed", scheme)
        seconds = _unix_seconds(scheme, ts)
        signatures = []
        for entry in sig.split(" "):
            if entry.startswith("v1,"):
                try:
                    signatures.append(base64.b64decode(entry[3:], validate=True))
                except (binascii.Error, ValueError):
                    pass
        if not signatures:
            raise WebhookVerificationError("malformed_header", "webhook-signature has no v1 signature", scheme)
        if not _any_key_signed(keys, ("%s.%s." % (msg_id, ts)).encode("utf-8") + body, signatures):
            raise WebhookVerificationError("signature_mismatch", "webhook-signature was not made by the signing key over this body", scheme)
        _check_time(scheme, seconds, now, tolerance_seconds)
        webhook_id = msg_id
    elif scheme == "herald":
        header = h.get("x-herald-signature")
        if header is None:
            raise WebhookVerificationError("no_signature", "no X-Herald-Signature", scheme)
        parts = [p.strip().split("=", 1) for p in header.split(",")]
        t = next((p[1] for p in parts if len(p) == 2 and p[0] == "t"), None)
        signatures = []
        for p in parts:
            if len(p) == 2 and p[0] == "v1" and _hex(p[1]) is not None:
                signatures.append(_hex(p[1]))
        if t is None or not signatures:
            raise WebhookVerificationError("malformed_header", "X-Herald-Signature must read t=<unix>,v1=<hex>", scheme)
        seconds = _unix_seconds(scheme, t)
        if not _any_key_signed(keys, ("%s." % t).encode("utf-8") + body, signatures):
            raise WebhookVerificationError("signature_mismatch", "X-Herald-Signature was not made by the signing key over this body", scheme)
        _check_time(scheme, seconds, now, tolerance_seconds)
    elif scheme == "izettle":
        header = h.get("x-izettle-signature")
        if header is None:
            raise WebhookVerificationError("no_signature", "no X-iZettle-Signature", scheme)
        signatures = []
        for s in header.replace(",", " ").split():
            if _hex(s) is not None:
                signatures.append(_hex(s))
        if not signatures:
            raise WebhookVerificationError("malformed_header", "X-iZettle-Signature must be lowercase hex", scheme)
        fields = _json_object(body)
        if fields is None or not isinstance(fields.get("timestamp"), str) or not isinstance(fields.get("payload"), str):
            raise WebhookVerificationError("malformed_body", "X-iZettle-Signature covers the body fields timestamp and payload, which are missing", scheme)
        message = ("%s.%s" % (fields["timestamp"], fields["payload"])).encode("utf-8")
        if not _any_key_signed(keys, message, signatures):
            raise WebhookVerificationError("signature_mismatch", "X-iZettle-Signature was not made by the signing key over this body", scheme)
    else:
        raise ValueError("unknown scheme %r" % scheme)

    delivery = decode_envelope(body)
    if delivery is None:
        raise WebhookVerificationError("malformed_body", "the body is not a Pusher or Inventory envelope", scheme)
    if webhook_id is None:
        webhook_id = delivery["messageId"] if delivery["envelope"] == "pusher" else delivery["id"]
    delivery["scheme"] = scheme
    delivery["webhook_id"] = webhook_id
    return delivery
