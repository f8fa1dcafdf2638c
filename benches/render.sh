#!/usr/bin/env bash
# Benchmark: wall time of `regie validate` and `regie render` on the example
# inventories (release build, warm cache). Run on demand:
#   bash benches/render.sh [RUNS]
# Prints median, min and max in milliseconds per command.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
cargo build --release --quiet
bin=target/release/regie
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
measure() {
  local label=$1; shift
  "$@" >/dev/null 2>&1 # warm up (and create the output directory once)
  python3 - "$runs" "$label" "$@" <<'PY'
import subprocess, sys, time, statistics
runs, label, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - t) * 1000)
print(f"{label:<40} median {statistics.median(times):7.2f} ms   min {min(times):7.2f}   max {max(times):7.2f}   ({runs} runs)")
PY
}
echo "regie $($bin --version | cut -d' ' -f2), $(nproc) cores"
for ex in cabinet-durand mairie-techniville asso-lan; do
  measure "validate $ex" $bin validate -i inventories/$ex.yml
  measure "render   $ex" $bin render -i inventories/$ex.yml -o "$out/$ex"
done
