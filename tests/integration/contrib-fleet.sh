#!/bin/bash
#
# contrib-fleet.sh: the examples for running many certvigil instances hold
# up: contrib/prometheus/ (promtool checks the scrape config and the rules,
# and `promtool test rules` passes, while a rule broken on purpose fails
# it), and contrib/kubernetes/ (the ConfigMap's config is one certvigil
# accepts, its three shards own each platform once, the StatefulSet's
# shard expression maps pod ordinals 0..2 to 1/3..3/3, and the RBAC grants
# nothing beyond get and update on named objects).

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
certvigil=$top_builddir/certvigil
cv_start none promtool
dir=$(mktemp -d "${TMPDIR:-/tmp}/certvigil-contrib.XXXXXX")
trap 'rm -rf -- "$dir"' EXIT
prom=$top_srcdir/contrib/prometheus
kube=$top_srcdir/contrib/kubernetes/certvigil.yaml

# --- Prometheus ------------------------------------------------------------------
assert_ok "promtool check config prometheus.yml" promtool check config "$prom/prometheus.yml"
assert_ok "promtool check rules certvigil.rules.yml" promtool check rules "$prom/certvigil.rules.yml"
assert_ok "promtool test rules certvigil.rules.test.yml" promtool test rules "$prom/certvigil.rules.test.yml"
assert_ok "every alert has a runbook line" test "$(grep -c '^      - alert:' "$prom/certvigil.rules.yml")" = \
	"$(grep -c '^          runbook: ' "$prom/certvigil.rules.yml")"
# Positive control for the test above: a rule that fires on warnings too
# must fail the expectations.
cp "$prom/certvigil.rules.test.yml" "$dir/"
sed 's/certvigil_finding{severity="critical"} > 0/certvigil_finding > 0/' "$prom/certvigil.rules.yml" \
	>"$dir/certvigil.rules.yml"
assert_ok "a broken rule fails promtool test rules" bash -c "! promtool test rules '$dir/certvigil.rules.test.yml'"

# --- Kubernetes ------------------------------------------------------------------
awk '/^  certvigil.yaml: \|$/ { on = 1; next } /^---/ { on = 0 } on { sub(/^    /, ""); print }' "$kube" \
	>"$dir/cm.yaml"
assert_ok "the ConfigMap's config is accepted by certvigil plan" "$certvigil" plan -c "$dir/cm.yaml"
all=$("$certvigil" plan -c "$dir/cm.yaml" --format json | jq -r '.platforms[].name' | sort | paste -sd,)
owned=$(for i in 1 2 3; do "$certvigil" plan -c "$dir/cm.yaml" --shard "$i/3" --format json | jq -r '.platforms[].name'; done |
	sort | paste -sd,)
assert_ok "the 3 shards own each platform of the ConfigMap once ($owned)" test -n "$all" -a "$owned" = "$all"
assert_ok "replicas: 3 and SHARDS=3 agree" bash -c "grep -q '^  replicas: 3 ' '$kube' && grep -A1 'name: SHARDS' '$kube' | grep -q 'value: \"3\"'"
shardexpr=$(sed -nE 's/^ *CERTVIGIL_SHARD=(.*)$/\1/p' "$kube")
got=$(for n in 0 1 2; do POD_NAME=certvigil-$n SHARDS=3 sh -c "echo $shardexpr"; done | paste -sd' ')
assert_ok "pods certvigil-0..2 are shards 1/3..3/3 ($got)" test "$got" = "1/3 2/3 3/3"
assert_ok "the probes use /healthz" grep -q 'path: /healthz' "$kube"
assert_ok "scrape annotations" grep -q 'prometheus.io/scrape: "true"' "$kube"
verbs=$(sed -nE 's/^ *verbs: \[(.*)\]$/\1/p' "$kube" | sort -u | paste -sd' ')
assert_ok "RBAC verbs are only get and update ($verbs)" test "$verbs" = '"get"
"update"' -o "$verbs" = '"get" "update"'
assert_ok "every RBAC rule names its objects" test "$(grep -c '^    resourceNames:' "$kube")" = "$(grep -c '^    verbs:' "$kube")"

cv_finish
