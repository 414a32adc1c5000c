#!/usr/bin/env python3
"""Guard benchmark: `anquan guard`'s added latency under load, and its input check against peers.

Called by `benchsuite/guard.sh` (which builds anquan and fake-upstream, starts both servers and
makes the peers' venv); see benchsuite/README.md. Subcommands:

- `load`: drives the FAKE upstream directly and through the guard with `wrk` at a fixed request
  rate (a LuaJIT pacing script: wrk2-style schedule, latency measured from each send), non-streamed
  and streamed, interleaved; appends one JSON line per run (wrk's figures, the load average, the
  guard's CPU time and its per-phase means from /metrics) to `load.jsonl`.
- `peers` (run with the venv's Python): the same prompts through llm-guard's BanSubstrings and
  Regex scanners, presidio-analyzer's pattern recognizers on a blank spaCy pipeline, the guard's
  own input check (per-request `input` phase time from /metrics) and `anquan scan --file`;
  writes `peers.json`.
- `report`: writes `guard-load.csv`, `guard-peers.csv` and `guard.md` from those.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STARTER = REPO / "crates" / "anquan-detect" / "data" / "keywords" / "starter.tsv"
CLIENT_KEY = "sk-bench-key"

# A benign Chinese prompt of 100 characters (checked below), the same for every load run.
PROMPT = (
    "请帮我写一段一百字左右的介绍，说明杭州西湖的历史沿革、主要景点（如苏堤春晓、断桥残雪、"
    "雷峰夕照、三潭印月）以及最适合游览的季节和交通方式，语气亲切自然，适合放在旅游网站的首页上，非常感谢你的耐心帮助！"
)

# The personal-information patterns of anquan's engine (crates/anquan-detect/src/pii.rs,
# `PiiDetector::new`), given to llm-guard's Regex scanner so that it looks for the same shapes
# (it has no validation: no ID check digit, no Luhn, no boundary rules).
PII_PATTERNS = [
    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}",
    r"[1-9][0-9]{16}[0-9Xx]",
    r"[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}",
    r"[0-9]{4}(?:[ \-]?[0-9]{4}){2}[ \-]?[0-9]{3,7}",
    r"(?:\+?86[ \-]?)?1[3-9][0-9](?:[ \-]?[0-9]{4}){2}",
    r"(?:\(0[0-9]{2,3}\)|0[0-9]{2,3}-)[0-9]{7,8}",
    r"(?:[EeGgDdSsPp][0-9]{8}|[Ee][A-HJ-NP-Za-hj-np-z][0-9]{7})",
    r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}",
    r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}",
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}",
]

# wrk script. Args: <stream 0|1> <requests/s for this thread, 0 = unpaced> <api key or ->.
# Pacing: every delay() call takes the next slot of a fixed schedule (1000/rate ms apart) and
# waits for it (wrk's timer has 1 ms resolution; the schedule keeps the average exact); when the
# run falls behind, requests go at once, as wrk2 does, but at most 100 ms of slots are caught up.
WRK_LUA = r"""
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } anquan_ts; int clock_gettime(int, anquan_ts *); ]]
local ts = ffi.new("anquan_ts")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local interval, nxt = 0, nil
function init(args)
  local stream = args[1] == "1"
  local rate = tonumber(args[2]) or 0
  if rate > 0 then interval = 1000 / rate end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[3] and args[3] ~= "-" then wrk.headers["Authorization"] = "Bearer " .. args[3] end
  wrk.body = '{"model":"fake","stream":' .. (stream and "true" or "false") ..
    ',"messages":[{"role":"user","content":"__PROMPT__"}]}'
end
function delay()
  if interval == 0 then return 0 end
  local t = now_ms()
  if nxt == nil or nxt < t - 100 then nxt = t end
  local slot = nxt
  nxt = nxt + interval
  if slot <= t then return 0 end
  return math.floor(slot - t + 0.5)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"mean_us":%.1f,"stdev_us":%.1f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
"""


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def metrics(admin: str, token: str) -> dict[str, float]:
    """The guard's /metrics as {series: value} (histogram buckets left out)."""
    req = urllib.request.Request(admin.rstrip("/") + "/metrics",
                                 headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode("utf-8")
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "_bucket{" in line:
            continue
        name, _, val = line.rpartition(" ")
        try:
            out[name] = float(val)
        except ValueError:
            pass
    return out


def phase_means(before: dict, after: dict) -> dict[str, float]:
    """Mean µs per request of each guard phase between two /metrics scrapes."""
    res = {}
    for k, v in after.items():
        m = re.fullmatch(r'anquan_guard_phase_duration_seconds_sum\{phase="([^"]+)"\}', k)
        if not m:
            continue
        cnt_key = k.replace("_sum{", "_count{")
        n = after.get(cnt_key, 0) - before.get(cnt_key, 0)
        if n > 0:
            res[m.group(1)] = (v - before.get(k, 0.0)) / n * 1e6
    return res


def action_counts(before: dict, after: dict) -> dict[str, int]:
    res: dict[str, int] = {}
    for k, v in after.items():
        m = re.fullmatch(r'anquan_guard_requests_total\{tenant="[^"]*",action="([^"]+)"\}', k)
        if m:
            res[m.group(1)] = res.get(m.group(1), 0) + int(v - before.get(k, 0))
    return {k: v for k, v in res.items() if v}


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------


def run_wrk(lua: Path, url: str, stream: bool, rate: int, threads: int, conns: int, secs: int,
            key: str) -> dict:
    per_thread = rate / threads if rate > 0 else 0
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{secs}s", "--timeout", "5s",
           "-s", str(lua), url, "--", "1" if stream else "0", f"{per_thread:g}", key]
    p = subprocess.run(cmd, capture_output=True, text=True)
    line = next((l for l in p.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if p.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    res = json.loads(line[len("WRKJSON "):])
    res["cmd"] = " ".join(cmd)
    return res


def cmd_load(a: argparse.Namespace) -> None:
    lua = a.out / "chat.lua"  # guard.sh's temp folder, removed at exit
    lua.write_text(WRK_LUA.replace("__PROMPT__", PROMPT), encoding="utf-8")
    targets = {
        "direct": (a.direct.rstrip("/") + "/v1/chat/completions", "-", a.fake_pid),
        "guard": (a.guard.rstrip("/") + "/v1/chat/completions", CLIENT_KEY, a.guard_pid),
    }
    out = open(a.out / "load.jsonl", "w", encoding="utf-8")
    for mode in ("json", "stream"):
        for rep in range(1, a.reps + 1):
            for target in ("direct", "guard"):
                url, key, pid = targets[target]
                stream = mode == "stream"
                # Warm-up: same rate and connections, not recorded.
                run_wrk(lua, url, stream, a.rate, a.threads, a.connections, a.warmup, key)
                before = metrics(a.admin, a.token) if target == "guard" else {}
                load0, cpu0 = loadavg(), cpu_seconds(pid)
                res = run_wrk(lua, url, stream, a.rate, a.threads, a.connections, a.duration,
                              key)
                cpu1, load1 = cpu_seconds(pid), loadavg()
                after = metrics(a.admin, a.token) if target == "guard" else {}
                res.update({
                    "mode": mode, "target": target, "rep": rep, "rate": a.rate,
                    "threads": a.threads, "connections": a.connections,
                    "duration_s": a.duration, "load_before": load0, "load_after": load1,
                    "server_cpu_us_per_req": (cpu1 - cpu0) / max(res["requests"], 1) * 1e6,
                    "phases_us": phase_means(before, after),
                    "actions": action_counts(before, after),
                })
                rps = res["requests"] / (res["duration_us"] / 1e6)
                print(f"guard.py load: {mode:6} {target:6} rep {rep}: {rps:7.1f} req/s, "
                      f"p50 {res['p50_us'] / 1e3:.3f} ms, p99 {res['p99_us'] / 1e3:.3f} ms, "
                      f"errors {res['err_status'] + res['err_connect'] + res['err_read']}, "
                      f"load {load1}", file=sys.stderr)
                out.write(json.dumps(res, ensure_ascii=False) + "\n")
                out.flush()
    out.close()


# ---------------------------------------------------------------------------------------------
# peers
# ---------------------------------------------------------------------------------------------


def load_prompts(files: list[Path], n: int) -> tuple[list[str], int]:
    """The last user turn of every item of the bank exports (newlines made spaces, so that one
    prompt is one line for `anquan scan --file`), cycled to n prompts."""
    base = []
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            users = [m["content"] for m in item["messages"] if m["role"] == "user"]
            if users:
                base.append(" ".join(users[-1].split()))
    prompts = [base[i % len(base)] for i in range(n)]
    return prompts, len(set(prompts))


def starter_keywords() -> list[str]:
    kws = []
    for line in STARTER.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        k = line.split("\t", 1)[0]
        if k != "keyword":
            kws.append(k)
    return kws


def import_llm_guard_scanners():
    """llm-guard's BanSubstrings and Regex, imported without `llm_guard/__init__.py` and
    `llm_guard/input_scanners/__init__.py`, which import every scanner and so transformers and
    torch (not installed: see requirements-guard-peers.txt). The two modules are used unchanged."""
    import importlib.util
    import types

    spec = importlib.util.find_spec("llm_guard")
    if spec is None or spec.origin is None:
        raise SystemExit("llm-guard is not installed in this venv")
    root = Path(spec.origin).parent
    for name, path in (("llm_guard", root), ("llm_guard.input_scanners", root / "input_scanners")):
        mod = types.ModuleType(name)
        mod.__path__ = [str(path)]  # type: ignore[attr-defined]
        sys.modules[name] = mod
    from llm_guard.input_scanners.ban_substrings import BanSubstrings
    from llm_guard.input_scanners.regex import Regex
    from llm_guard.util import configure_logger

    configure_logger("ERROR")  # its scanners log a warning per finding
    return BanSubstrings, Regex


class PresidioBlank:
    """presidio-analyzer's AnalyzerEngine with pattern recognizers only (phone with region CN,
    e-mail, credit card, IP) on a blank spaCy pipeline (`spacy.blank("zh")`, character
    segmentation): no model is downloaded or loaded."""

    entities = ["PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "IP_ADDRESS"]

    def __init__(self):
        import spacy
        import tldextract
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IpRecognizer,
            PhoneRecognizer,
        )

        # EmailRecognizer validates with tldextract, which fetches the suffix list by default.
        tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

        class BlankSpacyNlpEngine(SpacyNlpEngine):
            def load(self):
                self.nlp = {"zh": spacy.blank("zh")}

        engine = BlankSpacyNlpEngine(models=[{"lang_code": "zh", "model_name": "blank:zh"}])
        engine.load()
        lang = "zh"
        registry = RecognizerRegistry(supported_languages=[lang])
        registry.add_recognizer(PhoneRecognizer(supported_language=lang, supported_regions=("CN",)))
        registry.add_recognizer(EmailRecognizer(supported_language=lang))
        registry.add_recognizer(CreditCardRecognizer(supported_language=lang))
        registry.add_recognizer(IpRecognizer(supported_language=lang))
        self.engine = AnalyzerEngine(registry=registry, nlp_engine=engine,
                                     supported_languages=[lang])

    def flagged(self, prompt: str) -> bool:
        return bool(self.engine.analyze(text=prompt, language="zh", entities=self.entities))


def time_scanner(fn, prompts: list[str], repeats: int) -> tuple[list[float], int]:
    times, flagged = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        flagged = sum(1 for p in prompts if fn(p))
        times.append(time.perf_counter() - t0)
    return times, flagged


def through_guard(a, prompts: list[str]) -> dict:
    """Send every prompt once through the guard (non-streamed; one end user per request, so that
    blocks never add up to a suspension) and read the per-request `input` phase from /metrics."""
    u = urllib.parse.urlsplit(a.guard)
    bodies = [json.dumps({"model": "fake", "messages": [{"role": "user", "content": p}]},
                         ensure_ascii=False).encode("utf-8") for p in prompts]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    nthreads = 4

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        local: dict[int, int] = {}
        for i in range(k, len(bodies), nthreads):
            conn.request("POST", "/v1/chat/completions", body=bodies[i], headers={
                "content-type": "application/json", "authorization": f"Bearer {CLIENT_KEY}",
                "x-anquan-user": f"peers-{i}"})
            r = conn.getresponse()
            r.read()
            local[r.status] = local.get(r.status, 0) + 1
        conn.close()
        with lock:
            for s, c in local.items():
                statuses[s] = statuses.get(s, 0) + c

    before = metrics(a.admin, a.token)
    t0 = time.perf_counter()
    ths = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    wall = time.perf_counter() - t0
    after = metrics(a.admin, a.token)
    key = 'anquan_guard_phase_duration_seconds_{}{{phase="input"}}'
    n = after.get(key.format("count"), 0) - before.get(key.format("count"), 0)
    s = after.get(key.format("sum"), 0) - before.get(key.format("sum"), 0)
    return {"input_checks": int(n), "input_seconds": s, "wall_s": wall, "statuses": statuses,
            "actions": action_counts(before, after), "phases_us": phase_means(before, after)}


def cmd_peers(a: argparse.Namespace) -> None:
    prompts, distinct = load_prompts(a.banks, a.prompts)
    nchars = sum(len(p) for p in prompts)
    kws = starter_keywords()
    print(f"guard.py peers: {len(prompts)} prompts ({distinct} distinct, {nchars} characters), "
          f"{len(kws)} starter keywords", file=sys.stderr)
    rows = []

    def add(tool, task, times, flagged, build, note):
        best, med = min(times), statistics.median(times)
        rows.append({"tool": tool, "task": task, "prompts": len(prompts), "seconds": best,
                     "prompts_per_s": len(prompts) / best, "us_per_prompt": best / len(prompts) * 1e6,
                     "median_us_per_prompt": med / len(prompts) * 1e6, "flagged": flagged,
                     "build_s": build, "runs": len(times), "note": note})
        print(f"guard.py peers: {tool:40} {rows[-1]['us_per_prompt']:10.1f} µs/prompt  "
              f"flagged {flagged}", file=sys.stderr)

    from importlib.metadata import version

    BanSubstrings, Regex = import_llm_guard_scanners()
    lg = f"llm-guard {version('llm-guard')}"
    t0 = time.perf_counter()
    ban = BanSubstrings(substrings=kws, match_type="str", case_sensitive=False, redact=False)
    build = time.perf_counter() - t0
    # BanSubstrings loops over every keyword per prompt (lower-casing the prompt each time), so
    # one pass over 10,000 prompts is slow: it gets fewer repeats.
    times, flagged = time_scanner(lambda p: not ban.scan(p)[1], prompts, a.slow_repeats)
    add("llm-guard BanSubstrings", "keywords", times, flagged, build,
        f"{lg}; {len(kws)} starter keywords, match_type=str, case-insensitive, no redaction")
    t0 = time.perf_counter()
    rx = Regex(patterns=PII_PATTERNS)
    build = time.perf_counter() - t0
    times, flagged = time_scanner(lambda p: not rx.scan(p)[1], prompts, a.repeats)
    add("llm-guard Regex", "pii", times, flagged, build,
        f"{lg}; anquan's 10 PII patterns, defaults (match_type=all, redact=True); no validation")
    pb_t0 = time.perf_counter()
    pres = PresidioBlank()
    build = time.perf_counter() - pb_t0
    times, flagged = time_scanner(pres.flagged, prompts, a.repeats)
    add("presidio-analyzer", "pii", times, flagged, build,
        f"presidio-analyzer {version('presidio-analyzer')}, spaCy {version('spacy')} blank zh "
        "pipeline; phone (CN), email, credit card, IP recognizers")

    # Ours 1: the guard's own input check, per request, in the running guard (release build).
    g = through_guard(a, prompts)
    if g["input_checks"] != len(prompts):
        print(f"WARNING: the guard ran {g['input_checks']} input checks for {len(prompts)} "
              f"requests (statuses {g['statuses']})", file=sys.stderr)
    n = max(g["input_checks"], 1)
    flagged = sum(v for k, v in g["actions"].items() if k in ("block", "mask"))
    rows.append({"tool": "anquan guard (input phase)", "task": "keywords+pii",
                 "prompts": g["input_checks"], "seconds": g["input_seconds"],
                 "prompts_per_s": n / g["input_seconds"] if g["input_seconds"] else "",
                 "us_per_prompt": g["input_seconds"] / n * 1e6, "median_us_per_prompt": "",
                 "flagged": flagged, "build_s": "", "runs": 1,
                 "note": "mean of the guard's `input` phase (/metrics sum/count): normalize, "
                         "starter keywords with the built-in allow list, validated PII, actions; "
                         f"one request per prompt; actions {g['actions']}; HTTP statuses "
                         f"{g['statuses']}; {g['wall_s']:.1f} s wall for all requests"})
    print(f"guard.py peers: {'anquan guard (input phase)':40} {rows[-1]['us_per_prompt']:10.1f} "
          f"µs/prompt  actions {g['actions']}", file=sys.stderr)

    # Ours 2: the CLI over all prompts as one file (one prompt a line), start-up included.
    with tempfile.TemporaryDirectory(prefix="anquan-guardbench-") as tmp:
        f = Path(tmp) / "prompts.txt"
        f.write_text("\n".join(prompts) + "\n", encoding="utf-8")
        e = Path(tmp) / "empty.txt"
        e.write_text("", encoding="utf-8")
        walls, found, starts = [], 0, []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            p = subprocess.run([a.anquan, "scan", "--json", "--file", str(f)], capture_output=True)
            walls.append(time.perf_counter() - t0)
            if p.returncode not in (0, 1):
                raise SystemExit(f"anquan scan failed: {p.stderr.decode(errors='replace')}")
            t0 = time.perf_counter()
            subprocess.run([a.anquan, "scan", "--file", str(e)], capture_output=True)
            starts.append(time.perf_counter() - t0)
        try:
            found = len(json.loads(p.stdout).get("findings", []))
        except (json.JSONDecodeError, AttributeError):
            found = -1
    add("anquan scan --file", "keywords+pii", walls, found, min(starts),
        "the CLI over one file of all prompts (one a line), process start-up and engine build "
        "included (build_s = the same on an empty file); flagged = findings, not prompts")
    (a.out / "peers.json").write_text(json.dumps({
        "prompts": len(prompts), "distinct": distinct, "characters": nchars,
        "keywords": len(kws), "rows": rows, "guard_phases_us": g["phases_us"],
        "python": platform.python_version(), "load_after": loadavg()},
        ensure_ascii=False, indent=1), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def sh(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def ms(us: float) -> str:
    return f"{us / 1e3:.3f}"


def cmd_report(a: argparse.Namespace) -> None:
    runs = [json.loads(l) for l in (a.out / "load.jsonl").read_text().splitlines() if l.strip()]
    fields = ["mode", "target", "rep", "target_rate", "threads", "connections", "duration_s",
              "requests", "req_per_s", "non_2xx", "socket_errors", "p50_ms", "p90_ms", "p99_ms",
              "p999_ms", "max_ms", "mean_ms", "server_cpu_us_per_req", "guard_input_us",
              "guard_request_us", "guard_upstream_headers_us", "guard_output_us",
              "guard_total_us", "load_before", "load_after"]
    with open(a.csv_dir / "guard-load.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in runs:
            ph = r.get("phases_us", {})
            w.writerow({
                "mode": r["mode"], "target": r["target"], "rep": r["rep"],
                "target_rate": r["rate"], "threads": r["threads"],
                "connections": r["connections"], "duration_s": r["duration_s"],
                "requests": r["requests"],
                "req_per_s": f"{r['requests'] / (r['duration_us'] / 1e6):.1f}",
                "non_2xx": r["err_status"],
                "socket_errors": r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"],
                "p50_ms": ms(r["p50_us"]), "p90_ms": ms(r["p90_us"]), "p99_ms": ms(r["p99_us"]),
                "p999_ms": ms(r["p999_us"]), "max_ms": ms(r["max_us"]),
                "mean_ms": ms(r["mean_us"]),
                "server_cpu_us_per_req": f"{r['server_cpu_us_per_req']:.1f}",
                **{f"guard_{k}_us": f"{ph[k]:.1f}" if k in ph else ""
                   for k in ("input", "request", "upstream_headers", "output", "total")},
                "load_before": r["load_before"], "load_after": r["load_after"]})
    peers = json.loads((a.out / "peers.json").read_text()) if (a.out / "peers.json").exists() else None
    if peers:
        with open(a.csv_dir / "guard-peers.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["tool", "task", "prompts", "seconds", "prompts_per_s",
                                              "us_per_prompt", "median_us_per_prompt", "flagged",
                                              "build_s", "runs", "note"])
            w.writeheader()
            for r in peers["rows"]:
                r = dict(r)
                for k in ("seconds", "prompts_per_s", "us_per_prompt", "median_us_per_prompt",
                          "build_s"):
                    if isinstance(r[k], float):
                        r[k] = f"{r[k]:.3f}" if k in ("seconds", "build_s") else f"{r[k]:.1f}"
                w.writerow(r)

    # Summary per mode: medians over repetitions; added = guard - direct, paired by repetition.
    L = [f"# Guard load benchmark and peer comparison, {dt.date.today().isoformat()}\n"]
    cpu = "?"
    for l in Path("/proc/cpuinfo").read_text().splitlines():
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
    dirty = sh(["git", "status", "--porcelain", "--", "crates"])
    commit = sh(["git", "rev-parse", "--short", "HEAD"]) + (" (crates/ modified)" if dirty else "")
    wrk_v = sh(["sh", "-c", "wrk -v 2>&1 | head -1"])
    L.append(f"Machine: {cpu}, {os.cpu_count()} cores (`nproc`), shared with other work: load "
             f"average before/after each run in `guard-load.csv` (from {runs[0]['load_before']} "
             f"to {runs[-1]['load_after']} over the load runs). anquan at {commit}, "
             f"{sh(['rustc', '--version'])}, release build; {wrk_v}; Python "
             f"{peers['python'] if peers else platform.python_version()}.\n")
    r0 = runs[0]
    L.append("## Added latency under load\n")
    L.append(f"`wrk -t{r0['threads']} -c{r0['connections']} -d{r0['duration_s']}s` with a pacing "
             f"script at a fixed {r0['rate']} requests/s (wrk2-style schedule; latency from each "
             "send), after a warm-up at the same rate, the FAKE upstream (`fake-upstream`, answers "
             "at once) directly and through `anquan guard` (rules path: starter keywords, PII, "
             "no classifier or LLM judge; audit log on), alternating, on 127.0.0.1. Request: a "
             f"benign {len(PROMPT)}-character Chinese prompt, non-streamed (`json`) or streamed "
             "(`stream`: latency to the end of the stream). Medians over "
             f"{max(r['rep'] for r in runs)} repetitions; added = guard − direct per repetition, "
             "then the median.\n")
    L.append("| mode | req/s direct | req/s guard | p50 direct | p50 guard | **p50 added** | "
             "p99 direct | p99 guard | **p99 added** | guard CPU/req | goal p99 added ≤ 1 ms |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode in ("json", "stream"):
        d = [r for r in runs if r["mode"] == mode and r["target"] == "direct"]
        g = [r for r in runs if r["mode"] == mode and r["target"] == "guard"]
        if not d or not g:
            continue
        reps = sorted({r["rep"] for r in g} & {r["rep"] for r in d})
        dd = {r["rep"]: r for r in d}
        gg = {r["rep"]: r for r in g}
        add50 = statistics.median(gg[k]["p50_us"] - dd[k]["p50_us"] for k in reps)
        add99 = statistics.median(gg[k]["p99_us"] - dd[k]["p99_us"] for k in reps)

        def med(rs, key):
            return statistics.median(r[key] for r in rs)

        rps = lambda rs: statistics.median(r["requests"] / (r["duration_us"] / 1e6) for r in rs)
        L.append(f"| {mode} | {rps(d):.0f} | {rps(g):.0f} | {ms(med(d, 'p50_us'))} | "
                 f"{ms(med(g, 'p50_us'))} | **{ms(add50)}** | {ms(med(d, 'p99_us'))} | "
                 f"{ms(med(g, 'p99_us'))} | **{ms(add99)}** | "
                 f"{med(g, 'server_cpu_us_per_req'):.0f} µs | "
                 f"{'met' if add99 <= 1000 else 'not met'} |")
    slow = [r for r in runs if r["target"] == "guard" and r["p50_us"] > 20_000]
    if slow:
        L.append("\n**Stalls.** " + ", ".join(f"{r['mode']}#{r['rep']}" for r in slow) + " through "
                 "the guard had a median latency above 20 ms while the guard's own `total` phase "
                 "stayed far below it, so the fixed rate was not reached (8 connections, closed "
                 "loop). A delay of about 40 ms per streamed response on kept-alive connections is "
                 "the signature of Nagle's algorithm meeting delayed ACKs: on 2026-11-25, strace "
                 "showed `TCP_NODELAY` set on the guard's upstream socket but not on the client "
                 "sockets it accepts. These rows measure that, not the inspection.")
    L.append("\n`guard CPU/req` is the guard process's user + system CPU time over the measured "
             "run divided by its requests (both HTTP sides, the checks, the SQLite audit record "
             "and counters); at 1,000 requests/s every 100 µs of it is a tenth of a core, on a "
             "two-core machine that also runs wrk, the fake upstream and other work, which is "
             "where the p99 tail comes from: compare the p99 of the direct runs.")
    L.append("\nLatencies in ms. Errors (non-2xx, socket): "
             + ", ".join(f"{r['mode']}/{r['target']}#{r['rep']} {r['err_status']}/"
                         f"{r['err_connect'] + r['err_read'] + r['err_write'] + r['err_timeout']}"
                         for r in runs) + ".\n")
    L.append("Where the guard's time goes (means per request in µs, from its own /metrics "
             "histograms over each measured run; `request` = auth, kill switch, suspension "
             "lookup, rate limit; `input` = the engine's check of the last user message; "
             "`upstream_headers` = until the upstream's headers; `output` = the answer's check; "
             "`total` = the whole request as the guard sees it):\n")
    L.append("| mode | rep | request | input | upstream_headers | output | total |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for r in runs:
        if r["target"] != "guard":
            continue
        ph = r.get("phases_us", {})
        L.append(f"| {r['mode']} | {r['rep']} | " + " | ".join(
            f"{ph[k]:.1f}" if k in ph else "—"
            for k in ("request", "input", "upstream_headers", "output", "total")) + " |")
    L.append("")
    if peers:
        L.append("## Input check against the Python peers\n")
        L.append(f"Input: {peers['prompts']:,} prompts ({peers['characters']:,} characters), the "
                 f"last user turn of every item of `builtin:generated_content`, "
                 f"`builtin:should_refuse` and `builtin:should_not_refuse` ({peers['distinct']:,} "
                 f"distinct, cycled). Keywords: the {peers['keywords']:,} terms of the starter "
                 "library (first column of `crates/anquan-detect/data/keywords/starter.tsv`). "
                 "Peers run in one Python process, one scan call per prompt, best of the runs "
                 "given; ours is the guard's `input` phase per request (mean), measured inside "
                 "the running release guard while every prompt is sent through it once.\n")
        rows = peers["rows"]
        ours = next((r for r in rows if r["tool"] == "anquan guard (input phase)"), None)
        L.append("| tool | task | µs / prompt | prompts / s | flagged | anquan guard ÷ tool "
                 "(throughput) |")
        L.append("|---|---|---:|---:|---:|---:|")
        for r in rows:
            x = (r["us_per_prompt"] / ours["us_per_prompt"]
                 if ours and ours["us_per_prompt"] and not r["tool"].startswith("anquan") else None)
            ratio = "—" if x is None else (f"{x:.0f}×" if x >= 10 else f"{x:.1f}×")
            L.append(f"| {r['tool']} | {r['task']} | {r['us_per_prompt']:.1f} | "
                     f"{r['prompts_per_s']:,.0f} | {r['flagged']} | {ratio} |")
        L.append("")
        for r in rows:
            L.append(f"- **{r['tool']}**: {r['note']}.")
        L.append("")
        L.append("Compare with care: the guard's check does more (normalization through "
                 "evasions, allow list, validated PII of ten kinds, the action bookkeeping) and is "
                 "timed inside a server under load from the client on the same two cores; "
                 "BanSubstrings matches keywords as written (`in`, lower-cased), Regex matches "
                 "the shapes without validation and stops at the first pattern that matches, "
                 "presidio's four recognizers cover fewer kinds; the bank prompts hold almost no "
                 "personal information, so the PII rows time scanning clean text. `flagged` counts "
                 "prompts (blocked + masked for the guard, which counts only keywords of severity "
                 "medium or more outside the built-in allow list; BanSubstrings counts every "
                 "term), findings for `anquan scan`.\n")
    L.append("## Commands\n")
    L.append(f"```sh\nbenchsuite/guard.sh {a.argv}".rstrip() + "\n```\n")
    L.append(f"The first measured wrk command line: `{runs[0]['cmd']}` (the pacing script is "
             "`WRK_LUA` in `benchsuite/guard.py`).\n")
    (a.csv_dir / "guard.md").write_text("\n".join(L), encoding="utf-8")
    print("\n".join(L))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("load")
    pp = sub.add_parser("peers")
    rp = sub.add_parser("report")
    for p in (lp, pp, rp):
        p.add_argument("--out", type=Path, required=True, help="work folder (load.jsonl, peers.json)")
    for p in (lp, pp):
        p.add_argument("--guard", required=True, help="the guard's base URL")
        p.add_argument("--admin", required=True, help="the guard's admin base URL")
        p.add_argument("--token", default=os.environ.get("ANQUAN_GUARD_ADMIN_TOKEN", ""))
        p.add_argument("--repeats", type=int, default=3)
    lp.add_argument("--direct", required=True, help="the fake upstream's base URL")
    lp.add_argument("--fake-pid", type=int, required=True)
    lp.add_argument("--guard-pid", type=int, required=True)
    lp.add_argument("--rate", type=int, default=1000)
    lp.add_argument("--threads", type=int, default=1)
    lp.add_argument("--connections", type=int, default=8)
    lp.add_argument("--duration", type=int, default=20)
    lp.add_argument("--warmup", type=int, default=5)
    lp.add_argument("--reps", type=int, default=2)
    pp.add_argument("--banks", type=Path, nargs="+", required=True, help="bank exports (JSONL)")
    pp.add_argument("--prompts", type=int, default=10_000)
    pp.add_argument("--slow-repeats", type=int, default=1)
    pp.add_argument("--anquan", required=True)
    rp.add_argument("--csv-dir", type=Path, required=True)
    rp.add_argument("--argv", default="", help="guard.sh's arguments, for the summary")
    a = ap.parse_args()
    if len(PROMPT) != 100:
        raise SystemExit(f"the load prompt has {len(PROMPT)} characters, not 100")
    {"load": cmd_load, "peers": cmd_peers, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
