#!/usr/bin/env bash
# The EXAMPLES of every man page run: each line starting with "$ " inside an
# .EX/.EE block is run, in order, in a scratch copy of examples/, and must
# exit 0.  Examples that need DATABASE_URL or REDIS_URL run only when set.
. "$(dirname "$0")/lib/tap.sh"
cp -r "$PD_TOP/examples" "$TMP/ex"
for man in "$PD_TOP"/man/*.1; do
	page=$(basename "$man" .1)
	awk '/^\.EX/{inex=1; next} /^\.EE/{inex=0; next} inex && /^\$ /{sub(/^\$ /,""); print}' "$man" |
		sed 's/\\-/-/g; s/\\\\/\\/g; s/\\(aq/'"'"'/g' >"$TMP/$page.cmds"
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		if grep -qE 'DATABASE_URL|REDIS_URL|pd-store|--pg' <<<"$line" && [ -z "${DATABASE_URL:-}" ]; then
			skip "$page example $n" "no database"
			continue
		fi
		( cd "$TMP/ex" && timeout 120 bash -o pipefail -c "$line" >"$TMP/ex.out" 2>"$TMP/ex.err" )
		status=$?
		expect "$page example $n: $(head -c 70 <<<"$line")" '
			check_status 0 || { cat "$TMP/ex.err" | head -20; false; }'
	done <"$TMP/$page.cmds"
done
test_done
