#!/bin/bash
#
# audit-san-mismatch.sh: tls.san.mismatch, one critical finding per
# certificate whose SAN dNSNames do not cover the names it is served for
# (JSON format 3: `affected` lists them; issue 12); the message names the
# SANs served and the wildcard the platform needs.  The chains verify, so
# nothing else is reported.
#   1. wrong.example.test serves *.other.example.test
#   2. a wildcard covers one label only: baseDomain gw.ok.example.test with
#      the "." separator makes api.gw.ok.example.test, which DNS and nginx
#      still send to the *.ok.example.test certificate, which does not cover
#      it; the same base with the "-" separator (api-gw.ok.example.test) is
#      covered and healthy.  *.ok.example.test is what the "-" separator
#      needs, so for the "." platform it is also tls.wildcard.shape, critical
#      ("the separator was changed"; issue 4), once per certificate

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

# --- 1. another domain's certificate ---------------------------------------------

cv_config wrong <<EOF
  - name: wrong
    global: { baseDomain: wrong.example.test }
EOF
cv_audit wrong
assert_exit 2
assert_findings "wrong tls.san.mismatch critical api.wrong.example.test 127.0.0.1"
assert_summary critical 1 0 0
assert_affected wrong tls.san.mismatch "$(cv_pairs "$(cv_names wrong.example.test)" 127.0.0.1)"
assert_messages tls.san.mismatch \
	'^the certificate served by @ADDR@ does not cover @NAME@: its SAN dNSNames are \[\*\.other\.example\.test\]; the platform needs \*\.wrong\.example\.test$'
assert_jq "wrong: the chains verify" '[.platforms[0].endpoints[].certificate | [.verified, .san]] | unique' \
	'[[true,["*.other.example.test"]]]'

# --- 2. one label only -------------------------------------------------------------

cv_config depth <<EOF
  - name: dot
    global: { baseDomain: gw.ok.example.test }
  - name: dash
    global: { baseDomain: gw.ok.example.test, subdomainSeparator: "-" }
EOF
cv_audit depth
assert_exit 2
assert_findings "dot tls.san.mismatch critical api.gw.ok.example.test 127.0.0.1
dot tls.wildcard.shape critical api.gw.ok.example.test 127.0.0.1"
assert_summary critical 2 0 0
assert_affected dot tls.san.mismatch "$(cv_pairs "$(cv_names gw.ok.example.test)" "127.0.0.1 127.0.0.2")"
assert_affected dot tls.wildcard.shape "$(cv_pairs "$(cv_names gw.ok.example.test)" "127.0.0.1 127.0.0.2")"
assert_messages tls.san.mismatch \
	'^the certificate served by @ADDR@ does not cover @NAME@: its SAN dNSNames are \[\*\.ok\.example\.test\]; the platform needs \*\.gw\.ok\.example\.test$'
assert_jq "depth: the dash platform needs *.ok.example.test and gets it" \
	'.platforms[1] | [.wildcard, ([.endpoints[] | [.status, .certificate.verified]] | [length, unique]), .findings]' \
	'["*.ok.example.test",[8,[["ok",true]]],[]]'

cv_finish
