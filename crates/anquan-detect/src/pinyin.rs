//! Matching by pronunciation: the pinyin view of a text, the pinyin and initials forms of a
//! keyword, and the matcher of initials forms.
//!
//! **Heteronyms (多音字), read asymmetrically.** A keyword is read every common way its
//! characters can be read (行 `xing`/`hang`, 重 `zhong`/`chong`, 乐 `le`/`yue`): each combination
//! of readings is a pinyin form of its own, the default readings first, then those with one
//! character read another way, then two, up to [`MAX_READINGS`] combinations. The common readings
//! are the `pinyin` crate's readings that `data/keywords/heteronyms.tsv` lists (the readings
//! Unihan's kHanyuPinlu attests, and a few more): the crate also lists rare and classical
//! readings (是 `ti`, 共 `hong`), and reading keywords with all of them flagged 3,094 benign COLD
//! lines of 13,003 instead of 1,729 in pinyin mode (1,760 with the table).
//!
//! A text is read one way, each character's default (most common) reading. Reading the text
//! every way would turn each sentence into a lattice whose paths multiply with every heteronym
//! (the matcher would walk a graph instead of a string), and every extra reading of an ordinary
//! text is a fresh source of false homophones. With every reading on the keyword side, a term
//! written in the pinyin of any of its readings (`yinhang` for 银行), or with homophones of any
//! of them (`银航`), is still found; what one reading per text character misses is a text
//! character whose default reading differs from the reading that would match.
//!
//! **Initials (首字母).** A keyword in `initials` mode (every character a CJK character with a
//! reading, two at least) is also found when some of its syllables are written as their first
//! letter: 赌博 as `db`, `DB`, `d博`, `赌b`, `dub`. Each syllable is written as a character read
//! that way, as its full pinyin, or as its initial; at least one as its initial, and an initial
//! only as a Latin letter of the text (a character read `a`, 啊, does not stand for the initial
//! of 爱). `zh`, `ch` and `sh` are abbreviated to their first letter only (`zg` for 中国, not
//! `zhg`): that is how pinyin abbreviations (拼音首字母缩写) and input methods write them, and
//! accepting both would double the forms of such terms for a spelling evaders rarely use. The form
//! must be a whole token, no Latin letter or digit touching either end (`xdby` is not 赌博; `db`
//! between Chinese characters is), and in one piece in the normalized text (`里：hz` is not
//! 李洪志). A keyword contributes at most [`MAX_INITIALS_FORMS`] initials forms: all initials
//! first, then one syllable as its initial, then two, and so on.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::OnceLock;

use ::pinyin::{ToPinyin as _, ToPinyinMulti as _};
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};

use crate::normalize::{Normalized, is_cjk};

/// The most pinyin forms (combinations of heteronym readings) one keyword contributes; a keyword
/// with more combinations keeps the first ones, its default readings first, and is reported by
/// [`crate::keywords::KeywordMatcher::capped`].
pub const MAX_READINGS: usize = 16;

/// The most initials forms one `initials`-mode keyword contributes; beyond it the keyword is
/// reported by [`crate::keywords::KeywordMatcher::capped`].
pub const MAX_INITIALS_FORMS: usize = 64;

/// `ü` is written three ways (`nüe`, `nve` as IMEs type it, `nue`): the views fold `ü` and `v`
/// to `u` on both sides.
fn fold(c: char) -> char {
    match c {
        'ü' | 'v' => 'u',
        c => c,
    }
}

/// The toneless pinyin of a CJK character (its default reading), when it has one.
pub(crate) fn char_pinyin(c: char) -> Option<&'static str> {
    c.to_pinyin().map(|p| p.plain())
}

/// A normalized text read aloud: CJK characters become their toneless pinyin, ASCII letters and
/// digits stay, everything else is dropped. Returns the view and, for each of its bytes, the
/// byte range of the normalized character it came from.
///
/// `ü` is written three ways (`nüe`, `nve` as IMEs type it, `nue`): the view folds `ü` and `v` to
/// `u` on both sides, so 虐杀 matches `nvesha`, `nuesha` and `nüesha`. Standard pinyin has no
/// `v`, so the fold costs only Latin words with a `v` that then spell a keyword's pinyin.
pub(crate) fn pinyin_view(norm: &str) -> (String, Vec<(usize, usize)>) {
    let mut view = String::with_capacity(norm.len());
    let mut map = Vec::with_capacity(norm.len());
    for (i, c) in norm.char_indices() {
        let range = (i, i + c.len_utf8());
        if let Some(py) = is_cjk(c).then(|| char_pinyin(c)).flatten() {
            for p in py.chars() {
                let p = fold(p);
                view.push(p);
                map.extend(std::iter::repeat_n(range, p.len_utf8()));
            }
        } else if c.is_ascii_alphanumeric() || c == 'ü' || c == 'Ü' {
            let p = fold(c.to_lowercase().next().unwrap_or(c));
            view.push(p);
            map.extend(std::iter::repeat_n(range, p.len_utf8()));
        }
    }
    (view, map)
}

/// The common-heteronym table (`char<TAB>readings<TAB>source`), sources in its header.
const HETERONYMS: &str = include_str!("../data/keywords/heteronyms.tsv");

/// The common heteronyms: per character, the readings a keyword may read it with (folded).
fn heteronyms() -> &'static HashMap<char, Vec<String>> {
    static TABLE: OnceLock<HashMap<char, Vec<String>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        HETERONYMS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .skip(1)
            .filter_map(|l| {
                let mut cols = l.split('\t');
                let c = cols.next()?.chars().next()?;
                let readings = cols
                    .next()?
                    .split(',')
                    .map(|r| r.trim().chars().map(fold).collect())
                    .collect();
                Some((c, readings))
            })
            .collect()
    })
}

/// The toneless readings of a CJK character a keyword is read with, folded: its default
/// reading first, then the other readings the `pinyin` crate lists that are common
/// ([`heteronyms`]).
fn char_readings(c: char) -> Vec<String> {
    let common = heteronyms().get(&c);
    let mut out: Vec<String> = Vec::new();
    for (i, r) in c.to_pinyin_multi().into_iter().flatten().enumerate() {
        let r: String = r.plain().chars().map(fold).collect();
        let wanted = i == 0 || common.is_some_and(|rs| rs.contains(&r));
        if wanted && !r.is_empty() && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// One syllable of an initials form: its length in the view, and whether it is written as its
/// initial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Syllable {
    len: u8,
    initial: bool,
}

/// An initials form of a keyword: the view text it matches and its syllables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct InitialsForm {
    text: String,
    syllables: Vec<Syllable>,
}

/// What a keyword contributes to matching by pronunciation.
#[derive(Debug, Default)]
pub(crate) struct KeywordForms {
    /// Pinyin forms, the default readings first.
    pub(crate) pinyin: Vec<String>,
    /// Initials forms (empty unless asked for).
    pub(crate) initials: Vec<InitialsForm>,
    /// Whether [`MAX_READINGS`] or [`MAX_INITIALS_FORMS`] cut the forms.
    pub(crate) capped: bool,
}

/// Calls `f` with every choice of `d` of `0..n` (increasing, in lexicographic order) until it
/// returns false; returns false when `f` did.
fn choose(n: usize, d: usize, mut f: impl FnMut(&[usize]) -> bool) -> bool {
    if d > n {
        return true;
    }
    let mut pick: Vec<usize> = (0..d).collect();
    loop {
        if !f(&pick) {
            return false;
        }
        // The rightmost index that can still move right, moved, and the ones after it reset.
        let Some(k) = (0..d).rev().find(|&k| pick[k] < n - d + k) else {
            return true;
        };
        pick[k] += 1;
        for j in k + 1..d {
            pick[j] = pick[j - 1] + 1;
        }
    }
}

/// Combinations of readings, one index per position into its readings (0 the default): the
/// default readings first, then those with one character read another way, then two, …, at
/// most `limit`. True as well when there are more.
fn reading_combinations(sizes: &[usize], limit: usize) -> (Vec<Vec<usize>>, bool) {
    let varying: Vec<usize> = (0..sizes.len()).filter(|&i| sizes[i] > 1).collect();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for d in 0..=varying.len() {
        let more = choose(varying.len(), d, |pick| {
            // Every other reading at the picked positions, the last position turning fastest.
            let mut alt = vec![1usize; pick.len()];
            loop {
                if out.len() == limit {
                    return false;
                }
                let mut combo = vec![0; sizes.len()];
                for (&p, &a) in pick.iter().zip(&alt) {
                    combo[varying[p]] = a;
                }
                out.push(combo);
                let Some(k) = (0..pick.len())
                    .rev()
                    .find(|&k| alt[k] + 1 < sizes[varying[pick[k]]])
                else {
                    return true;
                };
                alt[k] += 1;
                for a in &mut alt[k + 1..] {
                    *a = 1;
                }
            }
        });
        if !more {
            let total = sizes
                .iter()
                .try_fold(1usize, |acc, &s| acc.checked_mul(s.max(1)));
            return (out, total.is_none_or(|t| t > limit));
        }
    }
    (out, false)
}

/// The pinyin forms of a normalized keyword and, with `initials`, its initials forms.
///
/// The positions of a pinyin form are those of [`pinyin_view`]: a CJK character with a reading
/// gives its readings, an ASCII letter or digit itself, anything else nothing. Combinations of
/// heteronym readings come in [`reading_combinations`]'s order. Initials forms: all initials
/// first, then one syllable as its initial, then two, …; within each, the default readings first.
pub(crate) fn keyword_forms(form: &str, initials: bool) -> KeywordForms {
    let mut positions: Vec<Vec<String>> = Vec::new();
    let mut all_readable_cjk = true;
    for c in form.chars() {
        let readings = if is_cjk(c) {
            char_readings(c)
        } else {
            Vec::new()
        };
        if !readings.is_empty() {
            positions.push(readings);
            continue;
        }
        all_readable_cjk = false;
        if c.is_ascii_alphanumeric() || c == 'ü' || c == 'Ü' {
            positions.push(vec![fold(c.to_lowercase().next().unwrap_or(c)).to_string()]);
        }
    }
    let mut out = KeywordForms::default();
    if positions.is_empty() {
        return out;
    }
    let sizes: Vec<usize> = positions.iter().map(Vec::len).collect();
    let (indexes, capped) = reading_combinations(&sizes, MAX_READINGS);
    out.capped = capped;
    let mut combos: Vec<Vec<&str>> = Vec::new();
    for index in indexes {
        let combo: Vec<&str> = positions
            .iter()
            .zip(&index)
            .map(|(p, &i)| p.get(i).map_or("", String::as_str))
            .collect();
        let text = combo.concat();
        if !out.pinyin.contains(&text) {
            out.pinyin.push(text);
            combos.push(combo);
        }
    }
    let n = positions.len();
    if !initials || !all_readable_cjk || n < 2 {
        return out;
    }
    let mut tiers = vec![n];
    tiers.extend(1..n);
    for d in tiers {
        for combo in &combos {
            let more = choose(n, d, |pick| {
                if out.initials.len() == MAX_INITIALS_FORMS {
                    return false;
                }
                let mut text = String::new();
                let mut syllables = Vec::with_capacity(n);
                for (i, reading) in combo.iter().enumerate() {
                    // A one-letter syllable (阿 `a`) is its own initial: written in full.
                    let initial = pick.contains(&i) && reading.len() > 1;
                    let written = if initial {
                        reading.get(..1).unwrap_or(reading)
                    } else {
                        reading
                    };
                    text.push_str(written);
                    syllables.push(Syllable {
                        len: u8::try_from(written.len()).unwrap_or(u8::MAX),
                        initial,
                    });
                }
                let f = InitialsForm { text, syllables };
                // Without an initial it is a pinyin form.
                if f.syllables.iter().any(|s| s.initial) && !out.initials.contains(&f) {
                    out.initials.push(f);
                }
                true
            });
            if !more {
                out.capped = true;
                return out;
            }
        }
    }
    out
}

/// The initials forms of a library, compiled.
pub(crate) struct InitialsMatcher {
    ac: CharwiseDoubleArrayAhoCorasick<u32>,
    /// Per distinct view text: its forms' syllables and the group each form is.
    patterns: Vec<Vec<(Box<[Syllable]>, usize)>>,
}

impl std::fmt::Debug for InitialsMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitialsMatcher")
            .field("patterns", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl InitialsMatcher {
    /// Compile `forms` (each with the keyword it belongs to). Keywords sharing a form (text and
    /// syllables) share a group; each group's form text and keywords are appended to `names` and
    /// `groups`, and a match reports its index there. `None` when there is nothing to match.
    pub(crate) fn new(
        forms: Vec<(InitialsForm, usize)>,
        names: &mut Vec<String>,
        groups: &mut Vec<Vec<usize>>,
    ) -> Option<InitialsMatcher> {
        let mut by_form: HashMap<InitialsForm, usize> = HashMap::new();
        let mut by_text: HashMap<String, usize> = HashMap::new();
        let mut texts: Vec<String> = Vec::new();
        let mut patterns: Vec<Vec<(Box<[Syllable]>, usize)>> = Vec::new();
        for (form, keyword) in forms {
            let group = match by_form.get(&form) {
                Some(&g) => g,
                None => {
                    names.push(form.text.clone());
                    groups.push(Vec::new());
                    let g = groups.len() - 1;
                    let p = *by_text.entry(form.text.clone()).or_insert_with(|| {
                        texts.push(form.text.clone());
                        patterns.push(Vec::new());
                        texts.len() - 1
                    });
                    if let Some(slot) = patterns.get_mut(p) {
                        slot.push((form.syllables.clone().into_boxed_slice(), g));
                    }
                    by_form.insert(form, g);
                    g
                }
            };
            if let Some(g) = groups.get_mut(group)
                && !g.contains(&keyword)
            {
                g.push(keyword);
            }
        }
        if texts.is_empty() {
            return None;
        }
        let ac = CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build_with_values(
                texts
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.as_str(), u32::try_from(i).unwrap_or(u32::MAX))),
            )
            .ok()?;
        Some(InitialsMatcher { ac, patterns })
    }

    /// The initials matches in a normalized text: byte range in `norm.text` and group. A match
    /// lying inside a longer one is dropped; matches of the same range (different keywords) stay.
    pub(crate) fn find(&self, norm: &Normalized) -> Vec<(usize, usize, usize)> {
        let (view, map) = pinyin_view(&norm.text);
        let mut found = Vec::new();
        for m in self.ac.find_overlapping_iter(&view) {
            let Some(forms) = self.patterns.get(m.value() as usize) else {
                continue;
            };
            for (syllables, group) in forms {
                let Some((s, e)) = place(syllables, m.start(), &map, &norm.text) else {
                    continue;
                };
                // A whole token: a Latin letter or digit on either side makes it part of a word.
                if latin_alnum(norm.char_before(s)) || latin_alnum(norm.char_at(e)) {
                    continue;
                }
                // In one piece: nothing the view drops (a space, punctuation the normalizer
                // kept) between its syllables (`里：hz` is not 李洪志).
                if !norm
                    .text
                    .get(s..e)
                    .is_some_and(|t| t.chars().all(read_aloud))
                {
                    continue;
                }
                found.push((s, e, *group));
            }
        }
        found.sort_unstable_by_key(|&(s, e, g)| (s, Reverse(e), g));
        found.dedup();
        let (mut reach, mut last) = (0, None);
        found.retain(|&(s, e, _)| {
            let keep = e > reach || last == Some((s, e));
            if e > reach {
                reach = e;
                last = Some((s, e));
            }
            keep
        });
        found
    }
}

/// Whether [`pinyin_view`] keeps something of `c`.
fn read_aloud(c: char) -> bool {
    if is_cjk(c) {
        char_pinyin(c).is_some()
    } else {
        c.is_ascii_alphanumeric() || c == 'ü' || c == 'Ü'
    }
}

fn latin_alnum(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Where a form whose view text starts at `vs` lies in the normalized text, when every syllable
/// is written as the form says: an initial as Latin letters; a full syllable as Latin letters or
/// as exactly one CJK character's reading.
fn place(
    syllables: &[Syllable],
    vs: usize,
    map: &[(usize, usize)],
    text: &str,
) -> Option<(usize, usize)> {
    let is_cjk_at = |r: (usize, usize)| {
        text.get(r.0..r.1)
            .and_then(|s| s.chars().next())
            .is_some_and(is_cjk)
    };
    let mut o = vs;
    for syl in syllables {
        let end = o + usize::from(syl.len);
        let first = *map.get(o)?;
        if is_cjk_at(first) {
            let whole = (o == 0 || map.get(o - 1) != Some(&first))
                && map.get(end - 1) == Some(&first)
                && map.get(end) != Some(&first);
            if syl.initial || !whole {
                return None;
            }
        } else if map.get(o..end)?.iter().any(|&r| is_cjk_at(r)) {
            return None;
        }
        o = end;
    }
    Some((map.get(vs)?.0, map.get(o.checked_sub(1)?)?.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn initials_texts(term: &str) -> Vec<String> {
        keyword_forms(term, true)
            .initials
            .into_iter()
            .map(|f| f.text)
            .collect()
    }

    #[test]
    fn the_heteronym_table_agrees_with_the_pinyin_crate() {
        for (c, readings) in heteronyms() {
            let listed: Vec<String> = c
                .to_pinyin_multi()
                .into_iter()
                .flatten()
                .map(|p| p.plain().chars().map(fold).collect())
                .collect();
            assert!(readings.len() >= 2, "{c}: {readings:?}");
            for r in readings {
                assert!(listed.contains(r), "{c}: `{r}` is not in {listed:?}");
            }
            let default: Option<String> = char_pinyin(*c).map(|p| p.chars().map(fold).collect());
            assert!(
                default.as_ref().is_some_and(|d| readings.contains(d)),
                "{c}: the default reading {default:?} is not in {readings:?}"
            );
        }
        assert!(heteronyms().len() >= 80, "{}", heteronyms().len());
        // Rare readings the crate lists stay out: 是 ti, 共 hong.
        assert_eq!(char_readings('是'), ["shi"]);
        assert_eq!(char_readings('共'), ["gong"]);
    }

    #[test]
    fn heteronyms_give_every_reading_on_the_keyword_side() {
        let forms = keyword_forms("银行", false);
        assert_eq!(forms.pinyin.first().map(String::as_str), Some("yinxing"));
        assert!(forms.pinyin.contains(&"yinhang".to_owned()), "{forms:?}");
        let forms = keyword_forms("重来", false);
        assert!(forms.pinyin.contains(&"zhonglai".to_owned()), "{forms:?}");
        assert!(forms.pinyin.contains(&"chonglai".to_owned()), "{forms:?}");
        let forms = keyword_forms("音乐", false);
        assert!(forms.pinyin.contains(&"yinyue".to_owned()), "{forms:?}");
        assert!(forms.pinyin.contains(&"yinle".to_owned()), "{forms:?}");
        assert!(!forms.capped);
        // The text side keeps one reading.
        assert_eq!(pinyin_view("银行").0, "yinxing");
    }

    #[test]
    fn many_heteronyms_hit_the_cap() {
        // 还 (hai, huan, fu), 行 (xing, hang, …), 重, 乐, 长: more than 16 combinations.
        let forms = keyword_forms("还行重乐长", false);
        assert!(forms.capped);
        assert_eq!(forms.pinyin.len(), MAX_READINGS);
        assert_eq!(
            forms.pinyin.first().map(String::as_str),
            Some(pinyin_view("还行重乐长").0.as_str()),
            "the default readings come first"
        );
    }

    #[test]
    fn initials_forms_mix_letters_and_syllables() {
        assert_eq!(initials_texts("赌博"), ["db", "dbo", "dub"]);
        // zh/ch/sh are abbreviated to one letter.
        assert!(initials_texts("中国").contains(&"zg".to_owned()));
        assert!(!initials_texts("中国").contains(&"zhg".to_owned()));
        // 阿 reads `a`, its own initial: one form per spelling.
        assert_eq!(initials_texts("阿三"), ["as"]);
        // One character, or anything but readable CJK: no initials.
        assert!(initials_texts("赌").is_empty());
        assert!(initials_texts("k粉").is_empty());
        assert!(keyword_forms("赌博", false).initials.is_empty());
        // Long terms stop at the cap, all initials first.
        let long = keyword_forms("一二三四五六七八", true);
        assert!(long.capped);
        assert_eq!(long.initials.len(), MAX_INITIALS_FORMS);
        assert_eq!(
            long.initials.first().map(|f| f.text.as_str()),
            Some("yesswlqb")
        );
    }

    fn matcher(
        tsv: &str,
    ) -> (
        crate::keywords::KeywordMatcher,
        crate::normalize::Normalizer,
    ) {
        let catalog = anquan_catalog::Catalog::load(None).unwrap();
        let n = crate::normalize::Normalizer::full(catalog.radical_folder());
        let (lib, problems) = crate::keywords::Library::parse(tsv);
        assert!(problems.is_empty(), "{problems:?}");
        (crate::keywords::KeywordMatcher::new(lib, &[], &n), n)
    }

    fn found(
        m: &crate::keywords::KeywordMatcher,
        n: &crate::normalize::Normalizer,
        text: &str,
    ) -> Vec<(String, Vec<usize>)> {
        m.find(text, &n.normalize(text))
            .into_iter()
            .map(|f| (f.matched, f.keywords))
            .collect()
    }

    const HEAD: &str = "keyword\trisk_ids\tseverity\tsource\tmode\n";

    #[test]
    fn initials_mode_matches_initials_alone_or_mixed() {
        let (m, n) = matcher(&format!(
            "{HEAD}赌博\tA.1.h\thigh\tt\tinitials\n大便\tA.1.f\tlow\tt\tinitials\n冰毒\tA.1.h\thigh\tt\tpinyin\n"
        ));
        let texts = |text: &str| -> Vec<String> {
            found(&m, &n, text).into_iter().map(|(t, _)| t).collect()
        };
        assert_eq!(
            texts("想去DB一下，d博也行，赌b也行，dub也行"),
            ["DB", "d博", "赌b", "dub"]
        );
        assert_eq!(texts("dubo 和 赌博"), ["dubo", "赌博"]);
        // Whole tokens only; pinyin mode alone has no initials (`bd`).
        assert!(
            texts("xdby db2 bd 2db").is_empty(),
            "{:?}",
            texts("xdby db2 bd 2db")
        );
        assert_eq!(texts("the db server"), ["db"]);
        // The normalizer drops a separator between a single letter and a character.
        assert_eq!(texts("d 博"), ["d 博"]);
        // One span, two keywords: `db` is 赌博 and 大便.
        let db = found(&m, &n, "是db吗");
        let mut keywords: Vec<usize> = db.iter().flat_map(|(_, k)| k.clone()).collect();
        keywords.sort_unstable();
        assert_eq!(keywords, [0, 1], "{db:?}");
    }

    #[test]
    fn an_initials_form_is_in_one_piece() {
        let (m, n) = matcher(&format!(
            "{HEAD}李洪志\tA.1.a\thigh\tt\tinitials\n回子\tA.2.a\tlow\tt\tinitials\n"
        ));
        // The view drops `：`, which the normalizer keeps before a word: 里 + hz is not 李洪志.
        let found = found(&m, &n, "这里：hz，李hz");
        assert_eq!(
            found,
            [("hz".to_owned(), vec![1]), ("李hz".to_owned(), vec![0])]
        );
    }

    #[test]
    fn an_initial_is_a_latin_letter_not_a_character() {
        let (m, n) = matcher(&format!("{HEAD}爱国\tA.1.a\tlow\tt\tinitials\n"));
        let texts = |text: &str| -> Vec<String> {
            found(&m, &n, text).into_iter().map(|(t, _)| t).collect()
        };
        assert_eq!(texts("a国，ag，爱g"), ["a国", "ag", "爱g"]);
        // 阿 reads `a`, but a character is never an initial.
        assert!(texts("阿国").is_empty());
    }

    #[test]
    fn initials_mode_round_trips_through_the_library_formats() {
        let (lib, problems) =
            crate::keywords::Library::parse(&format!("{HEAD}赌博\tA.1.h\thigh\tt\tinitials\n"));
        assert!(problems.is_empty());
        assert!(lib.keywords[0].initials);
        assert_eq!(lib.keywords[0].mode, crate::keywords::MatchMode::Pinyin);
        assert!(lib.to_tsv().contains("\tinitials\n"));
        let (lib, problems) = crate::keywords::Library::parse(
            r#"{"keyword": "赌博", "risk_ids": ["A.1.h"], "severity": "high", "mode": "initials"}"#,
        );
        assert!(problems.is_empty() && lib.keywords[0].initials);
        let (_, problems) =
            crate::keywords::Library::parse(&format!("{HEAD}赌博\tA.1.h\thigh\tt\tinitial\n"));
        assert!(problems[0].message.contains("initials"), "{problems:?}");
    }

    #[test]
    fn heteronyms_match_in_every_reading_of_the_keyword() {
        let (m, n) = matcher(&format!(
            "{HEAD}银行\tA.1.h\tlow\tt\tpinyin\n重庆\tA.1.h\tlow\tt\tpinyin\n音乐\tA.1.h\tlow\tt\tpinyin\n"
        ));
        for text in [
            "yinhang",
            "yinxing",
            "银航",
            "chongqing",
            "zhongqing",
            "yinyue",
            "yinle",
        ] {
            assert_eq!(found(&m, &n, text).len(), 1, "{text}");
        }
        assert!(m.capped().is_empty());
        let (m, _) = matcher(&format!("{HEAD}还行重乐长\tA.1.h\tlow\tt\tpinyin\n"));
        assert_eq!(m.capped(), [0]);
    }
}
