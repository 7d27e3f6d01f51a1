#!/bin/bash
#
# audit-mixed.sh: the two gateway addresses of mixed.example.test serve
# different certificates (127.0.0.1 a fresh one, 127.0.0.2 last quarter's with
# 5 days left), the case `make demo` shows.  Every address is judged on its
# own:
#   1. exactly 4 tls.expiry.critical, all for 127.0.0.2; 127.0.0.1 is fine
#   2. with mcp enabled (and expect_addresses, as in the demo): 5 of them
# and, about the platform as a whole (issue 4), tls.cert.inconsistent (two
# certificates served) and tls.renewal.overdue for the old one (94% of its
# 90-day lifetime gone), named after its first endpoint in plan order.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# shellcheck disable=SC2119 # no argument needed
cv_require
cv_up

cv_config mixed <<EOF
  - name: mixed
    global: { baseDomain: mixed.example.test }
    tls: { mode: provided }
EOF
cv_audit mixed
assert_exit 2
assert_findings "$(cv_expect mixed tls.expiry.critical critical "$(cv_names mixed.example.test)" 127.0.0.2)
mixed tls.cert.inconsistent warning - -
mixed tls.renewal.overdue warning api.mixed.example.test 127.0.0.2"
assert_summary critical 4 2 0
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
assert_findings "$(cv_expect mixed tls.expiry.critical critical "$(cv_names mixed.example.test . mcp)" 127.0.0.2)
mixed tls.cert.inconsistent warning - -
mixed tls.renewal.overdue warning api.mixed.example.test 127.0.0.2"
assert_summary critical 5 2 0

cv_finish
