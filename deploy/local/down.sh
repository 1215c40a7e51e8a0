#!/usr/bin/env bash
# Stops exactly what deploy/local/up.sh started (pids in $JOINERY_LOCAL_DIR/pids), gateway first.
# RabbitMQ is stopped only when up.sh started it. Safe to run when nothing is running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_process() {
  local name="$1" assembly="$2" file="$PID_DIR/$1.pid" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if pid_is "$pid" "$assembly"; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 15))
    while pid_is "$pid" "$assembly" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if pid_is "$pid" "$assembly"; then
      log "$name (pid $pid) did not stop within 15s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "$name stopped (pid $pid)"
  fi
  rm -f "$file"
}

# Reverse start order: the gateway stops publishing before its consumers go away.
for ((i = ${#LOCAL_PROCESSES[@]} - 1; i >= 0; i--)); do
  IFS='|' read -r name _ assembly _ _ <<<"${LOCAL_PROCESSES[$i]}"
  stop_process "$name" "$assembly"
done

if [ -f "$RABBIT_MARKER" ]; then
  log "stopping RabbitMQ (up.sh started it)"
  timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || log "rabbitmqctl stop failed; RabbitMQ may still be running"
  rm -f "$RABBIT_MARKER"
fi
