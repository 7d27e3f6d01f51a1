#!/bin/bash
#
# audit-mixed.sh: the two gateway addresses of mixed.example.test serve
# different certificates (127.0.0.1 a fresh one, 127.0.0.2 last quarter's with
# 5 days left), the case `make demo` shows.  Every address is judged on its
# own, and each problem is one finding (issue 12):
#   1. one tls.expiry.critical for the old certificate, affecting its 4
#      endpoints, all on 127.0.0.2; 127.0.0.1 is fine
#   2. with mcp enabled (and expect_addresses, as in the demo): 5 of them
# and, about the platform as a whole (issue 4), tls.cert.inconsistent (two
# certificates served) and tls.renewal.overdue for the old one (94% of its
# 90-day lifetime gone), named after its first endpoint in plan order; both
# are folded under the expiry finding (caused_by: the old certificate still
# served is the one problem), so counted nowhere.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_start sandbox

cv_config mixed <<EOF
  - name: mixed
    global: { baseDomain: mixed.example.test }
    tls: { mode: provided }
EOF
cv_audit mixed
assert_exit 2
assert_findings "mixed tls.expiry.critical critical api.mixed.example.test 127.0.0.2
mixed tls.cert.inconsistent warning - - <-tls.expiry.critical
mixed tls.renewal.overdue warning api.mixed.example.test 127.0.0.2 <-tls.expiry.critical"
assert_summary critical 1 0 0
assert_affected mixed tls.expiry.critical "$(cv_pairs "$(cv_names mixed.example.test)" 127.0.0.2)"
assert_affected mixed tls.renewal.overdue "$(cv_pairs "$(cv_names mixed.example.test)" 127.0.0.2)"
assert_messages tls.expiry.critical \
	'^the certificate served by 127\.0\.0\.2 for @NAME@ expires in (4\.9|5\.0) days .*, under critical_days \(7\)$'
assert_jq "mixed: per address, one certificate: 80 days on .1, 5 days on .2" \
	'[.platforms[0].endpoints[] | [.address, .certificate.subject, (.certificate.days_left | round)]] | unique' \
	'[["127.0.0.1","CN=certvigil sandbox mixed,O=certvigil test",80],["127.0.0.2","CN=certvigil sandbox mixed-old,O=certvigil test",5]]'
assert_jq "mixed: two different certificates (sha256) in all" \
	'[.platforms[0].endpoints[].certificate.sha256] | unique | length' 2

cv_config mixed-mcp <<EOF
  - name: mixed
    global: { baseDomain: mixed.example.test }
    tls: { mode: provided, wildcardSecretName: ai-gateway-wildcard-tls }
    mcp: { enabled: true }
    expect_addresses: [127.0.0.1, 127.0.0.2]
EOF
cv_audit mixed-mcp
assert_exit 2
assert_findings "mixed tls.expiry.critical critical api.mixed.example.test 127.0.0.2
mixed tls.cert.inconsistent warning - - <-tls.expiry.critical
mixed tls.renewal.overdue warning api.mixed.example.test 127.0.0.2 <-tls.expiry.critical"
assert_summary critical 1 0 0
assert_affected mixed tls.expiry.critical "$(cv_pairs "$(cv_names mixed.example.test . mcp)" 127.0.0.2)"
assert_messages tls.expiry.critical \
	'^the certificate served by 127\.0\.0\.2 for api\.mixed\.example\.test, console\.mixed\.example\.test and 3 more expires in (4\.9|5\.0) days '
assert_messages tls.cert.inconsistent \
	'^platform mixed serves 2 different certificates: [0-9a-f]{64} \(notAfter [^)]*\) served by 127\.0\.0\.1 for api\.mixed\.example\.test, console\.mixed\.example\.test and 3 more; [0-9a-f]{64} \(notAfter [^)]*\) served by 127\.0\.0\.2 for api\.mixed\.example\.test, console\.mixed\.example\.test and 3 more; one address'

cv_finish
