#!/usr/bin/env bash
# Local run mode: RabbitMQ (Debian's rabbitmq-server), the fake external APIs and each service as its own process.
# Returns once every process answers its health check; deploy/local/down.sh stops exactly what this started.
# Settings (environment): see deploy/local/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$PID_DIR" "$LOG_DIR" "$DATA_DIR"

STARTED_ANY=0
fail() {
  log "FAILED: $*"
  if [ "$STARTED_ANY" = 1 ] || [ -f "$RABBIT_MARKER" ]; then
    log "stopping what was started"
    "$REPO_ROOT/deploy/local/down.sh" || true
  fi
  exit 1
}

# --- refuse to start twice -------------------------------------------------------------------------------------
for entry in "${LOCAL_PROCESSES[@]}"; do
  IFS='|' read -r name _ assembly _ _ <<<"$entry"
  if [ -f "$PID_DIR/$name.pid" ] && pid_is "$(cat "$PID_DIR/$name.pid")" "$assembly"; then
    log "$name is already running (pid $(cat "$PID_DIR/$name.pid"), state dir $JOINERY_LOCAL_DIR): run deploy/local/down.sh first"
    exit 1
  fi
  rm -f "$PID_DIR/$name.pid"
done

for entry in "${LOCAL_PROCESSES[@]}"; do
  IFS='|' read -r name _ _ portvar _ <<<"$entry"
  if port_in_use "${!portvar}"; then
    log "$name: port ${!portvar} is already in use (another local instance? set $portvar, see deploy/local/README.md)"
    exit 1
  fi
done

command -v dotnet >/dev/null 2>&1 || { log "dotnet (the .NET 10 SDK) is not on PATH"; exit 1; }

# --- RabbitMQ ----------------------------------------------------------------------------------------------------
if [ -n "$JOINERY_RABBITMQ_NODE" ]; then
  # Someone else's node (a test's private one): use it, never start or stop it.
  rmqctl 30 -q await_startup --timeout 20 >/dev/null 2>&1 \
    || fail "RabbitMQ node $JOINERY_RABBITMQ_NODE (JOINERY_RABBITMQ_NODE) is not running"
  log "using RabbitMQ node $JOINERY_RABBITMQ_NODE on port $JOINERY_RABBITMQ_PORT"
else
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    apt_install "$LOG_DIR/apt.log" rabbitmq-server || exit 1
  fi
  ensure_rabbitmq "$LOG_DIR/rabbitmq.log" "$JOINERY_READY_TIMEOUT" "$RABBIT_MARKER" || fail "RabbitMQ is not available"
fi

if [ "$JOINERY_RABBITMQ_VHOST" != "/" ]; then
  [[ "$JOINERY_RABBITMQ_VHOST" =~ ^[A-Za-z0-9._-]+$ ]] || fail "JOINERY_RABBITMQ_VHOST may only hold letters, digits, '.', '_' and '-'"
  if [ "${JOINERY_RABBITMQ_FRESH_VHOST:-0}" = 1 ]; then
    rmqctl 60 -q delete_vhost "$JOINERY_RABBITMQ_VHOST" >/dev/null 2>&1 || true
  fi
  rmqctl 60 -q add_vhost "$JOINERY_RABBITMQ_VHOST" >/dev/null 2>&1 || true
  rmqctl 60 -q set_permissions -p "$JOINERY_RABBITMQ_VHOST" guest '.*' '.*' '.*' >/dev/null \
    || fail "could not grant guest access to vhost $JOINERY_RABBITMQ_VHOST"
  RABBIT_URI="amqp://guest:guest@127.0.0.1:$JOINERY_RABBITMQ_PORT/$JOINERY_RABBITMQ_VHOST"
else
  RABBIT_URI="amqp://guest:guest@127.0.0.1:$JOINERY_RABBITMQ_PORT/"
fi

# --- build -------------------------------------------------------------------------------------------------------
if [ "${JOINERY_SKIP_BUILD:-0}" != 1 ]; then
  log "building Joinery.slnx ($JOINERY_CONFIGURATION)"
  if ! timeout 900 dotnet build "$REPO_ROOT/Joinery.slnx" -c "$JOINERY_CONFIGURATION" -nologo -v q >"$LOG_DIR/build.log" 2>&1; then
    grep -E ': error ' "$LOG_DIR/build.log" | sort -u | head -n 30 || tail -n 30 "$LOG_DIR/build.log"
    fail "build failed (full log: $LOG_DIR/build.log)"
  fi
fi

# --- processes ---------------------------------------------------------------------------------------------------
export Messaging__Transport=RabbitMq
export ConnectionStrings__RabbitMq="$RABBIT_URI"
export Persistence__DataDirectory="$DATA_DIR"
export ActiveCampaign__BaseUrl="http://127.0.0.1:$JOINERY_FAKE_PORT"
export ActiveCampaign__ApiToken=fake-ac-token
export Slack__BaseUrl="http://127.0.0.1:$JOINERY_FAKE_PORT/api"
export Slack__Token=xoxp-fake-token
export Slack__TeamId=T0FAKE
export Slack__ChannelIds=C0GENERAL
# The fake APIs impose no rate limit unless a test sets one; the real APIs' limits (20 invites a minute) would only
# slow local runs to a crawl. A test that wants them passes its own values through JOINERY_SERVICE_ENV_FILE.
export Slack__InvitesPerMinute=6000
export ActiveCampaign__RequestsPerSecond=500
# Every local client is 127.0.0.1: the end-to-end tests and the benchmark post hundreds of signups from it, so the
# gateway's per-IP limit (RateLimiting__PerIpLimit, 60 per 10 minutes by default) is off here unless the caller sets it.
export RateLimiting__PerIpLimit="${RateLimiting__PerIpLimit:-0}"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# JOINERY_SERVICE_ENV_FILE: KEY=VALUE lines (blank lines and # comments skipped) given to every process after the
# settings above, so they win: e.g. Slack__Strategy=Approval for one test run. Values are taken literally.
EXTRA_ENV=()
if [ -n "${JOINERY_SERVICE_ENV_FILE:-}" ]; then
  [ -f "$JOINERY_SERVICE_ENV_FILE" ] || fail "JOINERY_SERVICE_ENV_FILE: $JOINERY_SERVICE_ENV_FILE does not exist"
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    [[ -z "${line//[[:space:]]/}" || "$line" =~ ^[[:space:]]*# ]] && continue
    [[ "$line" =~ ^[A-Za-z_][A-Za-z0-9_.:-]*= ]] || fail "JOINERY_SERVICE_ENV_FILE: not a KEY=VALUE line: $line"
    EXTRA_ENV+=("$line")
  done <"$JOINERY_SERVICE_ENV_FILE"
  log "passing ${#EXTRA_ENV[@]} setting(s) from $JOINERY_SERVICE_ENV_FILE to every process"
fi

start_process() {
  local name="$1" project="$2" assembly="$3" port="$4"
  local dir="$REPO_ROOT/$project/bin/$JOINERY_CONFIGURATION/net10.0"
  [ -f "$dir/$assembly.dll" ] || fail "$name: $dir/$assembly.dll is missing (build first, or unset JOINERY_SKIP_BUILD)"
  ! port_in_use "$port" || fail "$name: port $port is already in use (another local instance? set JOINERY_*_PORT)"
  # Run from the output folder so the service finds its appsettings.json; the subshell execs, so $! is dotnet's pid.
  # ASP.NET Core's per-request logs would drown the log in health probes; warnings and errors still show.
  (cd "$dir" && exec env "Logging__LogLevel__Microsoft.AspNetCore=${JOINERY_ASPNETCORE_LOG_LEVEL:-Warning}" ${EXTRA_ENV[@]+"${EXTRA_ENV[@]}"} \
    dotnet "$assembly.dll" --urls "http://127.0.0.1:$port") >"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
  disown "$!" 2>/dev/null || true   # this shell does not report on it; down.sh stops it by pid
  STARTED_ANY=1
  log "$name started (pid $!, port $port, log $LOG_DIR/$name.log)"
}

wait_ready() {
  local name="$1" assembly="$2" url="$3" pid code
  pid="$(cat "$PID_DIR/$name.pid")"
  local deadline=$((SECONDS + JOINERY_READY_TIMEOUT))
  while :; do
    code="$(http_status "$url")"
    [ "$code" = 200 ] && { log "$name is ready ($url)"; return 0; }
    if ! pid_is "$pid" "$assembly"; then
      log "--- last lines of $LOG_DIR/$name.log ---"; tail -n 40 "$LOG_DIR/$name.log" || true
      fail "$name exited before it was ready"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "--- last lines of $LOG_DIR/$name.log ---"; tail -n 40 "$LOG_DIR/$name.log" || true
      fail "$name was not ready within ${JOINERY_READY_TIMEOUT}s ($url answered $code)"
    fi
    sleep 0.5
  done
}

# Fake APIs and consumers start together; the gateway only once they are all ready, so their queues exist.
for entry in "${LOCAL_PROCESSES[@]}"; do
  IFS='|' read -r name project assembly portvar _ <<<"$entry"
  [ "$name" = gateway ] || start_process "$name" "$project" "$assembly" "${!portvar}"
done
for entry in "${LOCAL_PROCESSES[@]}"; do
  IFS='|' read -r name _ assembly portvar health <<<"$entry"
  [ "$name" = gateway ] || wait_ready "$name" "$assembly" "http://127.0.0.1:${!portvar}$health"
done
for entry in "${LOCAL_PROCESSES[@]}"; do
  IFS='|' read -r name project assembly portvar health <<<"$entry"
  if [ "$name" = gateway ]; then
    start_process "$name" "$project" "$assembly" "${!portvar}"
    wait_ready "$name" "$assembly" "http://127.0.0.1:${!portvar}$health"
  fi
done

log "local mode is up: http://127.0.0.1:$JOINERY_GATEWAY_PORT (fake APIs http://127.0.0.1:$JOINERY_FAKE_PORT, state $JOINERY_LOCAL_DIR)"
