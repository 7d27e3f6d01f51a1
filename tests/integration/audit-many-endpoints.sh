#!/bin/bash
#
# audit-many-endpoints.sh: a platform with more endpoints than the engine's
# first allocation (16): five names (mcp enabled) behind a dual-stack load
# balancer with three IPv4 addresses and one IPv6 (127.0.0.1, 127.0.0.2,
# 127.0.0.5, ::1), 20 endpoints. Answers arrive while probes are in flight
# and grow the endpoint list under them: every endpoint must be handshaken
# and verified once, with no crash (this crashed with a use-after-free
# before, SIGSEGV in a plain build, heap-use-after-free under ASan).

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_require
if ! ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	echo "SKIP: no IPv6 loopback"
	exit 77
fi
cv_up

# The load balancer's other two addresses: nginx serves the ok certificate
# there too.
p=$SB_DIR/pki
{
	printf '    server {\n'
	printf '        listen 127.0.0.5:%s ssl;\n' "$SB_TLS_PORT"
	printf '        listen [::1]:%s ssl;\n' "$SB_TLS_PORT"
	printf '        server_name *.ok.%s;\n' "$SB_ZONE"
	printf '        ssl_certificate %s;\n' "$p/ok-chain.pem"
	printf '        ssl_certificate_key %s;\n' "$p/ok-key.pem"
	printf '        location / { return 200 "sandbox\\n"; }\n'
	printf '    }\n'
} >"$SB_DIR/nginx/extra.d/lb.conf"
sb_stop nginx
sb_nginx_start || { cv_fail "nginx did not start with the extra addresses"; cv_finish; }
sb__wait_ready nginx 5000 "$SB_DIR/nginx/error.log" sb__tcp_open 127.0.0.5 "$SB_TLS_PORT"
sb_knot_set "*.ok.$SB_ZONE" A 127.0.0.5
sb_knot_set "*.ok.$SB_ZONE" AAAA ::1

cv_config lb <<EOF
  - name: lb
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    mcp: { enabled: true }
EOF
cv_audit lb
assert_exit 0
assert_jq "lb: 20 endpoints (5 names x 4 addresses), each once" \
	'[.platforms[0].endpoints[] | "\(.name) \(.address)"] | [length, (unique | length)]' '[20,20]'
assert_jq "lb: every endpoint handshaken and verified" \
	'[.platforms[0].endpoints[] | select(.status == "ok" and .certificate.verified)] | length' 20
assert_jq "lb: the IPv6 address is among them, for every name" \
	'[.platforms[0].endpoints[] | select(.address == "::1")] | length' 5
assert_findings ""

cv_finish
