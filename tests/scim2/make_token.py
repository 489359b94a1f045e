#!/usr/bin/env python3
"""Signs in to orgs as a browser would and makes a SCIM token on an organization: its secret.

usage: make_token.py BASE_URL SLUG EMAIL PASSWORD
(A SCIM token needs a fresh sign-in in a browser session: a personal token cannot make one.)
"""
import http.cookiejar, json, re, sys, urllib.parse, urllib.request

base, slug, email, password = sys.argv[1:5]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

def csrf(path):
    page = opener.open(base + path).read().decode()
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": csrf("/login/")})
opener.open(urllib.request.Request(base + "/login/", data=form.encode()))
request = urllib.request.Request(
    f"{base}/o/{slug}/api/v1/scim-tokens/",
    data=json.dumps({"name": "scim2-tester"}).encode(),
    headers={"Content-Type": "application/json", "X-CSRF-Token": csrf("/")},
)
print(json.load(opener.open(request))["token"])
