#!/usr/bin/env bash
# pd-abtest: the plan (balance per channel, the same bytes for the same seed,
# stability when drafts are added, pd-match's draft ids, --pattern, --within);
# the analysis on simulated experiments (1,000 with no effect: Winners within
# alpha; the same 100 looked at after each of 30 days through the command: the
# p never rises, so a Winner at any look is a Winner at the last; a known
# effect found and covered; A/A tests on real perf values; Test & Compare
# shares); pass-through; bad records and options.
. "$(dirname "$0")/lib/tap.sh"
EX=$PD_TOP/examples

# gen.py SEED NEXP DAYS PER_DAY EFFECT [POOL]: per experiment, PER_DAY videos a
# day over two channels, assigned in permuted blocks of 4 per channel, then
# their video records with ln perf = effect (treatment) + noise: N(0, 0.65^2),
# or drawn from the ln perf values in POOL.  Video records carry "day".
cat >"$TMP/gen.py" <<'PY'
import math, random, sys
seed, nexp, days, per_day, effect = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
pool = [float(l) for l in open(sys.argv[6])] if len(sys.argv) > 6 else None
rnd = random.Random(seed)
out = []
for e in range(nexp):
    blocks = {0: [], 1: []}
    for i in range(days * per_day):
        ch = i % 2
        if not blocks[ch]:
            blocks[ch] = ["treatment", "treatment", "control", "control"]
            rnd.shuffle(blocks[ch])
        arm = blocks[ch].pop()
        day = i // per_day
        vid = "e%04d-v%03d" % (e, i)
        pub = "2026-%02d-%02dT%02d:00:00Z" % (1 + day // 28, 1 + day % 28, 8 + i % per_day)
        out.append('{"type":"abtest_assignment","experiment_id":"e%04d","video_id":"%s","arm":"%s",'
                   '"pattern_id":"p1","channel_id":"c%d","published_at":"%s"}' % (e, vid, arm, ch, pub))
        y = rnd.choice(pool) if pool else 0.65 * rnd.gauss(0, 1)
        if arm == "treatment":
            y += effect
        out.append('{"type":"video","id":"%s","channel_id":"c%d","published_at":"%s","day":%d,"perf":%.6g}'
                   % (vid, ch, pub, day + 1, math.exp(y)))
sys.stdout.write("\n".join(out) + "\n")
PY
gen() { /usr/bin/python3 "$TMP/gen.py" "$@"; }
# jsel TYPE EXPR FILE: true when the first record of TYPE in FILE satisfies EXPR
jsel() { jq -n -e --arg t "$1" "first(inputs | select(.type == \$t)) | $2" "$3" >/dev/null; }
# analyses FILE: "experiment decision arm p lo hi" of the abtest_analysis records
analyses() {
	grep '"abtest_analysis"' "$1" | jq -r 'select(.type == "abtest_analysis") | [.experiment_id, .decision, (.arm // "-"),
		.p_always_valid, (.effect_ci[0] // "-inf"), (.effect_ci[1] // "inf")] | @tsv'
}

# ---- plan ----

run pd-abtest plan --seed 7 --experiment ab-howto "$EX/abtest-drafts.ndjson"
cp "$OUT" "$TMP/plan.ndjson"
grep abtest_assignment "$OUT" >"$TMP/assign"
expect "plan: exit 0, one assignment per draft, after every record passed through in order" '
	check_status 0 && [ "$(wc -l <"$TMP/assign")" = 32 ] &&
	head -n "$(wc -l <"$EX/abtest-drafts.ndjson")" "$OUT" | cmp - "$EX/abtest-drafts.ndjson" &&
	jsel metric ".assigned == 32 and .treatment == 16 and .channels == 2" "$OUT"'
expect "plan: every complete block of 4 in a channel holds 2 and 2; fields as documented" '
	jq -r "[.channel_id, .block, .arm] | @tsv" "$TMP/assign" | sort | uniq -c |
		awk "\$1 != 2 { bad++ } END { exit bad > 0 }" &&
	jq -s -e "all(.experiment_id == \"ab-howto\" and .pattern_id == \"p-howto\" and .seed == 7 and
		.block_size == 4 and (.published_at | type) == \"string\")" "$TMP/assign" >/dev/null'
run pd-abtest plan --seed 7 --experiment ab-howto "$EX/abtest-drafts.ndjson"
no_metric "$OUT" >"$TMP/plan2"
expect "plan: the same seed gives the same bytes" 'no_metric "$TMP/plan.ndjson" | cmp - "$TMP/plan2"'
run pd-abtest plan --seed 8 --experiment ab-howto "$EX/abtest-drafts.ndjson"
expect "plan: another seed, another assignment" '
	check_status 0 && ! grep abtest_assignment "$OUT" | cmp -s - "$TMP/assign"'
# the first 10 drafts of each channel alone: the same arms as in the whole plan
{ grep '"draft"' "$EX/abtest-drafts.ndjson" | grep -E '"ch[AB]-(0[1-9]|10)"'
  grep '"recommendation"' "$EX/abtest-drafts.ndjson"; } >"$TMP/fewer.ndjson"
run pd-abtest plan --seed 7 --experiment ab-howto "$TMP/fewer.ndjson"
expect "plan: drafts added later leave the earlier assignments as they were" '
	check_status 0 && grep abtest_assignment "$OUT" | jq -r "[.video_id, .arm] | @tsv" |
		grep -E "^ch.-(0[1-9]|10)\s" >"$TMP/a1" && [ "$(wc -l <"$TMP/a1")" = 20 ] &&
	jq -r "[.video_id, .arm] | @tsv" "$TMP/assign" | grep -E "^ch.-(0[1-9]|10)\s" | cmp - "$TMP/a1"'
run pd-abtest plan --pattern p-mid "$EX/abtest-drafts.ndjson"
expect "plan --pattern: only the videos recommended it, treated with it; a default experiment id" '
	check_status 0 && grep abtest_assignment "$OUT" >"$TMP/pm" && [ "$(wc -l <"$TMP/pm")" = 11 ] &&
	jq -e -s "all(.pattern_id == \"p-mid\" and (.experiment_id | test(\"^ab-[0-9a-f]{16}$\")))" "$TMP/pm" >/dev/null &&
	grep -q "21 of 32 videos have no recommendation of that pattern" "$ERR"'
run pd-abtest plan --within "$EX/abtest-drafts.ndjson"
expect "plan --within: every video shows both titles" '
	check_status 0 && [ "$(grep -c "\"arm\":\"both\"" "$OUT")" = 32 ] && ! grep -q "\"block\"" "$OUT"'
# a draft without an id: pd-match names it, and the plan finds its recommendations
echo '{"type":"draft","title":"How to fold dough","duration_s":1000,"channel_id":"c9","embedding":[1,0.01,0,0]}' >"$TMP/draft.ndjson"
pd-match --patterns "$EX/match-patterns.ndjson" --recommend --no-metric "$TMP/draft.ndjson" >"$TMP/recs" 2>"$ERR"
IN=$TMP/recs run pd-abtest plan "$TMP/draft.ndjson" -
expect "plan: a draft without an id gets pd-match's id, so its recommendation applies" '
	check_status 0 && grep abtest_assignment "$OUT" >"$TMP/one" && [ "$(wc -l <"$TMP/one")" = 1 ] &&
	jq -e "(.video_id | startswith(\"draft:\")) and .channel_id == \"c9\" and .pattern_id == \"p-mid\"" "$TMP/one" >/dev/null &&
	[ "$(jq -r "select(.type == \"recommendation\") | .video_id" "$TMP/recs")" = "$(jq -r .video_id "$TMP/one")" ]'

# ---- analysis on simulated experiments ----

gen 1 1000 30 4 0 >"$TMP/null.ndjson"
run pd-abtest --no-metric "$TMP/null.ndjson"
analyses "$OUT" >"$TMP/null.an"
w=$(awk -F"\t" '$2 == "Winner"' "$TMP/null.an" | wc -l)
p=$(awk -F"\t" '$2 != "None"' "$TMP/null.an" | wc -l)
echo "# no effect: $w of 1000 experiments declared a Winner, $p a Winner or Preferred"
# alpha plus 2.33 binomial standard errors over 1,000: 66 for 0.05, 229 for 0.2
expect "1,000 experiments with no effect (120 videos, 30 days): Winners at most alpha" '
	check_status 0 && [ "$(wc -l <"$TMP/null.an")" = 1000 ] && [ "$w" -le 66 ] && [ "$p" -le 229 ]'
expect "no effect: the interval holds 0 exactly when there is no Winner" '
	awk -F"\t" "{ holds = (\$5 == \"-inf\" || \$5 <= 0) && (\$6 == \"inf\" || \$6 >= 0);
		if (holds == (\$2 == \"Winner\")) { print; bad++ } } END { exit bad > 0 }" "$TMP/null.an"'
# the first 50 of them looked at after each of the 30 days, through the command
grep -E '"e00[0-4][0-9]' "$TMP/null.ndjson" >"$TMP/n100"
for d in $(seq 1 30); do
	awk -v d="$d" '/"abtest_assignment"/ || (match($0, /"day":[0-9]+/) && substr($0, RSTART + 6, RLENGTH - 6) + 0 <= d)' "$TMP/n100" |
		pd-abtest --no-metric | grep '"abtest_analysis"' | jq -r --arg d "$d" 'select(.type == "abtest_analysis") | [$d, .experiment_id, .decision, .p_always_valid] | @tsv'
done >"$TMP/looks"
expect "daily looks: the always-valid p never rises from one day to the next" '
	[ "$(wc -l <"$TMP/looks")" = 1500 ] &&
	sort -k2,2 -k1,1n "$TMP/looks" | awk -F"\t" "\$2 == e && \$4 > p + 1e-12 { print; bad++ } { e = \$2; p = \$4 } END { exit bad > 0 }"'
expect "daily looks: a Winner at any look is a Winner at the last; the last look is the whole-stream answer" '
	awk -F"\t" "\$3 == \"Winner\" { print \$2 }" "$TMP/looks" | sort -u >"$TMP/ever" &&
	awk -F"\t" "\$1 == 30 && \$3 == \"Winner\" { print \$2 }" "$TMP/looks" | sort >"$TMP/last" &&
	cmp "$TMP/ever" "$TMP/last" &&
	awk -F"\t" "\$1 == 30 { print \$2 \"\t\" \$3 \"\t\" \$4 }" "$TMP/looks" >"$TMP/l30" &&
	head -n 50 "$TMP/null.an" | cut -f1,2,4 | cmp - "$TMP/l30"'

gen 2 400 30 4 0.405465 >"$TMP/eff.ndjson"
run pd-abtest --no-metric "$TMP/eff.ndjson"
analyses "$OUT" >"$TMP/eff.an"
w=$(awk -F"\t" '$2 == "Winner" && $3 == "treatment"' "$TMP/eff.an" | wc -l)
c=$(awk -F"\t" '($5 == "-inf" || $5 <= 0.405465) && ($6 == "inf" || $6 >= 0.405465)' "$TMP/eff.an" | wc -l)
echo "# ratio 1.5: $w of 400 experiments declared Winner treatment; the interval covered the truth in $c"
expect "400 experiments with a ratio of 1.5: found, right arm, interval covers the truth" '
	[ "$(wc -l <"$TMP/eff.an")" = 400 ] && [ "$w" -ge 240 ] && [ "$c" -ge 370 ] &&
	! grep -q "Winner	control" "$TMP/eff.an"'
gen 3 1 40 8 -0.693147 >"$TMP/neg.ndjson"
run pd-abtest "$TMP/neg.ndjson"
expect "a title that halves perf: Winner control, the ratio interval around 0.5" '
	check_status 0 && jsel abtest_analysis ".decision == \"Winner\" and .arm == \"control\" and
		.ratio_ci[0] < 0.5 and .ratio_ci[1] > 0.5 and .ratio_ci[1] < 1 and .n_treatment == 160" "$OUT"'

data=$PD_DATA/youtube-trending-dev.csv.gz
if [ -f "$data" ]; then
	pd-fetch --quiet --no-metric "$data" | jq -r 'select(.type == "video" and .perf != null and .perf > 0) | .perf | log' >"$TMP/pool"
	gen 4 1000 30 4 0 "$TMP/pool" >"$TMP/aa.ndjson"
	run pd-abtest --no-metric "$TMP/aa.ndjson"
	analyses "$OUT" >"$TMP/aa.an"
	w=$(awk -F"\t" '$2 == "Winner"' "$TMP/aa.an" | wc -l)
	echo "# A/A on $(wc -l <"$TMP/pool") real ln perf values: $w of 1000 experiments declared a Winner"
	expect "1,000 A/A tests on real perf values (heavy tails): Winners at most alpha" '
		[ "$(wc -l <"$TMP/pool")" -gt 20000 ] && [ "$(wc -l <"$TMP/aa.an")" = 1000 ] && [ "$w" -le 66 ]'
else
	skip "1,000 A/A tests on real perf values" "no $data"
fi

run pd-abtest --no-metric "$EX/abtest-compare.ndjson"
expect "Test & Compare shares: within-video, Winner treatment, results written after matching" '
	check_status 0 && jsel abtest_analysis ".design == \"within\" and .n_treatment == 24 and
		.decision == \"Winner\" and .arm == \"treatment\" and .ratio_ci[0] > 1" "$OUT" &&
	[ "$(grep -c "\"abtest_result\"" "$OUT")" = 48 ]'

# ---- pass-through and reproducibility ----

{ echo '{"type":"note","n":1}'; grep abtest_assignment "$TMP/plan.ndjson"; echo '{"type":"note","n":2}'
  cat "$EX/abtest-videos.ndjson"; echo '{"type":"note","n":3}'; } >"$TMP/mixed.ndjson"
run pd-abtest analyze --no-metric "$TMP/mixed.ndjson"
cp "$OUT" "$TMP/mixed.out"
expect "analyze: every record passes through unchanged and in order, then the analysis" '
	check_status 0 && head -n -1 "$OUT" | cmp - "$TMP/mixed.ndjson" &&
	tail -n 1 "$OUT" | jq -e ".type == \"abtest_analysis\" and .n_treatment == 16 and .n_control == 16" >/dev/null'
run pd-abtest analyze --no-metric "$TMP/mixed.ndjson"
expect "analyze: the same input gives the same bytes" 'cmp "$OUT" "$TMP/mixed.out"'

# ---- bad input ----

cat >"$TMP/bad.ndjson" <<'EOF'
{"type":"abtest_assignment","experiment_id":"x","video_id":"a1","arm":"treatment"}
{"type":"abtest_assignment","experiment_id":"x","video_id":"a2","arm":"control"}
{"type":"abtest_assignment","experiment_id":"x","arm":"control"}
{"type":"abtest_assignment","video_id":"a3","arm":"control"}
{"type":"abtest_assignment","experiment_id":"x","video_id":"a4","arm":"placebo"}
{"type":"video","id":"a1","perf":NaN}
{"type":"video","id":"a1","perf":"NaN"}
{"type":"video","id":"a1","perf":1.5}
{"type":"abtest_result","video_id":"ghost","arm":"control","perf":1.2}
{"type":"abtest_result","video_id":"a2","arm":"treatment","perf":1.2}
{"type":"abtest_result","video_id":"a2","arm":"control","watch_time_share":54.3}
{"type":"abtest_result","video_id":"a2","arm":"control","perf":0.8}
{"type":"abtest_assignment","experiment_id":"x","video_id":"a1","arm":"control"}
not json
EOF
run pd-abtest analyze --rejects "$TMP/rej" "$TMP/bad.ndjson"
expect "bad records: exit 1, each reported as FILE:LINE, the rest analysed" '
	check_status 1 &&
	grep -q "bad.ndjson:3: abtest_assignment has no string \"video_id\"" "$ERR" &&
	grep -q "bad.ndjson:4: abtest_assignment has no string \"experiment_id\"" "$ERR" &&
	grep -q "bad.ndjson:5: abtest_assignment of .a4.: unknown arm .placebo." "$ERR" &&
	grep -q "bad.ndjson:6: malformed JSON" "$ERR" &&
	grep -q "bad.ndjson:7: .perf. is not a non-negative number or null" "$ERR" &&
	grep -q "bad.ndjson:9: no assignment of video .ghost." "$ERR" &&
	grep -q "bad.ndjson:10: video .a2. is in arm control of experiment .x., the result is for treatment" "$ERR" &&
	grep -q "bad.ndjson:11: .*watch_time_share.* is not a share" "$ERR" &&
	grep -q "bad.ndjson:13: video .a1. is already in arm treatment of experiment .x." "$ERR" &&
	grep -q "bad.ndjson:14: " "$ERR" && grep -q "10 records rejected" "$ERR" &&
	jsel abtest_analysis ".n_treatment == 1 and .n_control == 1" "$OUT" &&
	jsel metric ".rejected == 10" "$OUT"'
expect "bad records: written whole to --rejects, none of them to the output" '
	sed -n "3,7p;9,11p;13,14p" "$TMP/bad.ndjson" | sort >"$TMP/want" && sort "$TMP/rej" | cmp - "$TMP/want" &&
	! grep -q -e ghost -e placebo -e NaN -e "54.3" "$OUT"'
run pd-abtest analyze --strict "$TMP/bad.ndjson"
expect "--strict: stops at the first bad record with exit 1" '
	check_status 1 && grep -q "bad.ndjson:3:" "$ERR" && ! grep -q "bad.ndjson:4:" "$ERR" && ! grep -q abtest_analysis "$OUT"'
printf '%s\n' '{"type":"draft","duration_s":3}' '{"type":"recommendation","video_id":"v"}' \
	'{"type":"draft","id":"d1","published_at":"tomorrow"}' >"$TMP/badplan.ndjson"
run pd-abtest plan "$TMP/badplan.ndjson"
expect "plan: a draft without id or title, a recommendation without a pattern, a bad time are rejected" '
	check_status 1 && grep -q "badplan.ndjson:1: draft has no string \"id\" and no \"title\"" "$ERR" &&
	grep -q "badplan.ndjson:2: recommendation for .v. has no string \"pattern_id\"" "$ERR" &&
	grep -q "badplan.ndjson:3: draft .d1.: \"published_at\" is not an RFC 3339 time" "$ERR"'

for args in "plan --alpha 0.1" "--seed 3" "analyze --within" "plan --block-size 3" "--alpha 0" \
	"--alpha 0.1 --prefer 0.05" "--tau -1" "plan --experiment="; do
	run pd-abtest $args
	expect "usage error: pd-abtest $args" '
		check_status 2 && grep -q "Try .pd-abtest --help. for more information." "$ERR"'
done
test_done
