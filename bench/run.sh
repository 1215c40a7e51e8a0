#!/usr/bin/env bash
# The benchmark (docs/performance.md): builds the solution, starts the local mode in a state folder, ports and
# RabbitMQ virtual hosts of its own (never those of the end-to-end tests), runs bench/Joinery.Bench against it,
# prints a table and `name value unit` lines (also in .artifacts/bench/results.txt), and stops what it started.
# A few minutes in all; every wait and loop is bounded. Settings: bench/README.md.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# The local mode's own settings (deploy/local/README.md), moved out of the way of a developer's instance (8080...)
# and of the end-to-end tests (8080-8083, 8090, vhost joinery-e2e).
export JOINERY_LOCAL_DIR="${JOINERY_LOCAL_DIR:-$REPO_ROOT/.local/bench}"
export JOINERY_GATEWAY_PORT="${JOINERY_GATEWAY_PORT:-18180}"
export JOINERY_STORE_PORT="${JOINERY_STORE_PORT:-18181}"
export JOINERY_CRM_PORT="${JOINERY_CRM_PORT:-18182}"
export JOINERY_SLACK_PORT="${JOINERY_SLACK_PORT:-18183}"
export JOINERY_FAKE_PORT="${JOINERY_FAKE_PORT:-18190}"
export JOINERY_RABBITMQ_VHOST="${JOINERY_RABBITMQ_VHOST:-joinery-bench}"
export JOINERY_RABBITMQ_FRESH_VHOST=1   # no leftover messages from an earlier run
export JOINERY_CONFIGURATION="${JOINERY_CONFIGURATION:-Release}"
BENCH_BROKER_VHOST="${BENCH_BROKER_VHOST:-joinery-bench-broker}"
BENCH_KESTREL_PORT="${BENCH_KESTREL_PORT:-18184}"
OUT_DIR="$REPO_ROOT/.artifacts/bench"

# shellcheck source=../deploy/local/lib.sh
source "$REPO_ROOT/deploy/local/lib.sh"
log() { printf '[bench] %s\n' "$*"; }

[[ "$JOINERY_RABBITMQ_VHOST" =~ ^[A-Za-z0-9._-]+$ && "$BENCH_BROKER_VHOST" =~ ^[A-Za-z0-9._-]+$ ]] \
  || { log "vhost names may only hold letters, digits, '.', '_' and '-'"; exit 1; }
[ "$JOINERY_RABBITMQ_VHOST" != "$BENCH_BROKER_VHOST" ] || { log "the two vhosts must differ"; exit 1; }
[ "$JOINERY_RABBITMQ_VHOST" != joinery-e2e ] || { log "vhost joinery-e2e belongs to the end-to-end tests"; exit 1; }
command -v dotnet >/dev/null 2>&1 || { log "dotnet (the .NET 10 SDK) is not on PATH"; exit 1; }
mkdir -p "$OUT_DIR"

# One benchmark at a time per state folder.
for entry in "${LOCAL_PROCESSES[@]}"; do
  IFS='|' read -r name _ assembly _ _ <<<"$entry"
  if [ -f "$PID_DIR/$name.pid" ] && pid_is "$(cat "$PID_DIR/$name.pid")" "$assembly"; then
    log "$name is already running in $JOINERY_LOCAL_DIR: another benchmark? (deploy/local/down.sh with the same JOINERY_LOCAL_DIR stops it)"
    exit 1
  fi
done

log "machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg) (uptime's 1, 5, 15 min averages)"

# RabbitMQ: installed and started when missing (as test.sh does), and left running afterwards, so that stopping
# the benchmark never stops a broker that someone else's tests are using meanwhile.
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  apt_install "$OUT_DIR/apt.log" rabbitmq-server
fi
ensure_rabbitmq "$OUT_DIR/rabbitmq.log" 90

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building Joinery.slnx ($JOINERY_CONFIGURATION)"
  if ! timeout 900 dotnet build "$REPO_ROOT/Joinery.slnx" -c "$JOINERY_CONFIGURATION" -nologo -v q >"$OUT_DIR/build.log" 2>&1; then
    grep -E ': error ' "$OUT_DIR/build.log" | sort -u | head -n 30 || tail -n 30 "$OUT_DIR/build.log"
    log "build failed (full log: $OUT_DIR/build.log)"
    exit 1
  fi
fi
BENCH_DLL="$REPO_ROOT/bench/Joinery.Bench/bin/$JOINERY_CONFIGURATION/net10.0/Joinery.Bench.dll"
[ -f "$BENCH_DLL" ] || { log "$BENCH_DLL is missing: build first (or unset BENCH_SKIP_BUILD)"; exit 1; }
if port_in_use "$BENCH_KESTREL_PORT"; then
  log "port $BENCH_KESTREL_PORT (the bare Kestrel endpoint) is in use: set BENCH_KESTREL_PORT"
  exit 1
fi

cleanup() {
  local rc=$?
  log "stopping the local mode"
  "$REPO_ROOT/deploy/local/down.sh" || true
  timeout 60 rabbitmqctl -q delete_vhost "$BENCH_BROKER_VHOST" >/dev/null 2>&1 || true
  timeout 60 rabbitmqctl -q delete_vhost "$JOINERY_RABBITMQ_VHOST" >/dev/null 2>&1 || true
  log "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The broker ceiling's own virtual host, fresh.
timeout 60 rabbitmqctl -q delete_vhost "$BENCH_BROKER_VHOST" >/dev/null 2>&1 || true
timeout 60 rabbitmqctl -q add_vhost "$BENCH_BROKER_VHOST" >/dev/null
timeout 60 rabbitmqctl -q set_permissions -p "$BENCH_BROKER_VHOST" guest '.*' '.*' '.*' >/dev/null

# The services' client-side rate limits protect the real APIs (Slack's Tier 2: 20 invites a minute; ActiveCampaign:
# 5 requests a second) and would cap the whole system at a third of a signup per second by design. The benchmark
# measures Joinery itself against a fake that limits nothing, so they are lifted here (and only here).
export Slack__InvitesPerMinute="${Slack__InvitesPerMinute:-6000000}"
export Slack__LookupsPerMinute="${Slack__LookupsPerMinute:-6000000}"
export Slack__PostsPerMinute="${Slack__PostsPerMinute:-6000000}"
export ActiveCampaign__RequestsPerSecond="${ActiveCampaign__RequestsPerSecond:-100000}"
# Likewise the gateway's per-IP signup limit: every benchmark request comes from 127.0.0.1 (up.sh lifts it too).
export RateLimiting__PerIpLimit="${RateLimiting__PerIpLimit:-0}"

# The fake APIs' SMTP sink listens on 2525 unless told otherwise: keep off the port of another instance.
export FakeApis__SmtpPort="${FakeApis__SmtpPort:-18125}"
export Smtp__Port="${Smtp__Port:-$FakeApis__SmtpPort}"

# Each run starts from empty databases (this state folder is the benchmark's own).
rm -rf "$DATA_DIR"

# The fake APIs answer at once and limit nothing: no failures are arranged, and it has no latency or rate limit
# (its defaults; POST /_fake/config is never called).
log "starting the local mode in $JOINERY_LOCAL_DIR (gateway http://127.0.0.1:$JOINERY_GATEWAY_PORT, vhost $JOINERY_RABBITMQ_VHOST)"
JOINERY_SKIP_BUILD=1 "$REPO_ROOT/deploy/local/up.sh"

export BENCH_GATEWAY_URL="http://127.0.0.1:$JOINERY_GATEWAY_PORT"
export BENCH_LOCAL_DIR="$JOINERY_LOCAL_DIR"
export BENCH_SERVICES_RABBIT_URI="amqp://guest:guest@127.0.0.1:5672/$JOINERY_RABBITMQ_VHOST"
export BENCH_BROKER_RABBIT_URI="amqp://guest:guest@127.0.0.1:5672/$BENCH_BROKER_VHOST"
export BENCH_KESTREL_PORT
export BENCH_METRICS="gateway=http://127.0.0.1:$JOINERY_GATEWAY_PORT/metrics,store=http://127.0.0.1:$JOINERY_STORE_PORT/metrics,crm-sync=http://127.0.0.1:$JOINERY_CRM_PORT/metrics,slack-invite=http://127.0.0.1:$JOINERY_SLACK_PORT/metrics"
export BENCH_RESULTS="${BENCH_RESULTS:-$OUT_DIR/results.txt}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

log "running the benchmark (log: $OUT_DIR/run.log)"
set +e
timeout 1200 dotnet "$BENCH_DLL" 2>&1 | tee "$OUT_DIR/run.log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || log "the benchmark failed (exit code $rc)"
exit "$rc"
