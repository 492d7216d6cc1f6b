# Shared settings and functions for up / down / status / broker-kill / broker-start. Sourced, not executed.
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

# rmq_broker_registered: the name server lists our broker at its address (a
# looser form of rmq_cluster_ready that only says "no" when the name server
# answers without it; an unreachable name server counts as "unknown" = 2).
rmq_broker_registered() {
  local out
  out="$(rmq_probe "$RMQ_HOST:$RMQ_NAMESRV_PORT" 106 --timeout 3000 2>/dev/null)" || return 2
  grep -q '^code=0 ' <<<"$out" || return 2
  grep -qF "\"$RMQ_HOST:$RMQ_BROKER_PORT\"" <<<"$out"
}

# rmq_busy_ports PORT...: prints (space-separated) those of the ports that
# cannot be listened on at 0.0.0.0 right now; prints an empty line if all are free.
rmq_busy_ports() {
  "$RMQ_NODE" -e '
    const net = require("node:net");
    const ports = process.argv.slice(1).map(Number);
    Promise.all(ports.map((port) => new Promise((done) => {
      const s = net.createServer();
      s.once("error", () => done(port));
      s.listen({ port, host: "0.0.0.0", exclusive: true }, () => s.close(() => done(null)));
    }))).then((r) => console.log(r.filter((p) => p !== null).join(" ")));
  ' "$@"
}

# The broker's ports: listenPort, listenPort-2 (fast/VIP), listenPort+1 (HA, binds 0.0.0.0).
rmq_broker_ports() {
  printf '%s\n' "$RMQ_BROKER_PORT" "$((RMQ_BROKER_PORT - 2))" "$((RMQ_BROKER_PORT + 1))"
}

# rmq_start_jvm NAME MAINCLASS CONFIG-FLAG CONFIG-FILE JVM-OPTS...: starts one
# JVM of the harness in the background (nohup, stdin from /dev/null, stdout and
# stderr to run/NAME.out) and writes its PID to run/NAME.pid. Every JVM carries
# the -Drocketmq.harness.run marker that rmq_our_pid / rmq_stray_pids look for.
rmq_start_jvm() {
  local name="$1" main="$2" cflag="$3" cfile="$4"
  shift 4
  local common=(
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-exports=java.base/sun.nio.ch=ALL-UNNAMED
    --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
    -Djava.net.preferIPv4Stack=true
    -Dtls.server.mode=disabled
    "-Duser.home=$RMQ_RUN/home"
    "-Djava.io.tmpdir=$RMQ_RUN/tmp"
    "-Drocketmq.harness.run=$RMQ_RUN"
  )
  # shellcheck disable=SC2206
  local extra=(${ROCKETMQ_JAVA_OPTS:-})
  ROCKETMQ_HOME="$RMQ_RUN/rocketmq-home" nohup "$RMQ_JAVA" "${common[@]}" "$@" ${extra[@]+"${extra[@]}"} \
    -cp "$RMQ_LIB/*" "$main" "$cflag" "$cfile" </dev/null >"$RMQ_RUN/$name.out" 2>&1 &
  echo $! >"$RMQ_RUN/$name.pid"
}

rmq_start_namesrv() {
  rmq_start_jvm namesrv org.apache.rocketmq.namesrv.NamesrvStartup -c "$RMQ_RUN/namesrv.properties" \
    -Xms128m -Xmx256m -XX:MaxDirectMemorySize=128m \
    -Drmq.logback.configurationFile=rmq.namesrv.logback.xml
}

# rmq_start_broker: the Broker JVM with run/broker.conf (written by up).
rmq_start_broker() {
  rmq_start_jvm broker org.apache.rocketmq.broker.BrokerStartup -c "$RMQ_RUN/broker.conf" \
    -Xms512m -Xmx512m -XX:MaxDirectMemorySize=512m \
    -Drmq.logback.configurationFile=rmq.broker.logback.xml
}

# rmq_wait_broker_ready T0 DEADLINE: waits until the name server reports our
# broker (rmq_cluster_ready). T0 and DEADLINE are $SECONDS values (T0 only for
# the log line). Returns 0 when ready, 1 if the broker JVM exited, 2 if the
# name server JVM exited, 3 at the deadline.
rmq_wait_broker_ready() {
  local t0="$1" deadline="$2" booted=0
  until rmq_cluster_ready; do
    if (( booted == 0 )) && grep -q "boot success" "$RMQ_RUN/broker.out" 2>/dev/null; then
      booted=1
      rmq_log "Broker boot line seen (t+$((SECONDS - t0))s); waiting for its registration at the NameServer"
    fi
    rmq_our_pid broker >/dev/null || return 1
    rmq_our_pid namesrv >/dev/null || return 2
    (( SECONDS < deadline )) || return 3
    sleep 0.5
  done
}

# rmq_show_logs: the tails of the JVM outputs and logs, on stderr.
rmq_show_logs() {
  local f
  for f in "$RMQ_RUN/namesrv.out" "$RMQ_RUN/broker.out" \
           "$RMQ_RUN/home/logs/rocketmqlogs/namesrv.log" "$RMQ_RUN/home/logs/rocketmqlogs/broker.log"; do
    [[ -s "$f" ]] || continue
    echo "----- tail -n 40 ${f#"$RMQ_DIR/"} -----" >&2
    tail -n 40 "$f" >&2
  done
}

# rmq_adopt_run: for scripts that act on the running cluster (broker-kill,
# broker-start). Takes the ports and version from run/env, which ./up writes
# once the cluster is ready. ROCKETMQ_NAMESRV_PORT / ROCKETMQ_BROKER_PORT, when
# set, say which cluster the caller means: if run/ holds another one, nothing
# is touched. Returns 3 (after a message) when run/ holds no such cluster.
rmq_adopt_run() {
  local ns br version
  if [[ ! -f "$RMQ_RUN/env" ]]; then
    rmq_log "no cluster started by ./up here ($RMQ_RUN/env is missing)"
    return 3
  fi
  ns="$(sed -n 's/^ROCKETMQ_NAMESRV_ADDR=.*:\([0-9][0-9]*\)$/\1/p' "$RMQ_RUN/env")"
  br="$(sed -n 's/^ROCKETMQ_BROKER_ADDR=.*:\([0-9][0-9]*\)$/\1/p' "$RMQ_RUN/env")"
  version="$(sed -n 's/^ROCKETMQ_VERSION=//p' "$RMQ_RUN/env")"
  if [[ -z "$ns" || -z "$br" ]]; then
    rmq_log "cannot read the ports from $RMQ_RUN/env"
    return 3
  fi
  if [[ -n "${ROCKETMQ_NAMESRV_PORT:-}" && "$ROCKETMQ_NAMESRV_PORT" != "$ns" ]] ||
     [[ -n "${ROCKETMQ_BROKER_PORT:-}" && "$ROCKETMQ_BROKER_PORT" != "$br" ]]; then
    rmq_log "asked for the cluster on name server port ${ROCKETMQ_NAMESRV_PORT:-any} / broker port ${ROCKETMQ_BROKER_PORT:-any}," \
      "but the one started here ($RMQ_RUN) uses $ns / $br; not touching it"
    return 3
  fi
  RMQ_NAMESRV_PORT="$ns"
  RMQ_BROKER_PORT="$br"
  if [[ -n "$version" ]]; then
    RMQ_VERSION="$version"
    RMQ_LIB="$RMQ_DIR/lib/$RMQ_VERSION"
  fi
}
