#!/bin/bash
#
# contrib-fleet.sh: the examples for running many certvigil instances hold
# up: contrib/prometheus/ (promtool checks the scrape config and the rules,
# and `promtool test rules` passes, while a rule broken on purpose fails
# it), and contrib/kubernetes/ (the ConfigMap's config is one certvigil
# accepts, its three shards own each platform once, the StatefulSet's
# shard expression maps pod ordinals 0..2 to 1/3..3/3, and the RBAC grants
# nothing beyond get and update on named objects).

set -uo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
certvigil=$top_builddir/certvigil
command -v promtool >/dev/null || { echo "SKIP: promtool (Debian's prometheus) is not installed"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }

failures=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	failures=$((failures + 1))
}
expect() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}
dir=$(mktemp -d "${TMPDIR:-/tmp}/certvigil-contrib.XXXXXX")
trap 'rm -rf -- "$dir"' EXIT
prom=$top_srcdir/contrib/prometheus
kube=$top_srcdir/contrib/kubernetes/certvigil.yaml

# --- Prometheus ------------------------------------------------------------------
expect "promtool check config prometheus.yml" promtool check config "$prom/prometheus.yml"
expect "promtool check rules certvigil.rules.yml" promtool check rules "$prom/certvigil.rules.yml"
expect "promtool test rules certvigil.rules.test.yml" promtool test rules "$prom/certvigil.rules.test.yml"
expect "every alert has a runbook line" test "$(grep -c '^      - alert:' "$prom/certvigil.rules.yml")" = \
	"$(grep -c '^          runbook: ' "$prom/certvigil.rules.yml")"
# Positive control for the test above: a rule that fires on warnings too
# must fail the expectations.
cp "$prom/certvigil.rules.test.yml" "$dir/"
sed 's/certvigil_finding{severity="critical"} > 0/certvigil_finding > 0/' "$prom/certvigil.rules.yml" \
	>"$dir/certvigil.rules.yml"
expect "a broken rule fails promtool test rules" bash -c "! promtool test rules '$dir/certvigil.rules.test.yml'"

# --- Kubernetes ------------------------------------------------------------------
awk '/^  certvigil.yaml: \|$/ { on = 1; next } /^---/ { on = 0 } on { sub(/^    /, ""); print }' "$kube" \
	>"$dir/cm.yaml"
expect "the ConfigMap's config is accepted by certvigil plan" "$certvigil" plan -c "$dir/cm.yaml"
all=$("$certvigil" plan -c "$dir/cm.yaml" --format json | jq -r '.platforms[].name' | sort | paste -sd,)
owned=$(for i in 1 2 3; do "$certvigil" plan -c "$dir/cm.yaml" --shard "$i/3" --format json | jq -r '.platforms[].name'; done |
	sort | paste -sd,)
expect "the 3 shards own each platform of the ConfigMap once ($owned)" test -n "$all" -a "$owned" = "$all"
expect "replicas: 3 and SHARDS=3 agree" bash -c "grep -q '^  replicas: 3 ' '$kube' && grep -A1 'name: SHARDS' '$kube' | grep -q 'value: \"3\"'"
shardexpr=$(sed -nE 's/^ *CERTVIGIL_SHARD=(.*)$/\1/p' "$kube")
got=$(for n in 0 1 2; do POD_NAME=certvigil-$n SHARDS=3 sh -c "echo $shardexpr"; done | paste -sd' ')
expect "pods certvigil-0..2 are shards 1/3..3/3 ($got)" test "$got" = "1/3 2/3 3/3"
expect "the probes use /healthz" grep -q 'path: /healthz' "$kube"
expect "scrape annotations" grep -q 'prometheus.io/scrape: "true"' "$kube"
verbs=$(sed -nE 's/^ *verbs: \[(.*)\]$/\1/p' "$kube" | sort -u | paste -sd' ')
expect "RBAC verbs are only get and update ($verbs)" test "$verbs" = '"get"
"update"' -o "$verbs" = '"get" "update"'
expect "every RBAC rule names its objects" test "$(grep -c '^    resourceNames:' "$kube")" = "$(grep -c '^    verbs:' "$kube")"

if ((failures)); then
	echo "$failures check(s) failed"
	exit 1
fi
exit 0
