# Shared settings for up / down / status. Sourced, not executed.
# shellcheck shell=bash

RMQ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RMQ_VERSION="${ROCKETMQ_VERSION:-5.3.3}"
RMQ_NAMESRV_PORT="${ROCKETMQ_NAMESRV_PORT:-9876}"
RMQ_BROKER_PORT="${ROCKETMQ_BROKER_PORT:-10911}"
RMQ_HOST=127.0.0.1
RMQ_CLUSTER=DefaultCluster
RMQ_BROKER_NAME=broker-a
RMQ_LIB="$RMQ_DIR/lib/$RMQ_VERSION"
RMQ_RUN="$RMQ_DIR/run"
RMQ_NODE="${NODE:-node}"
RMQ_JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

rmq_log() { printf '[rocketmq] %s\n' "$*" >&2; }

# pid_alive PID: true if PID exists and is not a zombie.
rmq_pid_alive() {
  local pid="$1" state
  [[ -n "$pid" && -d "/proc/$pid" ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != "Z" ]]
}

# rmq_our_pid NAME: prints the PID recorded in run/NAME.pid if that process is
# alive and really is our JVM (its command line carries our run-dir marker),
# so a recycled PID is never signalled.
rmq_our_pid() {
  local file="$RMQ_RUN/$1.pid" pid
  [[ -f "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  rmq_pid_alive "$pid" || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == java ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Drocketmq.harness.run=$RMQ_RUN " || return 1
  printf '%s\n' "$pid"
}

# rmq_stray_pids [TEXT]: our JVMs found by their exact run-dir marker (for
# the case where pid files are gone), optionally only those whose command line
# also contains TEXT. Matches only processes started by this harness from this
# checkout.
rmq_stray_pids() {
  local d pid cmd
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [[ "$(cat "$d/comm" 2>/dev/null)" == java ]] || continue
    cmd="$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)" || continue
    [[ "$cmd" == *"-Drocketmq.harness.run=$RMQ_RUN "* && "$cmd" == *"${1:-}"* ]] || continue
    printf '%s\n' "$pid"
  done
}

# rmq_probe ARGS...: run probe.mjs
rmq_probe() { "$RMQ_NODE" "$RMQ_DIR/probe.mjs" "$@"; }

# rmq_cluster_ready: name server answers GET_BROKER_CLUSTER_INFO (106) with
# code 0 and a body naming our broker and its address.
rmq_cluster_ready() {
  local out
  out="$(rmq_probe "$RMQ_HOST:$RMQ_NAMESRV_PORT" 106 --timeout 3000 2>/dev/null)" || return 1
  grep -q '^code=0 ' <<<"$out" || return 1
  grep -qF "\"$RMQ_BROKER_NAME\"" <<<"$out" || return 1
  grep -qF "\"$RMQ_HOST:$RMQ_BROKER_PORT\"" <<<"$out" || return 1
}
