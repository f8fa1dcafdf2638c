#!/usr/bin/env bash
# Run the end-to-end tests (the ones that use the test bed) while every
# core of the machine is kept busy, one test at a time, and print for each
# test whether it passed and how long it took. Run on demand, not in CI:
#
#   scripts/e2e-under-load.sh                 # every e2e test binary
#   scripts/e2e-under-load.sh update status   # only these binaries
#   LOAD_WORKERS=4 scripts/e2e-under-load.sh  # more busy loops than cores
#
# The load is one busy shell loop per core (LOAD_WORKERS, default: the
# number of cores); it stops when the script exits, however it exits.
# Logs of each test go to $LOG_DIR (default: a new directory under /tmp).
# Needs jq (to find the test binaries in cargo's build messages).
set -u

cd "$(dirname "$0")/.."

ALL="ssh_session update deploy status backup backup_roles maintain runbook_restore report os_update notify caddy acceptance"
if [ "$#" -gt 0 ]; then BINS="$*"; else BINS="$ALL"; fi
WORKERS="${LOAD_WORKERS:-$(nproc)}"
LOG_DIR="${LOG_DIR:-$(mktemp -d /tmp/regie-e2e-load.XXXXXX)}"
mkdir -p "$LOG_DIR"

# Build first, without load: the load is for the tests, not the compiler.
# The binaries are copied aside (the tests find `regie` next to their own
# deps/ directory), so a rebuild during a long run changes nothing under test.
BIN="$LOG_DIR/bin"
mkdir -p "$BIN/deps"
cargo build --bin regie >"$LOG_DIR/build.log" 2>&1 || {
    echo "build failed, see $LOG_DIR/build.log" >&2
    exit 2
}
for b in $BINS; do
    exe=$(cargo test --no-run --test "$b" --message-format=json 2>>"$LOG_DIR/build.log" |
        jq -r 'select(.profile.test == true and .executable != null) | .executable' | tail -n 1)
    if [ -z "$exe" ]; then
        echo "build of tests/$b.rs failed, see $LOG_DIR/build.log" >&2
        exit 2
    fi
    cp "$exe" "$BIN/deps/$b"
done
cp "$(dirname "$exe")/../regie" "$BIN/regie"
# A test binary that cannot list its tests would silently run nothing.
for b in $BINS; do
    "$BIN/deps/$b" --list --format terse >/dev/null 2>&1 || {
        echo "tests/$b.rs: cannot list its tests" >&2
        exit 2
    }
done

LOAD_PIDS=""
stop_load() {
    for p in $LOAD_PIDS; do kill "$p" 2>/dev/null; done
    for p in $LOAD_PIDS; do wait "$p" 2>/dev/null; done
    LOAD_PIDS=""
}
trap stop_load EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$WORKERS"); do
    sh -c 'while :; do :; done' &
    LOAD_PIDS="$LOAD_PIDS $!"
done
echo "load: $WORKERS busy loops (pids$LOAD_PIDS); logs in $LOG_DIR"

pass=0
fail=0
failed=""
start_all=$(date +%s)
for b in $BINS; do
    tests=$("$BIN/deps/$b" --list --format terse 2>/dev/null | sed -n 's/: test$//p')
    for t in $tests; do
        log="$LOG_DIR/$b--$t.log"
        t0=$(date +%s)
        if "$BIN/deps/$b" --exact "$t" >"$log" 2>&1; then
            r=PASS
            pass=$((pass + 1))
        else
            r=FAIL
            fail=$((fail + 1))
            failed="$failed $b::$t"
        fi
        printf '%s %5ss  %s::%s\n' "$r" "$(($(date +%s) - t0))" "$b" "$t"
    done
done
echo "passed $pass, failed $fail, in $(($(date +%s) - start_all))s under $WORKERS busy loops"
for f in $failed; do echo "failed: $f (log: $LOG_DIR/${f/::/--}.log)"; done
[ "$fail" -eq 0 ]
