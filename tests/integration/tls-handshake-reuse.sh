#!/bin/bash
#
# tls-handshake-reuse.sh: the first TLS 1.3 handshake with an address and a
# certificate completes (the server proves it holds the key); later ones with
# the same address that receive the same certificate stop once it is in
# ("handshake": "certificate-only" in the JSON), since they cannot learn
# anything new. On *.ok (127.0.0.1 and 127.0.0.2, mcp on: 10 endpoints),
# console.ok.example.test serves another certificate (ok2). One probe at a
# time, so the order is the plan's:
#   1. full: api and console on each address (one per address and
#      certificate); certificate-only: grafana, auth, mcp on each address
#   2. every endpoint still verified, with its version, suite and certificate
# console (another certificate on the same addresses) is the positive
# control: a new certificate on a known address gets a full handshake.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox
sb_nginx_add_server reuse "127.0.0.1 127.0.0.2" "console.ok.$SB_ZONE" ok2 || cv_fail "nginx: console serves ok2"

cv_config reuse <<EOF
  - name: reuse
    global: { baseDomain: ok.example.test }
    tls: { mode: provided }
    mcp: { enabled: true }
    concurrency: 1
EOF
cv_audit reuse
assert_exit 1
assert_jq "reuse: full handshakes, one per address and certificate" \
	'[.platforms[0].endpoints[] | select(.handshake == "full") | [.name, .address]] | sort' \
	'[["api.ok.example.test","127.0.0.1"],["api.ok.example.test","127.0.0.2"],["console.ok.example.test","127.0.0.1"],["console.ok.example.test","127.0.0.2"]]'
assert_jq "reuse: the others stop once the certificate is in" \
	'[.platforms[0].endpoints[] | select(.handshake == "certificate-only") | .name] | unique' \
	'["auth.ok.example.test","grafana.ok.example.test","mcp.ok.example.test"]'
assert_jq "reuse: every endpoint verified, with version, suite and certificate" \
	'[.platforms[0].endpoints[] | select(.verified and .tls_version == "TLS1.3" and (.cipher_suite | length > 0)
		and (.certificate.sha256 | length == 64))] | length' 10
assert_jq "reuse: one cipher suite, TLS 1.3's, named alike whether the handshake completed or not" \
	'[.platforms[0].endpoints[].cipher_suite] | unique' '["TLS_AES_256_GCM_SHA384"]'
assert_jq "reuse: console's certificate differs from the others'" \
	'[.platforms[0].endpoints[] | [(.name | startswith("console")), .certificate.sha256]] | unique | length' 2
assert_findings "reuse tls.cert.inconsistent warning - -"

cv_finish
