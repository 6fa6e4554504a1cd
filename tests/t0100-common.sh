#!/usr/bin/env bash
# Cross-command checks (STYLE.md): every executable in bin/ has --help and
# --version, rejects misuse with exit 2, reports write errors (>/dev/full),
# ends quietly on a closed pipe (EPIPE), and has a man page whose options
# match --help (git t0450-txt-doc-vs-help.sh).
. "$(dirname "$0")/lib/tap.sh"

# smoke_args CMD: arguments that make CMD write output from $TMP/smoke.ndjson
smoke() {
	case "$1" in
	pd-synth) echo "--videos 2000 --seed 1" ;;
	*) echo "$TMP/smoke.ndjson" ;;
	esac
}
for i in $(seq 1 20000); do echo '{"type":"note","n":'$i',"text":"passes through untouched"}'; done >"$TMP/smoke.ndjson"

opts_of() { grep -oE -- '--[a-z][a-z0-9-]+' | sort -u; }

for exe in "$PD_TOP"/bin/pd-*; do
	cmd=$(basename "$exe")
	run "$cmd" --help
	expect "$cmd --help exits 0 with usage on stdout" '
		check_status 0 && grep -q "^Usage: $cmd" "$OUT" && [ ! -s "$ERR" ]'
	run "$cmd" --version
	expect "$cmd --version names the command, pd and the libraries" '
		check_status 0 && head -n 1 "$OUT" | grep -Eq "^$cmd \(pd\) [0-9]+\.[0-9]+\.[0-9]+$" &&
		grep -q "cJSON" "$OUT" && grep -q "libcurl" "$OUT"'
	run "$cmd" --no-such-option
	expect "$cmd rejects an unknown option with exit 2 and a hint" '
		check_status 2 && grep -q "Try '"'"'$cmd --help'"'"' for more information." "$ERR"'
	run "$cmd" --version
	"$cmd" --version >/dev/full 2>"$ERR"; status=$?
	expect "$cmd --version >/dev/full fails with exit 3" 'check_status 3'
	"$cmd" $(smoke "$cmd") </dev/null >/dev/full 2>"$ERR"; status=$?
	expect "$cmd reports a write error to /dev/full" '
		check_status 3 && grep -q "write error" "$ERR"'
	# EPIPE: the reader goes away after one byte; the writer ends quietly
	( "$cmd" $(smoke "$cmd") </dev/null 2>"$ERR"; echo $? >"$TMP/rc" ) | head -c 1 >/dev/null
	rc=$(cat "$TMP/rc")
	expect "$cmd ends quietly on a closed pipe" '
		{ [ "$rc" = 141 ] || [ "$rc" = 0 ]; } && [ ! -s "$ERR" ] || { echo "rc=$rc"; cat "$ERR"; false; }'
	man=$PD_TOP/man/$cmd.1
	expect "$cmd has a man page with the standard sections" '
		[ -f "$man" ] && for s in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT "EXIT STATUS" EXAMPLES "SEE ALSO"; do
			grep -q "^\.SH \"*$s" "$man" || { echo "missing section $s"; exit 1; }; done'
	expect "$cmd man page renders without warnings" '
		MANWIDTH=80 man -l --warnings "$man" 2>"$TMP/manwarn" >/dev/null; [ ! -s "$TMP/manwarn" ] || { cat "$TMP/manwarn"; false; }'
	"$cmd" --help | opts_of >"$TMP/help-opts"
	sed 's/\\-/-/g' "$man" | opts_of >"$TMP/man-opts"
	expect "$cmd man page and --help name the same options" '
		diff "$TMP/help-opts" "$TMP/man-opts"'
done
test_done
