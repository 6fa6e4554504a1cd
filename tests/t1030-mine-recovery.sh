#!/bin/bash
# pd-mine on planted-pattern data (examples/mine-synth.py, clusters set from
# the planted topics so clustering error does not enter): planted effects with
# lift >= 1.5 and >= 30 supporting videos are found in their own cluster
# (>= 90%), and in topics with nothing planted, what survives a global
# Benjamini-Hochberg step at 0.05 over all tests is <= 5% of what is reported.
# The numbers are printed as `# recovery:` lines.
. "$(dirname "$0")/lib/tap.sh"

cat >"$TMP/eval.py" <<'EOF'
import json, sys
out, truth_path = sys.argv[1], sys.argv[2]
pats, summ = [], None
for line in open(out):
    r = json.loads(line)
    if r["type"] == "pattern":
        pats.append(r)
    elif r["type"] == "mine_summary":
        summ = r
truth = [json.loads(l) for l in open(truth_path)]
pos = [t for t in truth if t["multiplier"] > 1]
canon = lambda f: json.dumps(f, sort_keys=True)
planted = {t["topic"] for t in truth}
def null_cluster(cid):
    # nothing planted in the cluster, its ancestors or its descendants
    parts = cid.split(".")
    if len(parts) == 1:
        return not any(m.split(".")[0] == cid for m in planted)
    return ".".join(parts[:2]) not in planted
# Benjamini-Hochberg over every test of the run (mine_summary.tests)
m = summ["tests"]
ps = sorted((p["stats"]["p"], i) for i, p in enumerate(pats) if p["direction"] == "positive")
k = 0
for rank, (p, i) in enumerate(ps, 1):
    if p <= 0.05 * rank / m:
        k = rank
surv = {i for _, i in ps[:k]}
eligible = [t for t in pos if t["lift"] >= 1.5 and t["n_with"] >= 30]
found = found_bh = 0
for t in eligible:
    hits = [i for i, p in enumerate(pats) if p["cluster"] == t["topic"] and p["direction"] == "positive" and
            (canon(p["feature"]) == canon(t["feature"]) or
             any(canon(a) == canon(t["feature"]) for a in p.get("aliases", [])))]
    found += bool(hits)
    found_bh += any(i in surv for i in hits)
    if not hits:
        print("# missed:", json.dumps(t))
nrep = sum(1 for p in pats if p["direction"] == "positive")
null_rep = [i for i, p in enumerate(pats) if p["direction"] == "positive" and null_cluster(p["cluster"])]
null_surv = [i for i in null_rep if i in surv]
print(f"# recovery: seed {sys.argv[3]}: found {found}/{len(eligible)} planted effects (lift>=1.5, >=30 videos) "
      f"in their cluster; {found_bh} of them survive BH")
print(f"# recovery: seed {sys.argv[3]}: {nrep} patterns reported, {m} tests, {len(surv)} survive BH 0.05; "
      f"null topics: {len(null_rep)} reported, {len(null_surv)} survive BH "
      f"({100 * len(null_surv) / max(1, nrep):.1f}% of reported)")
with open(sys.argv[4], "a") as f:
    f.write(f"{found} {len(eligible)} {len(null_surv)} {nrep}\n")
EOF

for seed in 1 2 3 4; do
	python3 "$PD_TOP/examples/mine-synth.py" --videos 8000 --seed $seed --truth "$TMP/truth$seed" >"$TMP/in$seed" || exit 1
	run pd-mine "$TMP/in$seed"
	expect "seed $seed: pd-mine mines 8000 planted videos" 'check_status 0'
	cp "$OUT" "$TMP/out$seed"
	python3 "$TMP/eval.py" "$TMP/out$seed" "$TMP/truth$seed" $seed "$TMP/tally"
done

expect 'planted effects (lift >= 1.5, >= 30 videos): >= 90% found in their own cluster' '
	awk "{f += \$1; e += \$2} END {printf \"found %d of %d\n\", f, e; exit !(e >= 30 && f >= 0.9 * e)}" "$TMP/tally"
'
expect 'null topics: what survives BH is <= 5% of what is reported' '
	awk "{s += \$3; r += \$4} END {printf \"%d of %d\n\", s, r; exit !(r > 0 && s <= 0.05 * r)}" "$TMP/tally"
'

# with a null-only input (nothing planted anywhere: perf independent of features)
python3 - "$TMP/in1" >"$TMP/null" <<'EOF'
import json, random, sys
rng = random.Random(5)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "video" and r["perf"] is not None:
        r["perf"] = round(rng.lognormvariate(0, 0.8), 4)
    print(json.dumps(r, separators=(",", ":")))
EOF
run pd-mine "$TMP/null"
cp "$OUT" "$TMP/nullout"
python3 - "$TMP/nullout" >"$TMP/nullres" <<'EOF'
import json, sys
pats = [json.loads(l) for l in open(sys.argv[1]) if '"type":"pattern"' in l]
m = [json.loads(l) for l in open(sys.argv[1]) if "mine_summary" in l][0]["tests"]
ps = sorted(p["stats"]["p"] for p in pats)
k = max([r for r, p in enumerate(ps, 1) if p <= 0.05 * r / m] or [0])
print("# recovery: all-null input: %d reported, %d tests, %d survive BH" % (len(pats), m, k))
print("%d %d" % (len(pats), k))
EOF
head -n 1 "$TMP/nullres"
expect 'all-null data: candidates are reported but <= 5% of them survive a global BH step' '
	check_status 0 && read -r rep surv < <(tail -n 1 "$TMP/nullres") &&
	[ "$rep" -gt 0 ] && [ $((surv * 20)) -le "$rep" ]
'

test_done
