#!/usr/bin/env python3
"""A webhook receiver for the tests: every delivery is checked with PyPI's `standardwebhooks`
(the reference verifier, not orgs' code) against the secrets the test registered for its name.

    python3 tests/webhooks/receiver.py HOST   prints "PORT" on its first line, then serves

    PUT  /secrets/NAME   {"secrets": ["whsec_...", ...]}   the secrets deliveries to NAME may use
    POST /r/NAME/BEHAVIOUR                                    a delivery; BEHAVIOUR is how to answer:
         ok        204
         flaky     500 to the first attempt of each webhook-id, then 200
         busy      503 with Retry-After: 1 to the first attempt of each webhook-id, then 200
         fail      500, always
         gone      410
         hang      no answer (the connection stays open for 60 s)
         redirect  302 to http://127.0.0.1:PORT/r/NAME/ok (which a sender must not follow)
    GET  /received/NAME  every request to NAME: id, timestamp, type, body, the secrets (by
                         index) whose signature verified, whether it verified with any, when it
                         arrived (seconds since the epoch)
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
SECRETS = {}
RECEIVED = {}
SEEN = set()


def verified_with(name, body, headers):
    good = []
    for index, secret in enumerate(SECRETS.get(name, [])):
        # One signature of the header at a time: which secrets signed it, not only whether one did.
        for signature in headers.get("webhook-signature", "").split(" "):
            one = dict(headers)
            one["webhook-signature"] = signature
            try:
                Webhook(secret).verify(body, one)
            except WebhookVerificationError:
                continue
            good.append(index)
            break
    return good


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        return self.rfile.read(int(self.headers.get("content-length", "0")))

    def do_PUT(self):
        name = self.path.removeprefix("/secrets/").strip("/")
        with LOCK:
            SECRETS[name] = json.loads(self.body())["secrets"]
        self.answer(204)

    def do_GET(self):
        name = self.path.removeprefix("/received/").strip("/")
        with LOCK:
            body = json.dumps(RECEIVED.get(name, [])).encode()
        self.answer(200, body, [("content-type", "application/json")])

    def do_POST(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "r":
            return self.answer(404)
        _, name, behaviour = parts
        body = self.body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        webhook_id = headers.get("webhook-id", "")
        try:
            event_type = json.loads(body).get("type")
        except ValueError:
            event_type = None
        with LOCK:
            good = verified_with(name, body, headers)
            first = (name, webhook_id) not in SEEN
            SEEN.add((name, webhook_id))
            RECEIVED.setdefault(name, []).append({
                "id": webhook_id,
                "timestamp": headers.get("webhook-timestamp"),
                "signatures": len(headers.get("webhook-signature", "").split(" ")),
                "type": event_type,
                "body": body.decode("utf-8", "replace"),
                "verified_with": good,
                "verified": bool(good),
                "behaviour": behaviour,
                "at": time.time(),
            })
        if behaviour == "ok":
            self.answer(204)
        elif behaviour == "flaky":
            self.answer(500 if first else 200, b"not yet" if first else b"ok")
        elif behaviour == "busy":
            self.answer(503, b"busy", [("retry-after", "1")]) if first else self.answer(200)
        elif behaviour == "fail":
            self.answer(500, b"broken")
        elif behaviour == "gone":
            self.answer(410, b"gone")
        elif behaviour == "hang":
            time.sleep(60)
        elif behaviour == "redirect":
            port = self.server.server_address[1]
            self.answer(302, b"", [("location", f"http://127.0.0.1:{port}/r/{name}/ok")])
        else:
            self.answer(404)


def main():
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.2"
    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
