#!/usr/bin/env bash
# Runner-overhead comparison: `anquan eval` against promptfoo on the same 1,000 prompts and the
# same FAKE OpenAI-compatible server (anquan-testkit's `fake-upstream`, which answers instantly with
# canned text: what is timed is each runner, not a model). See benchsuite/README.md.
#
#   benchsuite/promptfoo.sh [--reps N] [--concurrency 4,16,64] [--prompts N]
#
# Env: PROMPTFOO_VERSION (default 0.121.20), ANQUAN_BENCH_CACHE (where promptfoo is installed,
# default ${XDG_CACHE_HOME:-$HOME/.cache}/anquan-bench), ANQUAN_OVERHEAD_OUT (run folder, default
# benchsuite/runs/<YYYY-MM-DD>), CARGO_TARGET_DIR and CARGO_BUILD_JOBS as cargo reads them.
#
# Writes runner-overhead.csv (one row per timed run), runner-overhead.time.tsv (GNU time's user,
# system and CPU figures of the same runs) and runner-overhead.md. Needs cargo, node ≥ 20.20 with
# npm (the registry on first run only), python3 and GNU time (/usr/bin/time).
set -euo pipefail

reps=3
concurrency=4,16,64
prompts=1000
while [ $# -gt 0 ]; do
    case $1 in
    --reps) reps=$2 && shift 2 ;;
    --concurrency) concurrency=$2 && shift 2 ;;
    --prompts) prompts=$2 && shift 2 ;;
    -h | --help)
        sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "promptfoo.sh: unknown argument $1 (see --help)" >&2
        exit 2
        ;;
    esac
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
pf_version=${PROMPTFOO_VERSION:-0.121.20}
cache=${ANQUAN_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anquan-bench}
out=${ANQUAN_OVERHEAD_OUT:-$here/runs/$(date +%Y-%m-%d)}
[ -x /usr/bin/time ] || {
    echo "promptfoo.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
}
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/anquan-overhead.XXXXXX")
fake_pid=
cleanup() {
    if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# 1. promptfoo, pinned, installed once into the cache (npm only when that version is missing).
pf_dir="$cache/promptfoo-$pf_version"
pf="$pf_dir/node_modules/.bin/promptfoo"
if [ ! -x "$pf" ] || [ "$(cat "$pf_dir/.installed" 2>/dev/null || true)" != "$pf_version" ]; then
    echo "promptfoo.sh: installing promptfoo@$pf_version into $pf_dir" >&2
    mkdir -p "$pf_dir"
    printf '{"name":"anquan-bench-promptfoo","private":true}\n' >"$pf_dir/package.json"
    (cd "$pf_dir" && npm install --no-audit --no-fund --loglevel=error --save-exact "promptfoo@$pf_version")
    echo "$pf_version" >"$pf_dir/.installed"
else
    echo "promptfoo.sh: using $pf_dir" >&2
fi

# promptfoo offline: its own state in a temp dir, no telemetry, update check, sharing or remote
# generation (names checked in dist/ of the installed version). PROMPTFOO_CONFIG_DIR is set per run.
export PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 PROMPTFOO_DISABLE_SHARING=1 \
    PROMPTFOO_DISABLE_REMOTE_GENERATION=1 PROMPTFOO_DISABLE_REDTEAM_REMOTE_GENERATION=1 \
    PROMPTFOO_DISABLE_SHARE_EMAIL_REQUEST=1 PROMPTFOO_CACHE_PATH="$tmp/pf-cache" LOG_LEVEL=error
pf_real_version=$(PROMPTFOO_CONFIG_DIR="$tmp/pf-version" "$pf" --version 2>/dev/null | head -1)

# 2. Our binaries (release), from the working tree.
cd "$repo"
echo "promptfoo.sh: cargo build --release (fake-upstream, anquan)" >&2
cargo build --quiet --release -p anquan-testkit --bin fake-upstream
cargo build --quiet --release -p anquan-cli --bin anquan
target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
anquan="$target/release/anquan"
fake="$target/release/fake-upstream"
anquan_version=$("$anquan" --version | awk '{print $2}')
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null || true)" ]; then
    commit="$commit+dirty"
fi

# 3. The server, one process for every run.
"$fake" >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
url=
for _ in $(seq 100); do
    url=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["url"])' \
        "$tmp/fake.out" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || {
    echo "promptfoo.sh: fake-upstream did not start: $(cat "$tmp/fake.err")" >&2
    exit 1
}
echo "promptfoo.sh: fake upstream at $url/v1 (model fake)" >&2

# 4. The prompts: anquan's bank draw, and the same items as promptfoo tests (last user turn).
"$anquan" bank sample builtin:generated_content --n "$prompts" --seed 7 >"$tmp/prompts.jsonl"
multi_turn=$(python3 - "$tmp/prompts.jsonl" "$tmp/tests.jsonl" <<'PY'
import json, sys
multi = 0
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as dst:
    for line in src:
        item = json.loads(line)
        users = [m for m in item["messages"] if m["role"] == "user"]
        multi += len(item["messages"]) > 1
        test = {"description": item["id"], "vars": {"prompt": users[-1]["content"]}}
        dst.write(json.dumps(test, ensure_ascii=False) + "\n")
print(multi)
PY
)
n=$(wc -l <"$tmp/prompts.jsonl")
[ "$n" -eq "$prompts" ] || {
    echo "promptfoo.sh: the bank draw has $n items, not $prompts" >&2
    exit 1
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
csv="$out/runner-overhead.csv"
tsv="$out/runner-overhead.time.tsv"
echo "tool,version,mode,concurrency,prompts,seconds,trials_per_s,max_rss_mb,rep" >"$csv"
printf 'tool\tmode\tconcurrency\trep\twall_s\tuser_s\tsys_s\tcpu_pct\tmax_rss_kb\texit\tattempts\tload1\tnote\n' >"$tsv"

# timed TOOL VERSION MODE CONC REP ACCEPTED_EXITS -- COMMAND...: wall clock around the command,
# GNU time for RSS and CPU; appends one CSV row and one TSV row.
#
# promptfoo 0.121 often dies at exit with "write after end": its shutdown closes the debug-log file
# transport and then logs while closing its database. When it writes results (mode `defaults`),
# such a run is counted if its database holds every result, all passed (checked on clean runs
# too), and the TSV says `crashed_at_exit`; without a database (`--no-write`) it is repeated, up
# to 3 attempts, the attempts counted in the TSV.
pf_db_complete() { # promptfoo.db → exit 0 when it holds $prompts results, all successful
    [ -f "$1" ] && python3 - "$1" "$prompts" <<'PY'
import sqlite3, sys
n, ok = sqlite3.connect(sys.argv[1]).execute(
    "select count(*), coalesce(sum(success), 0) from eval_results").fetchone()
sys.exit(0 if (n, ok) == (int(sys.argv[2]),) * 2 else 1)
PY
}
timed() {
    local tool=$1 version=$2 mode=$3 conc=$4 rep=$5 ok=$6
    shift 7
    local t0 t1 rc attempt note=clean db=${PROMPTFOO_CONFIG_DIR:-}/promptfoo.db
    for attempt in 1 2 3; do
        rc=0
        t0=$(date +%s.%N)
        /usr/bin/time -o "$tmp/time.txt" -f '%U %S %P %M' "$@" >"$tmp/run.out" 2>"$tmp/run.err" || rc=$?
        t1=$(date +%s.%N)
        local crashed=false
        if [ "$tool" = promptfoo ] && [ "$rc" -ne 0 ] && grep -q 'write after end' "$tmp/run.err"; then
            crashed=true
        fi
        if [ "$mode" = defaults ]; then
            if pf_db_complete "$db"; then
                if $crashed; then note=crashed_at_exit && break; fi
            else
                echo "promptfoo.sh: promptfoo's database lacks results (c=$conc rep $rep)" >&2
                rc=99
            fi
        fi
        case ",$ok," in *",$rc,"*) break ;; esac
        if $crashed && [ "$attempt" -lt 3 ]; then
            echo "promptfoo.sh: $tool $mode c=$conc rep $rep: crashed at exit (write after end), again" >&2
            continue
        fi
        echo "promptfoo.sh: $tool $mode c=$conc rep $rep exited $rc" >&2
        tail -n 20 "$tmp/run.err" "$tmp/run.out" >&2
        exit 1
    done
    local user sys cpu rss
    read -r user sys cpu rss < <(tail -1 "$tmp/time.txt")
    python3 - "$csv" "$tsv" "$tool" "$version" "$mode" "$conc" "$prompts" "$t0" "$t1" "$rss" \
        "$rep" "$user" "$sys" "$cpu" "$rc" "$attempt" "$(cut -d' ' -f1 /proc/loadavg)" "$note" <<'PY'
import sys
(csv, tsv, tool, version, mode, conc, n, t0, t1, rss, rep, user, sys_s, cpu, rc, attempts,
 load, note) = sys.argv[1:]
secs = float(t1) - float(t0)
with open(csv, "a") as f:
    f.write(f"{tool},{version},{mode},{conc},{n},{secs:.3f},{int(n) / secs:.1f},{int(rss) / 1024:.1f},{rep}\n")
with open(tsv, "a") as f:
    f.write(f"{tool}\t{mode}\t{conc}\t{rep}\t{secs:.3f}\t{user}\t{sys_s}\t{cpu}\t{rss}\t{rc}\t{attempts}\t{load}\t{note}\n")
print(f"  {tool} {mode} c={conc} rep {rep}: {secs:.3f} s, {int(n) / secs:.0f} trials/s, "
      f"CPU {cpu}, max RSS {int(rss) / 1024:.0f} MB, load {load}, {note}", file=sys.stderr)
PY
}

anquan_config() { # DIR CONC
    cat >"$1/anquan.toml" <<EOF
[store]
path = "$1/anquan.db"

[targets.fake]
base-url = "$url/v1"
model = "fake"
concurrency = $2
max-tokens = 64
EOF
}

promptfoo_config() { # DIR CONC
    cat >"$1/promptfooconfig.yaml" <<EOF
description: anquan runner-overhead benchmark
prompts:
  - '{{prompt}}'
providers:
  - id: openai:chat:fake
    config:
      apiBaseUrl: $url/v1
      apiKey: dummy
      max_tokens: 64
defaultTest:
  assert:
    - type: javascript
      value: 'true'
tests: file://$tmp/tests.jsonl
evaluateOptions:
  maxConcurrency: $2
EOF
}

# 5. Warm-up and check, untimed: every tool answers all prompts, without errors.
w="$tmp/warm" && mkdir -p "$w"
anquan_config "$w" 16
"$anquan" --lang en eval --config "$w/anquan.toml" --target fake --banks "$tmp/prompts.jsonl" \
    --sample "$prompts" --quiet >"$w/eval.out" 2>"$w/eval.err" || [ $? -eq 1 ] || {
    cat "$w/eval.err" >&2
    exit 1
}
grep -q "($prompts / $prompts answered, 0 errors)" "$w/eval.out" || {
    echo "promptfoo.sh: anquan did not answer every prompt:" >&2
    cat "$w/eval.out" >&2
    exit 1
}
promptfoo_config "$w" 16
PROMPTFOO_CONFIG_DIR="$w/pf" PROMPTFOO_DISABLE_DEBUG_LOG=1 "$pf" eval -c "$w/promptfooconfig.yaml" --no-cache --no-write \
    -o "$w/results.json" >"$w/pf.out" 2>"$w/pf.err" || {
    tail -20 "$w/pf.err" >&2
    exit 1
}
python3 - "$w/results.json" "$prompts" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))["results"]["stats"]
if (stats["successes"], stats["errors"]) != (int(sys.argv[2]), 0):
    sys.exit(f"promptfoo.sh: promptfoo did not answer every prompt: {stats}")
PY

# 6. The timed runs, the tools interleaved within each repetition (so a load that comes and goes
# on the machine hits all of them alike); a fresh ledger / promptfoo state each run.
IFS=, read -r -a levels <<<"$concurrency"
for c in "${levels[@]}"; do
    echo "promptfoo.sh: concurrency $c" >&2
    for r in $(seq "$reps"); do
        d="$tmp/c$c-r$r" && mkdir -p "$d/anquan" "$d/pf" "$d/pfnw"
        anquan_config "$d/anquan" "$c"
        timed anquan "$anquan_version" ledger "$c" "$r" 0,1 -- \
            "$anquan" eval --config "$d/anquan/anquan.toml" --target fake \
            --banks "$tmp/prompts.jsonl" --sample "$prompts" --quiet
        promptfoo_config "$d/pf" "$c"
        PROMPTFOO_CONFIG_DIR="$d/pf/state" timed promptfoo "$pf_real_version" defaults "$c" "$r" 0 -- \
            "$pf" eval -c "$d/pf/promptfooconfig.yaml" --no-cache
        promptfoo_config "$d/pfnw" "$c"
        PROMPTFOO_CONFIG_DIR="$d/pfnw/state" PROMPTFOO_DISABLE_DEBUG_LOG=1 \
            timed promptfoo "$pf_real_version" no-write "$c" "$r" 0 -- \
            "$pf" eval -c "$d/pfnw/promptfooconfig.yaml" --no-cache --no-write
        rm -rf "$d"
    done
done

# 7. Medians, ratios, and the Markdown note.
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
python3 - "$csv" "$tsv" "$out/runner-overhead.md" <<PY
import csv, statistics, sys
from collections import defaultdict

rows = list(csv.DictReader(open(sys.argv[1])))
cpu = defaultdict(list)
retried = 0
crashed = 0
for t in csv.DictReader(open(sys.argv[2]), delimiter="\t"):
    retried += int(t["attempts"]) - 1
    crashed += t["note"] == "crashed_at_exit"
    cpu[(t["tool"], t["mode"], int(t["concurrency"]))].append(
        float(t["user_s"]) + float(t["sys_s"]))
runs = defaultdict(list)
for r in rows:
    runs[(r["tool"], r["mode"], int(r["concurrency"]))].append(r)

def med(key, field):
    return statistics.median(float(r[field]) for r in runs[key])

levels = sorted({k[2] for k in runs})
n_prompts = "$prompts"
lines = [
    "# Runner overhead: anquan against promptfoo, $(date +%Y-%m-%d)",
    "",
    "Machine: $cpu_model, $(nproc) cores, $(uname -sr). anquan $anquan_version at $commit "
    "(rustc $(rustc --version | awk '{print $2}')); promptfoo $pf_real_version on node $(node --version).",
    "",
    "Command: \`benchsuite/promptfoo.sh --reps $reps --concurrency $concurrency --prompts $prompts\`. "
    "Server: anquan-testkit's FAKE OpenAI-compatible upstream (\`fake-upstream\`, one process for all "
    "runs, canned answers, no delay) on loopback: this measures each runner, not a model. Prompts: "
    "\`anquan bank sample builtin:generated_content --n $prompts --seed 7\`; promptfoo gets each item's "
    "last user turn as \`{{prompt}}\` (anquan sends the whole conversation; $multi_turn of $prompts items are "
    "multi-turn), max tokens 64 for both.",
    "",
    "- anquan \`ledger\`: \`anquan eval --config anquan.toml --target fake --banks prompts.jsonl "
    "--sample $prompts --quiet\`, a fresh SQLite ledger each run; attacks \`direct\`, judges keyword, "
    "PII, refusal and classifier on every answer.",
    "- promptfoo \`defaults\`: \`promptfoo eval -c promptfooconfig.yaml --no-cache\` "
    "(provider \`openai:chat:fake\` with \`apiBaseUrl\`, tests from JSONL, one \`javascript: true\` "
    "assertion, \`maxConcurrency\` = the level), a fresh \`PROMPTFOO_CONFIG_DIR\` each run.",
    "- promptfoo \`no-write\`: the same with \`--no-write\` and \`PROMPTFOO_DISABLE_DEBUG_LOG=1\`.",
    "- promptfoo offline: \`PROMPTFOO_DISABLE_TELEMETRY\`, \`_UPDATE\`, \`_SHARING\`, "
    "\`_REMOTE_GENERATION\`, \`_REDTEAM_REMOTE_GENERATION\`, \`_SHARE_EMAIL_REQUEST\` = 1, "
    "\`LOG_LEVEL=error\`.",
    "",
    "Seconds: wall clock of the whole process (start-up included), median of $reps; trials/s = "
    "$prompts / seconds. CPU s: user + system (GNU time), median. Raw rows: runner-overhead.csv, "
    "runner-overhead.time.tsv (its load1 is the 1-minute load average read right after each run, "
    "that run included). Load average when the script started: $load_start.",
    "",
    "promptfoo 0.121 often dies at exit with \\"write after end\\" (its shutdown closes the "
    "debug-log file and then logs while closing its database), after the eval is done: "
    f"{crashed} \`defaults\` run(s) ended so and are counted (their database held all "
    f"{n_prompts} passing results, as every \`defaults\` run's is checked to), and {retried} "
    "run(s) without a database to check were repeated.",
    "",
    "| concurrency | tool | mode | seconds | trials/s | CPU s | max RSS MB |",
    "|---:|---|---|---:|---:|---:|---:|",
]
summary = []
for c in levels:
    for key in sorted(k for k in runs if k[2] == c):
        lines.append(
            f"| {c} | {key[0]} | {key[1]} | {med(key, 'seconds'):.3f} | "
            f"{med(key, 'trials_per_s'):,.0f} | {statistics.median(cpu[key]):.2f} | "
            f"{med(key, 'max_rss_mb'):.0f} |")
lines += ["", "| concurrency | anquan trials/s | best promptfoo (mode) trials/s | anquan / promptfoo |",
          "|---:|---:|---:|---:|"]
for c in levels:
    ours = med(("anquan", "ledger", c), "trials_per_s")
    peers = [(med(k, "trials_per_s"), k[1]) for k in runs if k[0] == "promptfoo" and k[2] == c]
    best, mode = max(peers)
    lines.append(f"| {c} | {ours:,.0f} | {best:,.0f} ({mode}) | {ours / best:.1f}× |")
    summary.append(f"concurrency {c}: anquan {ours:,.0f} trials/s, promptfoo {best:,.0f} "
                   f"({mode}), ratio {ours / best:.1f}x")
open(sys.argv[3], "w").write("\n".join(lines) + "\n")
print("\n".join(summary))
PY
echo "promptfoo.sh: wrote $csv, $tsv and $out/runner-overhead.md" >&2
