#!/bin/bash
#
# daemon-http.sh: `certvigil daemon --listen` and `--shard`.
#   1. /metrics after the first audit: the textfile families plus the
#      daemon's (audits, failures, open findings with their first sighting,
#      renewals, shard, build), accepted by `promtool check metrics`
#   2. /report.json is the last audit's JSON report; /healthz is 200
#   3. anything else: 404, other methods 405 with Allow, HEAD works; a
#      request with 64 KiB of headers, a flood of idle connections and a
#      half-sent request leave the daemon serving; a silent connection is
#      closed after the idle timeout
#   4. /healthz is 503 with the reason while a platform's audit is overdue
#      (a tarpit holds it past twice its interval)
#   5. --shard I/N and CERTVIGIL_SHARD: each platform owned by exactly one
#      shard (plan and the daemon's metrics); bad values exit 3; a port alone
#      listens on 127.0.0.1, never a wildcard; a reload keeps the listener
#      and drops the platforms it no longer has from the metrics

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start sandbox curl promtool

cfg=$SB_DIR/certvigil.yaml
sb_write_config "$cfg" <<CFG
  - name: mixed
    global: { baseDomain: mixed.example.test }
    interval: 1h
    jitter: 0s
CFG

# start_daemon NAME [ARG...]: a daemon listening where its arguments say;
# sets url (http://ADDR:PORT) from the line saying where it listens.
start_daemon() {
	local name=$1 deadline line
	shift
	sb__spawn "$name" "$SB_DIR/$name.err" "$SB_CERTVIGIL" daemon --log-target stderr \
		--state-dir "$SB_DIR/state-$name" "$@"
	deadline=$(($(sb__ms) + 5000))
	until line=$(grep -om1 'listening on http://[^ ]*/' "$SB_DIR/$name.err"); do
		if (($(sb__ms) > deadline)) || ! sb__is_running "$(sb_pid "$name")"; then
			sb__log "$name: no 'listening on' line"
			cat "$SB_DIR/$name.err" >&2
			return 1
		fi
		sb__sleep 0.01
	done
	url=${line#listening on }
	url=${url%/}
}
# wait_for URL PATTERN [MS]: until GET URL matches PATTERN (ERE).
wait_for() {
	local deadline=$(($(sb__ms) + ${3:-10000}))
	until curl -fsS --max-time 2 "$1" 2>/dev/null | grep -qE "$2"; do
		(($(sb__ms) < deadline)) || return 1
		sb__sleep 0.02
	done
}
status_of() { # METHOD PATH: the HTTP status
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X "$1" "$url$2"
}

# --- 1. /metrics ---------------------------------------------------------------
start_daemon d1 --config "$cfg" --listen 127.0.0.1:0
assert_ok "listens on loopback" grep -q 'listening on http://127.0.0.1:' "$SB_DIR/d1.err"
assert_ok "the first audit is counted" wait_for "$url/metrics" '^certvigil_audits_total\{platform="mixed"\} 1$'
curl -fsS "$url/metrics" >"$SB_DIR/metrics.txt"
assert_ok "promtool check metrics accepts /metrics" promtool check metrics <"$SB_DIR/metrics.txt"
for re in '^# TYPE certvigil_audits_total counter$' '^certvigil_audit_failures_total\{platform="mixed"\} 0$' \
	'^certvigil_finding_open\{platform="mixed",id="tls.expiry.critical",severity="critical",name="api.mixed.example.test"\} [0-9]{10}$' \
	'^certvigil_renewals_total\{platform="mixed",result="failed"\} 0$' \
	'^certvigil_shard_info\{shard="1",shards="1"\} 1$' '^certvigil_build_info\{version="[^"]+"\} 1$' \
	'^certvigil_certificate_not_after_seconds\{platform="mixed",name="api.mixed.example.test",address="127.0.0.2"\} [0-9]+$' \
	'^certvigil_finding\{platform="mixed",id="tls.expiry.critical",severity="critical",name="api.mixed.example.test"\} 4$' \
	'^certvigil_last_audit_timestamp_seconds\{platform="mixed"\} [0-9]+$'; do
	assert_ok "/metrics has $re" grep -qE "$re" "$SB_DIR/metrics.txt"
done
first=$(sed -nE 's/^certvigil_finding_open\{.*id="tls.expiry.critical".*name="api.mixed.example.test"\} ([0-9]+)$/\1/p' \
	"$SB_DIR/metrics.txt")
assert_ok "finding_open's value is state.json's first_seen" jq -e --argjson t "${first:-0}" \
	'[.platforms[0].findings[] | select(.id == "tls.expiry.critical") | .first_seen] | min == $t' \
	"$SB_DIR/state-d1/state.json"

# --- 2. /report.json and /healthz ----------------------------------------------
curl -fsS "$url/report.json" >"$SB_DIR/report.json"
assert_ok "/report.json is the JSON report of the platform" jq -e '.format == 4 and .status == "critical"
	and (.platforms | length == 1) and .platforms[0].name == "mixed"
	and ([.platforms[0].findings[].id] | index("tls.expiry.critical") != null)
	and .summary.critical == ([.platforms[0].findings[] | select(.severity == "critical" and .caused_by == null)] | length)' "$SB_DIR/report.json"
assert_ok "/report.json is application/json" test "$(curl -s -o /dev/null -w '%{content_type}' "$url/report.json")" = \
	application/json
assert_ok "/healthz is 200 with ok" test "$(curl -s -w ' %{http_code}' "$url/healthz")" = "ok: 1 platform audited in time
 200"

# --- 3. other requests, and hostile ones -----------------------------------------
assert_ok "GET /nope is 404" test "$(status_of GET /nope)" = 404
assert_ok "GET / is 404" test "$(status_of GET /)" = 404
assert_ok "POST /metrics is 405" test "$(status_of POST /metrics)" = 405
assert_ok "DELETE /healthz is 405" test "$(status_of DELETE /healthz)" = 405
assert_ok "405 says Allow: GET, HEAD" bash -c "curl -si -X PUT --data x '$url/metrics' | grep -qi '^Allow: GET, HEAD'"
assert_ok "HEAD /metrics is 200 without a body" test "$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' \
	"$url/metrics")" = "200 0"
assert_ok "GET /metrics?x=1 is /metrics" test "$(status_of GET '/metrics?x=1')" = 200
big=$(head -c 65536 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Big: $big" "$url/metrics" || true)
assert_ok "64 KiB of headers are refused ($code)" test "$code" != 200
port=${url##*:}
# 40 idle connections and one that never finishes its request line, all
# from this shell: more than the daemon serves at once.
fds=()
for _ in $(seq 40); do
	if exec {fd}<>"/dev/tcp/127.0.0.1/$port"; then fds+=("$fd"); fi 2>/dev/null
done
assert_ok "the flood got connections" test "${#fds[@]}" -gt 0
printf 'GET /metr' >&"${fds[0]}"
for fd in "${fds[@]}"; do exec {fd}>&-; done
assert_ok "after the flood, /healthz answers 200" wait_for "$url/healthz" '^ok' 5000
assert_ok "the daemon is still running" sb__is_running "$(sb_pid d1)"
sb_stop d1

# --- 4. an overdue audit: /healthz 503 ------------------------------------------
slow=$SB_DIR/slow.yaml
SB_CFG_TIMEOUT=3s SB_CFG_DEADLINE=4s sb_write_config "$slow" <<CFG
  - name: slow
    global: { baseDomain: tarpit.example.test }
    interval: 200ms
    jitter: 0s
  - name: slow2
    global: { baseDomain: tarpit.example.test }
    interval: 200ms
    jitter: 0s
CFG
start_daemon d2 --config "$slow" --listen 127.0.0.1:0
healthz_503() {
	[[ $(curl -s -o "$SB_DIR/health.txt" -w '%{http_code}' "$url/healthz") == 503 ]]
}
assert_ok "/healthz turns 503 while the tarpit holds the audit" cv_wait_until 5000 healthz_503
assert_ok "/healthz is 503 while the tarpit holds the audit" grep -q "platform 'slow': no audit yet for" "$SB_DIR/health.txt"
# Before any audit finished: every platform, with nothing counted yet.
assert_ok "/metrics answers before the first audit, both platforms at 0" test "$(curl -fsS "$url/metrics" |
	grep -cE '^certvigil_audits_total\{platform="slow2?"\} 0$')" = 2
assert_ok "... and the daemon lives on" sb__is_running "$(sb_pid d2)"
sb_stop d2

# --- 5. shards -------------------------------------------------------------------
many=$SB_DIR/many.yaml
{
	printf 'platforms:\n'
	for i in $(seq 12); do printf '  - { name: p%s, global: { baseDomain: p%s.example.test } }\n' "$i" "$i"; done
} >"$many"
: >"$SB_DIR/owned.txt"
for i in 1 2 3; do
	"$SB_CERTVIGIL" plan -c "$many" --shard "$i/3" --format json | jq -r '.platforms[].name' >>"$SB_DIR/owned.txt"
done
assert_ok "plan --shard I/3: each of 12 platforms exactly once" test "$(sort "$SB_DIR/owned.txt" | uniq -u | wc -l)" = 12
assert_ok "plan --shard: the three shards list 12 in all" test "$(wc -l <"$SB_DIR/owned.txt")" = 12
assert_ok "CERTVIGIL_SHARD is --shard" test "$(CERTVIGIL_SHARD=2/3 "$SB_CERTVIGIL" plan -c "$many" --format json |
	jq -c '[.platforms[].name]')" = "$("$SB_CERTVIGIL" plan -c "$many" --shard 2/3 --format json | jq -c '[.platforms[].name]')"
assert_ok "--shard wins over CERTVIGIL_SHARD" test "$(CERTVIGIL_SHARD=2/3 "$SB_CERTVIGIL" plan -c "$many" --shard 1/1 \
	--format json | jq '.platforms | length')" = 12
rc=0
"$SB_CERTVIGIL" plan -c "$many" --shard 0/3 >/dev/null 2>"$SB_DIR/bad.err" || rc=$?
assert_ok "--shard 0/3 exits 3" test "$rc" = 3
assert_ok "... saying why" grep -q "is not I/N" "$SB_DIR/bad.err"
rc=0
CERTVIGIL_SHARD=x "$SB_CERTVIGIL" plan -c "$many" >/dev/null 2>&1 || rc=$?
assert_ok "CERTVIGIL_SHARD=x exits 3" test "$rc" = 3
rc=0
"$SB_CERTVIGIL" daemon -c "$many" --listen localhost:80 2>"$SB_DIR/bad.err" || rc=$?
assert_ok "--listen with a host name exits 3" test "$rc" = 3
assert_ok "... saying why" grep -q "invalid listen 'localhost:80'" "$SB_DIR/bad.err"
# The daemon's metrics hold only what its shard owns.
mine=$("$SB_CERTVIGIL" plan -c "$many" --shard 3/3 --format json | jq -r '[.platforms[].name] | sort | join(",")')
lport=$(sb__pick_port)
sed -n 's/^  - { name: \(p[0-9]*\), .*/  - { name: \1, global: { baseDomain: mixed.example.test }, interval: 1h }/p' \
	"$many" | sb_write_config "$SB_DIR/sharded.yaml"
printf 'shard: 3/3\n' >>"$SB_DIR/sharded.yaml"
start_daemon d3 --config "$SB_DIR/sharded.yaml" --listen "$lport"
assert_ok "a port alone listens on 127.0.0.1" test "$url" = "http://127.0.0.1:$lport"
# A client that connects and says nothing is closed after the idle
# timeout (10 s): timed in the background while the rest runs.
idle_start=$(sb__ms)
(
	exec 3<>"/dev/tcp/127.0.0.1/$lport" && timeout 20 cat <&3 >/dev/null
	echo $(($(sb__ms) - idle_start)) >"$SB_DIR/idle.ms"
) &
idle_pid=$!
assert_ok "shard 3/3 says so" wait_for "$url/metrics" '^certvigil_shard_info\{shard="3",shards="3"\} 1$'
assert_ok "shard 3/3's metrics hold exactly its platforms" test "$(curl -fsS "$url/metrics" |
	sed -nE 's/^certvigil_audits_total\{platform="([^"]+)"\}.*/\1/p' | sort | paste -sd,)" = "$mine"
# A reload that drops one of its platforms: the listener stays, the
# platform leaves the metrics, the others keep their counts.
n_mine=$(tr , '\n' <<<"$mine" | wc -l)
all_audited() { [[ $(curl -fsS "$url/metrics" | grep -cE '^certvigil_audits_total\{.*\} [1-9]') == "$n_mine" ]]; }
assert_ok "shard 3/3 audited its $n_mine platforms" cv_wait_until 20000 all_audited
gone=${mine%%,*}
rest=${mine#*,}
sed -i "/name: $gone,/d" "$SB_DIR/sharded.yaml"
kill -HUP "$(sb_pid d3)"
audited() { curl -fsS "$url/metrics" | sed -nE 's/^certvigil_audits_total\{platform="([^"]+)"\}.*/\1/p' | sort | paste -sd,; }
reloaded() { [[ $(audited) == "$rest" ]]; }
assert_ok "after a reload without $gone, the metrics hold $rest" cv_wait_until 5000 reloaded
assert_ok "... and the counts of the others were kept" test "$(curl -fsS "$url/metrics" |
	grep -cE '^certvigil_audits_total\{.*\} [1-9]' || true)" = "$(tr , '\n' <<<"$rest" | wc -l)"
idle_rc=0
wait "$idle_pid" || idle_rc=$?
idle=$(cat "$SB_DIR/idle.ms" 2>/dev/null || echo none)
assert_ok "a silent connection is closed after the 10 s idle timeout ($idle ms)" test "$idle_rc" = 0 -a "$idle" != none -a \
	"${idle/none/0}" -ge 9000 -a "${idle/none/0}" -le 15000
sb_stop d3

cv_finish
