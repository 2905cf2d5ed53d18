#!/usr/bin/env bash
# Runs every test of the project and ends with one line: "N passed, N failed, N skipped".
# Exits non-zero when the build or any test failed, or when no test ran.
# As root, the tests run inside a private network namespace (unshare -n) with only `lo` up,
# so nothing they do can reach a real network. With CI=true, anything a test needs that is
# missing (root, libpcap, namespaces, tcpdump, clang and zlib for Native AOT, make and a C
# compiler for netconsd) makes the run fail instead of being skipped.
set -uo pipefail
cd "$(dirname "$0")"
. scripts/prerequisites.sh

ci="${CI:-false}"
missing=0
ensure_dotnet || exit 1
ensure_libpcap || missing=1
ensure_command tcpdump tcpdump || missing=1
ensure_command ip iproute2 || missing=1
ensure_command socat socat || missing=1
ensure_native_aot || missing=1
ensure_command make make || missing=1 # netconsd, the real receiver, is built from source by the tests
ensure_command cc gcc || missing=1
if [ "$missing" = 1 ] && [ "$ci" = true ]; then
  say "CI=true: prerequisites are missing (see above); failing."
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

configuration=Release
results="$PWD/.test-results"
rm -rf "$results"
mkdir -p "$results"

echo "== build ($configuration)"
if ! dotnet build Netconsole.sln -c "$configuration" -nologo -v quiet; then
  say "The build failed (its errors are above)."
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# No test may hang the run: one that runs longer than the hang timeout (the slowest takes about
# a minute) ends the test host and names itself, and the whole run has a limit of its own.
hang_timeout="${NETCONSOLE_TEST_HANG_TIMEOUT:-6m}"
run_limit="${NETCONSOLE_TEST_RUN_LIMIT:-40m}"
run_tests=(timeout --kill-after=30s "$run_limit"
  dotnet test Netconsole.sln -c "$configuration" --no-build -nologo
  --blame-hang-timeout "$hang_timeout" --blame-hang-dump-type none
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results")

echo "== test"
if is_root && command -v unshare >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
  # A private network namespace: the test host talks to the runner over loopback, so bring lo up.
  NETCONSOLE_TEST_NETNS=1 unshare -n bash -c 'ip link set lo up && exec "$@"' bash "${run_tests[@]}" > "$results/console.log" 2>&1
  status=$?
else
  if [ "$ci" = true ]; then
    say "CI=true: cannot create a private network namespace (need root and unshare); failing."
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
  fi
  say "Not root or no unshare: running tests in the current network namespace (tests that need the network lab will say so)."
  "${run_tests[@]}" > "$results/console.log" 2>&1
  status=$?
fi
# The runner's verdict, then every failed test with its message and the skipped ones
# grouped by their reason (read from the .trx files, not grepped from the console output).
grep -E '^(Test Run (Successful|Failed|Aborted)|Passed!|Failed!)' "$results/console.log" || true
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
  say "The test run did not end within $run_limit and was stopped."
fi
# A test that hung or crashed the test host: the runner names it (blame) before it ends the run.
if grep -q "^The active test run was aborted" "$results/console.log"; then
  grep -E "^Data collector 'Blame' message|^The active test run was aborted" "$results/console.log"
  sed -n '/^The test running when the crash occurred/,/^This test may/p' "$results/console.log"
fi
scripts/test-report.sh "$results"/*.trx

# Sum the counters of every test run (one .trx per test project).
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
  # The runner failed without reporting a failed test (a crash, a build problem): count it.
  say "The test run failed without a failed test (a crash?); the end of $results/console.log:"
  tail -n 30 "$results/console.log"
  failed=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
