#!/usr/bin/env python3
"""Run every scim2-tester check against a SCIM server; exit 1 if any check is ERROR/CRITICAL.

usage: target/scim2-venv/bin/python tests/scim2/check.py BASE_URL [TOKEN] [--log FILE] [--strict]
  --strict : also fail on DEVIATION (and SKIPPED), like `scim2 test` (which fails on anything but SUCCESS)
  --log    : write every HTTP request/response (method, url, status, bodies) to FILE
"""
import collections, json, sys
from httpx2 import Client                       # scim2-client 0.13 uses httpx2, not httpx
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server, Status

args = [a for a in sys.argv[1:]]
strict = "--strict" in args and not args.remove("--strict")
log = None
if "--log" in args:
    i = args.index("--log"); log = open(args[i + 1], "w"); del args[i:i + 2]
url = args[0]
token = args[1] if len(args) > 1 else None
headers = {"Authorization": f"Bearer {token}"} if token else {}

def on_response(resp):
    resp.read()
    req = resp.request
    log.write(f"\n>>> {req.method} {req.url}" + "".join(f" [{h}: {req.headers[h]}]" for h in ("if-match", "if-none-match", "content-type", "accept") if h in req.headers) + "\n")
    if req.content:
        log.write(req.content.decode(errors="replace") + "\n")
    log.write(f"<<< {resp.status_code} {resp.headers.get('content-type')} etag={resp.headers.get('etag')} location={resp.headers.get('location')}\n")
    log.write(resp.text[:4000] + "\n")

hooks = {"response": [on_response]} if log else {}
http = Client(base_url=url, headers=headers, event_hooks=hooks, timeout=30)
client = SyncSCIMClient(http)            # no discover(): check_server fetches SPC/ResourceTypes/Schemas itself
results = check_server(client)           # raise_exceptions=False; include_tags/exclude_tags/resource_types optional

bad = {Status.ERROR, Status.CRITICAL} | ({Status.DEVIATION, Status.SKIPPED} if strict else set())
counts = collections.Counter(r.status.name for r in results)
for r in results:
    rt = f"[{r.resource_type}] " if r.resource_type else ""
    line = f"{r.status.name:10} {rt}{r.title}"
    if r.status in bad or r.status == Status.SKIPPED:
        line += f" -- {r.reason}"
    print(line)
print("\nchecks run:", ", ".join(dict.fromkeys(r.title for r in results)))
print("summary:", dict(counts), f"total={len(results)}")
failed = sum(1 for r in results if r.status in bad)
if not any(r.resource_type for r in results):   # discovery failed -> no CRUD/PATCH check ran at all
    print("no resource-type check ran (discovery of /ServiceProviderConfig, /ResourceTypes or /Schemas failed)")
    failed += 1
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
