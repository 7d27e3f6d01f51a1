#!/bin/bash
#
# demo.sh [AUDIT OPTIONS...]: see certvigil find something real in a second,
# with no platform of your own.  Starts the sandbox world (tests/sandbox/lib.sh),
# writes a config for one platform, "demo", whose two gateway addresses serve
# different certificates (127.0.0.2 still has last quarter's, 5 days from
# expiry), runs `certvigil audit` on it, and stops everything.  Options are
# passed to the audit (--format json, --no-color ...).  Exits with certvigil's
# status.  SB_KEEP=1 keeps the scratch directory (config, PKI, server logs).

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ! -x $SB_CERTVIGIL ]]; then
	echo "demo: $SB_CERTVIGIL is not built; run make (or set SB_BUILDDIR)" >&2
	exit 2
fi
# shellcheck disable=SC2119 # no extra tools needed
sb_require_tools || exit 2

sb_up

cfg=$SB_DIR/certvigil.yaml
# The platform section is what a real one looks like: the Helm chart's own
# keys.  Only the defaults (written by sb_write_config) point at the sandbox.
sb_write_config "$cfg" <<EOF
  # Production: gateway at 127.0.0.1 and 127.0.0.2, both behind
  # *.mixed.example.test, one wildcard certificate from an internal CA.
  - name: demo
    global: { baseDomain: mixed.example.test }
    tls: { mode: provided, wildcardSecretName: ai-gateway-wildcard-tls }
    mcp: { enabled: true }
    expect_addresses: [127.0.0.1, 127.0.0.2]
  # An edge gateway whose certificate was installed without its
  # intermediate: clients that cached it work, fresh clients do not.
  - name: edge
    global: { baseDomain: noint.example.test }
    tls: { mode: provided }
  # An air-gapped lab with a self-signed wildcard, trusted through its own root.
  - name: lab
    global: { baseDomain: self.example.test }
    tls: { mode: selfsigned }
    trust: $SB_DIR/pki/other-root.pem
EOF

cat >&2 <<EOF
certvigil demo: a fake platform on loopback
  DNS      knotd on 127.0.0.1 port $SB_DNS_PORT, zone example.test
  gateway  nginx on 127.0.0.1 and 127.0.0.2 port $SB_TLS_PORT
  names    api. console. grafana. auth. mcp. under mixed., noint. and self.example.test
  Three platforms: in "demo" one of the two gateway addresses serves a
  certificate that expires in 5 days; "edge" serves its certificate
  without the intermediate; "lab" is a healthy self-signed platform.
  Configuration ($cfg):

$(sed 's/^/    /' "$cfg")

\$ certvigil audit --config $cfg $*
EOF

rc=0
"$SB_CERTVIGIL" audit --config "$cfg" "$@" || rc=$?
sb_stop
exit "$rc"
