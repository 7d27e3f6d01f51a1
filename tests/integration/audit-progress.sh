#!/bin/bash
#
# audit-progress.sh: the progress of `certvigil audit` on stderr (issue 12).
#   1. on a terminal (script(1)), an audit held up 2 s by a tarpit shows a
#      line redrawn in place (names resolved, handshakes done of total, the
#      slowest still pending: the tarpit's address), cleared at the end; the
#      report on stdout is the one a run without a terminal writes
#   2. -q on a terminal: no progress line
#   3. not a terminal: no progress line (the report is all there is)
#   4. -v: one line per probe as it ends, with its address and outcome
#   5. a quick audit (under a second) draws no line even on a terminal

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command -v script >/dev/null 2>&1 || { echo "SKIP: script(1) is missing"; exit 77; }
# shellcheck disable=SC2119 # no argument needed
cv_require
cv_up

ESC=$'\033'
CR=$'\r'
# ok first: its part of the report is written and its audit released while
# the tarpit holds on; its numbers must still count.
SB_CFG_TIMEOUT=2s cv_config slow <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
  - name: tarpit
    global: { baseDomain: tarpit.example.test }
EOF
cv_audit count
n_eps=$(jq '[.platforms[].endpoints[]] | length' "$CV_JSON")
n_ok=$(jq '[.platforms[].endpoints[] | select(.status == "ok")] | length' "$CV_JSON")
cmd="$SB_CERTVIGIL audit --config $CV_CFG --no-color"

# --- 1. a terminal on stderr: the line ---------------------------------------------------------
# stdout goes to a file inside script(1); stderr stays the terminal.
cv_run tty script -qec "stty cols 200; $cmd >$SB_DIR/tty-report.txt" /dev/null
assert_exit 2
tty_out=$(cat "$CV_STDOUT")
assert_match "terminal: names resolved and handshakes done of the total" \
	"names resolved, [0-9]+/$n_eps handshakes done" "$tty_out"
assert_match "terminal: while the tarpit holds on, the finished platform still counts" \
	"names resolved, $n_ok/$n_eps handshakes done" "$tty_out"
assert_match "terminal: the slowest pending probe is the tarpit's" \
	"slowest: [a-z]+\\.tarpit\\.example\\.test $SB_ADDR_TARPIT \\([0-9.]+m?s\\)" "$tty_out"
assert_true_shell() { if eval "$2"; then cv_pass "$1"; else cv_fail "$1"; fi; }
assert_true_shell "terminal: redrawn in place, several times (carriage return, erase to end of line)" \
	'(( $(grep -o "handshakes done" <<<"$tty_out" | wc -l) >= 2 ))'
assert_true_shell "terminal: never a newline between redraws" '[[ $tty_out != *$'"'"'\n'"'"'* ]]'
assert_true_shell "terminal: the line is cleared at the end" '[[ $tty_out == *"$CR$ESC[K" ]]'
cv_run plain "$SB_CERTVIGIL" audit --config "$CV_CFG" --no-color
assert_exit 2
# Times and the random probe names aside, the report on stdout does not change.
norm() { sed -E 's/[0-9]+(\.[0-9]+)? ?(ms|s)\b/T/g; s/[0-9]{4}-[0-9-]+T[0-9:]+Z/D/g; s/certvigil-probe-[0-9a-f]+/P/g' "$1"; }
assert_eq "terminal: the report on stdout is the one without a terminal" "$(norm "$CV_STDOUT")" \
	"$(norm "$SB_DIR/tty-report.txt")"
assert_no_match "the report holds no progress" "handshakes done|$CR" "$(cat "$SB_DIR/tty-report.txt")"

# A terminal of 80 columns: the line is cut to 79, or \r could not redraw it.
cv_run tty-80 script -qec "stty cols 80; $cmd >/dev/null" /dev/null
widest=$(tr '\r' '\n' <"$CV_STDOUT" | sed "s/$ESC\\[K//g" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
assert_true_shell "80 columns: the line is cut to fit ($widest)" '(( widest > 40 && widest <= 79 ))'

# --- 2. -q -------------------------------------------------------------------------------------
cv_run tty-q script -qec "$cmd -q >$SB_DIR/tty-q-report.txt" /dev/null
assert_exit 2
assert_no_match "-q on a terminal: no progress line" "handshakes done" "$(cat "$CV_STDOUT")"

# --- 3. not a terminal -------------------------------------------------------------------------
assert_no_match "stderr not a terminal: no progress line" "handshakes done|$CR" "$(cat "$SB_DIR/plain.err")"

# --- 4. -v -------------------------------------------------------------------------------------
cv_run verbose "$SB_CERTVIGIL" audit --config "$CV_CFG" --no-color -v
assert_exit 2
err=$(cat "$CV_STDERR")
assert_eq "-v: one line per probe" "$n_eps" \
	"$(grep -cE '^certvigil: [a-z]+\.(ok|tarpit)\.example\.test [0-9.]+ port [0-9]+: ' <<<"$err")"
assert_eq "-v: the ok endpoints ended ok" "$n_ok" \
	"$(grep -cE '^certvigil: [a-z]+\.ok\.example\.test 127\.0\.0\.[12] port [0-9]+: ok \(' <<<"$err")"
assert_match "-v: the tarpit's probes say why they failed" \
	"certvigil: [a-z]+\\.tarpit\\.example\\.test $SB_ADDR_TARPIT port [0-9]+: handshake failed: " "$err"
assert_no_match "-v without a terminal: no redrawn line" "handshakes done|$CR" "$err"
assert_no_match "-v: nothing of it on stdout" "^certvigil: " "$(cat "$CV_STDOUT")"

# --- 5. a quick audit --------------------------------------------------------------------------
cv_config quick <<EOF
  - name: ok
    global: { baseDomain: ok.example.test }
EOF
cv_run tty-quick script -qec "$SB_CERTVIGIL audit --config $CV_CFG --no-color >$SB_DIR/quick.txt" /dev/null
if ((CV_MS < 900)); then
	assert_no_match "an audit under a second: no line" "handshakes done" "$(cat "$CV_STDOUT")"
else
	cv_log "the quick audit took $CV_MS ms: the no-line case is not judged"
fi

cv_finish
