#!/usr/bin/env bash
# Installs the servers EdgeTable's benchmarks measure against, outside the
# build: dynalite (npm `dynalite`, Node.js on LevelDB) and Amazon's DynamoDB
# Local (the jar shipped in npm `amplify-dynamodb-simulator`, run with
# Debian's openjdk-17-jre-headless). Idempotent.
#
#   platforms/peers/install-peers.sh [DIR]     (default /var/cache/edgetable/peers)
#
# Prints two lines for scripts: DYNALITE=<cli.js> and DYNAMODB_LOCAL=<dir>.
set -euo pipefail
dir=${1:-/var/cache/edgetable/peers}
need=()
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
if [[ ${#need[@]} -gt 0 ]]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
mkdir -p "$dir"
cd "$dir"
[[ -f package.json ]] || echo '{"name":"edgetable-peers","private":true}' > package.json
if [[ ! -f node_modules/dynalite/cli.js || ! -d node_modules/amplify-dynamodb-simulator ]]; then
  echo "install-peers: npm install dynalite amplify-dynamodb-simulator into $dir" >&2
  npm install --no-audit --no-fund --loglevel=error dynalite amplify-dynamodb-simulator >&2
fi
jar=$(find "$dir/node_modules/amplify-dynamodb-simulator" -name DynamoDBLocal.jar -print -quit)
echo "DYNALITE=$dir/node_modules/dynalite/cli.js"
echo "DYNAMODB_LOCAL=$(dirname "$jar")"
