#!/usr/bin/env bash
# Manual proof that both test authorization servers work: starts each on a free
# loopback port, runs every flow with curl, stops the servers (trap), and exits
# non-zero on the first failure. Needs ./install.sh to have run.
#
#   tests/servers/smoke.sh            # both servers
#   tests/servers/smoke.sh oidc       # only oidc-provider
#   tests/servers/smoke.sh authlib    # only Authlib
#   SMOKE_TRACE=1 tests/servers/smoke.sh oidc   # also print each browser hop
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="$HERE/authlib/.venv/bin/python"
H="$HERE/smoke_helpers.py"
ONLY="${1:-all}"

[ -x "$PY" ] || { echo "smoke: $PY missing: run $HERE/install.sh first" >&2; exit 1; }
[ -d "$HERE/oidc-provider/node_modules/oidc-provider" ] || { echo "smoke: node_modules missing: run $HERE/install.sh first" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/oauth-servers-smoke.XXXXXX")"
SERVER_PIDS=()

stop_servers() {
  local pid i
  for pid in "${SERVER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}
cleanup() {
  local rc=$?
  stop_servers
  if [ "$rc" -ne 0 ]; then
    echo "smoke: FAILED (rc=$rc); server logs:" >&2
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0
FAILED=0
ok()   { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*" >&2; exit 1; }
h()    { "$PY" "$H" "$@"; }

# curl with bounded time, no proxies, a cookie jar. Writes the body to $WORK/body,
# the headers to $WORK/headers, prints the status code.
JAR="$WORK/jar"
http() {
  curl -sS --noproxy '*' --max-time 10 --connect-timeout 5 \
    -b "$JAR" -c "$JAR" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"
}
location() { sed -n 's/^[Ll]ocation: *//p' "$WORK/headers" | tr -d '\r' | tail -n 1; }
body() { cat "$WORK/body"; }
jget() { h json "$WORK/body" "$1"; }

expect_status() { # expected actual what
  [ "$2" = "$1" ] || { echo "    body: $(head -c 600 "$WORK/body")" >&2; fail "$3: HTTP $2, expected $1"; }
}

# start_server NAME CMD...   -> sets BASE
start_server() {
  local name="$1"; shift
  local out="$WORK/$name.out" log="$WORK/$name.log" i line
  : > "$out"
  "$@" > "$out" 2> "$log" &
  SERVER_PIDS+=("$!")
  for i in $(seq 1 150); do # 15 s
    line="$(head -n 1 "$out")"
    case "$line" in
      "listening on http://127.0.0.1:"*) BASE="${line#listening on }"; echo "$name: $BASE"; return 0 ;;
    esac
    kill -0 "${SERVER_PIDS[-1]}" 2>/dev/null || { cat "$log" >&2; fail "$name exited before listening"; }
    sleep 0.1
  done
  fail "$name did not print 'listening on' within 15 s"
}

# keys for private_key_jwt and the JWT bearer grant
h keys "$WORK/keys"
export JWT_CLIENT_JWKS="$WORK/keys/jwks.json"
export JWT_BEARER_PUBLIC_KEY_FILE="$WORK/keys/bearer_pub.pem"

BASIC_SECRET='s3cr3t@:/+&=%x'
POST_SECRET='post-s3cr3t@:/+&=%x'
HS_SECRET='secret-jwt-client-0123456789abcdefghijklmnopqrstuv'
REDIRECT="http://127.0.0.1:53682/callback" # nothing listens there; we only read the Location

# ---------------------------------------------------------------------------
# per-server endpoints and browser drivers
# ---------------------------------------------------------------------------

configure_oidc() {
  AUTHZ="$BASE/auth"; TOKEN="$BASE/token"; REVOKE="$BASE/token/revocation"
  INTROSPECT="$BASE/token/introspection"; DEVICE_AUTHZ="$BASE/device/auth"
  CC_SCOPE="api:read"; CODE_SCOPE="openid profile email"
}
configure_authlib() {
  AUTHZ="$BASE/authorize"; TOKEN="$BASE/token"; REVOKE="$BASE/revoke"
  INTROSPECT="$BASE/introspect"; DEVICE_AUTHZ="$BASE/device_authorization"
  CC_SCOPE="api:read"; CODE_SCOPE="openid profile email"
}

# oidc-provider: follow redirects, submit the dev-interaction forms
# (login: prompt=login&login=<user>&password=<any>; consent: prompt=consent).
# Stops at a redirect to $REDIRECT (prints its URL) or at a final HTML page (prints "PAGE").
oidc_drive() {
  local url="$1" method=GET status loc hop data=""
  for hop in $(seq 1 15); do
    if [ "$method" = POST ]; then
      status="$(http -X POST --data "$data" "$url")"
    else
      status="$(http "$url")"
    fi
    [ -z "${SMOKE_TRACE:-}" ] || echo "    hop $hop: $method ${url#"$BASE"} -> $status $(location)" >&2
    case "$status" in
      302|303|307)
        loc="$(location)"
        loc="$(h urljoin "$url" "$loc")"
        case "$loc" in "${REDIRECT%/callback}"*) echo "$loc"; return 0 ;; esac
        url="$loc"; method=GET ;;
      200)
        if grep -q 'name="prompt" value="login"' "$WORK/body"; then
          url="$(h urljoin "$url" "$(h action "$WORK/body")")"; method=POST
          data="prompt=login&login=alice&password=anything"
          [ -z "${SMOKE_TRACE:-}" ] || echo "    (login form)" >&2
        elif grep -q 'name="prompt" value="consent"' "$WORK/body"; then
          url="$(h urljoin "$url" "$(h action "$WORK/body")")"; method=POST
          data="prompt=consent"
          [ -z "${SMOKE_TRACE:-}" ] || echo "    (consent form)" >&2
        else
          echo PAGE; return 0
        fi ;;
      *) echo "    body: $(head -c 600 "$WORK/body")" >&2; fail "browser hop $hop to $url: HTTP $status" ;;
    esac
  done
  fail "more than 15 browser hops"
}

# Authlib: GET /authorize?... shows the form; POST the same URL with
# username=alice&password=wonderland&confirm=yes -> 302 to the redirect URI.
authlib_drive() {
  local url="$1" status
  status="$(http "$url")"; expect_status 200 "$status" "GET /authorize"
  grep -q 'name="username"' "$WORK/body" || fail "authorize page has no login form"
  status="$(http -X POST --data 'username=alice&password=wonderland&confirm=yes' "$url")"
  expect_status 302 "$status" "POST /authorize"
  location
}

# ---------------------------------------------------------------------------
# the checks, same for both servers
# ---------------------------------------------------------------------------

check_discovery() {
  local path="$1" status
  status="$(http "$BASE$path")"; expect_status 200 "$status" "discovery $path"
  [ "$(jget issuer)" = "$BASE" ] || fail "discovery issuer $(jget issuer) != $BASE"
  [ "$(jget authorization_response_iss_parameter_supported)" = "true" ] || fail "no authorization_response_iss_parameter_supported"
  ok "discovery $path (issuer, RFC 9207 flag)"
}

check_client_credentials() {
  local status auth
  auth="$(h basic basic-client "$BASIC_SECRET")"
  status="$(http -H "Authorization: $auth" --data "grant_type=client_credentials&scope=$CC_SCOPE" "$TOKEN")"
  expect_status 200 "$status" "client_credentials basic-client"
  CC_TOKEN="$(jget access_token)"
  [ -n "$CC_TOKEN" ] || fail "client_credentials basic-client: no access_token"
  [ "$(jget token_type)" = "Bearer" ] || fail "token_type $(jget token_type)"
  ok "client_credentials basic-client (client_secret_basic, secret form-urlencoded before base64), scope=$(jget scope) expires_in=$(jget expires_in)"

  # the secret NOT form-urlencoded: RFC 6749 §2.3.1 says it must be
  local raw
  raw="Basic $(printf '%s' "basic-client:$BASIC_SECRET" | base64 -w0)"
  status="$(http -H "Authorization: $raw" --data "grant_type=client_credentials" "$TOKEN")"
  if [ "$status" = 200 ]; then
    echo "  note a raw (not form-urlencoded) Basic secret is ACCEPTED by this server (lenient)"
  else
    ok "raw (not form-urlencoded) Basic secret rejected: HTTP $status $(jget error)"
  fi

  status="$(http --data "grant_type=client_credentials&scope=$CC_SCOPE&client_id=post-client" \
    --data-urlencode "client_secret=$POST_SECRET" "$TOKEN")"
  expect_status 200 "$status" "client_credentials post-client"
  CC_TOKEN_POST="$(jget access_token)"
  [ -n "$CC_TOKEN_POST" ] || fail "client_credentials post-client: no access_token"
  ok "client_credentials post-client (client_secret_post)"

  status="$(http -H "Authorization: $(h basic basic-client wrong)" --data "grant_type=client_credentials" "$TOKEN")"
  expect_status 401 "$status" "wrong secret"
  [ "$(jget error)" = invalid_client ] || fail "wrong secret: error $(jget error)"
  ok "wrong secret -> 401 invalid_client"

  local a
  a="$(h hs-assertion "$HS_SECRET" secret-jwt-client "$TOKEN")"
  status="$(http --data "grant_type=client_credentials&scope=$CC_SCOPE&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=$a" "$TOKEN")"
  expect_status 200 "$status" "client_credentials secret-jwt-client"
  ok "client_credentials secret-jwt-client (client_secret_jwt, HS256)"

  local kid alg
  for kid in rsa-1 ec-1; do
    alg=RS256; [ "$kid" = ec-1 ] && alg=ES256
    a="$(h assertion "$WORK/keys/private.json" "$kid" "$alg" jwt-client "$TOKEN")"
    status="$(http --data "grant_type=client_credentials&scope=$CC_SCOPE&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=$a" "$TOKEN")"
    expect_status 200 "$status" "client_credentials jwt-client $alg"
    # the same assertion again: jti replay
    status="$(http --data "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=$a" "$TOKEN")"
    [ "$status" != 200 ] || fail "replayed client assertion accepted"
    ok "client_credentials jwt-client (private_key_jwt, $alg); replayed assertion -> HTTP $status"
  done
}

# one authorization request (default: public-client with PKCE) through the
# browser driver; sets CODE, VERIFIER, CALLBACK, STATE
new_code() {
  local driver="$1" pkce="${2:-yes}" client="${3:-public-client}" pk challenge url
  pk="$(h pkce)"; VERIFIER="${pk% *}"; challenge="${pk#* }"
  STATE="st-$RANDOM$RANDOM"
  url="$AUTHZ?response_type=code&client_id=$client&redirect_uri=$(h formenc "$REDIRECT")&scope=$(h formenc "$CODE_SCOPE")&state=$STATE"
  [ "$pkce" = yes ] && url="$url&code_challenge=$challenge&code_challenge_method=S256"
  rm -f "$JAR"
  CALLBACK="$($driver "$url")"
  case "$CALLBACK" in "$REDIRECT?"*) ;; *) fail "callback $CALLBACK is not $REDIRECT?..." ;; esac
  CODE="$(h query "$CALLBACK" code)"
}
exchange() { # code verifier -> status
  http --data "grant_type=authorization_code&client_id=public-client&code=$1&redirect_uri=$(h formenc "$REDIRECT")${2:+&code_verifier=$2}" "$TOKEN"
}
refresh() { # refresh_token -> status
  http --data "grant_type=refresh_token&client_id=public-client&refresh_token=$1" "$TOKEN"
}

# authorization code + PKCE for public-client, refresh with rotation
check_code_flow() {
  local driver="$1" status rt1 rt2 rt3

  # A: the main flow; its tokens are used by the later checks
  new_code "$driver"
  [ -n "$CODE" ] || fail "callback has no code: $CALLBACK"
  [ "$(h query "$CALLBACK" state)" = "$STATE" ] || fail "callback state mismatch: $CALLBACK"
  [ "$(h query "$CALLBACK" iss)" = "$BASE" ] || fail "callback iss $(h query "$CALLBACK" iss) != $BASE"
  ok "authorization (public-client, PKCE S256): callback has code, state, iss=$BASE"
  status="$(exchange "$CODE" "$VERIFIER")"
  expect_status 200 "$status" "code exchange"
  rt1="$(jget refresh_token)"
  [ -n "$(jget access_token)" ] && [ -n "$rt1" ] || fail "code exchange: missing access_token/refresh_token: $(body)"
  ok "code exchange: access_token, refresh_token$( [ -n "$(jget id_token)" ] && echo ', id_token'), scope=$(jget scope), expires_in=$(jget expires_in)"
  status="$(refresh "$rt1")"
  expect_status 200 "$status" "refresh"
  rt2="$(jget refresh_token)"
  [ -n "$rt2" ] && [ "$rt2" != "$rt1" ] || fail "refresh did not rotate the refresh token"
  CODE_AT="$(jget access_token)"
  REFRESH_FOR_REVOKE="$rt2"
  ok "refresh: new access_token and a rotated refresh_token"

  # B: a rotated-out refresh token is refused
  new_code "$driver"
  status="$(exchange "$CODE" "$VERIFIER")"; expect_status 200 "$status" "code exchange (B)"
  rt1="$(jget refresh_token)"
  status="$(refresh "$rt1")"; expect_status 200 "$status" "refresh (B)"
  rt2="$(jget refresh_token)"
  status="$(refresh "$rt1")"
  [ "$status" = 400 ] && [ "$(jget error)" = invalid_grant ] || fail "old refresh token: HTTP $status $(body)"
  ok "old refresh token refused -> 400 invalid_grant"
  status="$(refresh "$rt2")"
  if [ "$status" = 200 ]; then
    echo "  note the newest refresh token stays valid after the old one was replayed"
  else
    ok "replaying the old refresh token also revoked the newest one (whole grant): HTTP $status $(jget error)"
  fi

  # C: wrong PKCE verifier
  new_code "$driver"
  status="$(exchange "$CODE" "wrong-verifier-wrong-verifier-wrong-verifier-0123")"
  [ "$status" = 400 ] && [ "$(jget error)" = invalid_grant ] || fail "wrong verifier: HTTP $status $(body)"
  ok "wrong code_verifier -> 400 invalid_grant"

  # D: a code is good once
  new_code "$driver"
  status="$(exchange "$CODE" "$VERIFIER")"; expect_status 200 "$status" "code exchange (D)"
  status="$(exchange "$CODE" "$VERIFIER")"
  [ "$status" = 400 ] && [ "$(jget error)" = invalid_grant ] || fail "code reuse: HTTP $status $(body)"
  ok "code reuse -> 400 invalid_grant"

  # E: public client without PKCE
  local url="$AUTHZ?response_type=code&client_id=public-client&redirect_uri=$(h formenc "$REDIRECT")&scope=$(h formenc "$CODE_SCOPE")&state=x3"
  status="$(http "$url")"
  if [ "$status" = 302 ] || [ "$status" = 303 ]; then
    local cb; cb="$(location)"
    [ -n "$(h query "$cb" error)" ] || fail "no PKCE: redirect without error: $cb"
    [ "$(h query "$cb" state)" = x3 ] && [ "$(h query "$cb" iss)" = "$BASE" ] || fail "error redirect without state/iss: $cb"
    ok "public client without code_challenge -> error=$(h query "$cb" error) at the authorization endpoint (with state, iss)"
  else
    # Authlib: refused at the token endpoint (code_verifier required for public clients)
    new_code "$driver" no
    status="$(exchange "$CODE" "")"
    [ "$status" = 400 ] || fail "public client without PKCE got tokens: $(body)"
    ok "public client without PKCE -> token request refused: $(jget error) ($(jget error_description))"
  fi

  # F: confidential client, no PKCE, code exchanged with client_secret_basic
  new_code "$driver" no basic-client
  status="$(http -H "Authorization: $(h basic basic-client "$BASIC_SECRET")" \
    --data "grant_type=authorization_code&code=$CODE&redirect_uri=$(h formenc "$REDIRECT")" "$TOKEN")"
  expect_status 200 "$status" "basic-client code exchange"
  [ -n "$(jget access_token)" ] && [ -n "$(jget refresh_token)" ] || fail "basic-client code exchange: $(body)"
  ok "basic-client (confidential, no PKCE) code flow, exchange with client_secret_basic"
}

# device authorization grant: request, approve in the "browser", poll
check_device_flow() {
  local approve="$1" status dc uc interval i
  status="$(http --data "client_id=device-client&scope=$(h formenc "openid profile")" "$DEVICE_AUTHZ")"
  expect_status 200 "$status" "device authorization"
  dc="$(jget device_code)"; uc="$(jget user_code)"
  [ -n "$dc" ] && [ -n "$uc" ] && [ -n "$(jget verification_uri)" ] || fail "device authorization: $(body)"
  interval="$(jget interval)"
  ok "device authorization: user_code=$uc verification_uri=$(jget verification_uri) interval=${interval:-<none, 5 s default>}"

  status="$(http --data "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=device-client&device_code=$dc" "$TOKEN")"
  [ "$status" = 400 ] && [ "$(jget error)" = authorization_pending ] || fail "first poll: HTTP $status $(body)"
  ok "poll before approval -> authorization_pending"

  rm -f "$JAR"
  $approve "$uc"

  for i in $(seq 1 20); do
    sleep "${interval:-1}"
    status="$(http --data "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=device-client&device_code=$dc" "$TOKEN")"
    [ "$status" = 200 ] && break
    [ "$(jget error)" = authorization_pending ] || [ "$(jget error)" = slow_down ] || fail "poll: HTTP $status $(body)"
  done
  expect_status 200 "$status" "device poll"
  [ -n "$(jget access_token)" ] || fail "device poll: no access_token"
  ok "poll after approval -> access_token$( [ -n "$(jget refresh_token)" ] && echo ', refresh_token')"

  status="$(http --data "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=device-client&device_code=$dc" "$TOKEN")"
  [ "$status" != 200 ] || fail "device_code usable twice"
  ok "device_code used again -> HTTP $status $(jget error)"
}

oidc_approve_device() {
  local uc="$1" status xsrf page
  status="$(http "$BASE/device")"; expect_status 200 "$status" "GET /device"
  xsrf="$(h hidden "$WORK/body" xsrf)"; [ -n "$xsrf" ] || fail "no xsrf on /device"
  status="$(http --data "xsrf=$xsrf&user_code=$uc" "$BASE/device")"; expect_status 200 "$status" "POST /device (code)"
  xsrf="$(h hidden "$WORK/body" xsrf)"
  grep -q 'name="confirm" value="yes"' "$WORK/body" || fail "no confirm form: $(body)"
  status="$(http --data "xsrf=$xsrf&user_code=$uc&confirm=yes" "$BASE/device")"
  case "$status" in 302|303) ;; *) fail "POST /device (confirm): HTTP $status $(body)";; esac
  page="$(oidc_drive "$(h urljoin "$BASE/device" "$(location)")")"
  [ "$page" = PAGE ] && grep -qi 'Sign-in Success' "$WORK/body" || fail "device approval did not end on the success page"
  ok "device approved in the browser (GET /device, POST code, POST confirm, login, consent)"
}

authlib_approve_device() {
  local uc="$1" status
  status="$(http "$BASE/device?user_code=$uc")"; expect_status 200 "$status" "GET /device"
  status="$(http --data "user_code=$uc&username=alice&password=wonderland&confirm=yes" "$BASE/device")"
  expect_status 200 "$status" "POST /device"
  ok "device approved (POST /device user_code, username, password, confirm=yes)"
}

check_introspection_revocation() {
  local auth status
  auth="$(h basic basic-client "$BASIC_SECRET")"
  status="$(http -H "Authorization: $auth" --data "token=$CC_TOKEN" "$INTROSPECT")"
  expect_status 200 "$status" "introspection"
  [ "$(jget active)" = true ] || fail "introspection of a fresh token: $(body)"
  [ "$(jget client_id)" = basic-client ] || fail "introspection client_id: $(body)"
  ok "introspection (basic-client) of its token: active=true scope=$(jget scope) exp=$(jget exp)"

  status="$(http --data "client_id=post-client" --data-urlencode "client_secret=$POST_SECRET" --data "token=$CODE_AT" "$INTROSPECT")"
  expect_status 200 "$status" "introspection post-client"
  [ "$(jget active)" = true ] && [ "$(jget sub)" = alice ] || fail "introspection of the user token: $(body)"
  ok "introspection (post-client) of public-client's access token: active=true sub=alice"

  status="$(http -H "Authorization: $auth" --data "token=$CC_TOKEN&token_type_hint=access_token" "$REVOKE")"
  expect_status 200 "$status" "revocation"
  ok "revocation of the access token -> 200"

  status="$(http -H "Authorization: $auth" --data "token=$CC_TOKEN" "$INTROSPECT")"
  expect_status 200 "$status" "introspection after revoke"
  [ "$(jget active)" = false ] || fail "revoked token still active: $(body)"
  ok "introspection after revocation: active=false"

  status="$(http -H "Authorization: $auth" --data "token=not-a-token" "$REVOKE")"
  expect_status 200 "$status" "revocation of an unknown token"
  ok "revocation of an unknown token -> 200 (RFC 7009 §2.2)"

  if [ -n "${REFRESH_FOR_REVOKE:-}" ]; then
    status="$(http --data "client_id=public-client&token=$REFRESH_FOR_REVOKE&token_type_hint=refresh_token" "$REVOKE")"
    expect_status 200 "$status" "public-client revokes its refresh token"
    status="$(http --data "grant_type=refresh_token&client_id=public-client&refresh_token=$REFRESH_FOR_REVOKE" "$TOKEN")"
    [ "$status" = 400 ] || fail "revoked refresh token still works"
    ok "public-client revoked its refresh token; refreshing with it -> 400 $(jget error)"
  fi
}

# ---------------------------------------------------------------------------

if [ "$ONLY" = all ] || [ "$ONLY" = oidc ]; then
  echo "== oidc-provider"
  start_server oidc-provider env -C "$HERE/oidc-provider" PORT=0 DEVICE_INTERVAL=1 node server.mjs
  configure_oidc
  check_discovery /.well-known/openid-configuration
  check_client_credentials
  check_code_flow oidc_drive
  status="$(http -H "Authorization: Bearer $CODE_AT" "$BASE/me")"
  expect_status 200 "$status" "userinfo"
  [ "$(jget sub)" = alice ] || fail "userinfo sub: $(body)"
  ok "userinfo with the code-flow access token: sub=alice"
  check_device_flow oidc_approve_device
  check_introspection_revocation
  stop_servers
fi

if [ "$ONLY" = all ] || [ "$ONLY" = authlib ]; then
  echo "== authlib"
  start_server authlib env -C "$HERE/authlib" PORT=0 "$PY" app.py
  configure_authlib
  check_discovery /.well-known/oauth-authorization-server
  check_client_credentials
  check_code_flow authlib_drive
  status="$(http -H "Authorization: Bearer $CODE_AT" "$BASE/api/me")"
  expect_status 200 "$status" "/api/me"
  [ "$(jget sub)" = alice ] || fail "/api/me sub: $(body)"
  status="$(http "$BASE/api/me")"
  expect_status 401 "$status" "/api/me without token"
  grep -qi '^www-authenticate: Bearer' "$WORK/headers" || fail "/api/me 401 without WWW-Authenticate: Bearer"
  ok "/api/me: 200 sub=alice with the token, 401 + WWW-Authenticate: Bearer without"
  a="$(h jwt-bearer "$WORK/keys/bearer_priv.pem" jwt-bearer-client alice "$TOKEN")"
  status="$(http --data "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&scope=api%3Aread&assertion=$a" "$TOKEN")"
  expect_status 200 "$status" "jwt-bearer grant"
  [ -n "$(jget access_token)" ] || fail "jwt-bearer: no access_token"
  ok "JWT bearer grant (RFC 7523 §2.1, iss=jwt-bearer-client, sub=alice)"
  check_device_flow authlib_approve_device
  check_introspection_revocation
  stop_servers
fi

echo "smoke: $PASSED passed, $FAILED failed"
