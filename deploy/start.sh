#!/usr/bin/env bash
# The multi-node layout of docs/scaling.md, on loopback, with one command:
#
#   deploy/start.sh [--nodes N] [--pages P] [--workers M] [--port PORT] [--state DIR]
#   deploy/start.sh stop [--state DIR]                                      stop what it started
#   deploy/start.sh env [--state DIR]                                       print the settings
#
# N `overt serve --no-worker` processes for cameras, docks and API clients, and P (default
# 1) for people's pages, behind HAProxy (Debian's package, installed if missing): requests
# to the upload routes (/files/, /swift/), the device API (/api/device/, /api/devices/,
# /api/capture/) or with a Bearer token go to the N; the rest (browsers) to the P, or to
# the N when no page process answers. On this one machine the N run at nice 10, so a
# shift-end storm of uploads does not slow the reviewers' pages (docs/scaling.md). With
# --pages 0 every request goes to the N. One PostgreSQL (the local server at 127.0.0.1:5432: a database of its own),
# S3 with Object Lock (moto_server, a bucket made with Object Lock on), and Redis (its own
# redis-server on a port of its own) with M `overt worker` processes. The schema is
# migrated once (`overt migrate`) before any app process starts.
#
# Idempotent: run it again and it stops the app processes it started and starts them
# afresh against the same database, bucket and Redis. Nothing listens beyond 127.0.0.1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OVERT="${DEPLOY_OVERT:-$ROOT/.venv/bin/overt}"
PY="${DEPLOY_PYTHON:-$ROOT/.venv/bin/python}"
MOTO="$(dirname "$PY")/moto_server"
COMMAND=start
NODES=2 PAGES=1 WORKERS=2 PORT=8080
STATE="$ROOT/var/deploy"
PG_URL="${DEPLOY_POSTGRES:-postgresql://postgres@127.0.0.1:5432}"
DB_NAME="${DEPLOY_DATABASE:-overt_deploy}"
REDIS_PORT="${DEPLOY_REDIS_PORT:-6391}"
S3_PORT="${DEPLOY_S3_PORT:-5591}"
NODE_PORT0="${DEPLOY_NODE_PORT:-8101}"
# Objects up to PART_MB MiB go to S3 in one PUT whose ChecksumSHA256 is the object's own
# SHA-256 (S3 checks it on receipt and keeps it as the object's checksum); larger ones in
# parts. A camera segment (10-60 MB) is one PUT: no part checksums to compute, and moto
# keeps one copy of it (it keeps a multipart object's parts beside the whole).
PART_MB="${DEPLOY_S3_PART_MB:-64}"
# moto keeps each object in a temporary file once it is larger than this (bytes), in
# $STATE/s3 (not in memory): a storm stores tens of GB.
MOTO_BUFFER="${DEPLOY_S3_MEMORY_BYTES:-1048576}"

case "${1:-}" in start|stop|env) COMMAND=$1; shift ;; esac
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES=$2; shift 2 ;;
    --pages) PAGES=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --state) STATE=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "deploy/start.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
RUN="$STATE/run" LOG="$STATE/log"
mkdir -p "$RUN" "$LOG" "$STATE/home"

settings() {  # quoted: the store URL's '&'s must not end the assignment when sourced
  cat <<EOF
OVERT_HOME='$STATE/home'
OVERT_DATABASE_URL='$PG_URL/$DB_NAME'
OVERT_STORE_URL='s3://overt-evidence?endpoint=http://127.0.0.1:$S3_PORT&region=eu-west-2&access_key=deploy&secret_key=deploy&lock_mode=GOVERNANCE&lock_days=1&part_mb=$PART_MB'
OVERT_REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'
OVERT_TRUSTED_PROXIES='127.0.0.1/32'
OVERT_ALLOWED_HOSTS='127.0.0.1,localhost'
EOF
}

stop_pidfile() {  # stop the process a pid file names (only ours), then forget it
  local file=$1
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

stop_apps() {
  for file in "$RUN"/haproxy.pid "$RUN"/serve-*.pid "$RUN"/pages-*.pid "$RUN"/worker-*.pid; do
    [ -e "$file" ] && stop_pidfile "$file"
  done
  return 0
}

if [ "$COMMAND" = env ]; then
  if [ -f "$STATE/overt.env" ]; then cat "$STATE/overt.env"; else settings; fi
  exit 0
fi
if [ "$COMMAND" = stop ]; then
  stop_apps
  stop_pidfile "$RUN/moto.pid"
  if [ -f "$RUN/redis.pid" ]; then stop_pidfile "$RUN/redis.pid"; fi
  echo "stopped (state kept in $STATE)"
  exit 0
fi

wait_for() {  # wait_for DESCRIPTION COMMAND...
  local what=$1; shift
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "deploy/start.sh: $what did not come up (logs in $LOG)" >&2
  exit 1
}

# 1. HAProxy from Debian, installed once.
if ! command -v haproxy >/dev/null; then
  echo "installing haproxy (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy >"$LOG/apt.log"
fi

# 2. PostgreSQL: the local server; a database of the deployment's own.
"$PY" - "$PG_URL" "$DB_NAME" <<'PYEOF'
import sys, psycopg
url, name = sys.argv[1], sys.argv[2]
with psycopg.connect(url + "/postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
PYEOF

# 3. Redis of its own (the deployment can lose it without touching anyone else's).
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STATE" --appendonly yes \
    --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log"
  wait_for "redis" redis-cli -p "$REDIS_PORT" ping
fi

# 4. S3 with Object Lock: moto_server and a bucket made with Object Lock enabled.
if ! curl -fs "http://127.0.0.1:$S3_PORT/moto-api/" >/dev/null 2>&1; then
  mkdir -p "$STATE/s3"
  TMPDIR="$STATE/s3" MOTO_S3_DEFAULT_KEY_BUFFER_SIZE="$MOTO_BUFFER" \
    nohup "$MOTO" -H 127.0.0.1 -p "$S3_PORT" >"$LOG/moto.log" 2>&1 &
  echo $! >"$RUN/moto.pid"
  wait_for "moto_server" curl -fs "http://127.0.0.1:$S3_PORT/moto-api/"
fi
"$PY" - "$S3_PORT" <<'PYEOF'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="eu-west-2",
                  aws_access_key_id="deploy", aws_secret_access_key="deploy")
if "overt-evidence" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
    s3.create_bucket(Bucket="overt-evidence", ObjectLockEnabledForBucket=True,
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
PYEOF

# 5. The schema, once, before any app process.
settings >"$STATE/overt.env"  # what `deploy/start.sh env` prints, for the CLI and bench
set -a; . "$STATE/overt.env"; set +a
stop_apps
"$OVERT" migrate

# 6. N app processes, M workers.
NICE=()
[ "$PAGES" -gt 0 ] && NICE=(nice -n 10)  # uploads yield the CPU to the page processes
for i in $(seq 0 $((NODES - 1))); do
  port=$((NODE_PORT0 + i))
  nohup "${NICE[@]}" "$OVERT" serve --no-worker --bind "127.0.0.1:$port" >"$LOG/serve-$i.log" 2>&1 &
  echo $! >"$RUN/serve-$i.pid"
done
for i in $(seq 0 $((PAGES - 1))); do
  port=$((NODE_PORT0 + NODES + i))
  nohup "$OVERT" serve --no-worker --bind "127.0.0.1:$port" >"$LOG/pages-$i.log" 2>&1 &
  echo $! >"$RUN/pages-$i.pid"
done
for i in $(seq 0 $((WORKERS - 1))); do
  nohup "$OVERT" worker >"$LOG/worker-$i.log" 2>&1 &
  echo $! >"$RUN/worker-$i.pid"
done

# 7. HAProxy in front: health-checked, each request to the process with the fewest open
#    ones (an upload holds its process for seconds; round robin piled them up); a request
#    that could not reach a process (refused, or reset before an answer) goes to another.
{
  cat <<EOF
global
    maxconn 4096
    pidfile $RUN/haproxy.pid
defaults
    mode http
    timeout connect 2s
    timeout check 10s
    timeout client 300s
    timeout server 300s
    option forwardfor
    option redispatch
    retries 3
    retry-on conn-failure empty-response
frontend overt
    bind 127.0.0.1:$PORT
    acl device_route path_beg /files /swift/ /api/device/ /api/devices/ /api/capture/
    acl bearer req.hdr(authorization) -m beg -i "bearer "
    use_backend nodes if device_route or bearer
    default_backend $([ "$PAGES" -gt 0 ] && echo pages || echo nodes)
backend nodes
    balance leastconn
    option httpchk GET /healthz
    http-check expect status 200
EOF
  for i in $(seq 0 $((NODES - 1))); do
    echo "    server node$i 127.0.0.1:$((NODE_PORT0 + i)) check inter 2s fall 5 rise 2"
  done
  if [ "$PAGES" -gt 0 ]; then
    printf '%s\n' "backend pages" "    balance leastconn" "    option httpchk GET /healthz" \
      "    http-check expect status 200"
    for i in $(seq 0 $((PAGES - 1))); do
      echo "    server page$i 127.0.0.1:$((NODE_PORT0 + NODES + i)) check inter 2s fall 5 rise 2"
    done
    for i in $(seq 0 $((NODES - 1))); do  # only while no page process answers
      echo "    server node$i 127.0.0.1:$((NODE_PORT0 + i)) check inter 2s fall 5 rise 2 backup"
    done
  fi
} >"$STATE/haproxy.cfg"
for i in $(seq 0 $((NODES - 1))); do
  wait_for "overt serve node $i" curl -fs "http://127.0.0.1:$((NODE_PORT0 + i))/healthz"
done
for i in $(seq 0 $((PAGES - 1))); do
  wait_for "overt serve pages $i" curl -fs "http://127.0.0.1:$((NODE_PORT0 + NODES + i))/healthz"
done
haproxy -D -f "$STATE/haproxy.cfg"
wait_for "haproxy" curl -fs "http://127.0.0.1:$PORT/healthz"

echo "overt: $NODES app process(es) for devices, $PAGES for pages, behind http://127.0.0.1:$PORT/; $WORKERS worker(s)"
echo "  PostgreSQL $PG_URL/$DB_NAME, S3 (Object Lock) http://127.0.0.1:$S3_PORT, Redis 127.0.0.1:$REDIS_PORT"
echo "  settings: deploy/start.sh env --state $STATE; logs: $LOG; stop: deploy/start.sh stop"
