#!/bin/bash
#
# config-streams.sh: a config or values file that is not a regular file.
#   1. plan --values <(...) (a pipe) and --config FIFO (its writer waiting
#      for a reader) are read to their end, as a shell's < would read them
#   2. daemon --config FIFO and --values /dev/stdin: exit 3 at once, naming
#      the file (opening a FIFO without a writer used to block forever: the
#      daemon re-reads its config on SIGHUP, on the loop, and must not wait)
#   3. SIGHUP after the config was replaced by a FIFO: the reload fails
#      naming it, the running config stays and the audits go on
#   4. a file the audit reads (dnssec.trust_anchor, rdap.bootstrap) that is
#      a FIFO: exit 3 at once, with its position (the audit used to wait on
#      it past its deadline, forever)
# The bound on a FIFO nobody writes to (audit, plan) is tested with a short
# wait in tests/unit/test_config.c (test_read_stream).
# Exit status follows automake: 0 pass, 1 fail, 77 skip.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_require timeout
cv_notify_start
# shellcheck disable=SC2119 # no argument needed
if ! cv_listener_start; then
	cv_fail "could not start the silent listener"
	cv_finish
fi
C=$SB_CERTVIGIL
D=$SB_DIR/streams
mkdir -p "$D"

printf 'global:\n  baseDomain: pipe.example.test\n' >"$D/values.yaml"
cat >"$D/good.yaml" <<EOF
defaults:
  resolvers: ["127.0.0.1:$CV_LISTEN_PORT"]
  timeout: 100ms
  deadline: 2s
  interval: 100ms
  jitter: 0s
platforms:
  - name: fifo
    global: { baseDomain: fifo.example.test }
    tls: { mode: provided }
EOF

# --- 1. pipes and FIFOs with a writer are read --------------------------------------

cv_run plan-pipe timeout 20 "$C" plan --format json --values <(cat "$D/values.yaml")
assert_exit 0
assert_jq "plan --values <(...): the names come from the pipe" '.platforms[0].names[0].name' \
	'"api.pipe.example.test"' "$CV_STDOUT"

mkfifo "$D/config.fifo"
# The writer blocks in open() until certvigil opens the FIFO for reading.
cat "$D/good.yaml" >"$D/config.fifo" &
writer=$!
cv_run plan-fifo timeout 20 "$C" plan --format json --config "$D/config.fifo"
wait "$writer"
assert_exit 0
assert_jq "plan --config FIFO: the platform comes from the FIFO" '.platforms[0].name' '"fifo"' "$CV_STDOUT"

# --- 2. the daemon refuses them -----------------------------------------------------

cv_run daemon-fifo timeout 20 "$C" daemon --config "$D/config.fifo" --state-dir "$D/state"
assert_exit 3
assert_match "daemon --config FIFO: the file and why" \
	"^$D/config.fifo: not a regular file: the daemon reads it again on SIGHUP" "$(head -n 1 "$CV_STDERR")"
assert_ok "daemon --config FIFO: refused at once (${CV_MS} ms)" test "$CV_MS" -lt 5000

cv_run daemon-stdin timeout 20 "$C" daemon --values /dev/stdin --state-dir "$D/state"
assert_exit 3
assert_match "daemon --values /dev/stdin: the file and why" \
	"^/dev/stdin: not a regular file" "$(head -n 1 "$CV_STDERR")"

# --- 3. SIGHUP with a FIFO in the config's place -------------------------------------

cp "$D/good.yaml" "$D/daemon.yaml"
NOTIFY_SOCKET=$CV_NOTIFY sb__spawn daemon "$SB_DIR/daemon.err" \
	"$C" daemon --config "$D/daemon.yaml" --state-dir "$D/state" --log-target stderr
assert_ok "daemon: audits" cv_wait_audits 1
rm "$D/daemon.yaml"
mkfifo "$D/daemon.yaml"
kill -HUP "$(sb_pid daemon)"
assert_ok "SIGHUP: the reload fails, naming the FIFO" cv_wait_until 5000 \
	grep -qF "reload failed, keeping the running config: $D/daemon.yaml: not a regular file" "$SB_DIR/daemon.err"
assert_ok "SIGHUP: the running config goes on auditing" cv_wait_more_audits 2
# A daemon stuck in open() never reads its SIGTERM: bounded, then killed.
pid=$(sb_pid daemon)
kill -TERM "$pid"
gone() { ! sb__is_running "$1"; }
if cv_wait_until 5000 gone "$pid"; then
	rc=0
	wait "$pid" || rc=$?
	unset "SB_PIDS[daemon]"
	assert_ok "daemon: SIGTERM ends it with status 0 (was $rc)" test "$rc" = 0
else
	cv_fail "daemon: SIGTERM ends it within 5 s"
fi

# --- 4. files read while auditing ---------------------------------------------------

mkfifo "$D/root.key"
for key in "dnssec: { enabled: true, trust_anchor: $D/root.key }" "rdap: { enabled: true, bootstrap: $D/root.key }"; do
	sed "s|tls: { mode: provided }|&\n    $key|" "$D/good.yaml" >"$D/paths.yaml"
	what=${key%%:*}
	cv_run "path-$what" timeout 20 "$C" audit --config "$D/paths.yaml" --format json -o "$D/paths.json"
	assert_exit 3
	assert_match "$what: a FIFO is refused with its position" \
		"^$D/paths.yaml:11:[0-9]+: '$D/root.key' is a FIFO, not a regular file \\($what\\.(trust_anchor|bootstrap)\\)$" \
		"$(head -n 1 "$CV_STDERR")"
	assert_ok "$what: at once (${CV_MS} ms)" test "$CV_MS" -lt 5000
done

cv_finish
