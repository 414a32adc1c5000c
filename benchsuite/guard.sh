#!/usr/bin/env bash
# Guard benchmark: `anquan guard`'s added latency under load at a fixed rate (wrk, loopback, the
# FAKE upstream of anquan-testkit behind it), and its input check against llm-guard's
# BanSubstrings / Regex and presidio-analyzer's pattern recognizers on the same prompts.
# See benchsuite/README.md ("Guard").
#
#   benchsuite/guard.sh [--rate 1000] [--duration 20] [--warmup 5] [--reps 2] [--threads 1]
#                       [--connections 8] [--prompts 10000] [--skip-peers]
#
# Env: ANQUAN_BENCH_CACHE (venv folder, default ${XDG_CACHE_HOME:-$HOME/.cache}/anquan-bench),
# ANQUAN_GUARD_OUT (run folder, default benchsuite/runs/<YYYY-MM-DD>), PYTHON (interpreter that
# makes the venv, default python3), CARGO_TARGET_DIR and CARGO_BUILD_JOBS as cargo reads them.
#
# Writes guard-load.csv, guard-peers.csv and guard.md. Needs cargo, python3 (3.11+), curl, and
# wrk (installed with apt-get when missing and run as root); PyPI on first run only.
set -euo pipefail

rate=1000 duration=20 warmup=5 reps=2 threads=1 connections=8 prompts=10000 peers=1
argv=("$@")
while [ $# -gt 0 ]; do
    case $1 in
    --rate) rate=$2 && shift 2 ;;
    --duration) duration=$2 && shift 2 ;;
    --warmup) warmup=$2 && shift 2 ;;
    --reps) reps=$2 && shift 2 ;;
    --threads) threads=$2 && shift 2 ;;
    --connections) connections=$2 && shift 2 ;;
    --prompts) prompts=$2 && shift 2 ;;
    --skip-peers) peers=0 && shift ;;
    -h | --help)
        sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "guard.sh: unknown argument $1 (see --help)" >&2
        exit 2
        ;;
    esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
cache=${ANQUAN_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anquan-bench}
out=${ANQUAN_GUARD_OUT:-$here/runs/$(date +%Y-%m-%d)}
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/anquan-guardbench.XXXXXX")
fake_pid= guard_pid=
cleanup() {
    for p in $guard_pid $fake_pid; do kill "$p" 2>/dev/null || true; done
    for p in $guard_pid $fake_pid; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# 1. The load generator: wrk from Debian (oha is not packaged there; wrk2 neither, so guard.py
#    paces wrk with a Lua schedule).
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "guard.sh: apt-get install -y wrk" >&2
        apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    else
        echo "guard.sh: needs wrk (apt-get install wrk)" >&2
        exit 2
    fi
fi

# 2. The peers' venv, made or updated only when requirements-guard-peers.txt changed. llm-guard
#    goes on top with --no-deps: its declared dependencies pull torch and transformers, which the
#    two scanners measured here never import (HF_HUB_OFFLINE keeps anything from a hub away).
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
venv="$cache/guard-peers-venv"
req="$here/requirements-guard-peers.txt"
llm_guard=llm-guard==0.3.16
want=$( (cat "$req" && echo "$llm_guard") | sha256sum | cut -d' ' -f1)
if [ "$peers" = 1 ]; then
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.anquan-requirements.sha256" 2>/dev/null || true)" != "$want" ]; then
        echo "guard.sh: installing the peers into $venv" >&2
        mkdir -p "$cache"
        "${PYTHON:-python3}" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$llm_guard"
        echo "$want" >"$venv/.anquan-requirements.sha256"
    else
        echo "guard.sh: using $venv" >&2
    fi
fi

# 3. Our binaries (release), from the working tree.
cd "$repo"
echo "guard.sh: cargo build --release (anquan, fake-upstream)" >&2
cargo build --quiet --release -p anquan-cli -p anquan-testkit --bin anquan --bin fake-upstream
target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
anquan="$target/release/anquan"
fake="$target/release/fake-upstream"

wait_for() { # FILE PATTERN → waits up to 10 s for PATTERN in FILE
    for _ in $(seq 100); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# 4. The FAKE upstream (answers at once with canned text) and the guard in front of it.
"$fake" >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
wait_for "$tmp/fake.out" listening || {
    echo "guard.sh: fake-upstream did not start: $(cat "$tmp/fake.err")" >&2
    exit 1
}
fake_url=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["url"])' "$tmp/fake.out")
read -r port admin_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
export ANQUAN_GUARD_ADMIN_TOKEN
ANQUAN_GUARD_ADMIN_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
key_sha=$("$anquan" guard hash-key sk-bench-key)
# Derived from examples/guard.toml: the default policy's rules path (starter keywords with the
# built-in allow list, validated PII), no classifier, no LLM judge, no rate limit.
cat >"$tmp/guard.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
admin-listen = "127.0.0.1:$admin_port"
admin-token-env = "ANQUAN_GUARD_ADMIN_TOKEN"

[upstream]
base-url = "$fake_url/v1"

[store]
path = "guard.db"

[[keys]]
sha256 = "$key_sha"
tenant = "default"
user = "bench"

[policies.default]
language = "zh"
keywords = "builtin:starter"
builtin-allow = true
min-severity = "medium"
record-text = false

[policies.default.input]
keywords = "block"
pii = "mask"
reversible = false
classifier = "pass"

[policies.default.output]
keywords = "block"
pii = "mask"
EOF
"$anquan" guard --config "$tmp/guard.toml" >"$tmp/guard.log" 2>&1 &
guard_pid=$!
wait_for "$tmp/guard.log" "Guard started" || {
    echo "guard.sh: the guard did not start:" >&2
    cat "$tmp/guard.log" >&2
    exit 1
}
guard_url="http://127.0.0.1:$port"
admin_url="http://127.0.0.1:$admin_port"
echo "guard.sh: fake upstream at $fake_url, guard at $guard_url (admin $admin_url)" >&2
check=$(curl -s -o /dev/null -w '%{http_code}' "$guard_url/v1/chat/completions" \
    -H 'authorization: Bearer sk-bench-key' -H 'content-type: application/json' \
    -d '{"model":"fake","messages":[{"role":"user","content":"你好"}]}')
[ "$check" = 200 ] || {
    echo "guard.sh: a plain request through the guard got HTTP $check" >&2
    cat "$tmp/guard.log" >&2
    exit 1
}

# 5. Load: direct and through the guard, alternating, non-streamed then streamed.
python3 "$here/guard.py" load --out "$tmp" --direct "$fake_url" --guard "$guard_url" \
    --admin "$admin_url" --fake-pid "$fake_pid" --guard-pid "$guard_pid" --rate "$rate" \
    --threads "$threads" --connections "$connections" --duration "$duration" \
    --warmup "$warmup" --reps "$reps"

# 6. Peers: the built-in Chinese banks' prompts through each scanner and through the guard.
if [ "$peers" = 1 ]; then
    for b in generated_content should_refuse should_not_refuse; do
        "$anquan" bank export "builtin:$b" --format jsonl >"$tmp/bank-$b.jsonl"
    done
    "$venv/bin/python" "$here/guard.py" peers --out "$tmp" --guard "$guard_url" \
        --admin "$admin_url" --anquan "$anquan" --prompts "$prompts" \
        --banks "$tmp"/bank-*.jsonl
fi

# The guard must still be up and its audit chain intact after all that.
kill -0 "$guard_pid" || {
    echo "guard.sh: the guard died during the run:" >&2
    tail -20 "$tmp/guard.log" >&2
    exit 1
}
grep -E ' (ERROR|WARN) ' "$tmp/guard.log" | head -5 >&2 || true

# 7. CSV and summary.
python3 "$here/guard.py" report --out "$tmp" --csv-dir "$out" --argv="${argv[*]}"
echo "guard.sh: wrote $out/guard-load.csv, $out/guard-peers.csv, $out/guard.md" >&2
