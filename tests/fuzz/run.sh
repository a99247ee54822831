#!/usr/bin/env bash
# Run one libFuzzer harness: replay its regressions (inputs that once
# crashed) and its seed corpus, then fuzz for SECONDS ($SBX_FUZZ_SECONDS
# overrides, for `make fuzz`). New inputs go to WORKDIR/corpus/<name>,
# never into the committed seeds; a crash is saved in WORKDIR/artifacts/
# and fails the run, with the harness's report.
#   run.sh HARNESS SECONDS SOURCE_DIR WORKDIR
set -euo pipefail
harness=$1 seconds=${SBX_FUZZ_SECONDS:-$2} src=$3 work=$4
name=$(basename "$harness")
seeds=$src/corpus/$name
regressions=$src/regressions/$name
corpus=$work/corpus/$name
artifacts=$work/artifacts/$name
log=$work/$name.log
mkdir -p "$corpus" "$artifacts"

fail() {
  tail -n 60 "$log"
  echo "$name: FAILED (log: $log; crashing input in $artifacts/)"
  exit 1
}

if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
  "$harness" "$regressions"/* >"$log" 2>&1 || fail
  echo "$name: $(ls "$regressions" | wc -l) regression inputs pass"
fi
dirs=("$corpus")
[ -d "$seeds" ] && dirs+=("$seeds")
"$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "${dirs[@]}" >"$log" 2>&1 || fail
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
nseeds=0
[ -d "$seeds" ] && nseeds=$(ls "$seeds" | wc -l)
echo "$name: ${seconds} s, $execs executions, corpus $(ls "$corpus" | wc -l) inputs" \
  "(+ $nseeds seeds), no crash" | tee "$work/$name.summary"
