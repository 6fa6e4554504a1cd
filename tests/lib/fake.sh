# fake.sh — loopback servers for tests of clients of outside services.
#
# Source after tap.sh.  The servers are Python stdlib scripts (tests/fake_*.py,
# or one a test writes) that bind 127.0.0.1 on a free port and print the port
# on their first line.
#
#   fake_start SCRIPT ARGS...  start SCRIPT with ARGS (stopping the server
#                              started before, if any); sets FAKE_PORT and
#                              FAKE_URL (http://127.0.0.1:PORT); waits up to
#                              20 s for the port; returns 1 with the server's
#                              stderr as TAP comments when it does not come up
#   fake_stop                  stop it (tap.sh's exit cleanup also does)
#
# Each start reads its own port file, so a new server's port is never confused
# with an old one's.

FAKE_PID=
FAKE_PORT=
FAKE_URL=
_fake_n=0
_fake_py=/usr/bin/python3
[ -x "$_fake_py" ] || _fake_py=python3

fake_start() {
	fake_stop
	_fake_n=$((_fake_n + 1))
	local out=$TMP/fake.$_fake_n.port err=$TMP/fake.$_fake_n.err i=0
	"$_fake_py" "$@" >"$out" 2>"$err" &
	FAKE_PID=$!
	while [ ! -s "$out" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
	FAKE_PORT=$(head -n 1 "$out")
	FAKE_URL=http://127.0.0.1:$FAKE_PORT
	if [ -z "$FAKE_PORT" ]; then
		echo "# $(basename "$1") did not start:"
		sed 's/^/#   /' "$err"
		return 1
	fi
}

fake_stop() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
		FAKE_PID=
	fi
}
