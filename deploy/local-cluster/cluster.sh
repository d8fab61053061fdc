#!/usr/bin/env sh
# The local scale-out recipe: 2 api nodes and 2 worker nodes on this machine's PostgreSQL, with
# S3Proxy (from Maven Central, on its filesystem store) as the S3-compatible bucket. Run it through
# the launcher, which finds the JDK and builds the jars:
#
#   ./qwen-image cluster up [--dir DIR] [--base-port PORT]   start it (waits until every node is ready)
#   ./qwen-image cluster status [--dir DIR]                  every node: role, port, pid, /readyz; the queue
#   ./qwen-image cluster down [--dir DIR]                    SIGTERM every node (they drain), then the store
#
# Ports: api 1 = PORT (8081), api 2 = PORT+1, worker 1 = PORT+2, worker 2 = PORT+3, S3 = PORT+4.
# PostgreSQL: $QWEN_IMAGE_DB_URL, else jdbc:postgresql://127.0.0.1:5432/postgres, in the schema
# qwen_image_cluster (user $QWEN_IMAGE_DB_USER, else postgres). Engines: $QWEN_IMAGE_ENGINES (preview).
# Everything else (logs, pids, the generated API key and secrets, the bucket's files) is under DIR
# (./data/cluster). See docs/local-cluster.md.
#
# Set by the launcher (or a test): CLUSTER_JAVA (the java binary), CLUSTER_SERVER (how java runs the
# server: "-jar server/target/qwen-image-server.jar"), CLUSTER_S3PROXY_JAR (S3Proxy's runnable jar).
set -eu

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
  echo "qwen-image cluster: $*" >&2
  exit 1
}

action=${1:-}
[ $# -gt 0 ] && shift
DIR=./data/cluster
BASE_PORT=
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || die "--dir needs a folder"; DIR=$2; shift 2 ;;
    --dir=*) DIR=${1#--dir=}; shift ;;
    --base-port) [ $# -ge 2 ] || die "--base-port needs a port"; BASE_PORT=$2; shift 2 ;;
    --base-port=*) BASE_PORT=${1#--base-port=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (try: ./qwen-image cluster --help)" ;;
  esac
done
# status and down use the ports of the last up in DIR
[ -n "$BASE_PORT" ] || BASE_PORT=$(cat "$DIR/base-port" 2>/dev/null || echo 8081)
case "$BASE_PORT" in
  ''|*[!0-9]*) die "--base-port must be a number, not '$BASE_PORT'" ;;
esac
[ "$BASE_PORT" -ge 1 ] && [ "$BASE_PORT" -le 65530 ] || die "--base-port must be between 1 and 65530, not $BASE_PORT"

NODES="api-1 api-2 worker-1 worker-2"

command -v curl >/dev/null 2>&1 || die "needs curl (to check the nodes' /readyz): install it"

port_of() {
  case "$1" in
    api-1) echo "$BASE_PORT" ;;
    api-2) echo $((BASE_PORT + 1)) ;;
    worker-1) echo $((BASE_PORT + 2)) ;;
    worker-2) echo $((BASE_PORT + 3)) ;;
    s3) echo $((BASE_PORT + 4)) ;;
  esac
}

# The pid of a running process of the cluster, or nothing.
alive_pid() {
  f="$DIR/$1.pid"
  [ -f "$f" ] || return 0
  p=$(cat "$f")
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "$p"; fi
}

# The HTTP status of a node's /readyz (000 when it does not answer).
readyz() {
  curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/readyz" 2>/dev/null || true
}

# Reads the saved settings of the cluster (ports, credentials) written by `up`.
load_state() {
  [ -f "$DIR/cluster.env" ] || return 1
  . "$DIR/cluster.env"
}

status() {
  load_state || { echo "qwen-image cluster: no cluster in $DIR (start one: ./qwen-image cluster up)"; return 1; }
  printf '%-9s %-7s %-6s %-8s %-6s %s\n' NODE ROLE PORT PID READYZ LOG
  for n in s3 $NODES; do
    p=$(alive_pid "$n")
    port=$(port_of "$n")
    role=${n%-*}
    if [ "$n" = s3 ]; then
      role=s3proxy; rz=-
    else
      rz=$(readyz "$port")
    fi
    printf '%-9s %-7s %-6s %-8s %-6s %s\n' "$n" "$role" "$port" "${p:-down}" "$rz" "$DIR/$n.log"
  done
  metrics=$(curl -s -m 2 -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$(port_of api-1)/metrics" 2>/dev/null || true)
  queued=$(echo "$metrics" | sed -n 's/^qwen_image_tasks{.*state="queued".*} \([0-9.e+E]*\)$/\1/p' | head -n 1)
  processing=$(echo "$metrics" | sed -n 's/^qwen_image_tasks{.*state="processing".*} \([0-9.e+E]*\)$/\1/p' | head -n 1)
  echo "queue: ${queued:-?} queued, ${processing:-?} processing (from api-1's /metrics)"
}

up() {
  [ -n "${CLUSTER_JAVA:-}" ] && [ -n "${CLUSTER_SERVER:-}" ] && [ -n "${CLUSTER_S3PROXY_JAR:-}" ] \
    || die "run me through the launcher: ./qwen-image cluster up"
  [ -f "$CLUSTER_S3PROXY_JAR" ] || die "S3Proxy's jar is missing at $CLUSTER_S3PROXY_JAR (./qwen-image build fetches it)"
  mkdir -p "$DIR"
  running=""
  for n in s3 $NODES; do
    if [ -n "$(alive_pid "$n")" ]; then running="$running $n"; fi
  done
  if [ -n "$running" ]; then
    echo "qwen-image cluster: already up in $DIR (running:$running); ./qwen-image cluster down stops it"
    status
    return 0
  fi
  for n in s3 $NODES; do
    port=$(port_of "$n")
    if curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/" 2>/dev/null; then
      die "port $port (for $n) is in use by another program: stop it or pick other ports with --base-port"
    fi
  done

  # one set of credentials per cluster, kept across restarts (the bucket and the database outlive a down)
  if ! load_state; then
    rnd() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
    cat >"$DIR/cluster.env" <<EOF
API_KEY=qwen-local-$(rnd 16)
ADMIN_TOKEN=$(rnd 24)
URL_SECRET=$(rnd 32)
S3_ACCESS_KEY=local$(rnd 6)
S3_SECRET_KEY=$(rnd 24)
EOF
    chmod 600 "$DIR/cluster.env"
    load_state
  fi
  DB_URL=${QWEN_IMAGE_DB_URL:-jdbc:postgresql://127.0.0.1:5432/postgres}
  case "$DB_URL" in
    *currentSchema=*) ;;
    *\?*) DB_URL="$DB_URL&currentSchema=qwen_image_cluster" ;;
    *) DB_URL="$DB_URL?currentSchema=qwen_image_cluster" ;;
  esac
  S3_PORT=$(port_of s3)
  ABS_DIR=$(CDPATH= cd -- "$DIR" && pwd)
  echo "$BASE_PORT" >"$ABS_DIR/base-port"

  mkdir -p "$ABS_DIR/s3"
  cat >"$ABS_DIR/s3proxy.properties" <<EOF
s3proxy.endpoint=http://127.0.0.1:$S3_PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$S3_ACCESS_KEY
s3proxy.credential=$S3_SECRET_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$ABS_DIR/s3
EOF
  "$CLUSTER_JAVA" -Xmx256m -jar "$CLUSTER_S3PROXY_JAR" --properties "$ABS_DIR/s3proxy.properties" \
    >"$ABS_DIR/s3.log" 2>&1 &
  echo $! >"$ABS_DIR/s3.pid"
  i=0
  until curl -s -o /dev/null -m 1 "http://127.0.0.1:$S3_PORT/" 2>/dev/null; do
    [ -n "$(alive_pid s3)" ] || { tail -n 20 "$ABS_DIR/s3.log" >&2; die "S3Proxy did not start (log: $ABS_DIR/s3.log)"; }
    i=$((i + 1)); [ "$i" -lt 300 ] || die "S3Proxy did not answer on port $S3_PORT within 30 s (log: $ABS_DIR/s3.log)"
    sleep 0.1
  done

  for n in $NODES; do
    role=${n%-*}
    mkdir -p "$ABS_DIR/$n"
    # shellcheck disable=SC2086 # CLUSTER_SERVER and QWEN_IMAGE_JAVA_OPTS are word lists
    env QWEN_IMAGE_ROLE="$role" QWEN_IMAGE_PORT="$(port_of "$n")" QWEN_IMAGE_HOST=127.0.0.1 \
      QWEN_IMAGE_DATA_DIR="$ABS_DIR/$n" \
      QWEN_IMAGE_DB_URL="$DB_URL" QWEN_IMAGE_DB_USER="${QWEN_IMAGE_DB_USER:-postgres}" QWEN_IMAGE_DB_POOL="${QWEN_IMAGE_DB_POOL:-4}" \
      QWEN_IMAGE_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" QWEN_IMAGE_S3_BUCKET=qwen-images QWEN_IMAGE_S3_CREATE_BUCKET=on \
      QWEN_IMAGE_S3_ACCESS_KEY="$S3_ACCESS_KEY" QWEN_IMAGE_S3_SECRET_KEY="$S3_SECRET_KEY" \
      QWEN_IMAGE_API_KEYS="$API_KEY" QWEN_IMAGE_ADMIN_TOKEN="$ADMIN_TOKEN" QWEN_IMAGE_URL_SECRET="$URL_SECRET" \
      QWEN_IMAGE_ENGINES="${QWEN_IMAGE_ENGINES:-preview}" \
      "$CLUSTER_JAVA" ${QWEN_IMAGE_JAVA_OPTS:--Xmx512m -XX:+UseSerialGC} -Djava.awt.headless=true $CLUSTER_SERVER serve \
      >"$ABS_DIR/$n.log" 2>&1 &
    echo $! >"$ABS_DIR/$n.pid"
  done

  # every node answers /readyz 200, or the first one that died is shown with its log
  waited=0
  for n in $NODES; do
    port=$(port_of "$n")
    while [ "$(readyz "$port")" != 200 ]; do
      if [ -z "$(alive_pid "$n")" ]; then
        echo "qwen-image cluster: $n stopped while starting; the end of $ABS_DIR/$n.log:" >&2
        tail -n 15 "$ABS_DIR/$n.log" >&2
        if grep -q -i "postgres\|database\|connection" "$ABS_DIR/$n.log"; then
          echo "qwen-image cluster: is PostgreSQL running and reachable at $DB_URL (user ${QWEN_IMAGE_DB_USER:-postgres})? Start it, or point QWEN_IMAGE_DB_URL (and QWEN_IMAGE_DB_USER, QWEN_IMAGE_DB_PASSWORD) at one" >&2
        fi
        down >/dev/null 2>&1 || true
        exit 1
      fi
      waited=$((waited + 1))
      [ "$waited" -lt 1200 ] || { down >/dev/null 2>&1 || true; die "$n was not ready within 120 s (log: $ABS_DIR/$n.log)"; }
      sleep 0.1
    done
  done
  api1=http://127.0.0.1:$(port_of api-1)
  api2=http://127.0.0.1:$(port_of api-2)
  echo "qwen-image cluster: up in $ABS_DIR (PostgreSQL $DB_URL, S3Proxy on port $S3_PORT, engines ${QWEN_IMAGE_ENGINES:-preview})"
  status
  cat <<EOF

API key:     $API_KEY
admin token: $ADMIN_TOKEN        (the admin page: $api1/admin)
Submit through api-1, poll through api-2:
  curl -s -H 'Authorization: Bearer $API_KEY' -H 'Content-Type: application/json' \\
    -d '{"prompt": "a lighthouse at dawn", "size": "1024*1024"}' $api1/v3/async/qwen-image-txt2img
  curl -s -H 'Authorization: Bearer $API_KEY' '$api2/v3/async/task-result?task_id=TASK_ID'
Stop it: ./qwen-image cluster down
EOF
}

# SIGTERM to every node at once (each drains: QWEN_IMAGE_DRAIN_TIMEOUT), then S3Proxy once they are gone.
down() {
  load_state || { echo "qwen-image cluster: no cluster in $DIR"; return 0; }
  stopping=""
  for n in $NODES; do
    p=$(alive_pid "$n")
    if [ -n "$p" ]; then kill -TERM "$p" 2>/dev/null || true; stopping="$stopping $n"; fi
  done
  for n in $stopping; do
    i=0
    while [ -n "$(alive_pid "$n")" ]; do
      i=$((i + 1))
      if [ "$i" -ge 1200 ]; then
        echo "qwen-image cluster: $n did not stop within 120 s; killing it"
        kill -KILL "$(alive_pid "$n")" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
    echo "$n: $(grep -h 'stopped in' "$DIR/$n.log" 2>/dev/null | tail -n 1 | sed 's/.*\(stopped in\)/\1/' || true)"
  done
  p=$(alive_pid s3)
  if [ -n "$p" ]; then
    kill -TERM "$p" 2>/dev/null || true
    i=0
    while [ -n "$(alive_pid s3)" ] && [ "$i" -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
    [ -z "$(alive_pid s3)" ] || kill -KILL "$(alive_pid s3)" 2>/dev/null || true
    echo "s3: stopped"
  fi
  for n in s3 $NODES; do rm -f "$DIR/$n.pid"; done
  echo "qwen-image cluster: down (the database schema qwen_image_cluster and $DIR/s3 keep the tasks and images; delete $DIR to start afresh)"
}

case "$action" in
  up) up ;;
  status) status ;;
  down) down ;;
  ''|-h|--help|help) usage ;;
  *) die "unknown command '$action': up, status or down" ;;
esac
