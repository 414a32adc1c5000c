#!/usr/bin/env bash
# Peer comparison benchmark: anquan against pyahocorasick, flashtext and presidio-analyzer on the
# input of `cargo bench -p anquan-bench`. See benchsuite/README.md.
#
#   benchsuite/peers.sh [peers.py options, e.g. --repeats 5]
#
# Env: ANQUAN_BENCH_VENV (default ${XDG_CACHE_HOME:-$HOME/.cache}/anquan-bench-venv), PYTHON
# (interpreter that makes the venv, default python3), ANQUAN_PEERS_OUT (run folder, default
# benchsuite/runs/<YYYY-MM-DD>).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for a in "$@"; do
    case $a in -h | --help) exec "${PYTHON:-python3}" "$here/peers.py" --help ;; esac
done
repo=$(dirname "$here")
venv=${ANQUAN_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/anquan-bench-venv}
req="$here/requirements-peers.txt"
stamp="$venv/.anquan-requirements.sha256"

# 1. The venv, made or updated only when requirements-peers.txt changed.
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "peers.sh: installing the peers into $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" >"$stamp"
else
    echo "peers.sh: using $venv" >&2
fi

out=${ANQUAN_PEERS_OUT:-$here/runs/$(date +%Y-%m-%d)}
mkdir -p "$out"
cd "$repo"

# 2. Our figures, on the same machine right before the peers; the CLI for the recall check.
echo "peers.sh: cargo build --release --bin anquan" >&2
cargo build --quiet --release --bin anquan
echo "peers.sh: cargo bench -p anquan-bench (log: $out/cargo-bench.log)" >&2
cargo bench -p anquan-bench >"$out/cargo-bench.log" 2>&1 || {
    tail -30 "$out/cargo-bench.log" >&2
    exit 1
}

# 3. Peers, recall check, CSV and summary.
"$venv/bin/python" "$here/peers.py" --out "$out" --bench-log "$out/cargo-bench.log" "$@"
