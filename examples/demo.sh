#!/usr/bin/env bash
# The EdgeTable demo: a gateway (edge) and a hub on one machine.
#
# On a fresh Debian 12 machine, as root, from a checkout: installs what is
# needed (platforms/debian/install-deps.sh), builds Release in build-demo/,
# makes a CA and certificates with openssl, starts mosquitto (its own config
# and persistence), a hub, an edge and the sensor simulator, prints AWS CLI
# lines that query the edge and the hub and the `edgetable status` of each,
# then runs until Ctrl-C and stops everything it started.
#
#   bash examples/demo.sh                 run until Ctrl-C
#   bash examples/demo.sh --check SECS    run for SECS seconds, stop the simulator,
#                                         wait for the edge's sync to drain, and fail
#                                         unless the hub holds every item the edge
#                                         ingested (used by CI)
# Options:
#   --dir DIR       the demo directory (default ./demo-run in the checkout; also
#                   EDGETABLE_DEMO_DIR). Wiped at start, so it must be new, empty,
#                   or a directory an earlier run of this demo made.
#   --no-install    skip the Debian packages (also EDGETABLE_SKIP_INSTALL=1)
# Environment:
#   EDGETABLE_BIN=/path/to/edgetable   use this binary, do not build
set -euo pipefail

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

check=0
dir=${EDGETABLE_DEMO_DIR:-}
install=1
[[ ${EDGETABLE_SKIP_INSTALL:-0} == 1 ]] && install=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --check)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "demo: --check needs a number of seconds (> 0)" >&2; exit 2; }
      check=$2; shift 2 ;;
    --dir)
      [[ -n ${2:-} ]] || { echo "demo: --dir needs a directory" >&2; exit 2; }
      dir=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

# Paths given by the caller are relative to where they called from.
[[ -n $dir && $dir != /* ]] && dir=$PWD/$dir
bin=${EDGETABLE_BIN:-}
[[ -n $bin && $bin != /* ]] && bin=$PWD/$bin
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${dir:-$root/demo-run}
py=/usr/bin/python3
helper=$root/examples/demo/demo_helper.py

bold=$'\033[1m' off=$'\033[0m'
[[ -t 1 ]] || bold='' off=''
say() { printf '%s==> %s%s\n' "$bold" "$*" "$off"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
indent() { sed -u 's/^/    /'; }

# --- processes: started in order, stopped in reverse at exit or Ctrl-C ---------

pids=() names=()
cleanup() {
  local i pid n rev=()
  trap - EXIT INT TERM HUP
  trap '' PIPE   # stdout may be a closed pipe (| head): stop everything anyway
  [[ ${#pids[@]} -gt 0 ]] || return 0
  for ((i = ${#names[@]} - 1; i >= 0; i--)); do rev+=("${names[i]}"); done
  say "stopping ${rev[*]}" || true
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for ((n = 0; n < 150; n++)); do   # 15 s, then SIGKILL
      kill -0 "$pid" 2>/dev/null || break
      # a child that exited stays a zombie until waited for
      [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]] && break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null && [[ $(ps -o stat= -p "$pid" 2>/dev/null) != Z* ]]; then
      echo "    ${names[i]} did not stop within 15 s: SIGKILL" >&2 || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  pids=() names=()
}
trap 'cleanup' EXIT
trap 'echo; cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP
trap 'cleanup; exit 141' PIPE

# start NAME LOG COMMAND...: runs COMMAND in the background, output to LOG.
start() {
  local name=$1 log=$2
  shift 2
  # A session of its own: Ctrl-C reaches only this script, which then stops
  # the processes in order (the simulator first, the broker last).
  setsid "$@" >"$log" 2>&1 </dev/null &
  pids+=($!) names+=("$name")
  last_pid=$!
}

# fail_with NAME LOG: the process did not come up; show why and stop.
fail_with() {
  echo "demo: $1 did not start; the end of $2:" >&2
  tail -n 20 "$2" | indent >&2
  exit 1
}

# --- 1. dependencies and the binary --------------------------------------------

if [[ $install -eq 1 ]]; then
  say "installing dependencies (Debian packages; quiet unless something fails)"
  bash platforms/debian/install-deps.sh | indent
else
  say "skipping the Debian packages (--no-install)"
fi

if [[ -n $bin ]]; then
  [[ -x $bin ]] || die "EDGETABLE_BIN=$bin is not an executable file"
  say "using $bin (EDGETABLE_BIN; not building)"
else
  say "building edgetable (Release) in build-demo/"
  cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DEDGETABLE_BUILD_TESTS=OFF -DEDGETABLE_BUILD_BENCH=OFF | indent
  cmake --build build-demo -j "$(nproc)" --target edgetable | indent
  bin=$root/build-demo/edge/app/edgetable
fi
echo "    $("$bin" version | head -n 1)"

for tool in openssl "$py"; do
  command -v "$tool" >/dev/null || die "$tool is missing (platforms/debian/install-deps.sh installs it)"
done
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[[ -x $mosquitto ]] || die "mosquitto is missing (platforms/debian/install-deps.sh installs it)"
"$py" -c 'import paho.mqtt.client, boto3' 2>/dev/null ||
  die "$py lacks paho-mqtt or boto3 (python3-paho-mqtt, python3-boto3: platforms/debian/install-deps.sh)"

# --- 2. the demo directory -------------------------------------------------------

marker=.edgetable-demo
if [[ -e $dir ]]; then
  if [[ -n $(ls -A "$dir") && ! -e $dir/$marker ]]; then
    die "$dir is not empty and was not made by this demo: not wiping it (choose another --dir)"
  fi
  rm -rf "$dir"
fi
mkdir -p "$dir"/{pki,mosquitto,hub,edge,sim}
touch "$dir/$marker"
say "demo directory: $dir (wiped)"

read -r mqtt_port edge_http edge_tls hub_http hub_tls < <("$py" "$helper" ports 1883 8000 8443 8100 9443)

# --- 3. a CA and certificates ------------------------------------------------------

say "making a CA and certificates with openssl in $dir/pki"
pki=$dir/pki
ca=$pki/ca.crt
ossl() { openssl "$@" 2>>"$pki/openssl.log" >/dev/null || { tail -n 5 "$pki/openssl.log" >&2; die "openssl failed"; }; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -keyout "$pki/ca.key" -out "$ca" -subj "/CN=EdgeTable Demo CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
# leaf NAME CN server|client
leaf() {
  local name=$1 cn=$2 kind=$3
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    if [[ $kind == server ]]; then
      echo "extendedKeyUsage=serverAuth"
      echo "subjectAltName=DNS:localhost,IP:127.0.0.1"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$pki/$name.ext"
  ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$pki/$name.key" -out "$pki/$name.csr" -subj "/CN=$cn"
  ossl x509 -req -in "$pki/$name.csr" -CA "$ca" -CAkey "$pki/ca.key" -days 30 \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$pki/$name.ext" -out "$pki/$name.crt"
  chmod 600 "$pki/$name.key"
  echo "    $name.crt  CN=$cn ($kind)"
}
leaf hub localhost server    # the hub's HTTPS listener
leaf edge localhost server   # the edge's HTTPS listener
leaf gw-1 gw-1 client        # the edge's identity at the hub: cert_subject "CN=gw-1"
chmod 600 "$pki/ca.key"

# --- 4. mosquitto ------------------------------------------------------------------

say "starting mosquitto on 127.0.0.1:$mqtt_port (config $dir/mosquitto/mosquitto.conf)"
mq=$dir/mosquitto
# As root, mosquitto would switch to the mosquitto user, which cannot write
# the demo directory: it stays the invoking user.
cat >"$mq/mosquitto.conf" <<EOF
# The demo's broker: loopback only, anonymous, QoS 1 queues kept on disk.
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $mq/
autosave_interval 10
# EdgeTable's persistent session must not lose queued QoS 1 messages
# (README, "The broker: settings a gateway needs").
max_queued_messages 0
max_queued_bytes 268435456
max_inflight_messages 100
log_dest file $mq/mosquitto.log
log_type error
log_type warning
log_type notice
$([[ $(id -u) -eq 0 ]] && echo "user root")
EOF
start mosquitto "$mq/stdout.log" "$mosquitto" -c "$mq/mosquitto.conf"
for ((n = 0; n < 100; n++)); do
  kill -0 "$last_pid" 2>/dev/null && [[ $(ps -o stat= -p "$last_pid") != Z* ]] || fail_with mosquitto "$mq/mosquitto.log"
  (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null && break
  sleep 0.1
done
[[ $n -lt 100 ]] || fail_with mosquitto "$mq/mosquitto.log"
echo "    up (pid $last_pid)"

# --- 5. the hub --------------------------------------------------------------------

say "starting the hub: HTTPS on localhost:$hub_tls (API and sync), HTTP on 127.0.0.1:$hub_http (status)"
cat >"$dir/hub/hub.toml" <<EOF
# The demo's hub: the node gateways sync to.
[node]
data_dir = "$dir/hub/data"
log_level = "info"

[storage]
durability = "full"

[api]
listen = "127.0.0.1:$hub_http"          # plain HTTP on loopback: edgetable status
tls_listen = "127.0.0.1:$hub_tls"       # the DynamoDB API and the sync endpoints
tls_cert_file = "$pki/hub.crt"
tls_key_file = "$pki/hub.key"
tls_client_ca_file = "$ca"              # verifies the gateways' client certificates

[sync]
max_skew_ms = 600000
skew_policy = "refuse"

[[sync.peers]]
name = "gw-1"
cert_subject = "CN=gw-1"                # the edge's client certificate
tables = ["telemetry"]
EOF
start hub "$dir/hub/hub.log" "$bin" serve --config "$dir/hub/hub.toml"
hub_pid=$last_pid
"$py" "$helper" wait health "http://127.0.0.1:$hub_http" --pid "$hub_pid" --timeout 30 ||
  fail_with hub "$dir/hub/hub.log"
echo "    up (pid $hub_pid)"

# --- 6. the edge -------------------------------------------------------------------

say "starting the edge: HTTPS on localhost:$edge_tls, HTTP on 127.0.0.1:$edge_http, MQTT ingest, sync to the hub"
cat >"$dir/edge/edge.toml" <<EOF
# The demo's gateway: MQTT in, the DynamoDB API, sync up to the hub.
[node]
data_dir = "$dir/edge/data"
log_level = "info"

[storage]
durability = "normal"

[api]
listen = "127.0.0.1:$edge_http"         # plain HTTP, loopback only
tls_listen = "127.0.0.1:$edge_tls"      # HTTPS
tls_cert_file = "$pki/edge.crt"
tls_key_file = "$pki/edge.key"

[mqtt]
broker = "tcp://127.0.0.1:$mqtt_port"
client_id = "edgetable-gw-1"
reconnect_min_ms = 100
reconnect_max_ms = 2000

# sensors/<device>/telemetry  {"ts": <epoch ms>, "temp": 21.5, "hum": 40, "state": "ok"}
[[ingest.rules]]
topic = "sensors/{device}/telemetry"
table = "telemetry"
ttl = "7d"
attributes = { site = "demo", gateway = "gw-1" }

[sync]
upstream = "https://localhost:$hub_tls"
ca_file = "$ca"                         # the CA that signed the hub's certificate
client_cert_file = "$pki/gw-1.crt"      # CN=gw-1: the hub's [[sync.peers]] entry
client_key_file = "$pki/gw-1.key"
interval_ms = 200
backoff_min_ms = 100
backoff_max_ms = 2000
EOF
start edge "$dir/edge/edge.log" "$bin" serve --config "$dir/edge/edge.toml"
edge_pid=$last_pid
"$py" "$helper" wait ingest "http://127.0.0.1:$edge_http" --pid "$edge_pid" --timeout 30 ||
  fail_with edge "$dir/edge/edge.log"
echo "    up (pid $edge_pid); subscribed to sensors/+/telemetry"
"$py" "$helper" wait sync "http://127.0.0.1:$edge_http" --pid "$edge_pid" --timeout 30 ||
  fail_with "the edge's sync to the hub" "$dir/edge/edge.log"
echo "    synced with the hub over HTTPS (client certificate CN=gw-1)"

# --- 7. the sensor simulator -----------------------------------------------------------

devices=10 rate=20
say "starting the sensor simulator: $devices devices, $rate readings/s, QoS 1 to sensors/<device>/telemetry"
sim_stats=$dir/sim/stats.json
start simulator "$dir/sim/sim.log" "$py" -u examples/sensor_sim.py --port "$mqtt_port" \
  --devices "$devices" --rate "$rate" --count 0 --wall-clock --client-id demo-sensors --stats-file "$sim_stats"
sim_pid=$last_pid
sleep 2
kill -0 "$sim_pid" 2>/dev/null && [[ $(ps -o stat= -p "$sim_pid") != Z* ]] || fail_with simulator "$dir/sim/sim.log"
echo "    up (pid $sim_pid)"

# --- 8. what to try ------------------------------------------------------------------------

cli="AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws dynamodb"
q=(--table-name telemetry --key-condition-expression "'device = :d'"
   --expression-attribute-values "'{\":d\": {\"S\": \"dev-0001\"}}'" --no-scan-index-forward --max-items 5
   --query "'Items[].{device: device.S, ts: ts.N, temp: temp.N, hum: hum.N}'" --output table)
edge_query="$cli query --endpoint-url https://localhost:$edge_tls --ca-bundle $ca --region local ${q[*]}"
hub_query="$cli query --endpoint-url https://localhost:$hub_tls --ca-bundle $ca --region local ${q[*]}"
count_args="--table-name telemetry --select COUNT --query Count"
edge_count="$cli scan --endpoint-url https://localhost:$edge_tls --ca-bundle $ca --region local $count_args"
hub_count="$cli scan --endpoint-url https://localhost:$hub_tls --ca-bundle $ca --region local $count_args"
edge_status="$bin status --address 127.0.0.1:$edge_http"
hub_status="$bin status --address 127.0.0.1:$hub_http"

sleep 1
say "edgetable status of the edge ($edge_status)"
$edge_status 2>&1 | indent || true
say "edgetable status of the hub ($hub_status)"
$hub_status 2>&1 | indent || true

say "ready. Try (from any directory):"
cat <<EOF

  # the latest readings of device dev-0001, on the edge (the gateway) and on the hub
  $edge_query

  $hub_query

  # how many readings each holds (the hub follows the edge within a second)
  $edge_count

  $hub_count

  # the nodes' counters: ingest, sync lag, hub peers, listeners
  $edge_status
  $hub_status

  # logs and configs: $dir/{edge,hub,mosquitto,sim}/

EOF

# watch_all SECS: returns after SECS seconds (0: never) or when a process died.
watch_all() {
  local until=$(( $1 > 0 ? SECONDS + $1 : 0 )) i
  while [[ $until -eq 0 || $SECONDS -lt $until ]]; do
    for i in "${!pids[@]}"; do
      if ! kill -0 "${pids[i]}" 2>/dev/null || [[ $(ps -o stat= -p "${pids[i]}") == Z* ]]; then
        echo "demo: ${names[i]} exited on its own; see its log in $dir" >&2
        return 1
      fi
    done
    sleep 1
  done
}

if [[ $check -eq 0 ]]; then
  say "running; press Ctrl-C to stop everything"
  watch_all 0 || exit 1
  exit 0
fi

# --- --check -----------------------------------------------------------------------------

say "check: running for $check s"
watch_all "$check" || { echo "demo check: FAIL: a process exited on its own"; exit 1; }
say "check: stopping the simulator"
kill -TERM "$sim_pid"
wait "$sim_pid" || { echo "demo check: FAIL: the simulator failed"; tail -n 5 "$dir/sim/sim.log" >&2; exit 1; }
for i in "${!pids[@]}"; do
  [[ ${pids[i]} == "$sim_pid" ]] && unset 'pids[i]' 'names[i]'
done
pids=("${pids[@]}") names=("${names[@]}")
indent <"$dir/sim/sim.log"
if command -v aws >/dev/null; then
  say "check: running the AWS CLI lines above"
  for line in "$edge_query" "$hub_query" "$edge_count" "$hub_count"; do
    out=$(bash -c "$line" 2>&1) || { echo "$out" | indent >&2; echo "demo check: FAIL: an AWS CLI line failed: $line"; exit 1; }
  done
  echo "    all four ran"
fi
say "check: waiting (at most 60 s) for the edge's sync lag to reach 0, then comparing edge and hub"
"$py" "$helper" check --edge "https://localhost:$edge_tls" --edge-status "http://127.0.0.1:$edge_http" \
  --hub "https://localhost:$hub_tls" --ca "$ca" --sim-stats "$sim_stats" --timeout 60
