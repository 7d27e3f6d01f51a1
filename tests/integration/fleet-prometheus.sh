#!/bin/bash
#
# fleet-prometheus.sh: three `certvigil daemon --shard I/3 --listen` over
# the sandbox's platforms, scraped by Debian's real `prometheus` (loopback,
# temporary storage, 1 s scrapes) with contrib/prometheus/certvigil.rules.yml
# (its `for:` cut to 1 s here), alerting through `prometheus-alertmanager`
# to a webhook receiver of ours (tests/tools/webhook-sink). Through
# Prometheus' HTTP API:
#   1. every platform appears exactly once across the shards
#   2. the expected critical finding (tls.expiry.critical on
#      api.mixed.example.test) is there, and its alert fires
#   3. one shard is killed: CertvigilInstanceDown fires and reaches the
#      webhook through Alertmanager
#   4. the sandbox's certificate (mixed's old one on 127.0.0.2) is fixed:
#      once its shard re-audits, that finding's alert resolves (and
#      Alertmanager says so), while another platform's critical alert,
#      still broken, stays firing

# shellcheck source-path=SCRIPTDIR source=checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

sb_require_tools jq curl || exit 77
for t in prometheus prometheus-alertmanager; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed"; exit 77; }
done
SINK=$SB_BUILDDIR/tests/tools/webhook-sink
[[ -x $SINK ]] || { echo "SKIP: $SINK not built"; exit 77; }
sb_up

platforms=(mixed ok warn soon expired self dash noint future)
cfg=$SB_DIR/certvigil.yaml
for p in "${platforms[@]}"; do
	printf '  - name: %s\n    global: { baseDomain: %s.example.test }\n    interval: 1s\n    jitter: 0s\n' "$p" "$p"
done | sb_write_config "$cfg"

# --- the certvigil shards, the webhook sink, Alertmanager, Prometheus --------------
ports=()
for i in 1 2 3; do ports+=("$(sb__pick_port)"); done
sink_port=$(sb__pick_port)
am_port=$(sb__pick_port)
prom_port=$(sb__pick_port)
for i in 1 2 3; do
	sb__spawn "shard$i" "$SB_DIR/shard$i.err" "$SB_CERTVIGIL" daemon --config "$cfg" --shard "$i/3" \
		--listen "127.0.0.1:${ports[i - 1]}" --state-dir "$SB_DIR/state$i" --log-target stderr
	sb__wait_ready "shard$i" 5000 "$SB_DIR/shard$i.err" grep -q 'listening on' "$SB_DIR/shard$i.err"
done
sb__spawn sink "$SB_DIR/sink.log" "$SINK" 127.0.0.1 "$sink_port"
sb__wait_ready sink 2000 "$SB_DIR/sink.log" grep -qx listening "$SB_DIR/sink.log"

mkdir -p "$SB_DIR/am" "$SB_DIR/prom"
cat >"$SB_DIR/am/alertmanager.yml" <<AM
route:
  receiver: sink
  group_by: [alertname, instance, platform, name]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:$sink_port/
        send_resolved: true
AM
# --cluster.listen-address= : no gossip port (it would be 0.0.0.0:9094).
sb__spawn alertmanager "$SB_DIR/am/log" prometheus-alertmanager --config.file="$SB_DIR/am/alertmanager.yml" \
	--storage.path="$SB_DIR/am/data" --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address=
sb__wait_ready alertmanager 20000 "$SB_DIR/am/log" curl -fs "http://127.0.0.1:$am_port/-/ready"

# The shipped rules, with every `for:` cut to 1 s so the test runs in seconds.
sed -E 's/^( *for:) .*/\1 1s/' "$SB_SRCDIR/contrib/prometheus/certvigil.rules.yml" >"$SB_DIR/prom/certvigil.rules.yml"
{
	printf 'global: { scrape_interval: 1s, evaluation_interval: 1s }\n'
	printf 'rule_files: [certvigil.rules.yml]\n'
	printf 'alerting: { alertmanagers: [ { static_configs: [ { targets: ["127.0.0.1:%s"] } ] } ] }\n' "$am_port"
	printf 'scrape_configs:\n  - job_name: certvigil\n    static_configs:\n      - targets: ['
	printf '"127.0.0.1:%s", ' "${ports[@]}" | sed 's/, $//'
	printf ']\n'
} >"$SB_DIR/prom/prometheus.yml"
sb__spawn prometheus "$SB_DIR/prom/log" prometheus --config.file="$SB_DIR/prom/prometheus.yml" \
	--storage.tsdb.path="$SB_DIR/prom/data" --web.listen-address="127.0.0.1:$prom_port" \
	--rules.alert.resend-delay=1s
sb__wait_ready prometheus 30000 "$SB_DIR/prom/log" curl -fs "http://127.0.0.1:$prom_port/-/ready"
api=http://127.0.0.1:$prom_port/api/v1

# query PROMQL: the result vector as JSON.
query() {
	curl -fsS --max-time 5 --data-urlencode "query=$1" "$api/query" | jq -c '.data.result'
}
# firing NAME [JQ FILTER]: the firing alerts of that name (one JSON each).
firing() {
	curl -fsS --max-time 5 "$api/alerts" |
		jq -c ".data.alerts[] | select(.state == \"firing\" and .labels.alertname == \"$1\") ${2:+| select($2)}"
}
# within MS CMD...: until CMD succeeds (output discarded), MS at most; says
# how long it took on stderr.
within() {
	local start deadline
	start=$(sb__ms)
	deadline=$((start + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		if (($(sb__ms) > deadline)); then
			echo "  ($1: not within $((deadline - start)) ms)" >&2
			return 1
		fi
		sb__sleep 0.1
	done
	echo "  ($1: $(($(sb__ms) - start)) ms)" >&2
}
all_up() { [[ $(query 'count(up{job="certvigil"} == 1)') == *'"3"]'* ]]; }
all_seen() { [[ $(query 'count(count by (platform) (certvigil_audits_total))') == *"\"${#platforms[@]}\"]"* ]]; }

expect "Prometheus scrapes the 3 shards" within 20000 all_up
expect "Prometheus sees all ${#platforms[@]} platforms" within 20000 all_seen

# --- 1. each platform exactly once -------------------------------------------------------
seen=$(query 'count by (platform) (certvigil_audits_total)' | jq -r '[.[] | .metric.platform + "=" + .value[1]] | sort | join(" ")')
want=$(printf '%s=1\n' "${platforms[@]}" | sort | paste -sd' ')
expect "every platform once across the shards ($seen)" test "$seen" = "$want"
expect "three shards, as certvigil_shard_info says" test "$(query 'count(certvigil_shard_info{shards="3"})' |
	jq -r '.[0].value[1]')" = 3

# --- 2. the critical finding and its alert ------------------------------------------------
owner=$(query 'certvigil_audits_total{platform="mixed"}' | jq -r '.[0].metric.instance')
expect "mixed is owned by one instance ($owner)" test -n "$owner" -a "$owner" != null
expect "certvigil_finding: tls.expiry.critical on api.mixed.example.test" test "$(query \
	'certvigil_finding{platform="mixed",id="tls.expiry.critical",severity="critical",name="api.mixed.example.test"}' |
	jq length)" = 1
api_alert='.labels.platform == "mixed" and .labels.id == "tls.expiry.critical" and .labels.name == "api.mixed.example.test"'
has_firing() { [[ -n $(firing "$@") ]]; }
expect "CertvigilCriticalFinding fires for api.mixed.example.test" within 15000 has_firing CertvigilCriticalFinding "$api_alert"

# --- 3. a shard dies -----------------------------------------------------------------
victim=
for i in 1 2 3; do
	[[ 127.0.0.1:${ports[i - 1]} == "$owner" ]] || { victim=$i; break; }
done
victim_instance=127.0.0.1:${ports[victim - 1]}
expect "no instance-down alert before the kill (control)" test -z "$(firing CertvigilInstanceDown)"
kill -KILL "$(sb_pid "shard$victim")"
wait "$(sb_pid "shard$victim")" 2>/dev/null || true
unset "SB_PIDS[shard$victim]"
expect "CertvigilInstanceDown fires for $victim_instance" within 20000 has_firing CertvigilInstanceDown \
	".labels.instance == \"$victim_instance\""
webhook_down() {
	# -s: jq -e judges by the last input alone, which may be another's.
	jq -se --arg i "$victim_instance" '[.[] | select(.status == "firing") | .alerts[] |
		select(.labels.alertname == "CertvigilInstanceDown" and .labels.instance == $i and .status == "firing")]
		| length > 0' <(grep '^{' "$SB_DIR/sink.log")
}
expect "Alertmanager delivers it to the webhook" within 20000 webhook_down

# --- 4. the certificate is fixed ---------------------------------------------------------
# The control: a critical alert of another platform, on a live shard, that
# nothing fixes.
other=$(firing CertvigilCriticalFinding ".labels.platform != \"mixed\" and .labels.instance != \"$victim_instance\"" |
	head -1 | jq -c .labels)
expect "another platform's critical alert fires (control: ${other:-none})" test -n "$other"
other=${other:-'{}'}
# 127.0.0.2 served mixed's old certificate for every name: now the new one.
names=$("$SB_CERTVIGIL" plan -c "$cfg" --platform mixed --format json | jq -r '[.platforms[0].names[].name] | join(" ")')
sb_nginx_add_server fix 127.0.0.2 "$names" mixed
# nginx restarts meanwhile: audits in the gap see refused connections and
# the findings of mixed change for a moment. What counts is an audit
# started once it serves again (whole seconds: one second later).
fixed_at=$(date +%s)
fresh() {
	[[ $(query "certvigil_last_audit_timestamp_seconds{platform=\"mixed\"} > $fixed_at" | jq length) == 1 ]]
}
expect "mixed's shard re-audits after the fix" within 20000 fresh
expect "tls.expiry.critical is gone from mixed's scrape" test "$(query \
	'certvigil_finding{platform="mixed",id="tls.expiry.critical"}' | jq length)" = 0
mixed_alert='.labels.platform == "mixed" and .labels.id == "tls.expiry.critical"'
settled() {
	[[ -z $(firing CertvigilCriticalFinding "$mixed_alert") && -n $(firing CertvigilCriticalFinding ".labels == $other") ]]
}
expect "mixed's tls.expiry.critical alert resolves; the control's still fires" within 20000 settled
webhook_resolved() {
	jq -se '[.[] | .alerts[] | select(.labels.alertname == "CertvigilCriticalFinding" and .status == "resolved"
		and .labels.platform == "mixed" and .labels.id == "tls.expiry.critical")] | length > 0' \
		<(grep '^{' "$SB_DIR/sink.log")
}
expect "Alertmanager tells the webhook it is resolved" within 20000 webhook_resolved

trap - ERR
sb_cleanup
if ((failures)); then
	echo "$failures check(s) failed"
	exit 1
fi
exit 0
