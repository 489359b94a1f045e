# Shared by bench/run and bench/profile (sourced, not run): reads the scale and backend
# arguments, builds the release binary, seeds a fresh database, starts `orgs serve` on loopback
# (behind $SERVE_WRAPPER when set, e.g. valgrind), signs in as the owner of demo-org-1 and
# defines the endpoints both measure. Leaves: bin, work, port, server_pid, cookie, endpoints.
# The huge scale seeds three times: demo-org-1 of 100,000 members, the large scale's 10,000
# organizations of 100, and demo-org-10002 of 20 (the small organization every ratio compares
# with, its owner signed in too); its endpoints come in pairs, huge and small.
scale=${1:-small}
backend=${2:-sqlite}
pg_url=${PG_URL:-postgres://postgres@127.0.0.1:5432}
port=${PORT:-18080}

case "$scale" in
    small) orgs=100; members=20; projects=1 ;;
    large) orgs=10000; members=100; projects=10 ;;
    huge) orgs=10002; members="100000, 100, 20"; projects=10 ;;
    *) echo "usage: $0 [small|large|huge] [sqlite|postgres]" >&2; exit 2 ;;
esac

cargo build --release --quiet
bin=$PWD/target/release/orgs
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    if [ "$backend" = postgres ]; then
        psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS orgs_bench WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

case "$backend" in
    sqlite) db_url="sqlite://$work/bench.db" ;;
    postgres)
        psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS orgs_bench WITH (FORCE)" >/dev/null
        psql "$pg_url/postgres" -qc "CREATE DATABASE orgs_bench" >/dev/null
        db_url="$pg_url/orgs_bench" ;;
    *) echo "usage: $0 [small|large|huge] [sqlite|postgres]" >&2; exit 2 ;;
esac

export ORGS_ENV=production ORGS_DATABASE__URL="$db_url" ORGS_SERVER__HOST=127.0.0.1 \
    ORGS_SERVER__PORT="$port" ORGS_EMAIL__BACKEND=memory ORGS_SESSION__COOKIE_SECURE=false \
    ORGS_TENANT__BASE_DOMAIN=localhost ORGS_LOG__FILTER=warn \
    ORGS_SESSION__SECRET_KEY="bench-$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')" \
    ORGS_METRICS__TOKEN="bench-$(head -c 24 /dev/urandom | base64 | tr -d '\n/+=')"
# `seed` never migrates: the owner does, once.
"$bin" migrate >/dev/null
if [ "$scale" = huge ]; then
    for step in "1 100000" "10000 100" "1 20"; do
        read -r n m <<<"$step"
        "$bin" seed --orgs "$n" --members "$m" --projects "$projects" 2>/dev/null | sed -n 1p
    done
else
    "$bin" seed --orgs "$orgs" --members "$members" --projects "$projects" 2>/dev/null | sed -n 1p
fi

${SERVE_WRAPPER:-} "$bin" serve >"$work/serve.log" 2>&1 &
server_pid=$!
# Under valgrind the server takes several seconds to start.
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

# Signs in as $1 with cookie jar $2; prints the session cookie.
sign_in() {
    local jar=$2 token
    token=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$port/login/" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p')
    curl -s -o /dev/null -c "$jar" -b "$jar" \
        --data-urlencode "email=$1" --data-urlencode "password=orgs-demo-password" \
        --data-urlencode "csrf_token=$token" "http://127.0.0.1:$port/login/"
    awk '$6 == "orgs_session" {print "orgs_session=" $7}' "$jar"
}

# Sign in as the owner of demo-org-1.
jar=$work/cookies
csrf=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$port/login/" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p')
anonymous_cookie=$(awk '$6 == "orgs_session" {print "orgs_session=" $7}' "$jar")
curl -s -o /dev/null -c "$jar" -b "$jar" \
    --data-urlencode "email=member1@seed.example.com" --data-urlencode "password=orgs-demo-password" \
    --data-urlencode "csrf_token=$csrf" "http://127.0.0.1:$port/login/"
cookie=$(awk '$6 == "orgs_session" {print "orgs_session=" $7}' "$jar")

cat >"$work/login.lua" <<LUA
wrk.method = "POST"
wrk.body = "email=member1%40seed.example.com&password=orgs-demo-password&csrf_token=$csrf"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "$anonymous_cookie"
LUA

# A project write: PATCH the first project of demo-org-1 (the signed-in session's CSRF token,
# read from a page).
member_csrf=$(curl -s -b "$jar" "http://127.0.0.1:$port/o/demo-org-1/" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p')
project_id=$(curl -s -b "$jar" "http://127.0.0.1:$port/o/demo-org-1/api/v1/projects/" | sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -1)
cat >"$work/project_write.lua" <<LUA
wrk.method = "PATCH"
wrk.body = '{"description": "written by the benchmark"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "$cookie"
wrk.headers["X-CSRF-Token"] = "$member_csrf"
LUA

# name | path | Host header | session cookie | wrk script
endpoints=(
    "healthz|/healthz|||"
    "people_html_subdomain|/people/?per_page=20|demo-org-1.localhost|$cookie|"
    "people_html_path|/o/demo-org-1/people/?per_page=20||$cookie|"
    "people_json|/o/demo-org-1/api/v1/people/?per_page=20||$cookie|"
    "projects_json|/o/demo-org-1/api/v1/projects/||$cookie|"
    "project_write|/o/demo-org-1/api/v1/projects/$project_id/|||$work/project_write.lua"
    "login_post|/login/|||$work/login.lua"
)

if [ "$scale" = huge ]; then
    # The small organization: demo-org-10002, owned by the first user of the third seeding.
    small_cookie=$(sign_in member1100001@seed.example.com "$work/small-cookies")
    # A deep cursor: where page 9,999 of 10 ends (row 99,990 of 100,000), read once by the slow
    # path; in the small organization, where its first page of 10 ends (row 10 of 20).
    cursor_of() {
        curl -s -H "Cookie: $2" "http://127.0.0.1:$port$1" | sed -n 's/.*"next":"\([0-9a-f]*\)".*/\1/p'
    }
    deep=$(cursor_of "/o/demo-org-1/api/v1/people/?per_page=10&page=9999" "$cookie")
    shallow=$(cursor_of "/o/demo-org-10002/api/v1/people/?per_page=10" "$small_cookie")
    [ -n "$deep" ] && [ -n "$shallow" ] || { echo "no cursor for the deep pages" >&2; exit 1; }
    # Every pair reads pages of the same size (20, or 10 for the deep pages): the small
    # organization has 20 members, so at the default 50 the huge one would show more rows.
    # Searches matching members of each: 11 of the huge organization (member9999, member99990
    # to 99999) and 10 of the small one (member1100010 to 1100019).
    endpoints=(
        "healthz|/healthz|||"
        "huge_people_html|/people/?per_page=20|demo-org-1.localhost|$cookie|"
        "small_people_html|/people/?per_page=20|demo-org-10002.localhost|$small_cookie|"
        "huge_people_deep|/o/demo-org-1/api/v1/people/?per_page=10&after=$deep||$cookie|"
        "small_people_deep|/o/demo-org-10002/api/v1/people/?per_page=10&after=$shallow||$small_cookie|"
        "huge_people_search|/o/demo-org-1/api/v1/people/?q=member9999||$cookie|"
        "small_people_search|/o/demo-org-10002/api/v1/people/?q=member110001||$small_cookie|"
        "huge_people_json|/o/demo-org-1/api/v1/people/?per_page=20||$cookie|"
        "small_people_json|/o/demo-org-10002/api/v1/people/?per_page=20||$small_cookie|"
        "huge_invitations_json|/o/demo-org-1/api/v1/invitations/||$cookie|"
        "small_invitations_json|/o/demo-org-10002/api/v1/invitations/||$small_cookie|"
        "huge_projects_json|/o/demo-org-1/api/v1/projects/||$cookie|"
        "small_projects_json|/o/demo-org-10002/api/v1/projects/||$small_cookie|"
    )
fi

