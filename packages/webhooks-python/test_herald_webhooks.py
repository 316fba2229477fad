"""Tests of herald_webhooks on deliveries recorded from a running Herald.

    python3 -m unittest test_herald_webhooks          (the recorded deliveries beside this file)
    HERALD_RECORDED_DELIVERIES=<file> python3 -m unittest test_herald_webhooks

Herald's test suite (test/sdk/python.test.ts) records fresh deliveries of every event
type and runs these tests on them.
"""
import base64
import json
import os
import unittest

from herald_webhooks import WebhookVerificationError, decode_envelope, verify_delivery

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDED = os.environ.get("HERALD_RECORDED_DELIVERIES") or os.path.join(HERE, "recorded_deliveries.json")

with open(RECORDED, encoding="utf-8") as f:
    RECORD = json.load(f)
KEY = RECORD["signingKey"]
DELIVERIES = RECORD["deliveries"]
WRONG = "x" * 64


def sent_at(d):
    return int(d["headers"]["webhook-timestamp"])


def tampered(body):
    return body.replace('"', ' "', 1)


class Verify(unittest.TestCase):
    def refused(self, reason, body, headers, **kw):
        with self.assertRaises(WebhookVerificationError) as cm:
            verify_delivery(body, headers, **kw)
        self.assertEqual(cm.exception.reason, reason, str(cm.exception))

    def test_every_delivery_verifies_by_each_signature_and_decodes(self):
        self.assertGreaterEqual(len(DELIVERIES), 20)
        for d in DELIVERIES:
            own = "izettle" if d["envelope"] == "pusher" else "herald"
            now = sent_at(d)
            for scheme in ("auto", "standard-webhooks", own):
                with self.subTest(event=d["eventName"], scheme=scheme):
                    got = verify_delivery(d["body"].encode("utf-8"), d["headers"], KEY, scheme=scheme, now=now)
                    self.assertEqual(got["scheme"], "standard-webhooks" if scheme == "auto" else scheme)
                    self.assertEqual(got["envelope"], d["envelope"])
                    if d["envelope"] == "pusher":
                        self.assertEqual(got["eventName"], d["eventName"])
                        self.assertEqual(got["webhook_id"], got["messageId"])
                        if d.get("expected") is not None:
                            self.assertEqual(got["payload"], d["expected"])
                    else:
                        self.assertEqual(got["event"], d["eventName"])
                        self.assertEqual(got["webhook_id"], got["id"])
                        self.assertEqual(got["data"], d["expected"])
            headers = {k: v for k, v in d["headers"].items() if k != "webhook-signature"}
            if own == "herald":
                self.assertEqual(verify_delivery(d["body"], headers, KEY, now=now)["scheme"], "herald")
            else:
                # X-iZettle-Signature alone is never enough for "auto" (see the downgrade test).
                self.refused("no_signature", d["body"], headers, keys=KEY, now=now)

    def test_refuses_and_says_why(self):
        for d in DELIVERIES[:3] + DELIVERIES[-3:]:
            body, headers, now = d["body"], d["headers"], sent_at(d)
            own = "izettle" if d["envelope"] == "pusher" else "herald"
            with self.subTest(event=d["eventName"]):
                self.refused("signature_mismatch", tampered(body), headers, keys=KEY, now=now)
                self.refused("signature_mismatch", body, headers, keys=WRONG, now=now)
                self.refused("signature_mismatch", body, headers, keys=WRONG, scheme=own, now=now)
                self.refused("timestamp_too_old", body, headers, keys=KEY, now=now + 301)
                self.refused("timestamp_in_future", body, headers, keys=KEY, now=now - 301)
                self.refused("no_key", body, headers, keys=[], now=now)
                self.refused("no_signature", body, {"Content-Type": "application/json"}, keys=KEY, now=now)
                self.refused("malformed_header", body, dict(headers, **{"webhook-signature": "v2,abc"}), keys=KEY, now=now)
                verify_delivery(body, headers, KEY, now=now + 301, tolerance_seconds=600)
                if own == "herald":
                    self.refused("timestamp_too_old", body, headers, keys=KEY, scheme="herald", now=now + 301)
                else:
                    # X-iZettle-Signature carries no freshness of its own.
                    verify_delivery(body, headers, KEY, scheme="izettle", now=now + 86400)

    def test_accepts_any_of_several_keys_and_a_standard_webhooks_secret(self):
        d = DELIVERIES[0]
        now = sent_at(d)
        self.assertEqual(verify_delivery(d["body"], d["headers"], ["o" * 64, KEY], now=now)["scheme"], "standard-webhooks")
        secret = "whsec_" + base64.b64encode(KEY.encode("utf-8")).decode("ascii")
        verify_delivery(d["body"], d["headers"], secret, scheme="standard-webhooks", now=now)
        # Header names in any case, as WSGI or a framework may give them.
        verify_delivery(d["body"], {k.upper(): v for k, v in d["headers"].items()}, KEY, now=now)

    def test_a_request_stripped_to_x_izettle_signature_is_not_a_downgrade(self):
        d = next(d for d in DELIVERIES if d["envelope"] == "pusher")
        body = json.loads(d["body"])
        body["eventName"], body["messageId"] = "ProductDeleted", "fresh-id"
        headers = {"X-iZettle-Signature": d["headers"]["x-izettle-signature"], "Content-Type": "application/json"}
        self.refused("no_signature", json.dumps(body), headers, keys=KEY)

    def test_hostile_input_gets_a_reason_not_a_crash(self):
        d = DELIVERIES[0]
        now = sent_at(d)
        self.refused("malformed_header", d["body"], dict(d["headers"], **{"webhook-timestamp": "\u00b2"}), keys=KEY, now=now)
        self.refused("malformed_body", "[" * 100000, {"X-iZettle-Signature": "ab" * 32}, keys=KEY, scheme="izettle")
        self.refused("malformed_body", '{"timestamp": NaN, "payload": "x"}', {"X-iZettle-Signature": "ab" * 32}, keys=KEY, scheme="izettle")
        self.refused("no_key", d["body"], d["headers"], keys="whsec_", now=now)
        self.refused("signature_mismatch", d["body"], dict(d["headers"], **{"webhook-signature": " ".join(["v1,AAAA"] * 500)}), keys=KEY, now=now)
        # ASGI gives names and values as bytes.
        raw = {k.encode("latin-1"): v.encode("latin-1") for k, v in d["headers"].items()}
        self.assertEqual(verify_delivery(d["body"], raw, KEY, now=now)["scheme"], "standard-webhooks")
        self.assertEqual(verify_delivery(d["body"], dict(d["headers"], extra=None), KEY, now=now)["scheme"], "standard-webhooks")

    def test_decode_refuses_what_is_not_an_envelope(self):
        self.assertIsNone(decode_envelope(b'{"not":"an envelope"}'))
        self.assertIsNone(decode_envelope(b"[1,2]"))
        self.assertIsNone(decode_envelope(b"\xff"))


if __name__ == "__main__":
    unittest.main()
