#!/usr/bin/env bash
# pd-embed's local model: embeddings of the right shape, a saved model that
# embeds exactly as training did, pass-through and --force, determinism
# whatever the BLAS and --threads counts, similar titles closer than unrelated ones,
# non-Latin titles, bad records and bad model files, a model of the old
# tokeniser refused; on 17,000 synthetic videos (past one chunk of
# embeddings), --threads 1, 2 and 3 give the same bytes and --model
# re-embeds them exactly.
. "$(dirname "$0")/lib/tap.sh"
PY=/usr/bin/python3
EX="$PD_TOP/examples/embed-input.ndjson"

run pd-embed --dims 16 --save-model "$TMP/m.pdtm" "$EX"
cp "$OUT" "$TMP/e1.ndjson"
expect 'embeds the example videos, exit 0' 'check_status 0'
expect 'every video gets a unit embedding_b64 of 16 dims; other records pass through in order' '
	$PY - "$EX" "$TMP/e1.ndjson" <<PYEOF
import json, sys, base64, struct
inp = [json.loads(l) for l in open(sys.argv[1])]
out = [json.loads(l) for l in open(sys.argv[2]) if not l.startswith("{\"type\":\"metric\"")]
assert len(inp) == len(out)
for a, b in zip(inp, out):
    assert a.get("id") == b.get("id") and a["type"] == b["type"]
    if a["type"] != "video":
        assert a == b
        continue
    v = struct.unpack("<16f", base64.b64decode(b.pop("embedding_b64")))
    assert abs(sum(x * x for x in v) - 1) < 1e-5, v
    assert a == b
PYEOF'
expect 'the metric record names the model and its size' '
	tail -n 1 "$TMP/e1.ndjson" | jq -e ".embedded == 60 and .dims == 16 and .rank == 16 and .terms > 100"'

run pd-embed --model "$TMP/m.pdtm" "$EX"
expect '--model embeds every video exactly as at training time' '
	check_status 0 && cmp <(no_metric "$OUT") <(no_metric "$TMP/e1.ndjson")'
OPENBLAS_NUM_THREADS=2 pd-embed --dims 16 --no-metric "$EX" >"$TMP/t2" 2>/dev/null
expect 'same input and seed: byte-identical with 2 BLAS threads' 'cmp "$TMP/t2" <(no_metric "$TMP/e1.ndjson")'
run pd-embed --dims 16 --seed 9 --no-metric "$EX"
expect 'the model is seeded (another seed, other vectors)' '! cmp -s "$OUT" "$TMP/t2"'
run pd-embed --dims 16 --emb-form json "$EX"
expect '--emb-form json writes "embedding" arrays' '
	check_status 0 && [ "$(jq -c "select(.type==\"video\") | .embedding | length" "$OUT" | sort -u)" = 16 ]'

expect 'similar titles are closer than unrelated ones' '
	$PY - "$TMP/e1.ndjson" <<PYEOF
import json, sys, base64, struct
vs = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "video":
        vs[r["id"]] = (r["tags"], struct.unpack("<16f", base64.b64decode(r["embedding_b64"])))
def cos(a, b): return sum(x * y for x, y in zip(a, b))
same, diff = [], []
ids = sorted(vs)
for i in ids:
    for j in ids:
        if i < j and vs[i][0] and vs[j][0]:
            (same if vs[i][0][0] == vs[j][0][0] else diff).append(cos(vs[i][1], vs[j][1]))
ms, md = sum(same) / len(same), sum(diff) / len(diff)
print(ms, md)
assert ms > md + 0.3
PYEOF'
expect 'titles in Japanese get embeddings, and related ones are close' '
	$PY - "$TMP/e1.ndjson" <<PYEOF
import json, sys, base64, struct
v = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "video" and r["channel_id"] == "UCjp":
        v[r["title"]] = struct.unpack("<16f", base64.b64decode(r["embedding_b64"]))
def cos(a, b): return sum(x * y for x, y in zip(a, b))
a, b = v["簡単 パスタ レシピ"], v["簡単 ラーメン レシピ"]
c = v["マインクラフト 建築 講座"]
assert any(x != 0 for x in a)
print(cos(a, b), cos(a, c))
assert cos(a, b) > cos(a, c)
PYEOF'

# pass-through and --force
{ head -n 3 "$TMP/e1.ndjson"; sed -n 4,6p "$EX"; } >"$TMP/mixed.ndjson"
run pd-embed --model "$TMP/m.pdtm" "$TMP/mixed.ndjson"
expect 'records that already carry an embedding pass through unchanged' '
	check_status 0 && cmp <(head -n 3 "$OUT") <(head -n 3 "$TMP/e1.ndjson") &&
	[ "$(jq -c "select(.type==\"video\" and .embedding_b64)" "$OUT" | wc -l)" = "$(jq -c "select(.type==\"video\")" "$TMP/mixed.ndjson" | wc -l)" ]'
jq -c 'if .type=="video" then .embedding_b64="AACAPwAAAAA=" else . end' "$EX" >"$TMP/pre.ndjson"
run pd-embed --model "$TMP/m.pdtm" --force "$TMP/pre.ndjson"
expect '--force embeds them again' '
	check_status 0 && cmp <(no_metric "$OUT") <(no_metric "$TMP/e1.ndjson")'

# bad input
{ sed -n 1,3p "$EX"; echo '{"type":"video","id":'; echo '{"type":"video","title":"no id"}'; sed -n 4,5p "$EX"; } >"$TMP/bad.ndjson"
run pd-embed --model "$TMP/m.pdtm" --rejects "$TMP/rej" "$TMP/bad.ndjson"
expect 'bad records: exit 1, FILE:LINE, --rejects, good ones still out' '
	check_status 1 && grep -q "bad.ndjson:4: " "$ERR" && grep -q "bad.ndjson:5: " "$ERR" &&
	[ "$(wc -l <"$TMP/rej")" = 2 ] && [ "$(jq -c "select(.embedding_b64)" "$OUT" | wc -l)" -ge 4 ]'
run pd-embed --rejects "$TMP/rej2" "$TMP/bad.ndjson"
expect 'bad records while training: exit 1, the others embedded' '
	check_status 1 && [ "$(wc -l <"$TMP/rej2")" = 2 ] && [ "$(jq -c "select(.embedding_b64)" "$OUT" | wc -l)" -ge 4 ]'

# bad models
run pd-embed --model "$TMP/nonexistent" "$EX"
expect 'a missing model: exit 2' 'check_status 2 && grep -q "cannot open model" "$ERR"'
head -c 1000 "$TMP/m.pdtm" >"$TMP/trunc.pdtm"
run pd-embed --model "$TMP/trunc.pdtm" "$EX"
expect 'a truncated model: exit 2' 'check_status 2 && grep -q "model" "$ERR"'
cp "$TMP/m.pdtm" "$TMP/flip.pdtm"
printf '\x55' | dd of="$TMP/flip.pdtm" bs=1 seek=2000 conv=notrunc 2>/dev/null
run pd-embed --model "$TMP/flip.pdtm" "$EX"
expect 'a damaged model: exit 2, checksum' 'check_status 2 && grep -q "checksum" "$ERR"'
# a model of tokeniser version 1 (its checksum made right): retrain it
$PY - "$TMP/m.pdtm" "$TMP/v1.pdtm" <<'PYEOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
assert b[8] == 2
b[8] = 1
h = 0xcbf29ce484222325
for c in b[:-8]:
    h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
z = (h + 0x9e3779b97f4a7c15) & 0xFFFFFFFFFFFFFFFF
z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & 0xFFFFFFFFFFFFFFFF
z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & 0xFFFFFFFFFFFFFFFF
z ^= z >> 31
b[-8:] = z.to_bytes(8, "little")
open(sys.argv[2], "wb").write(b)
PYEOF
run pd-embed --model "$TMP/v1.pdtm" "$EX"
expect 'a model of the old tokeniser: exit 2, must be retrained' '
	check_status 2 && grep -q "tokeniser version 1" "$ERR" && grep -q "retrained" "$ERR"'

# threads: the same bytes; embeddings made chunk by chunk match --model
pd-synth --videos 17000 --seed 3 --format ndjson >"$TMP/syn.ndjson"
pd-embed --dims 24 --threads 1 --no-metric --save-model "$TMP/syn.pdtm" "$TMP/syn.ndjson" >"$TMP/s1" 2>/dev/null
pd-embed --dims 24 --threads 2 --no-metric "$TMP/syn.ndjson" >"$TMP/s2" 2>/dev/null
pd-embed --dims 24 --threads 3 --no-metric "$TMP/syn.ndjson" >"$TMP/s3" 2>/dev/null
expect '--threads 1, 2 and 3: byte-identical output on 17,000 videos' '
	[ "$(grep -c embedding_b64 "$TMP/s1")" = 17000 ] && cmp "$TMP/s1" "$TMP/s2" && cmp "$TMP/s1" "$TMP/s3"'
pd-embed --model "$TMP/syn.pdtm" --no-metric "$TMP/syn.ndjson" >"$TMP/sm" 2>/dev/null
expect '--model re-embeds all 17,000 exactly as training did' 'cmp "$TMP/s1" "$TMP/sm"'
run pd-embed --model "$EX" "$EX"
expect 'a file that is not a model: exit 2' 'check_status 2 && grep -q "not a pd-embed model" "$ERR"'
run pd-embed --model "$TMP/m.pdtm" --save-model "$TMP/x" "$EX"
expect '--model with --save-model is a usage error' 'check_status 2'
run pd-embed --dims 0 "$EX"
expect '--dims 0 is a usage error' 'check_status 2'
run pd-embed --save-model "$TMP/x" /dev/null
expect 'no videos to train on with --save-model: exit 1' 'check_status 1 && grep -q "no videos" "$ERR"'

# training writes a video's line from its input text where that is already as
# cJSON writes it, else from the parsed record: either way the bytes that
# --model (which always prints the parsed record) writes
$PY - >"$TMP/forms.ndjson" <<'PYEOF'
titles = ['"cook rice fast"', '"cook rice \\u00e9asy"', '"rice \\/ pasta cook"', '"tab\\there rice"',
          '"bell\\u0007 rice cook"', '"back\\bspace pasta rice"', '"feed\\f cook rice"', '"q \\" rice"',
          '"uni \\u00E9 rice cook"', '"ctl \\u001f rice"', '"ctl \\u001F pasta"', '"nl \\u000a cook"']
nums = ['1', '0', '-0', '1.0', '36.4280', '36.428', '1e2', '1E2', '2147483647', '2147483648',
        '-2147483648', '9999999999', '0.1', '0.30000000000000004', '1.5e300', '3.14159265358979',
        '-1.25e-7', '12345678901234567890', '1e-7', '0.1000000000000000055511151231257827']
i = 0
for t in titles:
    for k, x in enumerate(nums):
        i += 1
        sp = ' ' if i % 7 == 0 else ''
        print('{"type":"video","id":"v%d","title":%s,"tags":["cook tips","rice"],"views":%d,'
              '"x":%s,%s"extra":{"a":[%s,{"b":null}],"c":true,"d":false,"e":""}}'
              % (i, t, k, x, sp, nums[(k + 5) % len(nums)]))
print('{"type":"cluster","id":"c1"}')
print('{"type":"video","id":"e1","title":"cook rice","embedding":[0.5,0.5,0.5,0.5]}')
print('{"type":"video","id":"e2","embedding_b64":"AACAPwAAgD8AAIA/AACAPw==","title":"rice cook"}')
print('{"type":"video","id":"e3","title":"an \\"embedding\\" of rice"}')
print('{ "type" : "video" , "id" : "s1" , "title" : "cook rice spaced" }')
print('{"type":"video","id":"bad","title":3}')
PYEOF
for f in "" --force; do
	pd-embed --dims 8 $f --save-model "$TMP/f.pdtm" --rejects "$TMP/f.rej" "$TMP/forms.ndjson" >"$TMP/f.t" 2>"$TMP/f.terr"
	pd-embed --model "$TMP/f.pdtm" $f --rejects "$TMP/f.mrej" "$TMP/forms.ndjson" >"$TMP/f.m" 2>"$TMP/f.merr"
	expect "records in forms cJSON writes otherwise${f:+ ($f)}: training writes what --model writes" '
		cmp <(no_metric "$TMP/f.t") <(no_metric "$TMP/f.m") && cmp "$TMP/f.rej" "$TMP/f.mrej" &&
		[ "$(wc -l <"$TMP/f.rej")" = 1 ] && cmp "$TMP/f.terr" "$TMP/f.merr" &&
		n=$(no_metric "$TMP/f.t" | grep -c embedding_b64) && [ "$n" -ge 240 ] &&
		same=$(paste -d "\n" <(no_metric "$TMP/f.t" | sed -E "s/,\"embedding_b64\":\"[^\"]*\"}\$/}/") \
			<(grep -v "\"bad\"" "$TMP/forms.ndjson") | paste - - | awk -F "\t" "\$1 == \$2" | wc -l) &&
		[ "$same" -ge 20 ] && [ "$same" -le 200 ]'
done

test_done
