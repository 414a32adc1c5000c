//! Inputs for anquan's benchmarks.
//!
//! The corpus and keyword lists are built from the public datasets in `../shared/datasets/`
//! (Chinese social-media text from COLD, keyword lists from houbb/sensitive-word), read at run
//! time and never copied into the repository. Keywords are sampled with a fixed seed so every run
//! measures the same input. Benches assert their results (match counts) so a broken path cannot
//! look fast.

use std::path::PathBuf;

/// The shared datasets folder beside the repository.
pub fn datasets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

/// Chinese text: the `TEXT` column of COLD train and dev, one line each, repeated to `target`
/// bytes. Match-dense because COLD is offensive-language data.
pub fn corpus_zh(target: usize) -> String {
    let mut lines = Vec::new();
    for f in ["cold/train.csv", "cold/dev.csv"] {
        let text = std::fs::read_to_string(datasets().join(f))
            .unwrap_or_else(|e| panic!("benchmarks read `{f}` from ../shared/datasets: {e}"));
        for line in text.lines().skip(1) {
            if let Some(t) = line.rsplit(',').next() {
                lines.push(t.to_owned());
            }
        }
    }
    let mut out = String::with_capacity(target + 1024);
    while out.len() < target {
        for l in &lines {
            out.push_str(l);
            out.push('\n');
            if out.len() >= target {
                break;
            }
        }
    }
    out
}

/// `n` distinct keywords from the public word lists in `../shared/datasets/keywords/`, sampled
/// with a fixed seed: houbb/sensitive-word's list (65k terms) first, then the terms of the 17
/// Sensitive-lexicon files that are not in it (about 43k more), then generated two-to-four-
/// character terms beyond that. The 1k and 10k libraries are houbb terms; the 100k library holds
/// every houbb term.
pub fn keywords(n: usize) -> Vec<String> {
    let terms = |text: &str| -> Vec<String> {
        let mut all: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| l.chars().count() >= 2)
            .map(str::to_owned)
            .collect();
        all.sort();
        all.dedup();
        all
    };
    let dir = datasets().join("keywords");
    let houbb = terms(
        &std::fs::read_to_string(dir.join("houbb-sensitive-word/dict_v20240407.txt"))
            .unwrap_or_default(),
    );
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Fisher-Yates with the fixed seed.
    let mut shuffled = |mut all: Vec<String>| {
        for i in (1..all.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            all.swap(i, j);
        }
        all
    };
    let mut out: Vec<String> = shuffled(houbb.clone()).into_iter().take(n).collect();
    if out.len() < n {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("sensitive-lexicon/Vocabulary"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "txt"));
        files.sort();
        let text: String = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap_or_default() + "\n")
            .collect();
        let mut lexicon = terms(&text);
        lexicon.retain(|t| houbb.binary_search(t).is_err());
        let missing = n - out.len();
        out.extend(shuffled(lexicon).into_iter().take(missing));
    }
    let hanzi: Vec<char> = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严".chars().collect();
    let mut i = 0u64;
    while out.len() < n {
        let len = 2 + (next() % 3) as usize;
        let term: String = (0..len)
            .map(|_| hanzi[(next() % hanzi.len() as u64) as usize])
            .collect();
        out.push(format!("{term}{i}"));
        i += 1;
    }
    out.sort();
    out.dedup();
    out
}

/// The first `n` benchmark keywords as a keyword library (risk A.1.h, severity medium): the
/// library of the engine benchmarks and the profiling example.
pub fn library(n: usize) -> anquan_detect::keywords::Library {
    let mut tsv =
        String::from("# name: bench\n# version: 1\nkeyword\trisk_ids\tseverity\tsource\n");
    for k in keywords(n) {
        tsv.push_str(&format!("{k}\tA.1.h\tmedium\tbench\n"));
    }
    let (lib, problems) = anquan_detect::keywords::Library::parse_tsv(&tsv);
    assert!(problems.is_empty(), "{problems:?}");
    lib
}

/// The first `n` benchmark keywords as the engine's normalizer writes them, sorted and without
/// duplicates: the patterns of the raw matcher baselines.
pub fn normalized_patterns(
    n: usize,
    normalizer: &anquan_detect::normalize::Normalizer,
) -> Vec<String> {
    let mut pats: Vec<String> = keywords(n)
        .iter()
        .map(|k| normalizer.normalize_str(k))
        .collect();
    pats.sort();
    pats.dedup();
    pats
}
