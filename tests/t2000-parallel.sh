#!/usr/bin/env bash
# t2000-parallel — beyond one process: the sharded or split run equals the
# whole one.  pd-mine --shard i/3 run three times, concatenated and validated
# once, gives pd-validate's unsharded output (byte for byte after sorting,
# the shards' mine_summary records merged into the unsharded one); each
# per-record stage (pd-embed --model, pd-cluster --assign, pd-match) cut into
# blocks by GNU parallel --pipe through examples/parallel.sh gives the
# unsplit output; and the same over two "hosts" (--sshlogin with an ssh
# stand-in that runs the command here in a clean environment), with
# PostgreSQL and Redis shared through the environment the recipe passes on.
. "$(dirname "$0")/lib/tap.sh"
. "$PD_TOP/tests/lib/services.sh"
. "$PD_TOP/tests/lib/store.sh"

PAR=$PD_TOP/examples/parallel.sh
nom() { grep -v '^{"type":"metric"' "$1" || true; }	# without metric records
srt() { nom "$1" | sort; }

# 6000 videos with planted effects in 5 macro niches (about 80 clusters)
pd-synth --videos 6000 --seed 3 --topics-macro 4 --no-metric >"$TMP/s.csv" &&
	pd-fetch --now 2026-06-01T00:00:00Z --no-metric "$TMP/s.csv" >"$TMP/videos" &&
	pd-embed --dims 64 --save-model "$TMP/model.pdm" --no-metric "$TMP/videos" >"$TMP/emb" &&
	pd-cluster --seed 1 --macro 500-3000 --no-metric "$TMP/emb" >"$TMP/clu" || exit 1
grep '"type":"cluster"' "$TMP/clu" >"$TMP/clusters"

expect 'the planted data has 5 macro clusters to shard' '
	[ "$(grep -c "\"level\":\"macro\"" "$TMP/clusters")" = 5 ]'

# --- pd-mine --shard i/3, then pd-validate once -------------------------------
run pd-mine --no-metric "$TMP/clu"
cp "$OUT" "$TMP/mined"
for i in 1 2 3; do
	run pd-mine --no-metric --shard $i/3 "$TMP/clu"
	cp "$OUT" "$TMP/mined$i"
	echo "$status" >"$TMP/st$i"
done
expect 'each shard exits 0 and mines some clusters (planned by size, longest first)' '
	for i in 1 2 3; do
		[ "$(cat "$TMP/st$i")" = 0 ] || exit 1
		jq -e "select(.type == \"mine_summary\") | .shard == \"$i/3\" and .clusters > 0 and .patterns > 0" \
			"$TMP/mined$i" >/dev/null || exit 1
	done'
expect 'shard 1 writes the input through, shards 2 and 3 only their patterns and summary' '
	n=$(wc -l <"$TMP/clu") &&
	head -n "$n" "$TMP/mined1" | cmp - <(head -n "$n" "$TMP/mined") &&
	for i in 2 3; do
		jq -r .type "$TMP/mined$i" | sort -u | tr "\n" " " | grep -qx "mine_summary pattern " || exit 1
	done'
expect 'the shards together: the unsharded records but for mine_summary, and tests that add up' '
	cat "$TMP"/mined[123] | grep -v "\"type\":\"mine_summary\"" | sort >"$TMP/a" &&
	grep -v "\"type\":\"mine_summary\"" "$TMP/mined" | sort | cmp - "$TMP/a" &&
	t=$(cat "$TMP"/mined[123] | jq -s "map(select(.type == \"mine_summary\") | .tests) | add") &&
	[ "$t" -gt 1000 ] && [ "$t" = "$(jq "select(.type == \"mine_summary\") | .tests" "$TMP/mined")" ]'

run pd-validate "$TMP/mined"
cp "$OUT" "$TMP/val"
cat "$TMP"/mined[123] >"$TMP/shards"
run pd-validate "$TMP/shards"
cp "$OUT" "$TMP/val3"
expect 'pd-validate over the 3 shards = over the unsharded run (sorted), validated patterns among it' '
	check_status 0 && ! grep -q . "$ERR" &&
	srt "$TMP/val3" >"$TMP/b" && srt "$TMP/val" | cmp - "$TMP/b" &&
	[ "$(jq -c "select(.type == \"pattern\" and .status == \"validated\")" "$TMP/val" | wc -l)" -ge 3 ]'
expect 'its one mine_summary is the unsharded one, byte for byte; its FDR counted every test' '
	grep "\"type\":\"mine_summary\"" "$TMP/val3" >"$TMP/s3" && [ "$(wc -l <"$TMP/s3")" = 1 ] &&
	grep "\"type\":\"mine_summary\"" "$TMP/mined" | cmp - "$TMP/s3" &&
	[ "$(jq "select(.type == \"metric\" and .stage == \"validate\") | .tests" "$TMP/val3")" = \
	  "$(jq "select(.type == \"mine_summary\") | .tests" "$TMP/mined")" ]'

cat "$TMP/mined1" "$TMP/mined3" >"$TMP/partial"
run pd-validate --no-metric "$TMP/partial"
expect 'a shard missing: said, the summaries written unmerged, the FDR over the tests present' '
	check_status 0 && grep -q "not the shards 1..3 of one run" "$ERR" &&
	[ "$(grep -c "\"type\":\"mine_summary\"" "$OUT")" = 2 ]'

sed 's/"min_cluster_size":30/"min_cluster_size":31/' "$TMP/mined2" >"$TMP/other"
cat "$TMP/mined1" "$TMP/other" "$TMP/mined3" >"$TMP/mixed"
run pd-validate --no-metric "$TMP/mixed"
expect 'shards of different runs (an option differs): said, not merged' '
	check_status 0 && grep -q "disagree on \"min_cluster_size\"" "$ERR" &&
	[ "$(grep -c "\"type\":\"mine_summary\"" "$OUT")" = 3 ]'

# --- the per-record stages with parallel --pipe (2 jobs, many small blocks) ---
if ! command -v parallel >/dev/null; then
	echo "GNU parallel is missing (scripts/install-deps installs it)" >&2
	not_ok 'GNU parallel is installed'
	test_done
fi

run pd-embed --model "$TMP/model.pdm" --no-metric "$TMP/videos"
cp "$OUT" "$TMP/emb1"
IN=$TMP/videos run "$PAR" -j 2 --block 200k embed "$TMP/model.pdm"
expect 'embed --pipe (2 jobs, 200k blocks) = pd-embed --model, byte for byte, with one metric' '
	check_status 0 && nom "$OUT" | cmp - "$TMP/emb1" && cmp "$TMP/emb1" "$TMP/emb" &&
	tail -n 1 "$OUT" | jq -e ".type == \"metric\" and .stage == \"embed\" and
		.records_in == 6000 and .records_out == 6000" >/dev/null'

run pd-cluster --assign "$TMP/clusters" --no-metric "$TMP/emb"
cp "$OUT" "$TMP/asg1"
IN=$TMP/emb run "$PAR" -j 2 --block 500k assign "$TMP/clusters"
cp "$OUT" "$TMP/asg2"
expect 'assign --pipe = pd-cluster --assign (sorted; the blocks'"'"' drift records merged)' '
	check_status 0 && srt "$TMP/asg2" >"$TMP/b" && sort "$TMP/asg1" | cmp - "$TMP/b" &&
	[ "$(grep -c "\"type\":\"drift\"" "$TMP/asg1")" -gt 50 ] &&
	nom "$TMP/asg2" | grep -v "\"type\":\"drift\"" | cmp - <(grep -v "\"type\":\"drift\"" "$TMP/asg1")'

grep -E '"type":"(pattern|cluster)"' "$TMP/val" >"$TMP/patterns"
REDIS_URL= run pd-match --patterns "$TMP/patterns" --no-metric "$TMP/emb"
cp "$OUT" "$TMP/match1"
REDIS_URL= IN=$TMP/emb run "$PAR" -j 2 --block 500k match --patterns "$TMP/patterns"
expect 'match --pipe = pd-match, byte for byte' '
	check_status 0 && [ "$(grep -c "\"type\":\"match\"" "$TMP/match1")" -gt 1000 ] &&
	nom "$OUT" | cmp - "$TMP/match1"'

IN=$TMP/clu run "$PAR" -j 3 mine 3
cp "$OUT" "$TMP/pmine"
run pd-validate "$TMP/pmine"
expect 'mine 3 (three shards at once, parallel --tee) then pd-validate = unsharded (sorted)' '
	check_status 0 && srt "$OUT" >"$TMP/b" && srt "$TMP/val" | cmp - "$TMP/b" &&
	[ "$(jq -r "select(.type == \"metric\" and .stage == \"mine\") | .shard" "$TMP/pmine" | sort | tr "\n" " ")" = "1/3 2/3 3/3 " ]'

{ head -n 100 "$TMP/videos"; echo '{"type":"video","id":"x","title":'; tail -n +101 "$TMP/videos"; } >"$TMP/bad"
IN=$TMP/bad run "$PAR" -j 2 --block 200k embed "$TMP/model.pdm"
expect 'a bad record in a block: reported, the rest embedded, exit 1' '
	check_status 1 && grep -q "pd-embed: (stdin):101: malformed JSON" "$ERR" && nom "$OUT" | cmp - "$TMP/emb1"'

IN=$TMP/videos run "$PAR" -j 2 embed "$TMP/nope.pdm"
expect 'a missing model: exit status of pd-embed, not success' '
	[ "$status" -ge 2 ] && grep -q "nope.pdm" "$ERR"'

# --- two "hosts" on this machine ------------------------------------------------
# ssh-local stands in for ssh: it drops the options and the host name (noted
# in a log) and runs the command here with only what a fresh login has (HOME,
# SHELL, USER, PATH with pd installed): what the recipe does not pass on with
# --env does not reach the "host".
cat >"$TMP/ssh-local" <<'EOF'
#!/bin/bash
while [ $# -gt 0 ]; do
	case $1 in
	-[bcDEeFIiJLlmOopQRSWw]) shift 2 ;;
	-*) shift ;;
	*) break ;;
	esac
done
host=$1; shift
[ "${1:-}" = "--" ] && shift
echo "$host" >>"$SSH_LOCAL_LOG"
exec env -i HOME="$HOME" SHELL=/bin/bash USER="$(id -un)" LOGNAME="$(id -un)" \
	PATH="$SSH_LOCAL_PATH" LC_ALL=C.UTF-8 bash -c "$*"
EOF
chmod +x "$TMP/ssh-local"
export SSH_LOCAL_LOG=$TMP/hosts SSH_LOCAL_PATH=$PD_TOP/bin:/usr/bin:/bin
HOSTS=(-S 1/hostA,1/hostB --ssh "$TMP/ssh-local")
both() { [ "$(sort -u "$SSH_LOCAL_LOG" | tr "\n" " ")" = "hostA hostB " ]; }

: >"$SSH_LOCAL_LOG"
IN=$TMP/videos run "$PAR" "${HOSTS[@]}" --block 500k embed "$TMP/model.pdm"
expect 'two hosts: embed --pipe over both = pd-embed --model, byte for byte' '
	check_status 0 && both && nom "$OUT" | cmp - "$TMP/emb1"'

: >"$SSH_LOCAL_LOG"
IN=$TMP/clu run "$PAR" "${HOSTS[@]}" mine 3
cp "$OUT" "$TMP/hmine"
run pd-validate "$TMP/hmine"
expect 'two hosts: 3 mining shards over both, validated once = unsharded (sorted)' '
	check_status 0 && both && [ "$(wc -l <"$SSH_LOCAL_LOG")" = 3 ] &&
	srt "$OUT" >"$TMP/b" && srt "$TMP/val" | cmp - "$TMP/b"'

if pd_services_up && store_db pd_t2000; then
	trap 'store_db_drop; pd_services_down; _tap_cleanup' EXIT
	run pd-store --no-passthrough --quiet "$TMP/val"
	expect 'the validated run is stored in the shared PostgreSQL' 'check_status 0'
	REDIS_URL= run pd-match --no-cache --no-metric "$TMP/emb"
	cp "$OUT" "$TMP/dbmatch1"
	expect 'pd-match from the database answers as from the file' '
		check_status 0 && cmp "$TMP/dbmatch1" "$TMP/match1"'
	rcli() { redis-cli -s "${REDIS_URL#unix://}" "$@"; }
	: >"$SSH_LOCAL_LOG"
	IN=$TMP/emb run "$PAR" "${HOSTS[@]}" --block 500k match
	expect 'two hosts: match over both, patterns from the shared PostgreSQL, = pd-match' '
		check_status 0 && both && nom "$OUT" | cmp - "$TMP/match1"'
	# videos given by id only: each host reads them from PostgreSQL, then Redis
	jq -c '{type, id}' "$TMP/videos" >"$TMP/ids"
	id1=$(jq -r .id "$TMP/ids" | head -n 1)
	IN=$TMP/ids run "$PAR" "${HOSTS[@]}" --block 100k match
	cp "$OUT" "$TMP/hids"
	expect 'two hosts: videos by id, read from the shared PostgreSQL, = pd-match' '
		check_status 0 && nom "$TMP/hids" | cmp - "$TMP/match1"'
	case $REDIS_URL in
	unix://*)
		IN=$TMP/ids run "$PAR" "${HOSTS[@]}" --block 100k match
		expect 'two hosts: the answers cached in the shared Redis, the same again' '
			check_status 0 && nom "$OUT" | cmp - "$TMP/match1" &&
			[ "$(rcli --scan --pattern "pd:match:*:$id1" | wc -l)" = 1 ]'
		;;
	*) skip 'two hosts: the shared Redis' "REDIS_URL is not a unix socket" ;;
	esac
else
	skip 'two hosts: match with PostgreSQL and Redis shared' 'no database'
fi

test_done
