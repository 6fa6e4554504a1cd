# tests/lib/store.sh — shared by the t08xx pd-store tests (sourced, not run):
# a private database per test file, and a generator of pipeline streams.
#
#   store_db NAME      create database NAME on the test server (with pgvector)
#                      and export DATABASE_URL pointing at it; 1 when no server
#   store_db_or_skip NAME  the same with the services started, or the file skipped
#   gen_stream ARGS    write a synthetic stream to stdout (see gen_py below):
#                      --videos N --dim D --seed S --variant V [--dup] [--bad-dim]

store_db() {
	local admin=${ADMIN_URL:-${DATABASE_URL:-}}
	[ -n "$admin" ] || return 1
	local base=${admin%%\?*} query=
	case $admin in *\?*) query="?${admin#*\?}" ;; esac
	psql "$admin" -qAtX -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null 2>&1 || return 1
	ADMIN_URL=$admin
	DATABASE_URL="${base%/*}/$1$query"
	export DATABASE_URL ADMIN_URL
	STORE_DB=$1
}

# store_db_or_skip NAME: the private services up (tests/lib/services.sh) and
# database NAME made, both gone at exit; the whole file skipped when either
# cannot be
store_db_or_skip() {
	pd_services_up || { echo "1..0 # SKIP no database/redis"; exit 0; }
	store_db "$1" || { echo "1..0 # SKIP cannot create a database"; exit 0; }
	trap 'store_db_drop; pd_services_down; rm -rf "$TMP"' EXIT
}

store_db_drop() {
	[ -n "${ADMIN_URL:-}" ] && [ -n "${STORE_DB:-}" ] &&
		psql "$ADMIN_URL" -qAtX -c "DROP DATABASE IF EXISTS $STORE_DB WITH (FORCE)" >/dev/null 2>&1
	return 0
}

# q SQL: one query on the test database, unaligned, no headers
q() { psql "$DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

gen_stream() {
	/usr/bin/python3 - "$@" <<'PYEOF'
import argparse, base64, json, random, struct, sys
ap = argparse.ArgumentParser()
ap.add_argument("--videos", type=int, default=60)
ap.add_argument("--dim", type=int, default=8)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--variant", type=int, default=0)
ap.add_argument("--dup", action="store_true")
ap.add_argument("--bad-dim", action="store_true")
a = ap.parse_args()
rnd = random.Random(a.seed)
def b64(v):
    return base64.b64encode(struct.pack("<%df" % len(v), *v)).decode()
def vec(d):
    return [rnd.uniform(-1, 1) for _ in range(d)]
out = sys.stdout
def w(o):
    out.write(json.dumps(o, separators=(",", ":"), ensure_ascii=False) + "\n")
w({"type": "metric", "stage": "fetch", "seconds": 0.5, "records_in": a.videos,
   "records_out": a.videos, "rejected": 0, "videos": a.videos})
ids = []
for i in range(a.videos):
    vid = "v%04d" % i
    ids.append(vid)
    mac, mes, mic = "m%d" % (i % 2), "m%d.s%d" % (i % 2, i % 4), "m%d.s%d.u%d" % (i % 2, i % 4, i % 8)
    rec = {"type": "video", "id": vid, "channel_id": "ch%d" % (i % 7),
           "channel_title": "Channel %d" % (i % 7),
           "title": ("How to fix %d things ü" % i) if i % 3 == 0 else "Video number %d" % i,
           "description": "desc %d\twith tab\nand newline \\ backslash" % i,
           "tags": ["t%d" % (i % 5), "common"], "category": "Education",
           "published_at": "2025-11-%02dT10:00:00Z" % (1 + i % 28),
           "observed_at": "2025-12-10T05:00:00Z", "duration_s": 60 + i * 7,
           "views": 1000 + i * 113, "likes": 10 + i, "comments": i % 9, "is_short": i % 10 == 0,
           "extra": {"definition": "hd", "n": str(i)}, "age_days": 10.5 + i,
           "perf": None if i % 11 == 0 else round(0.5 + (i % 13) / 4.0 + a.variant, 4),
           "perf_basis": 5 + i % 3, "cluster": {"macro": mac, "meso": mes, "micro": mic},
           "cluster_sim": round(0.5 + (i % 50) / 100.0, 3), "holdout": i % 4 == 0,
           "embedding_b64": b64(vec(a.dim))}
    if rec["perf"] is None:
        rec["perf_reason"] = "channel has too few videos"
    w(rec)
    if a.dup and i == 3:
        w(rec)
    if a.bad_dim and i == 5:
        bad = dict(rec, id="bad-dim", embedding_b64=b64(vec(a.dim * 2)))
        w(bad)
w({"type": "metric", "stage": "cluster", "seconds": 0.25, "records_in": a.videos,
   "records_out": a.videos, "rejected": 0, "clusters": 14})
for m in range(2):
    w({"type": "cluster", "id": "m%d" % m, "level": "macro", "parent": None, "size": a.videos // 2,
       "centroid_b64": b64(vec(a.dim)), "radius": 0.4, "perf": {"median": 1.2},
       "channels": 7, "label": ["how", "fix"]})
    for s in range(2):
        mes = "m%d.s%d" % (m, m + 2 * s)
        w({"type": "cluster", "id": mes, "level": "meso", "parent": "m%d" % m,
           "size": a.videos // 4, "centroid_b64": b64(vec(a.dim)), "radius": 0.3})
        for u in range(2):
            w({"type": "cluster", "id": "%s.u%d" % (mes, m + 2 * s + 4 * u), "level": "micro",
               "parent": mes, "size": a.videos // 8, "centroid_b64": b64(vec(a.dim)),
               "radius": 0.2})
npat = 3 + a.variant
for p in range(npat):
    w({"type": "pattern", "id": "p%d-%d" % (a.variant, p), "pattern_type": "title",
       "feature": {"kind": "ngram", "value": "how to"}, "cluster": "m0.s0.u%d" % (4 * (p % 2)),
       "level": "micro", "centroid_b64": b64(vec(a.dim)), "radius": 0.25,
       "name": "How-to titles %d" % p, "description": "Titles that start with how to",
       "stats": {"n": 40, "n_with": 12 + p, "lift": 1.8 + p / 10, "effect": 1.8 + p / 10,
                 "effect_ci": [1.2, 2.4], "median_with": 2.5,
                 "median_without": 1.1, "mean_with": 2.9, "mean_without": 1.3, "p": 0.001,
                 "q": 0.01, "ci": [1.2, 2.4], "channels": 5},
       "examples": ids[p:p + 3], "status": "validated",
       "validation": {"holdout_lift": 1.6, "stable": True}})
w({"type": "metric", "stage": "mine", "seconds": 0.75, "records_in": a.videos,
   "records_out": a.videos + npat, "rejected": 0, "patterns": npat})
PYEOF
}

# wait_store_backend: until a pd-store session on the test database is in
# the middle of its run: its transaction open, holding the lock that makes
# runs take turns ("pdst", taken at the start of a run; the records read
# since are staged in the client or copied, checked, not slept for), at
# most ~30 s; 1 if it never is.
wait_store_backend() {
	local i
	for i in $(seq 600); do
		[ "$(psql "$DATABASE_URL" -qAtX -c "select count(*) from pg_stat_activity a
			join pg_locks l on l.pid = a.pid and l.locktype = 'advisory' and l.granted
			 and l.objid = 1885631348
			where a.application_name = 'pd-store' and a.xact_start is not null
			and a.datname = current_database()")" -ge 1 ] 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
