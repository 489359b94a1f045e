"""The cluster tests: orgs as it runs in production, on this machine. `deploy/cluster up` starts
nginx in front of two `orgs serve` instances (the binary the test build made), pgbouncer in
transaction pooling mode in front of PostgreSQL, and this file's own SMTP server, which counts
every message and its Message-ID. Then, through nginx:

- sign-up, activation, invitation and acceptance, the requests spread over both instances;
- two tenants hammered concurrently through pgbouncer never see each other's rows;
- 1,000 invitations drained by two instances at once: exactly 1,000 messages, 1,000 ids;
- a slow SMTP server (sends outlasting the lease) still gets each message once;
- an instance killed mid-drain: still 1,000 distinct ids, duplicates no more than the
  messages it had handed over without recording them;
- SIGKILL under wrk load: the other instance serves, errors only for the killed one's
  in-flight requests; the killed one rejoins;
- SIGTERM drains: /readyz 503 at once, no request lost, the outbox sender stops cleanly.

Run by tests/cluster/run. Standard library, aiosmtpd and wrk only.
"""

import asyncio
import email
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from aiosmtpd.controller import Controller

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLUSTER = os.path.join(ROOT, "deploy", "cluster")
DIR = os.environ.setdefault("CLUSTER_DIR", "/tmp/orgs-cluster-test")
HTTP_PORT = int(os.environ.setdefault("CLUSTER_PORT", "18080"))
FIRST_PORT = int(os.environ.setdefault("CLUSTER_FIRST_PORT", "18101"))
os.environ.setdefault("CLUSTER_BOUNCER_PORT", "16433")
os.environ.setdefault("CLUSTER_DB", "orgs_cluster_test")
BASE = f"http://127.0.0.1:{HTTP_PORT}"
OWNER_URL = f"postgres://postgres@127.0.0.1:5432/{os.environ['CLUSTER_DB']}"
BIN = os.environ.get("CLUSTER_BIN") or os.path.join(ROOT, "target", "debug", "orgs")
PASSWORD = "a long enough password"
LEASE_SECS = 3

RESULTS = []


def note(line):
    print(line, flush=True)
    RESULTS.append(line)


# --- the SMTP server ---------------------------------------------------------------------------


class Counting:
    """An aiosmtpd handler keeping every message; `delay` seconds before each acceptance."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append(
                {
                    "id": parsed["Message-ID"],
                    "to": envelope.rcpt_tos[0].lower(),
                    "subject": str(parsed["Subject"]),
                    "text": body_text(parsed),
                }
            )
        return "250 OK"

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if m["to"] == address.lower()]

    def count(self):
        with self.lock:
            return len(self.messages)

    def since(self, start):
        with self.lock:
            return list(self.messages[start:])


def body_text(parsed):
    for part in parsed.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode("utf-8", "replace")
    return ""


def wait_for_mail(smtp, address, count=1, limit=20):
    deadline = time.time() + limit
    while time.time() < deadline:
        got = smtp.to(address)
        if len(got) >= count:
            return got
        time.sleep(0.05)
    raise AssertionError(f"no mail for {address} within {limit}s")


def link_in(text, path):
    match = re.search(r"https?://[^\s]+" + re.escape(path) + r"[^\s]*", text)
    assert match, f"no {path} link in {text!r}"
    return urllib.parse.urlsplit(match.group(0)).path


# --- HTTP --------------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A client with its own cookies that follows no redirect; remembers which instances
    answered it (nginx's X-Upstream)."""

    def __init__(self, base=BASE, token=None):
        self.base = base
        self.token = token
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.csrf = ""
        self.upstreams = set()

    def request(self, method, path, form=None, body=None, headers=None):
        headers = dict(headers or {})
        data = None
        if form is not None:
            fields = dict(form)
            fields["csrf_token"] = self.csrf
            data = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["X-CSRF-Token"] = self.csrf
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=30) as res:
                status, text, hdrs = res.status, res.read().decode(), res.headers
        except urllib.error.HTTPError as error:
            status, text, hdrs = error.code, error.read().decode(), error.headers
        if hdrs.get("X-Upstream"):
            self.upstreams.add(hdrs["X-Upstream"])
        match = re.search(r'name="csrf_token" value="([^"]+)"', text)
        if match:
            self.csrf = match.group(1)
        return status, text, hdrs

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, form):
        return self.request("POST", path, form=form)

    def api(self, method, path, body=None):
        status, text, _ = self.request(method, path, body=body)
        return status, (json.loads(text) if text.strip() else None)


def cli(*args):
    env = dict(os.environ, ORGS_DATABASE__URL=OWNER_URL, ORGS_ENV="development")
    env = {k: v for k, v in env.items() if not k.startswith("ORGS_AUTH__")}
    out = subprocess.run([BIN, *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def psql(sql):
    out = subprocess.run(["psql", OWNER_URL, "-qAtc", sql], check=True, capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if line]


def cluster(*args, check=True):
    return subprocess.run([CLUSTER, *args], check=check, capture_output=True, text=True)


def pid_of(k):
    with open(os.path.join(DIR, f"instance-{k}.pid")) as f:
        return int(f.read().strip())


def direct(k):
    return f"http://127.0.0.1:{FIRST_PORT + k - 1}"


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as res:
            return res.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wrk(seconds, path, token, connections=16):
    """Starts wrk against nginx; the Popen (read `.communicate()` for its report)."""
    return subprocess.Popen(
        [
            "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
            "-H", f"Authorization: Bearer {token}", BASE + path,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wrk_report(proc):
    out, _ = proc.communicate(timeout=120)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    socket_errors = sum(int(g) for g in sockets.groups()) if sockets else 0
    return requests, errors, socket_errors, out


# --- the scenarios -----------------------------------------------------------------------------


def story(smtp):
    """Sign-up, activation, invitation and acceptance through nginx, over both instances."""
    ada = Browser()
    assert ada.get("/signup/")[0] == 200
    status, text, _ = ada.post(
        "/signup/", {"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}
    )
    assert status == 200 and "ada@example.com" in text, (status, text[:300])
    activation = link_in(wait_for_mail(smtp, "ada@example.com")[0]["text"], "/activate/")
    status, _, hdrs = ada.get(activation)
    assert status == 303, status
    assert ada.get("/")[0] == 200  # a page, for the session's CSRF token
    status, orgs = ada.api("GET", "/api/v1/organizations/")
    assert status == 200, (status, orgs)
    slug = orgs["items"][0]["slug"]
    status, invited = ada.api("POST", f"/o/{slug}/api/v1/people/", {"email": "bob@example.com"})
    assert status == 201, (status, invited)
    link = link_in(wait_for_mail(smtp, "bob@example.com")[0]["text"], "/invitations/")
    bob = Browser()
    assert bob.get(link)[0] == 200
    status, text, _ = bob.post(link, {"action": "accept", "name": "Bob", "password": PASSWORD})
    assert status == 303, (status, text[:300])
    for _ in range(6):
        assert bob.get(f"/o/{slug}/people/")[0] == 200
        assert ada.get(f"/o/{slug}/people/")[0] == 200
    status, people = ada.api("GET", f"/o/{slug}/api/v1/people/")
    emails = sorted(p["email"] for p in people["items"])
    assert emails == ["ada@example.com", "bob@example.com"], emails
    both = ada.upstreams | bob.upstreams
    assert len(both) == 2, f"the requests reached {both}, not both instances"
    note(f"story: sign-up, activation, invitation, acceptance through nginx; answered by {sorted(both)}")


def tenants():
    """Two organizations, each with an owner's personal token and ten projects."""
    made = {}
    for slug in ["north", "south"]:
        cli("user", "create", "--email", f"owner@{slug}.test", "--password", PASSWORD, "--name", slug)
        cli("org", "create", "--name", slug.title(), "--slug", slug, "--owner", f"owner@{slug}.test")
        token = cli("user", "token", "--email", f"owner@{slug}.test", "--name", "cluster")
        client = Browser(token=token)
        for i in range(10):
            status, _ = client.api("POST", f"/o/{slug}/api/v1/projects/", {"name": f"{slug} {i}"})
            assert status == 201, status
        made[slug] = token
    return made


def isolation(tokens):
    """Both tenants hammered at once; every answer holds only its own tenant's rows."""
    failures = []
    counts = {"requests": 0}
    lock = threading.Lock()

    def hammer(slug, token, n):
        client = Browser(token=token)
        for i in range(n):
            if i % 25 == 0:
                status, _ = client.api("POST", f"/o/{slug}/api/v1/projects/", {"name": f"{slug} x{i}"})
            else:
                status, body = client.api("GET", f"/o/{slug}/api/v1/projects/?per_page=100")
                if status == 200:
                    names = [p["name"] for p in body["items"]]
                    strangers = [n for n in names if not n.startswith(slug + " ")]
                    if strangers or not names:
                        failures.append((slug, strangers or "no rows"))
            if status not in (200, 201):
                failures.append((slug, status))
            with lock:
                counts["requests"] += 1

    threads = [
        threading.Thread(target=hammer, args=(slug, token, 600))
        for slug, token in tokens.items()
        for _ in range(3)
    ]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - started
    assert not failures, failures[:10]
    note(f"isolation: {counts['requests']} requests from two tenants at once through pgbouncer "
         f"in {elapsed:.1f}s, none saw the other's rows")


def invite_many(token, slug, prefix, n, retries=0):
    """n invitations through nginx from 4 clients. Each carries an Idempotency-Key, so a POST
    whose instance died under it (nginx answers 502) is sent again without inviting twice."""
    errors = []
    retried = [0]
    in_doubt = [0]

    def worker(part):
        client = Browser(token=token)
        for i in part:
            for attempt in range(retries + 1):
                status, _, _ = client.request(
                    "POST", f"/o/{slug}/api/v1/people/",
                    body={"email": f"{prefix}{i}@mail.test"},
                    headers={"Idempotency-Key": f"{prefix}-{i}"},
                )
                if status == 201:
                    break
                if status in (502, 503) and attempt < retries:
                    retried[0] += 1
                    time.sleep(0.2)
                    continue
                if status == 409 and retries:
                    # The key's first request is still held by an instance that died after it
                    # committed and before it stored the answer: the invitation may well exist
                    # (the key frees itself after 60 s). The distinct Message-IDs tell.
                    in_doubt[0] += 1
                    break
                errors.append((i, status))
                break

    parts = [range(k, n, 4) for k in range(4)]
    threads = [threading.Thread(target=worker, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    return retried[0], in_doubt[0]


def drained(smtp, start, n, limit):
    deadline = time.time() + limit
    while time.time() < deadline and smtp.count() - start < n:
        time.sleep(0.1)
    # Past the lease, a message claimed twice would have arrived twice.
    time.sleep(LEASE_SECS + 1.5)
    got = smtp.since(start)
    return got, len({m["id"] for m in got})


def exactly_once(smtp, token):
    start = smtp.count()
    began = time.time()
    invite_many(token, "north", "once", 1000)
    got, distinct = drained(smtp, start, 1000, 90)
    took = time.time() - began
    assert len(got) == 1000 and distinct == 1000, (len(got), distinct)
    assert all(re.fullmatch(r"<outbox\.\d+\.\d+@[^>]+>", m["id"]) for m in got)
    note(f"exactly once: 1000 invitations, two instances draining: {len(got)} messages, "
         f"{distinct} distinct Message-IDs ({took:.1f}s from the first POST)")


def slow_server(smtp, token):
    smtp.delay = 0.5
    try:
        start = smtp.count()
        invite_many(token, "south", "slow", 20)
        # 20 sends of 0.5 s outlast the 3 s lease of a batch claimed at once.
        got, distinct = drained(smtp, start, 20, 60)
    finally:
        smtp.delay = 0.0
    assert len(got) == 20 and distinct == 20, (len(got), distinct)
    note(f"slow SMTP (0.5 s a message, lease {LEASE_SECS} s): 20 invitations -> {len(got)} messages")


def killed_mid_drain(smtp, token):
    smtp.delay = 0.004
    outcome = {}

    def invite():
        try:
            outcome["counts"] = invite_many(token, "north", "kill", 1000, retries=5)
        except AssertionError as error:
            outcome["error"] = error

    try:
        start = smtp.count()
        inviting = threading.Thread(target=invite)
        inviting.start()
        while smtp.count() - start < 250:
            time.sleep(0.01)
        os.kill(pid_of(1), signal.SIGKILL)
        killed_at = smtp.count() - start
        inviting.join()
        assert "error" not in outcome, outcome["error"]
        # A POST answered 409 had its key claimed by the dead instance, which may have died
        # before its invitation committed; the key frees itself after 60 s, and a client that
        # does not wait asks again under a new key for what is missing.
        made = set(psql(
            "SELECT email FROM organization_invitations WHERE email LIKE 'kill%@mail.test'"
        ))
        missing = [i for i in range(1000) if f"kill{i}@mail.test" not in made]
        client = Browser(token=token)
        for i in missing:
            status, _, _ = client.request(
                "POST", "/o/north/api/v1/people/", body={"email": f"kill{i}@mail.test"},
                headers={"Idempotency-Key": f"kill-{i}-again"},
            )
            assert status == 201, status
        outcome["missing"] = len(missing)
        got, distinct = drained(smtp, start, 1000, 120)
    finally:
        smtp.delay = 0.0
    duplicates = len(got) - distinct
    # One sender per instance sends one message at a time: at most one message can have been
    # accepted by the server and not yet recorded when the process died.
    assert distinct == 1000, distinct
    assert duplicates <= 1, duplicates
    note(f"killed mid-drain (SIGKILL after {killed_at} of 1000 messages, invitations still being "
         f"made; {outcome['counts'][0]} POST(s) retried with their Idempotency-Key, "
         f"{outcome['counts'][1]} answered 409 as in flight on the dead instance, of which "
         f"{outcome['missing']} never committed and was asked again): {distinct} distinct "
         f"Message-IDs, {duplicates} duplicate(s) (bound: 1, the message in flight)")
    restart(1)


def restart(k):
    out = cluster("start", str(k))
    assert out.returncode == 0, out.stderr


def kill_under_load(token):
    load = wrk(8, "/o/north/api/v1/projects/", token)
    time.sleep(3)
    in_flight_bound = 16  # wrk's connections: at most one request each in flight
    os.kill(pid_of(2), signal.SIGKILL)
    requests, errors, socket_errors, out = wrk_report(load)
    assert requests > 100, out
    assert errors + socket_errors <= in_flight_bound, out
    note(f"SIGKILL under wrk -c16 (8 s): {requests} requests, {errors} non-2xx and "
         f"{socket_errors} socket errors (bound {in_flight_bound}: the killed instance's in-flight "
         f"requests; nginx retries the rest on the other)")
    restart(2)
    # It rejoins: nginx sends it requests again once its 2 s rest is over.
    deadline = time.time() + 10
    seen = set()
    client = Browser(token=token)
    while time.time() < deadline and f"127.0.0.1:{FIRST_PORT + 1}" not in seen:
        client.api("GET", "/o/north/api/v1/projects/")
        seen = client.upstreams
        time.sleep(0.05)
    assert f"127.0.0.1:{FIRST_PORT + 1}" in seen, seen
    note("  the restarted instance is served requests again through nginx")


def sigterm_drains(token):
    load = wrk(6, "/o/north/api/v1/projects/", token)
    time.sleep(2)
    pid = pid_of(1)
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.2)
    ready = status_of(direct(1) + "/readyz")
    assert ready == 503, f"/readyz answered {ready} while draining"
    requests, errors, socket_errors, out = wrk_report(load)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the instance did not exit after SIGTERM")
    with open(os.path.join(DIR, "instance-1.log")) as f:
        log = f.read()
    assert "the outbox sender stopped" in log, log[-2000:]
    assert errors + socket_errors == 0, out
    note(f"SIGTERM under wrk -c16 (6 s): /readyz 503 at once, {requests} requests, 0 errors, "
         f"the outbox sender stopped cleanly")
    os.remove(os.path.join(DIR, "instance-1.pid"))
    restart(1)


def main():
    smtp = Counting()
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = {
        "ORGS_AUTH__INVITATIONS_PER_HOUR": "100000",
        "ORGS_AUTH__MAIL_PER_CLIENT_PER_HOUR": "100000",
        "ORGS_AUTH__MAIL_PER_ADDRESS_PER_HOUR": "100000",
        "ORGS_EMAIL__SEND_LEASE_SECS": str(LEASE_SECS),
        "ORGS_EMAIL__RETRY_BASE_SECS": "1",
        "CLUSTER_BIN": BIN,
    }
    os.environ.update(env)
    began = time.time()
    up = cluster("up", "--smtp", f"smtp://127.0.0.1:{smtp_port}", check=False)
    if up.returncode != 0:
        print(up.stdout, up.stderr, file=sys.stderr)
        raise SystemExit("deploy/cluster up failed")
    print(up.stdout.strip().splitlines()[-2], flush=True)
    try:
        story(smtp)
        tokens = tenants()
        isolation(tokens)
        exactly_once(smtp, tokens["north"])
        slow_server(smtp, tokens["south"])
        killed_mid_drain(smtp, tokens["north"])
        kill_under_load(tokens["north"])
        sigterm_drains(tokens["north"])
        panics = [
            name for name in os.listdir(DIR)
            if name.startswith("instance-") and name.endswith(".log")
            and "panicked" in open(os.path.join(DIR, name)).read()
        ]
        assert not panics, f"a server panicked: {panics}"
    finally:
        cluster("down", check=False)
        controller.stop()
    note(f"cluster tests passed in {time.time() - began:.0f}s")


if __name__ == "__main__":
    main()
