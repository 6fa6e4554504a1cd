# tap.sh — a small TAP library for pd's command tests (after git's test-lib.sh).
#
# Source it at the top of a tests/tNNNN-*.sh script:
#     . "$(dirname "$0")/lib/tap.sh"
# then write assertions and end with `test_done`.  Each test prints one
# `ok N - description` or `not ok N - description` line; test_done prints the
# plan.  Never pipe the command under test inside an assertion: run it with
# `run` (status in $status, output in $out/$err files) and then check.
#
#   expect 'desc' 'shell code'     ok when the code exits 0 (runs in a subshell)
#   run CMD ARGS...                 runs CMD with stdout to $OUT, stderr to $ERR,
#                                   stdin from $IN if set; exit status in $status
#   check_status N                  1 unless $status is N (for use inside expect)
#   skip 'desc' 'why'               an `ok N - desc # SKIP why`
#
# Variables: PD_TOP (repository root), PD_DATA (the shared data folder),
# TMP (a private scratch directory, removed at exit).

set -u
PD_TOP=${PD_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
PD_DATA=${PD_DATA:-$PD_TOP/../shared/data}
PATH="$PD_TOP/bin:$PATH"
export PD_TOP PD_DATA PATH
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export LC_ALL=C.UTF-8
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pd-test.XXXXXX")
OUT=$TMP/out
ERR=$TMP/err
_tap_n=0
_tap_failed=0
_tap_cleanup() {
	declare -F fake_stop >/dev/null && fake_stop	# tests/lib/fake.sh's server
	rm -rf "$TMP"
}
trap _tap_cleanup EXIT

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
not_ok() {
	_tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
}

expect() {
	local desc=$1 code=$2
	if ( eval "$code" ) >"$TMP/expect.log" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		sed 's/^/#   /' "$TMP/expect.log" | tail -n 40
		echo "#   code: $(echo "$code" | head -n 12 | sed '2,$s/^/#         /')"
	fi
}

skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }

run() {
	if [ -n "${IN:-}" ]; then
		"$@" <"$IN" >"$OUT" 2>"$ERR"
	else
		"$@" </dev/null >"$OUT" 2>"$ERR"
	fi
	status=$?
	return 0
}

check_status() {
	if [ "$status" != "$1" ]; then
		echo "exit status $status, expected $1"
		echo "stderr:"; head -c 2000 "$ERR"
		return 1
	fi
}

# no_metric FILE: FILE's lines without the metric records (for comparisons)
no_metric() { grep -v '^{"type":"metric"' "$1" || true; }

# jqc: jq in compact form, failing on error
jqc() { jq -c "$@"; }

test_done() {
	echo "1..$_tap_n"
	exit 0
}

# jrec FILE ID EXPR: true when the record with "id" ID in FILE satisfies the
# jq expression EXPR (jq -e alone judges only the last input's output).
jrec() {
	jq -n -e --arg id "$2" "first(inputs | select(.id == \$id)) | $3" "$1" >/dev/null
}
