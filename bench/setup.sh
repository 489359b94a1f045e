# Shared by bench/run and bench/profile (sourced, not run): reads the scale and backend
# arguments, builds the release binary, seeds a fresh database, starts `orgs serve` on loopback
# (behind $SERVE_WRAPPER when set, e.g. valgrind), signs in as the owner of demo-org-1 and
# defines the endpoints both measure. Leaves: bin, work, port, server_pid, cookie, endpoints.
scale=${1:-small}
backend=${2:-sqlite}
pg_url=${PG_URL:-postgres://postgres@127.0.0.1:5432}
port=${PORT:-18080}

case "$scale" in
    small) orgs=100; members=20; projects=1 ;;
    large) orgs=10000; members=100; projects=10 ;;
    *) echo "usage: $0 [small|large] [sqlite|postgres]" >&2; exit 2 ;;
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
    *) echo "usage: $0 [small|large] [sqlite|postgres]" >&2; exit 2 ;;
esac

export ORGS_ENV=production ORGS_DATABASE__URL="$db_url" ORGS_SERVER__HOST=127.0.0.1 \
    ORGS_SERVER__PORT="$port" ORGS_EMAIL__BACKEND=memory ORGS_SESSION__COOKIE_SECURE=false \
    ORGS_TENANT__BASE_DOMAIN=localhost ORGS_LOG__FILTER=warn \
    ORGS_SESSION__SECRET_KEY="bench-$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
"$bin" seed --orgs "$orgs" --members "$members" --projects "$projects" 2>/dev/null | sed -n 1p

${SERVE_WRAPPER:-} "$bin" serve >"$work/serve.log" 2>&1 &
server_pid=$!
# Under valgrind the server takes several seconds to start.
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

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

