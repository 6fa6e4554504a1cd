#!/usr/bin/env bash
# t0820-store-pinecone.sh — pd-store's optional Pinecone upsert against a
# loopback server speaking Pinecone's data-plane REST API (POST
# /vectors/upsert with Api-Key, answering upsertedCount), through the same
# client code production uses (lib/pinecone.c over lib/http.c).
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/store.sh"

if ! store_db t0820_store; then
	echo "1..0 # SKIP no PostgreSQL (DATABASE_URL unset or unreachable)"
	exit 0
fi
unset REDIS_URL
cat >"$TMP/fake_pinecone.py" <<'PYEOF'
import json, os, sys
sys.path.insert(0, os.environ["PD_TOP"] + "/tests")
import fake_http

def handle(req):
    if req.path != "/vectors/upsert" or req.method != "POST":
        return None
    if req.headers.get("api-key") != "test-key":
        return fake_http.json_reply(401, {"code": 16, "message": "Invalid API Key"})
    data = req.json() or {}
    vecs = data.get("vectors", [])
    with open(fake_http.ARGS.store, "a") as f:
        for v in vecs:
            f.write(json.dumps({"id": v["id"], "values": v["values"],
                                "namespace": data.get("namespace", "")}) + "\n")
    return fake_http.json_reply(200, {"upsertedCount": len(vecs)})

fake_http.main(handle, description="fake Pinecone data plane",
               add_args=lambda p: p.add_argument("--store", required=True))
PYEOF
. "$(dirname "$0")/lib/fake.sh"
start_server() {	# extra fake_http flags...
	: >"$TMP/vectors" ; : >"$TMP/log"
	fake_start "$TMP/fake_pinecone.py" --store "$TMP/vectors" --log "$TMP/log" "$@"
	port=$FAKE_PORT
}
stop_server() { fake_stop; }
trap 'store_db_drop; _tap_cleanup' EXIT
export PD_HTTP_BACKOFF_MS=10 PD_HTTP_MAX_BACKOFF_MS=50

gen_stream --videos 250 --dim 8 --seed 1 >"$TMP/in.ndjson"
start_server
IN=$TMP/in.ndjson run env PINECONE_API_KEY=test-key PINECONE_INDEX_HOST=http://127.0.0.1:$port \
	PINECONE_NAMESPACE=videos pd-store --no-passthrough
expect 'embeddings are upserted to Pinecone in batches of 100' '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".pinecone_upserted == 250" &&
	test "$(wc -l <"$TMP/log")" = 3 &&
	test "$(jq -r .path "$TMP/log" | sort -u)" = /vectors/upsert &&
	test "$(jq -r ".headers[\"api-key\"]" "$TMP/log" | sort -u)" = test-key &&
	test "$(jq -r .id "$TMP/vectors" | sort | tr -d "\n" | md5sum)" = \
		"$(jq -r "select(.type == \"video\") | .id" "$TMP/in.ndjson" | sort | tr -d "\n" | md5sum)" &&
	test "$(jq -r .namespace "$TMP/vectors" | sort -u)" = videos'
expect 'the vectors sent are the records'"'"' embeddings (float32 exact)' '
	jq -r "select(.type == \"video\") | [.id, .embedding_b64] | @tsv" "$TMP/in.ndjson" | sort >"$TMP/want.tsv" &&
	/usr/bin/python3 -c "
import json, struct, base64, sys
want = dict(l.rstrip(\"\n\").split(\"\t\") for l in open(\"$TMP/want.tsv\"))
for l in open(\"$TMP/vectors\"):
    v = json.loads(l)
    w = struct.unpack(\"<8f\", base64.b64decode(want[v[\"id\"]]))
    got = tuple(struct.unpack(\"<f\", struct.pack(\"<f\", x))[0] for x in v[\"values\"])
    assert got == w, (v[\"id\"], got, w)
"'
stop_server

start_server --fault 'POST /vectors/upsert=503x2'
IN=$TMP/in.ndjson run env PINECONE_API_KEY=test-key PINECONE_INDEX_HOST=http://127.0.0.1:$port \
	pd-store --no-passthrough
expect 'a 503 from Pinecone is retried, the store succeeds' '
	check_status 0 && tail -n 1 "$OUT" | jq -e ".pinecone_upserted == 250" &&
	test "$(jq -r .status "$TMP/log" | grep -c 503)" = 2'
stop_server

gen_stream --videos 30 --dim 8 --seed 3 --variant 1 >"$TMP/in2.ndjson"
runs_before=$(q "select count(*) from discovery_runs")
start_server
IN=$TMP/in2.ndjson run env PINECONE_API_KEY=wrong-key PINECONE_INDEX_HOST=http://127.0.0.1:$port \
	pd-store --no-passthrough
expect 'Pinecone refusing the key: exit 3 with the reason, nothing of the run stored' '
	check_status 3 && grep -q "pd-store: pinecone: upsert: HTTP 401" "$ERR" && ! grep -q wrong-key "$ERR" &&
	test "$(q "select count(*) from discovery_runs")" = "$runs_before"'
stop_server

IN=$TMP/in2.ndjson run env PINECONE_API_KEY=test-key PINECONE_INDEX_HOST= pd-store --no-passthrough
expect 'half a Pinecone configuration is a usage error' '
	check_status 2 && grep -q "PINECONE_INDEX_HOST" "$ERR"'
IN=$TMP/in2.ndjson run env PINECONE_API_KEY=test-key PINECONE_INDEX_HOST=http://127.0.0.1:1 \
	pd-store --no-passthrough --no-pinecone
expect '--no-pinecone leaves Pinecone alone' '
	check_status 0 && ! tail -n 1 "$OUT" | grep -q pinecone'

test_done
