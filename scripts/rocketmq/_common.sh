# Shared settings and functions of the harness scripts (up, down, status, broker-kill,
# broker-start, namesrv-kill, namesrv-start, namesrv-restart). Sourced, not executed.
# shellcheck shell=bash

RMQ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RMQ_VERSION="${ROCKETMQ_VERSION:-5.3.3}"
RMQ_NAMESRV_PORT="${ROCKETMQ_NAMESRV_PORT:-9876}"
RMQ_BROKER_PORT="${ROCKETMQ_BROKER_PORT:-10911}"
RMQ_BROKER_COUNT="${ROCKETMQ_BROKERS:-1}"
RMQ_HOST=127.0.0.1
RMQ_CLUSTER=DefaultCluster
RMQ_LIB="$RMQ_DIR/lib/$RMQ_VERSION"
RMQ_RUN="${ROCKETMQ_RUN_DIR:-$RMQ_DIR/run}"
[[ "$RMQ_RUN" == /* ]] || RMQ_RUN="$PWD/$RMQ_RUN"
RMQ_NODE="${NODE:-node}"
RMQ_JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# Broker i (0-based) is named broker-<letter i> and listens on RMQ_BROKER_PORT + i * RMQ_PORT_STEP
# (plus port-2 and port+1, see rmq_broker_ports).
RMQ_PORT_STEP=10
RMQ_MAX_BROKERS=8

# The cluster's brokers, in order, and each one's main port. Filled by rmq_plan_brokers (up) or
# rmq_adopt_run (the scripts that act on a running cluster).
RMQ_BROKERS=()
declare -A RMQ_BROKER_PORTS=()

rmq_log() { printf '[rocketmq] %s\n' "$*" >&2; }

# rmq_plan_brokers: RMQ_BROKERS / RMQ_BROKER_PORTS from ROCKETMQ_BROKERS and ROCKETMQ_BROKER_PORT.
rmq_plan_brokers() {
  local letters=abcdefghijklmnopqrstuvwxyz i name
  RMQ_BROKERS=()
  RMQ_BROKER_PORTS=()
  for ((i = 0; i < RMQ_BROKER_COUNT; i++)); do
    name="broker-${letters:i:1}"
    RMQ_BROKERS+=("$name")
    RMQ_BROKER_PORTS[$name]=$((RMQ_BROKER_PORT + i * RMQ_PORT_STEP))
  done
}

# rmq_broker_addrs: "broker-a=127.0.0.1:10911;broker-b=127.0.0.1:10921" (the ROCKETMQ_BROKER_ADDRS value).
rmq_broker_addrs() {
  local name out=""
  for name in "${RMQ_BROKERS[@]}"; do
    out+="${out:+;}$name=$RMQ_HOST:${RMQ_BROKER_PORTS[$name]}"
  done
  printf '%s\n' "$out"
}

# rmq_is_broker NAME: NAME is one of the cluster's brokers.
rmq_is_broker() {
  local name
  for name in "${RMQ_BROKERS[@]}"; do [[ "$name" == "$1" ]] && return 0; done
  return 1
}

# pid_alive PID: true if PID exists and is not a zombie.
rmq_pid_alive() {
  local pid="$1" state
  [[ -n "$pid" && -d "/proc/$pid" ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != "Z" ]]
}

# rmq_our_pid NAME: prints the PID recorded in run/NAME.pid if that process is alive and really is
# that JVM of ours (its command line carries our run-dir marker and its name), so a recycled PID is
# never signalled.
rmq_our_pid() {
  local file="$RMQ_RUN/$1.pid" pid cmd
  [[ -f "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  rmq_pid_alive "$pid" || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == java ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *"-Drocketmq.harness.run=$RMQ_RUN "* && "$cmd" == *"-Drocketmq.harness.jvm=$1 "* ]] || return 1
  printf '%s\n' "$pid"
}

# rmq_stray_pids [NAME]: our JVMs found by their exact run-dir marker (for the case where pid files
# are gone), optionally only the one named NAME (namesrv, broker-a, ...). Matches only processes
# started by this harness for this run dir.
rmq_stray_pids() {
  local d pid cmd
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    [[ "$(cat "$d/comm" 2>/dev/null)" == java ]] || continue
    cmd="$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)" || continue
    [[ "$cmd" == *"-Drocketmq.harness.run=$RMQ_RUN "* ]] || continue
    [[ -z "${1:-}" || "$cmd" == *"-Drocketmq.harness.jvm=$1 "* ]] || continue
    rmq_pid_alive "$pid" || continue
    printf '%s\n' "$pid"
  done
}

# rmq_tls_mode: the cluster's TLS mode (enforcing / permissive), written by up to run/tls.mode;
# empty when TLS is off.
rmq_tls_mode() { [[ -f "$RMQ_RUN/tls.mode" ]] && cat "$RMQ_RUN/tls.mode" || true; }

# rmq_probe ARGS...: run probe.mjs (over TLS when the cluster enforces it)
rmq_probe() {
  if [[ "$(rmq_tls_mode)" == enforcing ]]; then
    "$RMQ_NODE" "$RMQ_DIR/probe.mjs" "$@" --tls
  else
    "$RMQ_NODE" "$RMQ_DIR/probe.mjs" "$@"
  fi
}

# rmq_registered: prints the brokers the name server lists, "<name>=<master address>" per line.
# Fails when the name server does not answer 106 with code 0 (whatever header type it answers in).
rmq_registered() {
  rmq_probe "$RMQ_HOST:$RMQ_NAMESRV_PORT" 106 --brokers --timeout 3000 2>/dev/null
}

# rmq_listed NAME [LIST]: LIST (default: ask the name server) has NAME at its own address.
rmq_listed() {
  local list="${2-}"
  [[ $# -ge 2 ]] || list="$(rmq_registered)" || return 1
  grep -qxF "$1=$RMQ_HOST:${RMQ_BROKER_PORTS[$1]}" <<<"$list"
}

# rmq_cluster_ready [NAME...]: the name server lists each broker NAME (default: all) at its address.
rmq_cluster_ready() {
  local list name
  list="$(rmq_registered)" || return 1
  (($# > 0)) || set -- "${RMQ_BROKERS[@]}"
  for name in "$@"; do rmq_listed "$name" "$list" || return 1; done
}

# rmq_broker_registered NAME: 0 listed, 1 not listed, 2 unknown (the name server does not answer).
rmq_broker_registered() {
  local list
  list="$(rmq_registered)" || return 2
  rmq_listed "$1" "$list"
}

# rmq_busy_ports PORT...: prints (space-separated) those of the ports that cannot be listened on at
# 0.0.0.0 right now; prints an empty line if all are free.
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

# rmq_broker_ports NAME: the broker's ports: listenPort, listenPort-2 (fast/VIP), listenPort+1 (HA,
# binds 0.0.0.0).
rmq_broker_ports() {
  local port="${RMQ_BROKER_PORTS[$1]}"
  printf '%s\n' "$port" "$((port - 2))" "$((port + 1))"
}

# rmq_start_jvm NAME MAINCLASS CONFIG-FILE JVM-OPTS...: starts one JVM of the harness in the
# background (nohup, stdin from /dev/null, stdout and stderr to run/NAME.out) and writes its PID to
# run/NAME.pid. Each JVM has its own user.home (logs) and tmp dir under run/NAME/. Every JVM carries
# the -Drocketmq.harness.run / .jvm markers that rmq_our_pid / rmq_stray_pids look for.
rmq_start_jvm() {
  local name="$1" main="$2" cfile="$3"
  shift 3
  mkdir -p "$RMQ_RUN/$name/home" "$RMQ_RUN/$name/tmp" "$RMQ_RUN/rocketmq-home"
  # TLS off: disabled (no self-signed certificate, no TLS sniffing). On: the mode up wrote, and
  # the certificate settings in run/tls.properties (read by every JVM, servers and clients).
  local mode tls=(-Dtls.server.mode=disabled)
  mode="$(rmq_tls_mode)"
  [[ -z "$mode" ]] || tls=("-Dtls.server.mode=$mode" "-Dtls.config.file=$RMQ_RUN/tls.properties")
  local common=(
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-exports=java.base/sun.nio.ch=ALL-UNNAMED
    --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
    -Djava.net.preferIPv4Stack=true
    "${tls[@]}"
    "-Duser.home=$RMQ_RUN/$name/home"
    "-Djava.io.tmpdir=$RMQ_RUN/$name/tmp"
    "-Drocketmq.harness.run=$RMQ_RUN"
    "-Drocketmq.harness.jvm=$name"
  )
  # shellcheck disable=SC2206
  local extra=(${ROCKETMQ_JAVA_OPTS:-})
  ROCKETMQ_HOME="$RMQ_RUN/rocketmq-home" nohup "$RMQ_JAVA" "${common[@]}" "$@" ${extra[@]+"${extra[@]}"} \
    -cp "$RMQ_LIB/*" "$main" -c "$cfile" </dev/null >"$RMQ_RUN/$name.out" 2>&1 &
  echo $! >"$RMQ_RUN/$name.pid"
}

# rmq_keep_out NAME: moves run/NAME.out aside (run/NAME.<n>.out) before that JVM starts again.
rmq_keep_out() {
  local n=1
  [[ -f "$RMQ_RUN/$1.out" ]] || return 0
  while [[ -e "$RMQ_RUN/$1.$n.out" ]]; do n=$((n + 1)); done
  mv "$RMQ_RUN/$1.out" "$RMQ_RUN/$1.$n.out"
}

rmq_start_namesrv() {
  rmq_start_jvm namesrv org.apache.rocketmq.namesrv.NamesrvStartup "$RMQ_RUN/namesrv.properties" \
    -Xms128m -Xmx256m -XX:MaxDirectMemorySize=128m \
    -Drmq.logback.configurationFile=rmq.namesrv.logback.xml
}

# rmq_start_broker NAME: the Broker JVM with run/NAME.conf (written by up).
rmq_start_broker() {
  rmq_start_jvm "$1" org.apache.rocketmq.broker.BrokerStartup "$RMQ_RUN/$1.conf" \
    -Xms512m -Xmx512m -XX:MaxDirectMemorySize=512m \
    -Drmq.logback.configurationFile=rmq.broker.logback.xml
}

# rmq_wait_namesrv DEADLINE: waits until the name server answers 106 with code 0. Returns 0 when it
# does, 2 if its JVM exited, 3 at the deadline ($SECONDS value).
rmq_wait_namesrv() {
  until rmq_probe "$RMQ_HOST:$RMQ_NAMESRV_PORT" 106 --quiet --timeout 1000 --expect-code 0; do
    rmq_our_pid namesrv >/dev/null || return 2
    ((SECONDS < $1)) || return 3
    sleep 0.25
  done
}

# rmq_wait_brokers_ready T0 DEADLINE NAME...: waits until the name server lists every broker NAME
# at its address. T0 and DEADLINE are $SECONDS values (T0 only for the log lines). Returns 0 when
# ready, 1 if a broker JVM exited (its name in RMQ_DEAD), 2 if the name server JVM exited, 3 at the
# deadline. Logs when a broker that is starting has printed its boot line but is not listed yet
# (the registration race in README.md), unless RMQ_WATCH_BOOT=0.
rmq_wait_brokers_ready() {
  local t0="$1" deadline="$2" name
  shift 2
  local -A booted=()
  until rmq_cluster_ready "$@"; do
    for name in "$@"; do
      if [[ "${RMQ_WATCH_BOOT:-1}" == 1 && -z "${booted[$name]:-}" ]] && grep -q "boot success" "$RMQ_RUN/$name.out" 2>/dev/null &&
         ! rmq_broker_registered "$name"; then
        booted[$name]=1
        rmq_log "Broker $name boot line seen (t+$((SECONDS - t0))s); waiting for its registration at the NameServer"
      fi
      rmq_our_pid "$name" >/dev/null || { RMQ_DEAD="$name"; return 1; }
    done
    rmq_our_pid namesrv >/dev/null || return 2
    ((SECONDS < deadline)) || return 3
    sleep 0.5
  done
}

# rmq_show_logs [NAME...]: the tails of the JVM outputs and logs (default: every JVM), on stderr.
rmq_show_logs() {
  local f name
  (($# > 0)) || set -- namesrv "${RMQ_BROKERS[@]}"
  for name in "$@"; do
    for f in "$RMQ_RUN/$name.out" "$RMQ_RUN/$name/home/logs/rocketmqlogs/namesrv.log" \
             "$RMQ_RUN/$name/home/logs/rocketmqlogs/broker.log"; do
      [[ -s "$f" ]] || continue
      echo "----- tail -n 40 ${f#"$RMQ_DIR/"} -----" >&2
      tail -n 40 "$f" >&2
    done
  done
}

# rmq_adopt_run: for the scripts that act on the running cluster. Takes the ports, the brokers and
# the version from run/env, which ./up writes once the cluster is ready. ROCKETMQ_NAMESRV_PORT /
# ROCKETMQ_BROKER_PORT (broker-a's), when set, say which cluster the caller means: if run/ holds
# another one, nothing is touched. Returns 3 (after a message) when run/ holds no such cluster.
rmq_adopt_run() {
  local ns addrs version entry name port
  local -a entries
  if [[ ! -f "$RMQ_RUN/env" ]]; then
    rmq_log "no cluster started by ./up here ($RMQ_RUN/env is missing)"
    return 3
  fi
  ns="$(sed -n 's/^ROCKETMQ_NAMESRV_ADDR=.*:\([0-9][0-9]*\)$/\1/p' "$RMQ_RUN/env")"
  addrs="$(sed -n 's/^ROCKETMQ_BROKER_ADDRS="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$RMQ_RUN/env")"
  version="$(sed -n 's/^ROCKETMQ_VERSION=//p' "$RMQ_RUN/env")"
  RMQ_BROKERS=()
  RMQ_BROKER_PORTS=()
  IFS=';' read -r -a entries <<<"$addrs"
  for entry in "${entries[@]}"; do
    name="${entry%%=*}"
    port="${entry##*:}"
    [[ -n "$name" && "$port" =~ ^[0-9]+$ ]] || continue
    RMQ_BROKERS+=("$name")
    RMQ_BROKER_PORTS[$name]="$port"
  done
  if [[ -z "$ns" || ${#RMQ_BROKERS[@]} -eq 0 ]]; then
    rmq_log "cannot read the name server port and the brokers from $RMQ_RUN/env"
    return 3
  fi
  local first="${RMQ_BROKER_PORTS[${RMQ_BROKERS[0]}]}"
  if [[ -n "${ROCKETMQ_NAMESRV_PORT:-}" && "$ROCKETMQ_NAMESRV_PORT" != "$ns" ]] ||
     [[ -n "${ROCKETMQ_BROKER_PORT:-}" && "$ROCKETMQ_BROKER_PORT" != "$first" ]]; then
    rmq_log "asked for the cluster on name server port ${ROCKETMQ_NAMESRV_PORT:-any} / broker port ${ROCKETMQ_BROKER_PORT:-any}," \
      "but the one started here ($RMQ_RUN) uses $ns / $first; not touching it"
    return 3
  fi
  RMQ_NAMESRV_PORT="$ns"
  RMQ_BROKER_PORT="$first"
  RMQ_BROKER_COUNT="${#RMQ_BROKERS[@]}"
  if [[ -n "$version" ]]; then
    RMQ_VERSION="$version"
    RMQ_LIB="$RMQ_DIR/lib/$RMQ_VERSION"
  fi
}

# rmq_pick_broker NAME: checks that NAME (default broker-a) is one of the adopted cluster's brokers.
rmq_pick_broker() {
  if ! rmq_is_broker "$1"; then
    rmq_log "no broker named '$1' in this cluster (it has: ${RMQ_BROKERS[*]})"
    return 1
  fi
}

# rmq_kill_wait NAME PID: SIGKILL (a crash: no shutdown hook), then wait up to 10 s until the
# process is gone. Fails if it is still alive.
rmq_kill_wait() {
  local name="$1" pid="$2"
  kill -KILL "$pid"
  for _ in $(seq 1 100); do
    rmq_pid_alive "$pid" || return 0
    sleep 0.1
  done
  rmq_log "ERROR: $name (pid $pid) still alive 10 s after SIGKILL"
  return 1
}
