#!/usr/bin/env bash
# Runs the gateway benchmark against Hive Router in each deduplication mode, side by side.
# Needs `hive_router` on PATH:
#   cargo install hive-router --version 0.2.19 --locked --features graphiql
# MODES (default "off subgraph client"), BENCH_SECONDS, BENCH_ROUNDS and BENCH_CONCURRENCY
# pass through; Hive reads router/benches/hive/<mode>.yaml.
set -euo pipefail
cd "$(dirname "$0")/../.."
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
for mode in ${MODES:-off subgraph client}; do
  SUPERGRAPH_FILE_PATH="$supergraph" ROUTER_CONFIG_FILE_PATH="router/benches/hive/$mode.yaml" \
    HOST=127.0.0.1 PORT="$hive_port" hive_router > "target/hive-$mode.log" 2>&1 &
  hive=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$hive_port/health" > /dev/null && break
    sleep 0.1
  done
  kill -0 "$hive" 2> /dev/null || { cat "target/hive-$mode.log"; exit 1; }
  BENCH_MODE="$mode" BENCH_SUBGRAPH_PORT_BASE="$base" \
    BENCH_COMPARE_URL="http://127.0.0.1:$hive_port/graphql" BENCH_COMPARE_PID="$hive" \
    cargo bench -p router --bench gateway || { kill "$hive" 2> /dev/null; exit 1; }
  kill "$hive"
  wait "$hive" 2>/dev/null || true
done
