#!/usr/bin/env bash
# Runs the gateway benchmark against Hive Router in each deduplication mode, side by side:
# Hive with logging at warn, and at info as the public benchmark's own configuration has it
# (which writes a line per request), both interleaved with ours in one run.
# The load comes from wrk, as in the public benchmark (BENCH_LOAD=builtin for the bench's own
# client). Needs `hive_router` and `wrk` on PATH:
#   cargo install hive-router --version 0.2.19 --locked --features graphiql
#   apt-get install wrk
# MODES (default "off subgraph client"), BENCH_SECONDS, BENCH_ROUNDS and BENCH_CONCURRENCY
# pass through; Hive reads router/benches/hive/<mode>.yaml (its log level set per instance).
set -euo pipefail
cd "$(dirname "$0")/../.."
export BENCH_LOAD=${BENCH_LOAD:-wrk}
base=${BENCH_SUBGRAPH_PORT_BASE:-4101}
hive_port=${HIVE_PORT:-4200}
mkdir -p target
# Absolute: Hive resolves paths against its configuration file's folder.
supergraph="$PWD/target/gateway-bench-hive-supergraph.graphql"
cp router/tests/fixtures/gateway-bench/supergraph.graphql "$supergraph"
i=0
# The order in which the benchmark puts its subgraphs on ports from the base on.
for name in accounts inventory products reviews; do
  sed -i "s#http://127.0.0.1:4000/$name#http://127.0.0.1:$((base + i))/graphql#" "$supergraph"
  i=$((i + 1))
done
cargo bench -p router --bench gateway --no-run
pids=()
stop_hives() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  pids=()
}
trap stop_hives EXIT
for mode in ${MODES:-off subgraph client}; do
  compare=()
  port=$hive_port
  for level in warn info; do
    config="$PWD/target/hive-$mode-$level.yaml"
    sed "s/^  level: warn$/  level: $level/" "router/benches/hive/$mode.yaml" > "$config"
    SUPERGRAPH_FILE_PATH="$supergraph" ROUTER_CONFIG_FILE_PATH="$config" \
      HOST=127.0.0.1 PORT="$port" hive_router > "target/hive-$mode-$level.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 1 100); do
      curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
      sleep 0.1
    done
    kill -0 "$pid" 2> /dev/null || { cat "target/hive-$mode-$level.log"; exit 1; }
    compare+=("hive ($level)=http://127.0.0.1:$port/graphql=$pid")
    port=$((port + 1))
  done
  BENCH_MODE="$mode" BENCH_SUBGRAPH_PORT_BASE="$base" \
    BENCH_COMPARE="$(IFS=,; echo "${compare[*]}")" \
    cargo bench -p router --bench gateway
  stop_hives
done
