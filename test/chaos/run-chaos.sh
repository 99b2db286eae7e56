#!/usr/bin/env bash
# `npm run test:chaos [-- --events N --seed N|random --full --outage-seconds S
#   --registry-stop-seconds S --kills-per-worker N --partitions N --no-faults --keep-stack --no-results]`:
# maps the flags to the environment test/chaos/chaos-suite.ts reads, builds the workers (they
# run from services/*/dist) and runs the jest project `chaos`. Other arguments go to jest
# (e.g. --ci --json --outputFile=...). See docs/chaos.md.
set -uo pipefail
cd "$(dirname "$0")/../.."
export TIERSTREAM_CHAOS=1
jest_args=()
number() { [[ "$2" =~ ^[0-9]+$ ]] || { echo "test:chaos: $1 needs a whole number, got '$2'" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  flag="${1%%=*}"; value=""; inline=0
  [[ "$1" == *=* ]] && { value="${1#*=}"; inline=1; }
  case "$flag" in
    --events|--seed|--outage-seconds|--registry-stop-seconds|--kills-per-worker|--partitions)
      if [ "$inline" = 0 ]; then value="${2:-}"; shift; fi
      [ "$flag" = --seed ] && [ "$value" = random ] && value=$(( (RANDOM << 15) | RANDOM ))
      number "$flag" "$value"
      case "$flag" in
        --events) export CHAOS_EVENTS="$value" ;;
        --seed) export CHAOS_SEED="$value" ;;
        --outage-seconds) export CHAOS_OUTAGE_S="$value" ;;
        --registry-stop-seconds) export CHAOS_REGISTRY_STOP_S="$value" ;;
        --kills-per-worker) export CHAOS_KILLS_PER_WORKER="$value" ;;
        --partitions) export CHAOS_PARTITIONS="$value" ;;
      esac ;;
    --full) export CHAOS_FULL=1 ;;
    --no-faults) export CHAOS_FAULTS=off ;;
    --keep-stack) export CHAOS_KEEP_STACK=1 ;;
    --no-results) export CHAOS_RESULTS=off ;;
    *) jest_args+=("$1") ;;
  esac
  shift
done
npm run --silent build:services || exit 1
exec node node_modules/jest/bin/jest.js --selectProjects chaos --runInBand "${jest_args[@]}"
