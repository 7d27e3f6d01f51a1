#!/bin/bash
#
# audit-handshake-failed.sh: tls.handshake.failed, one critical finding per
# address that accepts TCP but does not speak TLS, with GnuTLS's reason.
# soon.example.test resolves to 127.0.0.1 only; --port points the probes at:
#   1. knotd's DNS port: it reads the ClientHello as a DNS length prefix,
#      waits for the rest, and closes the connection (after 0.5-2 s, knotd's
#      own I/O timeout, well before certvigil's 5s)
#   2. a plain HTTP server (perl, on loopback): it answers "HTTP/1.1 400"
#      at once, and the failure must be immediate

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox perl

soon_names=$(cv_names soon.example.test)
SB_CFG_TIMEOUT=5s cv_config soon <<EOF
  - name: soon
    global: { baseDomain: soon.example.test }
EOF

# --- 1. a DNS server's TCP port ------------------------------------------------------

cv_audit dnsport --port "$SB_DNS_PORT"
assert_exit 2
# One address failing the same way for every name is one finding (issue 12).
assert_findings "soon tls.handshake.failed critical api.soon.example.test 127.0.0.1"
assert_summary critical 1 0 0
assert_affected soon tls.handshake.failed "$(cv_pairs "$soon_names" 127.0.0.1)"
assert_messages tls.handshake.failed \
	"^TLS handshake with @ADDR@ port $SB_DNS_PORT for @NAME@ failed: the server closed the connection without answering the ClientHello \\(.+\\)$"
assert_jq "dnsport: endpoints are handshake-failed, with no certificate" \
	"[.platforms[0].endpoints[] | [.port, .status, has(\"certificate\"), (.error | length > 0)]] | [length, unique]" \
	"[4,[[$SB_DNS_PORT,\"handshake-failed\",false,true]]]"

# --- 2. a plain HTTP server --------------------------------------------------------------

if ! cv_listener_start http; then
	cv_fail "could not start the plain HTTP server"
	cv_finish
fi
cv_audit http --port "$CV_LISTEN_PORT"
assert_exit 2
assert_findings "soon tls.handshake.failed critical api.soon.example.test 127.0.0.1"
assert_summary critical 1 0 0
assert_affected soon tls.handshake.failed "$(cv_pairs "$soon_names" 127.0.0.1)"
assert_messages tls.handshake.failed \
	"^TLS handshake with @ADDR@ port $CV_LISTEN_PORT for @NAME@ failed: [^ ].*[^ ]$"
assert_no_match "http: the reason is not a timeout" 'timeout' "$(jq -r '.platforms[0].findings[].message' "$CV_JSON")"
got=$(grep -c '^tcp data' "$CV_LISTEN_LOG" || true)
assert_eq "http: the server received 4 ClientHellos" 4 "$got"
assert_faster "http: the failure is immediate" "$CV_MS" 1500
cv_log "GnuTLS's reasons: $(jq -r '[.platforms[0].findings[].message | sub(".*failed: "; "")] | unique | join(" | ")' "$CV_JSON")"

cv_finish
