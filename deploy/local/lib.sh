# Shared by up.sh and down.sh (sourced, not run). Defaults for the local run mode; every one can be overridden
# through the environment so that a test can run its own instance beside a developer's.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

JOINERY_CONFIGURATION="${JOINERY_CONFIGURATION:-Release}"
JOINERY_LOCAL_DIR="${JOINERY_LOCAL_DIR:-$REPO_ROOT/.local}"
JOINERY_GATEWAY_PORT="${JOINERY_GATEWAY_PORT:-8080}"
JOINERY_STORE_PORT="${JOINERY_STORE_PORT:-8081}"
JOINERY_CRM_PORT="${JOINERY_CRM_PORT:-8082}"
JOINERY_SLACK_PORT="${JOINERY_SLACK_PORT:-8083}"
JOINERY_FAKE_PORT="${JOINERY_FAKE_PORT:-8090}"
JOINERY_RABBITMQ_VHOST="${JOINERY_RABBITMQ_VHOST:-/}"
# Another RabbitMQ node than the machine's (e.g. a test's private node): its AMQP port and its Erlang node name. With a
# node name set, up.sh neither installs nor starts RabbitMQ: that node must already be running.
JOINERY_RABBITMQ_PORT="${JOINERY_RABBITMQ_PORT:-5672}"
JOINERY_RABBITMQ_NODE="${JOINERY_RABBITMQ_NODE:-}"
JOINERY_READY_TIMEOUT="${JOINERY_READY_TIMEOUT:-60}"

PID_DIR="$JOINERY_LOCAL_DIR/pids"
LOG_DIR="$JOINERY_LOCAL_DIR/logs"
DATA_DIR="$JOINERY_LOCAL_DIR/data"
RABBIT_MARKER="$JOINERY_LOCAL_DIR/rabbitmq.started-by-up"

# Start order matters: the consumers declare their queues before the gateway publishes anything.
# name|project dir|assembly|port variable|health path
LOCAL_PROCESSES=(
  "fake-apis|tests/Joinery.FakeApis|Joinery.FakeApis|JOINERY_FAKE_PORT|/health"
  "store|services/store|Joinery.Store|JOINERY_STORE_PORT|/health/ready"
  "crm-sync|services/crm-sync|Joinery.CrmSync|JOINERY_CRM_PORT|/health/ready"
  "slack-invite|services/slack-invite|Joinery.SlackInvite|JOINERY_SLACK_PORT|/health/ready"
  "gateway|services/gateway|Joinery.Gateway|JOINERY_GATEWAY_PORT|/health/ready"
)

log() { printf '[local] %s\n' "$*"; }

# Runs a command as root when we are root, else says what is missing.
is_root() { [ "$(id -u)" = 0 ]; }

# rabbitmqctl, bounded by SECONDS, against JOINERY_RABBITMQ_NODE when set, else the default node.
# Usage: rmqctl SECONDS ARGS...
rmqctl() {
  local limit="$1"; shift
  if [ -n "$JOINERY_RABBITMQ_NODE" ]; then timeout "$limit" rabbitmqctl -n "$JOINERY_RABBITMQ_NODE" "$@"; else timeout "$limit" rabbitmqctl "$@"; fi
}

rabbit_ping() { timeout 20 rabbitmq-diagnostics -q ping >/dev/null 2>&1; }

# True when pid is alive and is still the process we started (its command line names the assembly).
pid_is() {
  local pid="$1" assembly="$2"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "$assembly.dll"
}

# HTTP status code of GET url, or 000 when nothing answers. curl when present, else bash's /dev/tcp.
http_status() {
  local url="$1"
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" 2>/dev/null || true
    return 0
  fi
  local rest="${url#http://}" hostport path host port line
  hostport="${rest%%/*}"; path="/${rest#*/}"; host="${hostport%%:*}"; port="${hostport##*:}"
  if exec 3<>"/dev/tcp/$host/$port" 2>/dev/null; then
    printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$hostport" >&3
    if IFS= read -r -t 5 line <&3; then
      line="${line#HTTP/* }"; echo "${line:0:3}"
    else
      echo 000
    fi
    exec 3<&- 3>&-
  else
    echo 000
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Installs Debian packages (root only), bounded. Services are not auto-started during the install (a fresh container
# has no init to start them with, and a failed start would fail the install): we start RabbitMQ ourselves.
# Usage: apt_install LOGFILE PACKAGE...
apt_install() {
  local logfile="$1"; shift
  is_root || { log "missing $*: install them (apt-get install $*) or run this as root"; return 1; }
  log "installing $* with apt-get"
  local policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
  fi
  { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -q \
      && DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -q --no-install-recommends "$@"; } >"$logfile" 2>&1 || rc=$?
  [ "$added_policy" = 1 ] && rm -f "$policy"
  if [ "$rc" != 0 ]; then
    tail -n 20 "$logfile"
    log "could not install $* (exit code $rc; log: $logfile)"
    return 1
  fi
}

# Starts RabbitMQ when it does not answer, then waits (bounded) until it does. When it had to start it, it touches
# MARKER (if given) so that whoever stops things later knows. Usage: ensure_rabbitmq LOGFILE TIMEOUT_SECONDS [MARKER]
ensure_rabbitmq() {
  local logfile="$1" limit="$2" marker="${3:-}"
  if rabbit_ping; then
    log "RabbitMQ is running"
    return 0
  fi
  is_root || { log "RabbitMQ is not running and only root can start it (rabbitmq-server -detached)"; return 1; }
  log "starting RabbitMQ"
  ( cd / && rabbitmq-server -detached ) >>"$logfile" 2>&1 </dev/null \
    || ( cd / && service rabbitmq-server start ) >>"$logfile" 2>&1 </dev/null || true
  [ -z "$marker" ] || touch "$marker"
  local deadline=$((SECONDS + limit))
  until timeout 20 rabbitmqctl -q await_startup --timeout 15 >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$logfile" 2>/dev/null || true
      log "RabbitMQ did not start within ${limit}s (see /var/log/rabbitmq/)"
      return 1
    fi
    sleep 1
  done
  log "RabbitMQ is ready"
}
