# coproc.sh — a command under test run as a coprocess (a line written, its
# answer read, before the next line is written), without the races of bash's
# own `coproc`.
#
# Source after tap.sh.  bash's `coproc NAME` unsets NAME_PID and closes and
# unsets NAME[0] and NAME[1] as soon as it reaps the process, which can
# happen at any moment once the process has exited: `wait "$NAME_PID"` after
# closing its input, or a write to "${NAME[1]}" after it failed, then aborts
# the test under `set -u` ("unbound variable").  Here the command runs in the
# background between two named pipes, and its pid and the test's ends of the
# pipes are kept in ordinary variables that nothing unsets or closes behind
# the test's back.
#
#   cop_start ERRFILE CMD ARGS...  start CMD, its stderr to ERRFILE; sets
#                                  COP_PID, COP_IN (a descriptor to write
#                                  lines to) and COP_OUT (one to read its
#                                  answers from)
#   cop_send LINE                  write LINE to the coprocess; 1 when it cannot
#                                  (the coprocess is gone: no SIGPIPE reaches
#                                  the test, which goes on to report it)
#   cop_recv VAR [SECONDS]         read one answer line into VAR, waiting at
#                                  most SECONDS (default 30: a bound for a
#                                  broken coprocess, not a timing assertion);
#                                  1 with VAR empty on timeout or end of output
#   cop_stop                       close the coprocess's input, wait for it to
#                                  exit (at most 30 s, then it is killed); its
#                                  exit status in COP_STATUS
#
# One coprocess at a time.  COP_IN and COP_OUT are ordinary descriptors, so
# commands run while the coprocess is open inherit them: a command that
# outlives cop_stop and holds COP_IN would keep the coprocess from seeing the
# end of its input (start background servers before cop_start).

COP_PID=
COP_IN=
COP_OUT=
COP_STATUS=
_cop_n=0

cop_start() {
	local err=$1 fifo
	shift
	_cop_n=$((_cop_n + 1))
	fifo=$TMP/cop.$_cop_n
	mkfifo "$fifo.in" "$fifo.out" || return 1
	# started before the test opens its ends, so the command holds neither;
	# each open blocks until the other side opens, in the same order here
	# and in the command's redirections, so neither waits for ever
	"$@" <"$fifo.in" >"$fifo.out" 2>"$err" &
	COP_PID=$!
	exec {COP_IN}>"$fifo.in" {COP_OUT}<"$fifo.out"
	rm -f "$fifo.in" "$fifo.out"
}

cop_send() {
	# a subshell: a write to a coprocess that is gone kills it with SIGPIPE,
	# not the test
	( printf '%s\n' "$1" >&"$COP_IN" ) 2>/dev/null
}

cop_recv() {
	local -n _cop_var=$1
	_cop_var=
	IFS= read -r -t "${2:-30}" _cop_var <&"$COP_OUT" || { _cop_var=; return 1; }
}

cop_stop() {
	local i=0
	[ -n "$COP_IN" ] && exec {COP_IN}>&-
	COP_IN=
	while kill -0 "$COP_PID" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$COP_PID" 2>/dev/null; then
		echo "# coprocess $COP_PID still running 30 s after the end of its input: killed"
		kill "$COP_PID" 2>/dev/null
	fi
	wait "$COP_PID" 2>/dev/null
	COP_STATUS=$?
	[ -n "$COP_OUT" ] && exec {COP_OUT}<&-
	COP_OUT=
}
