#!/usr/bin/env python3
"""Peer comparison: anquan's detection engine against Python peers on the same input.

Called by `benchsuite/peers.sh` (which makes the venv, builds anquan and runs `cargo bench -p
anquan-bench` first); see benchsuite/README.md. Steps:

1. Build the corpus and the 1k / 10k / 100k keyword lists exactly as
   `crates/anquan-bench/src/lib.rs` does (a line-by-line port of `corpus_zh` and `keywords`,
   checked against fingerprints of the Rust output).
2. Measure throughput (MB/s = 10^6 bytes/s of the UTF-8 corpus, best of N) of pyahocorasick,
   flashtext and presidio-analyzer (pattern recognizers only, no spaCy model).
3. Run a recall check on short texts where keywords and personal information are glued to
   Chinese or ASCII text, for each peer and for `anquan scan`.
4. Parse our figures from the `cargo bench` log and write `peers.csv` and `summary.md`.
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIB_RS = REPO / "crates" / "anquan-bench" / "src" / "lib.rs"
SIZES = (1_000, 10_000, 100_000)
CORPUS_BYTES = 4 << 20  # detect.rs: CORPUS_BYTES

# ---------------------------------------------------------------------------------------------
# Port of crates/anquan-bench/src/lib.rs
# ---------------------------------------------------------------------------------------------

# The `hanzi` literal of `keywords()`, copied verbatim; checked against lib.rs at run time.
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过"
    "子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制"
    "机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正"
    "心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党"
    "程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角"
    "期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压"
    "志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万"
    "每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林"
    "律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史"
    "感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层"
    "片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"
)

# sha256 of the Rust output (`keywords(n)` one per line with a trailing newline; `corpus_zh(4 MiB)`
# as is), taken from a dump of the Rust functions on 2026-11-25 (lib.rs of commit 9096969; the
# 100k list again after its generated terms gave way to Sensitive-lexicon's) and matched by this
# port then. A mismatch means lib.rs or the datasets changed: re-verify the port.
EXPECTED_SHA256 = {
    "corpus": "3301dcc5853c71df3a822ed0610ddb5024938304df64a484be675ca29e8e56aa",
    1_000: "adb6ba51b5e9fd35c20c0a6a64daa4e6e820b100511afbd64990bce6aee71a47",
    10_000: "4ed3e9fade615732a437d8daf9100fe87d2226b2e6eeb90d83e63e3640a7a33c",
    100_000: "372acf41a2abf2ec8e3629385bf8edb0947e6cbffa4a754a16ecbfb68568193e",
}

# Rust's `char::is_whitespace` (Unicode White_Space), which `str::trim` strips. Python's
# `str.strip()` also strips U+001C..U+001F, so it is not used.
RUST_WS = "".join(
    map(
        chr,
        [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
         0x202F, 0x205F, 0x3000],
    )
)
MASK64 = (1 << 64) - 1


def rust_lines(text: str) -> list[str]:
    """`str::lines`: split on `\\n`, drop one trailing `\\r` per line, no final empty line."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts]


def corpus_zh(datasets: Path, target: int) -> str:
    lines: list[str] = []
    for f in ("cold/train.csv", "cold/dev.csv"):
        text = (datasets / f).read_bytes().decode("utf-8")  # read_to_string: strict UTF-8
        for line in rust_lines(text)[1:]:
            lines.append(line.rsplit(",", 1)[-1])
    out: list[str] = []
    size = 0  # bytes, as String::len
    while size < target:
        for l in lines:
            out.append(l)
            out.append("\n")
            size += len(l.encode("utf-8")) + 1
            if size >= target:
                break
    return "".join(out)


def keywords(datasets: Path, n: int) -> list[str]:
    def read(path: Path) -> str:
        try:
            return path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):  # unwrap_or_default
            return ""

    def terms(text: str) -> list[str]:
        return sorted({l.strip(RUST_WS) for l in rust_lines(text) if len(l.strip(RUST_WS)) >= 2})

    kw = datasets / "keywords"
    houbb = terms(read(kw / "houbb-sensitive-word/dict_v20240407.txt"))
    seed = 0x9E3779B97F4A7C15

    def nxt() -> int:
        nonlocal seed
        seed ^= (seed << 13) & MASK64
        seed ^= seed >> 7
        seed ^= (seed << 17) & MASK64
        return seed

    def shuffled(all_: list[str]) -> list[str]:
        all_ = list(all_)
        for i in range(len(all_) - 1, 0, -1):
            j = nxt() % (i + 1)
            all_[i], all_[j] = all_[j], all_[i]
        return all_

    out = shuffled(houbb)[:n]
    if len(out) < n:
        # Rust sorts the PathBufs; in one folder that is the file names' byte order.
        files = sorted((kw / "sensitive-lexicon/Vocabulary").glob("*.txt"),
                       key=lambda p: os.fsencode(p.name))
        lexicon = terms("".join(read(f) + "\n" for f in files))
        in_houbb = set(houbb)
        lexicon = [t for t in lexicon if t not in in_houbb]
        out += shuffled(lexicon)[: n - len(out)]
    i = 0
    while len(out) < n:
        length = 2 + nxt() % 3
        term = "".join(HANZI[nxt() % len(HANZI)] for _ in range(length))
        out.append(f"{term}{i}")
        i += 1
    # Rust sorts Strings bytewise; UTF-8 byte order equals code-point order, which Python uses.
    return sorted(set(out))


def sha256_lines(items: list[str]) -> str:
    return hashlib.sha256("".join(f"{k}\n" for k in items).encode("utf-8")).hexdigest()


def check_port(corpus: str, libs: dict[int, list[str]]) -> list[str]:
    """Compare with lib.rs's hanzi literal and the recorded Rust fingerprints; return problems."""
    problems = []
    try:
        m = re.search(r'let hanzi: Vec<char> = "([^"]*)"', LIB_RS.read_text(encoding="utf-8"))
        if not m:
            problems.append("could not find the hanzi literal in lib.rs")
        elif m.group(1) != HANZI:
            problems.append("the hanzi literal in lib.rs differs from the port's")
    except OSError as e:
        problems.append(f"could not read lib.rs: {e}")
    got = hashlib.sha256(corpus.encode("utf-8")).hexdigest()
    if got != EXPECTED_SHA256["corpus"]:
        problems.append(f"corpus sha256 {got} != recorded Rust {EXPECTED_SHA256['corpus']}")
    for n, kws in libs.items():
        got = sha256_lines(kws)
        if n in EXPECTED_SHA256 and got != EXPECTED_SHA256[n]:
            problems.append(f"keywords({n}) sha256 {got} != recorded Rust {EXPECTED_SHA256[n]}")
    return problems


def compare_dump(dump: Path, corpus: str, libs: dict[int, list[str]]) -> list[str]:
    """Compare with files written by the Rust functions: corpus.txt, kw<N>.txt (one per line)."""
    problems = []
    if (dump / "corpus.txt").exists() and (dump / "corpus.txt").read_bytes() != corpus.encode():
        problems.append("corpus differs from dump")
    for n, kws in libs.items():
        p = dump / f"kw{n}.txt"
        if p.exists():
            rust = rust_lines(p.read_text(encoding="utf-8"))
            if rust != kws:
                diff = next((i for i, (a, b) in enumerate(zip(rust, kws)) if a != b), None)
                problems.append(f"keywords({n}) differ from dump (len {len(rust)} vs {len(kws)},"
                                f" first diff at {diff})")
    return problems


# ---------------------------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------------------------


def offline_tldextract() -> None:
    """presidio's EmailRecognizer validates with `tldextract.extract`, which by default fetches
    the Public Suffix List over the network on first use; use the snapshot it ships instead."""
    import tldextract

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class Pyahocorasick:
    name = "pyahocorasick"
    task = "keywords"

    def __init__(self, kws: list[str]):
        import ahocorasick

        self.a = ahocorasick.Automaton()
        for k in kws:
            self.a.add_word(k, k)
        self.a.make_automaton()

    def find(self, text: str) -> list[tuple[int, int, str]]:
        # iter_long: leftmost-longest, non-overlapping (as our raw matchers and engine).
        return [(end - len(k) + 1, end + 1, k) for end, k in self.a.iter_long(text)]

    def count(self, text: str) -> int:
        return sum(1 for _ in self.a.iter_long(text))


class Flashtext:
    name = "flashtext"
    task = "keywords"

    def __init__(self, kws: list[str]):
        from flashtext import KeywordProcessor

        self.kp = KeywordProcessor()  # defaults: case-insensitive, ASCII word boundaries
        for k in kws:
            self.kp.add_keyword(k)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        return [(s, e, text[s:e]) for _, s, e in self.kp.extract_keywords(text, span_info=True)]

    def count(self, text: str) -> int:
        return len(self.kp.extract_keywords(text))


class Presidio:
    """presidio-analyzer's AnalyzerEngine with pattern recognizers only: phone (phonenumbers,
    region CN), email, credit card, IP, and a no-op NLP engine (no spaCy model loaded)."""

    name = "presidio-analyzer"
    task = "pii"
    entities = ["PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "IP_ADDRESS"]

    def __init__(self):
        offline_tldextract()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IpRecognizer,
            PhoneRecognizer,
        )

        class NoOpNlpEngine(NlpEngine):
            def load(self):
                pass

            def is_loaded(self):
                return True

            def process_text(self, text, language):
                return NlpArtifacts(entities=[], tokens=[], tokens_indices=[], lemmas=[],
                                    nlp_engine=self, language=language)

            def process_batch(self, texts, language, batch_size=1, n_process=1, **kwargs):
                for t in texts:
                    yield t, self.process_text(t, language)

            def is_stopword(self, word, language):
                return False

            def is_punct(self, word, language):
                return False

            def get_supported_entities(self):
                return []

            def get_supported_languages(self):
                return ["zh"]

        lang = "zh"
        registry = RecognizerRegistry(supported_languages=[lang])
        registry.add_recognizer(PhoneRecognizer(supported_language=lang, supported_regions=("CN",)))
        registry.add_recognizer(EmailRecognizer(supported_language=lang))
        registry.add_recognizer(CreditCardRecognizer(supported_language=lang))
        registry.add_recognizer(IpRecognizer(supported_language=lang))
        self.engine = AnalyzerEngine(registry=registry, nlp_engine=NoOpNlpEngine(),
                                     supported_languages=[lang])
        self.lang = lang

    def find(self, text: str) -> list[tuple[int, int, str]]:
        res = self.engine.analyze(text=text, language=self.lang, entities=self.entities)
        return [(r.start, r.end, text[r.start:r.end]) for r in res]

    def count(self, text: str) -> int:
        return len(self.engine.analyze(text=text, language=self.lang, entities=self.entities))


def pkg_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def best_of(fn, text: str, repeats: int) -> tuple[list[float], int]:
    times, counts = [], set()
    for _ in range(repeats):
        t0 = time.perf_counter()
        c = fn(text)
        times.append(time.perf_counter() - t0)
        counts.add(c)
    if len(counts) != 1:
        raise SystemExit(f"match count changed between runs: {counts}")
    return times, counts.pop()


# ---------------------------------------------------------------------------------------------
# Our figures from the cargo bench (divan) log
# ---------------------------------------------------------------------------------------------

UNIT = {"B/s": 1e-6, "KB/s": 1e-3, "MB/s": 1.0, "GB/s": 1e3, "TB/s": 1e6,
        "KiB/s": 1024 / 1e6, "MiB/s": 1024**2 / 1e6, "GiB/s": 1024**3 / 1e6}


def parse_divan(log: str) -> dict[str, dict[str, float]]:
    """Return {"pipeline/1000": {"fastest": MB/s, "median": MB/s}, ...} from divan's tree."""
    out: dict[str, dict[str, float]] = {}
    stack: list[str] = []
    last: str | None = None
    for line in log.splitlines():
        m = re.match(r"^([│ ]*)[├╰]─ (\S+)", line)
        if m:
            depth = len(m.group(1)) // 3
            stack = stack[:depth] + [m.group(2)]
            last = "/".join(stack)
            continue
        if last and "/s" in line:
            cols = [c.strip() for c in line.split("│")]
            vals = []
            for c in cols:
                mm = re.fullmatch(r"([\d.]+) (\S+/s)", c)
                if mm and mm.group(2) in UNIT:
                    vals.append(float(mm.group(1)) * UNIT[mm.group(2)])
            if len(vals) >= 3:  # fastest, slowest, median, mean
                out[last] = {"fastest": vals[0], "median": vals[2]}
            last = None
    return out


# ---------------------------------------------------------------------------------------------
# Recall check
# ---------------------------------------------------------------------------------------------

# (id, task, text, expected). Keywords are from the houbb list, so in the 100k library.
RECALL_CASES = [
    ("kw 赌博, glued to Chinese", "keywords", "今天赌博输了", "赌博"),
    ("kw 赌博, glued to ASCII", "keywords", "xx赌博yy", "赌博"),
    ("kw 赌博, spaced (control)", "keywords", "xx 赌博 yy", "赌博"),
    ("kw 法轮功, glued to Chinese", "keywords", "他练法轮功很多年", "法轮功"),
    ("kw 法轮功, glued to ASCII", "keywords", "abc法轮功def", "法轮功"),
    ("kw k粉, glued to Chinese", "keywords", "买点k粉吗", "k粉"),
    ("kw k粉, glued to ASCII", "keywords", "xk粉y", "k粉"),
    ("kw k粉, spaced (control)", "keywords", "买点 k粉 吗", "k粉"),
    ("mobile, glued to Chinese", "pii", "联系13812345678谢谢", "13812345678"),
    ("mobile, glued to ASCII", "pii", "tel13812345678ok", "13812345678"),
    ("mobile, spaced (control)", "pii", "联系 13812345678 谢谢", "13812345678"),
    ("email, glued to Chinese", "pii", "邮箱a@example.com谢谢", "a@example.com"),
    ("email, Chinese before, 。 after", "pii", "邮箱a@example.com。", "a@example.com"),
    ("email, spaced (control)", "pii", "email a@example.com ok", "a@example.com"),
    ("card, glued to Chinese", "pii", "卡号4111111111111111谢谢", "4111111111111111"),
    ("card, glued to ASCII", "pii", "card4111111111111111ok", "4111111111111111"),
    ("card, spaced (control)", "pii", "卡号 4111111111111111 谢谢", "4111111111111111"),
    ("IPv4, glued to Chinese", "pii", "服务器202.96.128.86谢谢", "202.96.128.86"),
    ("IPv4, glued to ASCII", "pii", "host202.96.128.86ok", "202.96.128.86"),
    ("IPv4, spaced (control)", "pii", "服务器 202.96.128.86 谢谢", "202.96.128.86"),
]


def judge(found: list[str], expected: str) -> tuple[str, str]:
    """"exact" when a reported match is the expected value, "wider" when one only contains it
    (boundaries too wide), "miss" otherwise; and what was reported (deduplicated)."""
    found = list(dict.fromkeys(found))
    verdict = ("exact" if expected in found
               else "wider" if any(expected in f for f in found) else "miss")
    return verdict, ", ".join(found) if found else "—"


def anquan_findings(cargo: str, args: list[str]) -> list[dict]:
    """`cargo run -q --release --bin anquan -- scan --json ARGS`, its findings."""
    cmd = [cargo, "run", "-q", "--release", "--bin", "anquan", "--", "scan", "--json", *args]
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if p.returncode not in (0, 1):  # 1 = findings
        raise SystemExit(f"anquan scan failed ({p.returncode}): {p.stderr}")
    return json.loads(p.stdout).get("findings", [])


def write_library(path: Path, kws: list[str]) -> None:
    """The TSV that detect.rs's `library()` builds."""
    path.write_text("# name: bench\n# version: 1\nkeyword\trisk_ids\tseverity\tsource\n"
                    + "".join(f"{k}\tA.1.h\tmedium\tbench\n" for k in kws), encoding="utf-8")


def anquan_scan(cargo: str, library: Path, text: str) -> list[str]:
    out = []
    for f in anquan_findings(cargo, ["--library", str(library), text]):
        out.append(f.get("matched", ""))
        out.extend(f.get("keywords", []))
    return out


# ---------------------------------------------------------------------------------------------


def sysinfo() -> dict[str, str]:
    def sh(cmd):
        try:
            return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"

    cpu = "?"
    try:
        for l in Path("/proc/cpuinfo").read_text().splitlines():
            if l.startswith("model name"):
                cpu = l.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    dirty = sh(["git", "status", "--porcelain", "--", "crates"])
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "rustc": sh(["rustc", "--version"]),
        "commit": sh(["git", "rev-parse", "--short", "HEAD"]) + (" (crates/ modified)" if dirty else ""),
    }


def fmt(x: float | None) -> str:
    return "—" if x is None else (f"{x:.1f}" if x >= 10 else f"{x:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--bench-log", type=Path, help="output of `cargo bench -p anquan-bench`")
    ap.add_argument("--out", type=Path, help="run folder (default benchsuite/runs/<today>)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cargo", default=os.environ.get("CARGO", "cargo"))
    ap.add_argument("--dump", type=Path, help="folder with corpus.txt / kw<N>.txt from Rust")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()

    out = args.out or REPO / "benchsuite" / "runs" / dt.date.today().isoformat()
    out.mkdir(parents=True, exist_ok=True)

    # 1. Input
    corpus = corpus_zh(args.datasets, CORPUS_BYTES)
    nbytes = len(corpus.encode("utf-8"))
    libs = {n: keywords(args.datasets, n) for n in SIZES}
    port_problems = check_port(corpus, libs)
    if args.dump:
        port_problems += compare_dump(args.dump, corpus, libs)
    for p in port_problems:
        print(f"WARNING: {p}", file=sys.stderr)
    print(f"corpus: {nbytes} bytes, {corpus.count(chr(10))} lines; keyword lists: "
          + ", ".join(f"{n}: {len(k)}" for n, k in libs.items())
          + ("; port matches the Rust fingerprints" if not port_problems else ""), file=sys.stderr)

    # 2. Throughput
    rows = []  # dicts for the CSV
    pres_kinds: collections.Counter = collections.Counter()
    if not args.skip_throughput:
        for n in SIZES:
            for cls in (Pyahocorasick, Flashtext):
                t0 = time.perf_counter()
                tool = cls(libs[n])
                build = time.perf_counter() - t0
                times, count = best_of(tool.count, corpus, args.repeats)
                rows.append({"tool": tool.name, "task": "keywords", "library_size": n,
                             "mb_s": nbytes / min(times) / 1e6,
                             "mb_s_median": nbytes / statistics.median(times) / 1e6,
                             "matches": count, "build_s": round(build, 3),
                             "note": f"{tool.name} {pkg_version(tool.name)}"})
                print(f"{tool.name:>18} n={n:<6} {rows[-1]['mb_s']:8.2f} MB/s  matches={count}"
                      f"  build={build:.2f}s", file=sys.stderr)
                del tool
        t0 = time.perf_counter()
        pres = Presidio()
        build = time.perf_counter() - t0
        times, count = best_of(pres.count, corpus, args.repeats)
        rows.append({"tool": pres.name, "task": "pii", "library_size": "",
                     "mb_s": nbytes / min(times) / 1e6,
                     "mb_s_median": nbytes / statistics.median(times) / 1e6,
                     "matches": count, "build_s": round(build, 3),
                     "note": f"presidio-analyzer {pkg_version('presidio-analyzer')}; phone(CN),"
                             " email, credit card, IP; no NLP model"})
        print(f"{pres.name:>18} {rows[-1]['mb_s']:8.2f} MB/s  matches={count}", file=sys.stderr)
        pres_kinds = collections.Counter(r.entity_type for r in pres.engine.analyze(
            text=corpus, language=pres.lang, entities=pres.entities))

    # What our engine finds in the same corpus (the CLI builds the engine as detect.rs does:
    # `--library` TSV, no allow list), for the match counts beside the peers'.
    tmp = Path(tempfile.mkdtemp(prefix="anquan-peers-"))
    our_counts: dict[str, int] = {}
    our_kinds: collections.Counter = collections.Counter()
    try:
        (tmp / "corpus.txt").write_text(corpus, encoding="utf-8")
        for n in SIZES:
            write_library(tmp / f"lib{n}.tsv", libs[n])
            our_counts[f"keywords/{n}"] = len(anquan_findings(
                args.cargo, ["--no-pii", "--library", str(tmp / f"lib{n}.tsv"),
                             "--file", str(tmp / "corpus.txt")]))
        found = anquan_findings(args.cargo, ["--no-keywords", "--library", str(tmp / "lib1000.tsv"),
                                             "--file", str(tmp / "corpus.txt")])
        our_counts["pii"] = len(found)
        our_kinds = collections.Counter(f.get("pii", "?") for f in found)
        # 3. Recall check (the 100k library holds every houbb term, so every probe keyword)
        big = libs[100_000]
        for _, task, _, exp in RECALL_CASES:
            if task == "keywords" and exp not in set(big):
                raise SystemExit(f"recall keyword {exp} is not in the 100k library")
        kw_tools = [Pyahocorasick(big), Flashtext(big)]
        pres = Presidio()
        recall = []  # (case, task, text, expected, {tool: (verdict, found)})
        for cid, task, text, exp in RECALL_CASES:
            res = {}
            for t in kw_tools:
                res[t.name] = judge([m[2] for m in t.find(text)], exp) if task == "keywords" else None
            res[pres.name] = judge([m[2] for m in pres.find(text)], exp) if task == "pii" else None
            res["anquan scan"] = judge(anquan_scan(args.cargo, tmp / "lib100000.tsv", text), exp)
            recall.append((cid, task, text, exp, res))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("anquan findings in the corpus: " + ", ".join(f"{k}: {v}" for k, v in our_counts.items()),
          file=sys.stderr)

    # Ours, from the same run's cargo bench log
    ours: dict[str, dict[str, float]] = {}
    if args.bench_log and args.bench_log.exists():
        ours = parse_divan(args.bench_log.read_text(encoding="utf-8", errors="replace"))
        if not ours:
            print("WARNING: no figures parsed from the bench log", file=sys.stderr)
    for key, vals in sorted(ours.items()):
        parts = key.split("/")
        group, size = parts[0], (parts[1] if len(parts) > 1 else "")
        task = {"pipeline": "keywords+pii", "raw_daachorse": "keywords",
                "raw_aho_corasick": "keywords", "pii": "pii"}.get(group, group)
        matches = our_counts.get("pii", "") if group == "pii" else ""
        rows.append({"tool": f"anquan:{group if size.isdigit() else key}", "task": task,
                     "library_size": size if size.isdigit() else "",
                     "mb_s": vals["fastest"], "mb_s_median": vals["median"], "matches": matches,
                     "build_s": "", "note": f"cargo bench -p anquan-bench ({key}); divan fastest"})

    with open(out / "peers.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["tool", "task", "library_size", "mb_s", "mb_s_median",
                                          "matches", "build_s", "note"])
        w.writeheader()
        for r in rows:
            r = dict(r)
            for k in ("mb_s", "mb_s_median"):
                if isinstance(r[k], float):
                    r[k] = f"{r[k]:.3f}"
            w.writerow(r)

    tools = ["anquan scan", "pyahocorasick", "flashtext", "presidio-analyzer"]
    with open(out / "recall.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["case", "task", "text", "expected", "tool", "verdict", "found"])
        for cid, task, text, exp, res in recall:
            for t in tools:
                if res.get(t):
                    w.writerow([cid, task, text, exp, t, res[t][0], res[t][1]])

    # 4. Summary
    info = sysinfo()

    def peer(tool, task, n=""):
        for r in rows:
            if r["tool"] == tool and r["task"] == task and str(r["library_size"]) == str(n):
                return r["mb_s"]
        return None

    def our(key):
        return ours.get(key, {}).get("fastest")

    L = []
    L.append(f"# Peer comparison, {dt.date.today().isoformat()}\n")
    L.append(f"Machine: {info['cpu']}, {info['cores']} cores. Python {info['python']}; "
             f"{info['rustc']}; anquan at {info['commit']}. pyahocorasick "
             f"{pkg_version('pyahocorasick')}, flashtext {pkg_version('flashtext')}, "
             f"presidio-analyzer {pkg_version('presidio-analyzer')} (phonenumbers "
             f"{pkg_version('phonenumbers')}).\n")
    L.append(f"Input: the corpus and keyword lists of `crates/anquan-bench/src/lib.rs` "
             f"({nbytes:,} bytes of COLD text; {', '.join(f'{len(k):,}' for k in libs.values())} "
             f"keywords), ported to Python; "
             + ("the port matches the Rust output's recorded sha256 fingerprints."
                if not port_problems else "**port check failed: " + "; ".join(port_problems) + "**")
             + "\n")
    L.append("MB/s = 10^6 bytes of the original UTF-8 corpus per second. Ours: divan's fastest of "
             f"10 samples from `cargo bench -p anquan-bench` in the same run; peers: best of "
             f"{args.repeats}, in one Python process, one call over the whole 4 MB string. "
             "`raw_*` are measured on the pre-normalized text (as in detect.rs); `pipeline` is the "
             "full engine (normalize + keyword match + PII) on the original text. Peers match the "
             "keywords as written on the original text (no normalization).\n")
    L.append("## Keywords (MB/s)\n")
    L.append("| keywords | anquan pipeline | anquan raw_daachorse | pyahocorasick (iter_long) | "
             "flashtext | pipeline / best peer | raw_daachorse / best peer |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|")
    for n in SIZES:
        pa, ft = peer("pyahocorasick", "keywords", n), peer("flashtext", "keywords", n)
        best = max([x for x in (pa, ft) if x] or [0]) or None
        pl, rd = our(f"pipeline/{n}"), our(f"raw_daachorse/{n}")
        r1 = f"{pl / best:.1f}×" if pl and best else "—"
        r2 = f"{rd / best:.1f}×" if rd and best else "—"
        L.append(f"| {n:,} | {fmt(pl)} | {fmt(rd)} | {fmt(pa)} | {fmt(ft)} | {r1} | {r2} |")
    L.append("")
    counts = {(r["tool"], r["library_size"]): r["matches"] for r in rows if r["matches"] != ""}
    L.append("Matches in the corpus (a check that each tool does the work): " + "; ".join(
        f"{n:,} keywords: pyahocorasick {counts.get(('pyahocorasick', n), '—')}, flashtext "
        f"{counts.get(('flashtext', n), '—')}, anquan {our_counts.get(f'keywords/{n}', '—')}"
        for n in SIZES) + ". anquan's are keyword findings of `anquan scan --no-pii --library` "
        "(matching through normalization; overlapping keywords merge into one finding).\n")
    L.append("## Personal information (MB/s)\n")
    pp, op = peer("presidio-analyzer", "pii"), our("pii")
    L.append("| anquan pii | presidio-analyzer (patterns only) | anquan / presidio |")
    L.append("|---:|---:|---:|")
    L.append(f"| {fmt(op)} | {fmt(pp)} | {f'{op / pp:.1f}×' if op and pp else '—'} |\n")
    L.append("anquan `pii` looks for more kinds (resident id, bank card, USCC, mobile, landline, "
             "passport, email, IPv4/IPv6, licence plate) than the four presidio recognizers "
             "(phone with region CN, email, credit card, IP)."
             + f" Found in the corpus: anquan {our_counts.get('pii', '—')} ("
             + ", ".join(f"{k} {v}" for k, v in our_kinds.most_common()) + "), presidio "
             + f"{counts.get(('presidio-analyzer', ''), '—')} ("
             + ", ".join(f"{k} {v}" for k, v in pres_kinds.most_common()) + ").\n")
    L.append("## Recall on glued text\n")
    L.append("Library: the 100k list (it holds every houbb term, so every probe keyword). "
             "✓ a reported match is exactly the expected value; ≈ a reported match contains it "
             "with wrong (too wide) boundaries; ✗ missed. What each tool reported is in brackets "
             "(anquan's keyword findings also list other library terms that matched, e.g. 联系 or "
             "卡号 are houbb terms). `anquan scan` is `cargo run -q --release --bin anquan -- scan "
             "--json --library <100k TSV> TEXT`.\n")
    L.append("| case | text | " + " | ".join(tools) + " |")
    L.append("|---|---|" + "---|" * len(tools))
    totals = {t: collections.Counter() for t in tools}
    mark = {"exact": "✓", "wider": "≈", "miss": "✗"}
    for cid, task, text, exp, res in recall:
        cells = []
        for t in tools:
            v = res.get(t)
            if v is None:
                cells.append("n/a")
                continue
            totals[t][v[0]] += 1
            cells.append(f"{mark[v[0]]} ({v[1]})")
        L.append(f"| {cid} | `{text}` | " + " | ".join(cells) + " |")

    def total(c):
        n = sum(c.values())
        if not n:
            return "n/a"
        return f"**{c['exact'] + c['wider']}/{n}**" + (f" ({c['wider']} ≈)" if c["wider"] else "")

    L.append("| **found** | | " + " | ".join(total(totals[t]) for t in tools) + " |")
    for task in ("keywords", "pii"):
        for glue in ("Chinese", "ASCII"):
            sub = [r for r in recall if r[1] == task and f"glued to {glue}" in r[0]]
            parts = []
            for t in tools:
                c = collections.Counter(r[4][t][0] for r in sub if r[4].get(t))
                if sum(c.values()):
                    parts.append(f"{t} {c['exact'] + c['wider']}/{sum(c.values())}")
            if parts:
                L.append(f"\n{task}, glued to {glue} on both sides: " + ", ".join(parts) + ".")
    L.append("")
    L.append("Figures: `peers.csv` (every row, with match counts and build times), `recall.csv`, "
             "`cargo-bench.log`.\n")
    (out / "summary.md").write_text("\n".join(L), encoding="utf-8")
    print(f"wrote {out / 'peers.csv'}, {out / 'recall.csv'}, {out / 'summary.md'}", file=sys.stderr)
    print((out / "summary.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
