#!/usr/bin/env bash
# Joinery's test command. On a fresh Debian machine (as root) it installs what the tests need (rabbitmq-server,
# chromium), starts RabbitMQ, builds the solution once and runs every test project, then ends with the line
# "N passed, N failed" (", N skipped" when some were skipped). Exits non-zero when anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
REPO_ROOT="$(pwd)"

CONFIGURATION="${JOINERY_CONFIGURATION:-Release}"
RESULTS_DIR="$REPO_ROOT/.artifacts/test-results"
PROJECT_TIMEOUT="${JOINERY_TEST_PROJECT_TIMEOUT:-1800}"   # seconds, per test project
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export JOINERY_CONFIGURATION="$CONFIGURATION"

# The end-to-end fixture stops its own processes; this is the safety net if its test host was killed.
# (Read before lib.sh gives JOINERY_LOCAL_DIR its up.sh default.)
E2E_LOCAL_DIR="${JOINERY_LOCAL_DIR:-$REPO_ROOT/.local/e2e}"

say() { printf '[test] %s\n' "$*"; }
source "$REPO_ROOT/deploy/local/lib.sh"   # apt_install, ensure_rabbitmq
log() { say "$@"; }

rm -rf "$RESULTS_DIR"
mkdir -p "$RESULTS_DIR"

cleanup() { JOINERY_LOCAL_DIR="$E2E_LOCAL_DIR" "$REPO_ROOT/deploy/local/down.sh" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# --- what the tests need ---------------------------------------------------------------------------------------
command -v dotnet >/dev/null 2>&1 || { say "dotnet (the .NET 10 SDK) is not on PATH"; echo "0 passed, 1 failed"; exit 1; }

missing=()
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "$RESULTS_DIR/apt.log" "${missing[@]}" || { echo "0 passed, 1 failed"; exit 1; }
fi
# Left running afterwards, like any other system service.
ensure_rabbitmq "$RESULTS_DIR/rabbitmq.log" 90 || { echo "0 passed, 1 failed"; exit 1; }

if [ -n "${MONGODB_URI:-}" ]; then
  export MONGODB_URI
  say "MONGODB_URI is set: MongoDB contract tests run against it"
else
  say "MONGODB_URI is not set: MongoDB contract tests are skipped (reported as skipped below)"
fi

# --- the test projects -----------------------------------------------------------------------------------------
mapfile -t PROJECTS < <(grep -rlE --include='*.csproj' '<IsTestProject>[[:space:]]*true[[:space:]]*</IsTestProject>' tests | sort)
if [ "${#PROJECTS[@]}" -eq 0 ]; then
  say "no test projects found under tests/"; echo "0 passed, 1 failed"; exit 1
fi

# --- build once ------------------------------------------------------------------------------------------------
say "building Joinery.slnx ($CONFIGURATION)"
if ! timeout 1200 dotnet build Joinery.slnx -c "$CONFIGURATION" -nologo -v q >"$RESULTS_DIR/build.log" 2>&1; then
  if grep -qE ': error ' "$RESULTS_DIR/build.log"; then
    grep -E ': error ' "$RESULTS_DIR/build.log" | sed "s|$REPO_ROOT/||g" | sort -u | head -n 40
  else
    tail -n 20 "$RESULTS_DIR/build.log"
  fi
  say "build failed (full log: .artifacts/test-results/build.log): no test ran"
  echo "0 passed, ${#PROJECTS[@]} failed"
  exit 1
fi
export JOINERY_SKIP_BUILD=1   # the end-to-end fixture's up.sh reuses this build

# Reads one attribute of the <Counters .../> element of a trx file (0 when absent).
counter() {
  local value
  value="$(grep -o '<Counters [^>]*' "$1" | head -n 1 | grep -oE " $2=\"[0-9]+\"" | grep -oE '[0-9]+' || true)"
  echo "${value:-0}"
}

TOTAL_PASSED=0 TOTAL_FAILED=0 TOTAL_SKIPPED=0
for project in "${PROJECTS[@]}"; do
  name="$(basename "$project" .csproj)"
  trx="$RESULTS_DIR/$name.trx"
  console="$RESULTS_DIR/$name.log"
  say "running $name"
  set +e
  timeout --kill-after=30 "$PROJECT_TIMEOUT" dotnet test "$project" --no-build -c "$CONFIGURATION" --nologo \
    --logger "trx;LogFileName=$trx" --results-directory "$RESULTS_DIR" \
    --blame-hang-timeout 10min --blame-hang-dump-type none >"$console" 2>&1
  rc=$?
  set -e

  passed=0 failed=0 skipped=0 note=""
  if [ -f "$trx" ]; then
    total="$(counter "$trx" total)"
    passed="$(counter "$trx" passed)"
    failed=$(( $(counter "$trx" failed) + $(counter "$trx" error) + $(counter "$trx" timeout) + $(counter "$trx" aborted) ))
    skipped=$(( total - passed - failed ))
    [ "$skipped" -ge 0 ] || skipped=0
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
      failed=1; note=" (the test run itself failed, exit code $rc)"
    fi
  else
    failed=1; note=" (no test results: the run crashed or timed out, exit code $rc)"
  fi

  line="$name: $passed passed, $failed failed"
  [ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
  say "$line$note"
  if [ "$failed" -gt 0 ]; then
    if [ -f "$trx" ]; then
      grep -oE '<UnitTestResult [^>]*outcome="Failed"' "$trx" | grep -oE 'testName="[^"]*"' \
        | sed -e 's/^testName="/[test]   FAILED /' -e 's/"$//' | head -n 30 || true
    fi
    say "  --- last lines of .artifacts/test-results/$name.log ---"
    tail -n 40 "$console" | cut -c1-240 | sed 's/^/    /'
  fi
  TOTAL_PASSED=$((TOTAL_PASSED + passed))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
  TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
done

say "test results and logs: .artifacts/test-results/"
summary="$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_SKIPPED" -gt 0 ] && summary="$summary, $TOTAL_SKIPPED skipped"
cleanup
trap - EXIT
echo "$summary"
[ "$TOTAL_FAILED" -eq 0 ]
