#!/usr/bin/env bash
# parallel.sh — pd's stages spread over cores or hosts with GNU parallel
# (SCALE.md explains the recipe, what it gives and where it stops).
#
#   parallel.sh [OPTION]... embed MODEL [PD-EMBED OPTION]...
#   parallel.sh [OPTION]... assign CLUSTERS [PD-CLUSTER OPTION]...
#   parallel.sh [OPTION]... match [PD-MATCH OPTION]...
#   parallel.sh [OPTION]... mine N [PD-MINE OPTION]...
#
# Records come on standard input and go to standard output, as for the
# commands themselves.  The per-record stages — embedding with a saved model
# (pd-embed --model), placing into a saved hierarchy (pd-cluster --assign) and
# matching (pd-match) — cut the stream into blocks of whole lines (parallel
# --pipe) and keep the blocks' order (--keep-order), so the output is the
# unsplit command's, byte for byte; only the drift records of --assign are
# made per block, and are merged here (n and beyond_radius summed per
# cluster).  Mining is per cluster: `mine N` runs pd-mine --shard i/N for
# i = 1..N, every shard reading the whole stream (--tee), shard 1 writing the
# input records through and each shard its own patterns and mine_summary;
# pipe the result to pd-validate, which merges the shards' summaries and
# controls the false discovery rate over all their tests.
#
# Options:
#   -j N          jobs per host (default: one per core)
#   -S LOGINS     hosts, as GNU parallel's --sshlogin (e.g. 2/db1,2/db2,: where
#                 ":" is this machine); each must have the pd commands on its
#                 PATH and the MODEL, CLUSTERS or --patterns file at the same path
#   --ssh CMD     the ssh command (GNU parallel's --ssh)
#   --block SIZE  bytes per block of the per-record stages (default 16M)
#
# DATABASE_URL, REDIS_URL, PD_EMBED_*, PINECONE_* and OPENBLAS_NUM_THREADS are
# passed to the hosts when set (--env): PostgreSQL and Redis are shared.
# The per-block commands write no metric record; this script writes one for
# the stage (records in and out, seconds, jobs).  Exit status: the largest of
# the jobs' (0, 1 some records rejected, 2 usage, 3 a service failed).
#
# Example, two hosts with pd installed and the model copied to /srv/pd:
#   pd-fetch --pg --since 2026-12-01 |
#     parallel.sh -S 2/web1,2/web2 embed /srv/pd/model.pdm |
#     parallel.sh -S 2/web1,2/web2 assign /srv/pd/clusters.ndjson | pd-store
set -euo pipefail

prog=${0##*/}
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 2; }

jobs= logins= ssh= block=16M
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=${2:?}; shift 2 ;;
	-S) logins=${2:?}; shift 2 ;;
	--ssh) ssh=${2:?}; shift 2 ;;
	--block) block=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option '$1'" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die "no stage (embed, assign, match or mine)"
stage=$1; shift
command -v parallel >/dev/null || die "GNU parallel is not installed (Debian package 'parallel')"

work=$(mktemp -d "${TMPDIR:-/tmp}/pd-parallel.XXXXXX")
trap 'rm -rf "$work"' EXIT

par=(parallel --will-cite --joblog "$work/jobs" -q)
[ -n "$logins" ] && par+=(--sshlogin "$logins")
[ -n "$ssh" ] && par+=(--ssh "$ssh")
for v in DATABASE_URL REDIS_URL PD_EMBED_URL PD_EMBED_MODEL PD_EMBED_API_KEY \
	PINECONE_API_KEY PINECONE_INDEX_HOST OPENBLAS_NUM_THREADS; do
	[ -n "${!v:-}" ] && par+=(--env "$v")
done

# worst: the largest exit value in the job log (parallel's own status counts jobs)
worst() {
	local rc
	rc=$(awk -F'\t' 'NR > 1 && $7 > m { m = $7 } END { print m + 0 }' "$work/jobs")
	[ "$rc" -le 3 ] || rc=3
	return "$rc"
}

if [ "$stage" = mine ]; then
	[ $# -ge 1 ] || die "mine: how many shards?"
	n=$1; shift
	case $n in ''|*[!0-9]*|0) die "mine: shards '$n' is not a whole number from 1" ;; esac
	# --tee runs every shard at once: enough slots on each host for all of them
	nl=1
	[ -n "$logins" ] && nl=$(tr ',' '\n' <<<"$logins" | grep -c .)
	per=$(( (n + nl - 1) / nl ))
	[ -n "$jobs" ] && [ "$jobs" -gt "$per" ] && per=$jobs
	set +e
	"${par[@]}" --pipe --tee --keep-order -j "$per" \
		pd-mine --shard '{}'/"$n" "$@" ::: $(seq 1 "$n")
	set -e
	worst
	exit $?
fi

case $stage in
embed)
	[ $# -ge 1 ] || die "embed: which saved model?"
	model=$1; shift
	cmd=(pd-embed --model "$model" "$@") name=embed ;;
assign)
	[ $# -ge 1 ] || die "assign: which cluster file?"
	clusters=$1; shift
	cmd=(pd-cluster --assign "$clusters" "$@") name=cluster ;;
match)
	cmd=(pd-match "$@") name=match ;;
*)
	die "unknown stage '$stage' (embed, assign, match or mine)" ;;
esac
[ -n "$jobs" ] && par+=(-j "$jobs")

# count the records in and out beside the stream (wc -l on FIFOs: no extra pass)
mkfifo "$work/in.fifo" "$work/out.fifo"
wc -l <"$work/in.fifo" >"$work/in" & win=$!
wc -l <"$work/out.fifo" >"$work/out" & wout=$!
t0=$(date +%s.%N)
set +e
tee "$work/in.fifo" |
	"${par[@]}" --pipe --keep-order --block "$block" "${cmd[@]}" --no-metric |
	if [ "$stage" = assign ]; then
		# the blocks' drift records merged per cluster, in pd-cluster's shape and
		# number format (the share an integer when whole, else %.6g)
		awk -F'"' '
		/^\{"type":"drift",/ {
			c = $8
			if (!(c in n)) { order[++k] = c; lvl[c] = $12; r[c] = $21; sub(/^:/, "", r[c]); sub(/\}$/, "", r[c]) }
			x = $15; sub(/^:/, "", x); sub(/,$/, "", x); n[c] += x
			x = $17; sub(/^:/, "", x); sub(/,$/, "", x); b[c] += x
			next
		}
		{ print }
		END {
			for (i = 1; i <= k; i++) {
				c = order[i]; s = b[c] / n[c]
				printf "{\"type\":\"drift\",\"cluster\":\"%s\",\"level\":\"%s\",\"n\":%d,\"beyond_radius\":%d,\"share\":", c, lvl[c], n[c], b[c]
				if (s == int(s)) printf "%d", s; else printf "%.6g", s
				printf ",\"radius\":%s}\n", r[c]
			}
		}'
	else
		cat
	fi | tee "$work/out.fifo"
status=("${PIPESTATUS[@]}")
set -e
wait "$win" "$wout"
t1=$(date +%s.%N)
rc=0
worst || rc=$?
# parallel failed before any job (or a job was lost), or the stream broke here
if [ "${status[1]}" -ne 0 ] && [ "$rc" -eq 0 ]; then rc=3; fi
for i in 0 2 3; do [ "${status[$i]}" -eq 0 ] || rc=3; done
# one metric record for the stage (the blocks wrote none)
LC_ALL=C printf '{"type":"metric","stage":"%s","seconds":%.3f,"records_in":%d,"records_out":%d,"parallel":{"jobs":"%s","hosts":"%s","block":"%s"}}\n' \
	"$name" "$(echo "$t1 - $t0" | bc)" "$(cat "$work/in")" "$(cat "$work/out")" \
	"${jobs:-cores}" "${logins:-:}" "$block"
exit "$rc"
