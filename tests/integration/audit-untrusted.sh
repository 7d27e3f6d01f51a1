#!/bin/bash
#
# audit-untrusted.sh: tls.chain.untrusted, one critical finding per endpoint
# whose chain does not verify to the platform's trust anchors, and nothing
# else (the certificates cover the names and are within their validity).
#   1. self.example.test, a self-signed certificate, trust = the sandbox root
#   2. noint.example.test, a leaf served without its intermediate: since
#      issue 4 that is tls.chain.incomplete instead (one fault, one finding)
#   3. the self platform again with trust = that certificate
#      (tls.mode selfsigned, trust: other-root.pem): healthy, exit 0
#   4. ok.example.test with --trust system: the sandbox root is in no system
#      store, so every endpoint is untrusted; and in letsencrypt mode under
#      the system store, a non-Let's Encrypt issuer is tls.issuer.mode-mismatch

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

root=$SB_DIR/pki/root.pem
issuer_self='CN=certvigil sandbox self,O=certvigil test'
issuer_inter='CN=certvigil sandbox intermediate,O=certvigil test'

# --- 1. and 2. -------------------------------------------------------------------------

cv_config untrusted <<EOF
  - name: self
    global: { baseDomain: self.example.test }
  - name: noint
    global: { baseDomain: noint.example.test }
EOF
cv_audit untrusted
assert_exit 2
assert_findings "self tls.chain.untrusted critical api.self.example.test 127.0.0.1
noint tls.chain.incomplete critical api.noint.example.test 127.0.0.1"
assert_summary critical 2 0 0
assert_affected self tls.chain.untrusted "$(cv_pairs "$(cv_names self.example.test)" 127.0.0.1)"
assert_affected noint tls.chain.incomplete "$(cv_pairs "$(cv_names noint.example.test)" 127.0.0.1)"
assert_messages tls.chain.untrusted \
	"^the chain served by @ADDR@ for @NAME@ does not verify to the trust anchors \\(${root//./\\.}\\): .*issuer is unknown.*; 1 certificate\\(s\\) served, leaf issued by '$issuer_self'$"
assert_messages tls.chain.incomplete \
	"^@ADDR@ serves 1 certificate\\(s\\) for @NAME@, but the issuer of 'CN=certvigil sandbox noint,O=certvigil test' \\('$issuer_inter'\\) is neither served nor a trust anchor \\(${root//./\\.}\\); it has no AIA caIssuers URL: add the certificate of '$issuer_inter' \\(from your CA\\) to the served chain$"
assert_jq "the endpoints say verified false, with the reason" \
	'[.platforms[].endpoints[] | [.status, .certificate.verified, (.verify_error | length > 0)]] | [length, unique]' \
	'[8,[["ok",false,true]]]'

# --- 3. trusting the self-signed certificate -------------------------------------------------

cv_config trusted <<EOF
  - name: self
    global: { baseDomain: self.example.test }
    tls: { mode: selfsigned }
    trust: $SB_DIR/pki/other-root.pem
EOF
cv_audit trusted
assert_exit 0
assert_findings ""
assert_summary ok 0 0 0
assert_jq "trusted: 4 verified endpoints" '[.platforms[0].endpoints[] | [.status, .certificate.verified]] | [length, unique]' \
	'[4,[["ok",true]]]'

# --- 4. the system store -------------------------------------------------------------------

cv_config system <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
EOF
cv_audit system --trust system
assert_exit 2
assert_findings "ok tls.chain.untrusted critical api.ok.example.test 127.0.0.1
ok tls.issuer.mode-mismatch critical api.ok.example.test 127.0.0.1"
assert_affected ok tls.chain.untrusted "$(cv_pairs "$(cv_names ok.example.test)" "127.0.0.1 127.0.0.2")"
assert_messages tls.chain.untrusted \
	"^the chain served by @ADDR@ for @NAME@ does not verify to the trust anchors \\(system\\): .*2 certificate\\(s\\) served, leaf issued by '$issuer_inter'$"

cv_finish
