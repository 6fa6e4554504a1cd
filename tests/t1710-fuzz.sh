#!/usr/bin/env bash
# t1710-fuzz.sh — a bounded run of every libFuzzer target (tests/fuzz/,
# scripts/fuzz): each target's regression inputs (tests/fuzz/crashes/NAME,
# inputs that once crashed pd) run once, then it fuzzes PD_FUZZ_SECONDS
# (default 4) from its seeds, with ASan and UBSan.  `make fuzz` runs longer.
# clang and libFuzzer's runtime are required: their absence is a failure.
. "$(dirname "$0")/lib/tap.sh"
cd "$PD_TOP"
secs=${PD_FUZZ_SECONDS:-4}

if ! command -v clang >/dev/null; then
	not_ok "clang is installed (scripts/install-deps installs clang and libclang-rt-14-dev)"
	echo "# clang is missing: the fuzzers cannot be built" >&2
	test_done
fi
ok "clang is installed"
work=build/fuzz/check
rm -rf "$work"
mkdir -p "$work"
if ! make -s --no-print-directory fuzz-bins >"$work/build.log" 2>&1; then
	not_ok "the fuzzers build (make fuzz-bins)"
	sed 's/^/#   /' "$work/build.log" | tail -n 30
	test_done
fi
ok "the fuzzers build (make fuzz-bins)"

for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	nreg=$(find "tests/fuzz/crashes/$name" -type f 2>/dev/null | wc -l)
	if PD_FUZZ_WORK=$work scripts/fuzz "$secs" "$name" >"$work/$name.line" 2>"$work/$name.err"; then
		ok "$name: $nreg regression inputs, then ${secs}s of fuzzing: $(sed 's/^fuzz: [a-z_]*: ok: //; s/, [0-9]* regression inputs$//' "$work/$name.line")"
	else
		not_ok "$name: no crash, leak, hang or undefined behaviour"
		sed 's/^/#   /' "$work/$name.err" | tail -n 40
		for f in "$work/$name"-crash-* "$work/$name"-leak-* "$work/$name"-timeout-* "$work/$name"-oom-*; do
			[ -f "$f" ] && echo "#   input kept in $f"
		done
	fi
done
test_done
