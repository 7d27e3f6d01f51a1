#!/bin/bash
#
# journal-entries.sh: `certvigil audit --journal` against the sandbox, read
# back from a private systemd-journald: one entry per finding that counts
# (one per problem; none for those folded under another, issue 12) with MESSAGE,
# MESSAGE_ID (the catalog's), PRIORITY, SYSLOG_IDENTIFIER and the
# CERTVIGIL_* fields that apply, equal to what --format json reports; one
# summary entry per platform audit; `journalctl -x` explains entries from
# contrib/certvigil.catalog; and, with no journal socket, one line on stderr
# and an unchanged report and exit status.

# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cv_start journald


cfg=$SB_DIR/certvigil.yaml
sb_write_config "$cfg" <<EOF
  - name: mixed
    global: { baseDomain: mixed.example.test }
  - name: warn
    global: { baseDomain: warn.example.test }
  - name: gone
    global: { baseDomain: gone.example.test }
  - name: wrong
    global: { baseDomain: wrong.example.test }
  - name: refused
    global: { baseDomain: refused.example.test }
EOF
summary_id=$("$SB_CERTVIGIL" list-findings --journal | awk '$1 == "audit.summary" { print $3 }')
ids_json=$("$SB_CERTVIGIL" list-findings | jq -Rn '[inputs | split(" ") | map(select(. != ""))
	| {key: .[0], value: .[2]}] | from_entries')

# --- no journal socket ---------------------------------------------------------
rc=0
"$SB_CERTVIGIL" audit --config "$cfg" --journal --format json >"$SB_DIR/nosock.json" 2>"$SB_DIR/nosock.err" || rc=$?
assert_ok "without a journal socket the exit status is still 2 (critical)" test "$rc" = 2
assert_ok "without a journal socket the report is still complete JSON" \
	jq -e '.platforms | length == 5' "$SB_DIR/nosock.json"
n=$(grep -c 'no journal socket at /run/systemd/journal/socket' "$SB_DIR/nosock.err" || true)
assert_ok "without a journal socket certvigil says so exactly once on stderr (said $n times)" test "$n" = 1

# --- with journald -------------------------------------------------------------
jd_start
rc=0
"$SB_CERTVIGIL" audit --config "$cfg" --journal --format json -o "$SB_DIR/report.json" 2>"$SB_DIR/audit.err" || rc=$?
assert_ok "audit --journal exits 2 (critical)" test "$rc" = 2
assert_ok "audit --journal writes nothing on stderr with a journal" test ! -s "$SB_DIR/audit.err"

nfindings=$(jq '[.platforms[].findings[] | select(.caused_by == null and .silenced == null)] | length' \
	"$SB_DIR/report.json")
assert_ok "the journal has an entry per finding and 5 audit summaries" jd_wait_count "$((nfindings + 5))"
jd_entries >"$SB_DIR/entries.json"
nentries=$(jq -s --arg s "$summary_id" '[.[] | select(.MESSAGE_ID != $s)] | length' "$SB_DIR/entries.json")
assert_ok "one journal entry per finding ($nfindings findings, $nentries entries)" test "$nfindings" = "$nentries"
assert_ok "the sandbox produced findings of 5 kinds" \
	test "$(jq '[.platforms[].findings[].id] | unique | length' "$SB_DIR/report.json")" -ge 5
# Folded findings are in the report, not in the journal.
nfolded=$(jq '[.platforms[].findings[] | select(.caused_by)] | length' "$SB_DIR/report.json")
assert_ok "the sandbox produced folded findings ($nfolded)" test "$nfolded" -ge 2
assert_ok "no journal entry for a folded finding" jq -se --slurpfile r "$SB_DIR/report.json" '
	[$r[0].platforms[] | .name as $p | .findings[] | select(.caused_by) | {p: $p, id}] as $folded
	| [.[] | {p: .CERTVIGIL_PLATFORM, id: .CERTVIGIL_FINDING}] as $sent
	| [$folded[] | select(. as $f | $sent | index([$f]))] | length == 0' "$SB_DIR/entries.json"

# Every finding of the JSON report has exactly one entry carrying the same
# facts; the certificate fields come from the endpoint the finding is about.
while IFS= read -r f; do
	desc=$(jq -r '"\(.platform) \(.id) \(.name // "-") \(.address // "-")"' <<<"$f")
	if jq -se --argjson f "$f" --argjson ids "$ids_json" '
		[.[] | select(.CERTVIGIL_PLATFORM == $f.platform and .CERTVIGIL_FINDING == $f.id
			and .CERTVIGIL_NAME == $f.name and .CERTVIGIL_ADDRESS == $f.address)] as $m
		| ($m | length) == 1 and ($m[0] | (
			.MESSAGE == "\($f.platform): \($f.id): \($f.message)"
			and .MESSAGE_ID == $ids[$f.id]
			and .PRIORITY == ({"critical": "2", "warning": "4", "info": "6"}[$f.severity])
			and .SYSLOG_IDENTIFIER == "certvigil"
			and .CERTVIGIL_SEVERITY == $f.severity
			and (if $f.cert then
				.CERTVIGIL_NOT_AFTER == $f.cert.not_after and .CERTVIGIL_SHA256 == $f.cert.sha256
				and .CERTVIGIL_ISSUER == $f.cert.issuer and .CERTVIGIL_PORT == ($f.port | tostring)
				and (((.CERTVIGIL_DAYS_LEFT | tonumber) - $f.cert.days_left) | fabs) <= 0.1
			else
				.CERTVIGIL_NOT_AFTER == null and .CERTVIGIL_SHA256 == null and .CERTVIGIL_ISSUER == null
				and (if $f.address then .CERTVIGIL_PORT == ($f.port | tostring) else .CERTVIGIL_PORT == null end)
			end)))' "$SB_DIR/entries.json" >/dev/null; then
		cv_pass "journal entry for $desc"
	else
		cv_fail "journal entry for $desc"
		jq -c --argjson f "$f" 'select(.CERTVIGIL_FINDING == $f.id and .CERTVIGIL_NAME == $f.name)
			| with_entries(select(.key | test("^(MESSAGE|PRIORITY|CERTVIGIL_.*)$")))' "$SB_DIR/entries.json" |
			sed 's/^/    got: /'
		printf '    want: %s\n' "$f"
	fi
done < <(jq -c '.platforms[] as $p | $p.findings[] | select(.caused_by == null) | . as $f
	| ([$p.endpoints[] | select(.name == $f.name and .address == $f.address)][0]) as $e
	| {platform: $p.name, id, severity, name, address, message, port: $e.port, cert: $e.certificate}' \
	"$SB_DIR/report.json")

# One summary per platform audit, with the report's counts.
while IFS= read -r p; do
	name=$(jq -r .name <<<"$p")
	assert_ok "summary entry for platform $name with its counts" jq -se --argjson p "$p" --arg s "$summary_id" '
		[.[] | select(.MESSAGE_ID == $s and .CERTVIGIL_PLATFORM == $p.name)] as $m
		| ($m | length) == 1 and ($m[0] | .PRIORITY == "6"
			and .CERTVIGIL_CRITICAL == ($p.c | tostring) and .CERTVIGIL_WARNING == ($p.w | tostring)
			and .CERTVIGIL_INFO == ($p.i | tostring) and (.CERTVIGIL_DURATION_MS | test("^[0-9]+$"))
			and (.MESSAGE | startswith("\($p.name): audit ")))' "$SB_DIR/entries.json"
done < <(jq -c '.platforms[] | [.findings[] | select(.caused_by == null)] as $f | {name,
	c: ([$f[] | select(.severity == "critical")] | length),
	w: ([$f[] | select(.severity == "warning")] | length),
	i: ([$f[] | select(.severity == "info")] | length)}' "$SB_DIR/report.json")

# The kinds of entry this test is about really are there (a test that
# cannot fail is a defect: an empty journal must not pass).
for want in "mixed tls.expiry.critical" "warn tls.expiry.warning" "gone dns.wildcard.missing" \
	"wrong tls.san.mismatch" "refused tls.connect.failed"; do
	read -r p id <<<"$want"
	assert_ok "an entry $id for platform $p" jq -se --arg p "$p" --arg id "$id" \
		'any(.[]; .CERTVIGIL_PLATFORM == $p and .CERTVIGIL_FINDING == $id)' "$SB_DIR/entries.json"
done
assert_ok "journalctl -p warning lists the warnings and criticals, not the summaries" \
	test "$(journalctl -D "$JD_DIR" -o json -p warning SYSLOG_IDENTIFIER=certvigil | wc -l)" = "$nfindings"

# journalctl -x explains an entry from the catalog, with its fields filled
# in.  The catalog directories are private to this mount namespace too.
mount -t tmpfs tmpfs /usr/lib/systemd/catalog
mkdir -p /var/lib/systemd/catalog
mount -t tmpfs tmpfs /var/lib/systemd/catalog
cp "$SB_SRCDIR/contrib/certvigil.catalog" /usr/lib/systemd/catalog/
journalctl --update-catalog
explained=$(journalctl -D "$JD_DIR" -x --no-pager -o short CERTVIGIL_PLATFORM=mixed \
	CERTVIGIL_FINDING=tls.expiry.critical CERTVIGIL_NAME=api.mixed.example.test 2>&1)
assert_ok "journalctl -x shows the catalog's Subject with the entry's fields" grep -qF \
	"Subject: certvigil: the certificate for api.mixed.example.test expires in 5.0 days" <<<"$explained"
assert_ok "journalctl -x shows what to do" grep -qF "What to do: renew now" <<<"$explained"

# A renewal command's output, line by line, as entries of their own (the
# hook fails, so nothing needs to be served anew).
printf '#!/bin/bash\necho "hook-out: renewing $CERTVIGIL_WILDCARD"\necho "hook-err: the CA said no" >&2\nexit 3\n' \
	>"$SB_DIR/hook.sh"
sb_write_config "$SB_DIR/renew.yaml" <<EOF
  - name: soon
    global: { baseDomain: soon.example.test }
    tls: { mode: provided }
    renew: { enabled: true, command: [bash, "$SB_DIR/hook.sh"] }
EOF
rc=0
"$SB_CERTVIGIL" audit --config "$SB_DIR/renew.yaml" --journal --state-dir "$SB_DIR/renew-state" --format json \
	>"$SB_DIR/renew.json" 2>"$SB_DIR/renew.err" || rc=$?
assert_ok "renewal: a failed hook is critical (exit 2)" test "$rc" = 2
assert_ok "renewal: the hook's two output lines reached the journal" \
	jd_wait_count 2 CERTVIGIL_RENEW_STREAM=stdout CERTVIGIL_PLATFORM=soon + CERTVIGIL_RENEW_STREAM=stderr \
	CERTVIGIL_PLATFORM=soon
jd_entries CERTVIGIL_PLATFORM=soon CERTVIGIL_RENEW_STREAM=stdout >"$SB_DIR/out-lines.json"
jd_entries CERTVIGIL_PLATFORM=soon CERTVIGIL_RENEW_STREAM=stderr >"$SB_DIR/err-lines.json"
assert_ok "renewal: the hook's stdout line is an entry of its own (priority 6)" jq -se \
	'length == 1 and .[0].MESSAGE == "soon: renew.command stdout: hook-out: renewing *.soon.example.test" and .[0].PRIORITY == "6"' \
	"$SB_DIR/out-lines.json"
assert_ok "renewal: the hook's stderr line is an entry of its own (priority 5)" jq -se \
	'length == 1 and .[0].MESSAGE == "soon: renew.command stderr: hook-err: the CA said no" and .[0].PRIORITY == "5"' \
	"$SB_DIR/err-lines.json"

cv_finish
