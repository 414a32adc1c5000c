//! Personal-information detectors with validation, not bare patterns.
//!
//! Candidates are found with ASCII patterns on lightly normalized text (NFKC, so full-width digits
//! count; invisible characters removed), then validated: resident IDs by region, birth date and
//! the ISO 7064 MOD 11-2 check digit; bank cards by issuer prefix and Luhn; unified social credit
//! codes by their check character; IPv4 octets and IPv6 by parsing. Boundaries are checked by
//! hand, not with `\b`, so a number glued to Chinese text is found and one glued to more digits is
//! not.

use anquan_core::Span;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::normalize::Normalized;

/// Kinds of personal information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PiiKind {
    /// 18-digit resident identity card number.
    ResidentId,
    /// Bank card number.
    BankCard,
    /// Unified social credit code (organisations).
    Uscc,
    /// Mainland mobile number.
    Mobile,
    /// Landline number with area code.
    Landline,
    /// Passport number.
    Passport,
    /// E-mail address.
    Email,
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
    /// Vehicle licence plate.
    LicencePlate,
}

impl PiiKind {
    /// Every kind, in matching priority (earlier wins on overlap).
    pub const ALL: &'static [PiiKind] = &[
        PiiKind::Email,
        PiiKind::ResidentId,
        PiiKind::Uscc,
        PiiKind::BankCard,
        PiiKind::Mobile,
        PiiKind::Landline,
        PiiKind::Passport,
        PiiKind::Ipv6,
        PiiKind::Ipv4,
        PiiKind::LicencePlate,
    ];

    /// Stable detector id.
    pub fn id(self) -> &'static str {
        match self {
            PiiKind::ResidentId => "pii_resident_id",
            PiiKind::BankCard => "pii_bank_card",
            PiiKind::Uscc => "pii_uscc",
            PiiKind::Mobile => "pii_mobile",
            PiiKind::Landline => "pii_landline",
            PiiKind::Passport => "pii_passport",
            PiiKind::Email => "pii_email",
            PiiKind::Ipv4 => "pii_ipv4",
            PiiKind::Ipv6 => "pii_ipv6",
            PiiKind::LicencePlate => "pii_licence_plate",
        }
    }

    /// Typed placeholder name, e.g. `RESIDENT_ID`.
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::ResidentId => "RESIDENT_ID",
            PiiKind::BankCard => "BANK_CARD",
            PiiKind::Uscc => "USCC",
            PiiKind::Mobile => "MOBILE",
            PiiKind::Landline => "LANDLINE",
            PiiKind::Passport => "PASSPORT",
            PiiKind::Email => "EMAIL",
            PiiKind::Ipv4 => "IPV4",
            PiiKind::Ipv6 => "IPV6",
            PiiKind::LicencePlate => "LICENCE_PLATE",
        }
    }

    /// Characters kept at the start and end when masking.
    fn keep(self) -> (usize, usize) {
        match self {
            PiiKind::ResidentId => (6, 4),
            PiiKind::BankCard => (6, 4),
            PiiKind::Uscc => (2, 4),
            PiiKind::Mobile => (3, 4),
            PiiKind::Landline => (4, 2),
            PiiKind::Passport => (1, 2),
            PiiKind::Email => (1, 0),
            PiiKind::Ipv4 | PiiKind::Ipv6 => (0, 0),
            PiiKind::LicencePlate => (2, 0),
        }
    }
}

/// A validated piece of personal information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PiiMatch {
    /// Kind.
    pub kind: PiiKind,
    /// Span in the original text.
    pub span: Span,
    /// The original text of the span.
    pub matched: String,
    /// The value with separators removed and digits folded to ASCII.
    pub value: String,
}

impl PiiMatch {
    /// The value masked with `*`, keeping the kind's usual prefix and suffix
    /// (`110105********123X`, `138****5678`, `a***@example.com`).
    pub fn masked(&self) -> String {
        mask(self.kind, &self.value, '*')
    }
}

/// Mask `value` of `kind` with `fill`.
pub fn mask(kind: PiiKind, value: &str, fill: char) -> String {
    if kind == PiiKind::Email
        && let Some((local, domain)) = value.split_once('@')
    {
        let first: String = local.chars().take(1).collect();
        return format!("{first}{}@{domain}", fill.to_string().repeat(3));
    }
    let chars: Vec<char> = value.chars().collect();
    let (keep_start, keep_end) = kind.keep();
    if chars.len() <= keep_start + keep_end {
        return fill.to_string().repeat(chars.len());
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_start || i >= chars.len() - keep_end {
                *c
            } else {
                fill
            }
        })
        .collect()
}

const PROVINCES: &[u32] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91,
];

/// Validate an 18-character resident ID: province prefix, birth date, MOD 11-2 check digit.
pub fn valid_resident_id(id: &str) -> bool {
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| id[r].parse::<u32>().unwrap_or(0);
    if !PROVINCES.contains(&num(0..2)) {
        return false;
    }
    let (y, m, d) = (num(6..10), num(10..12), num(12..14));
    if !(1900..=2099).contains(&y) || !valid_date(y, m, d) {
        return false;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == check
}

fn valid_date(y: u32, m: u32, d: u32) -> bool {
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Luhn check of a digit string.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        if !c.is_ascii_digit() {
            return false;
        }
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum % 10 == 0
}

fn valid_bank_card(digits: &str) -> bool {
    let len = digits.len();
    let issuer = digits.starts_with("62")
        || (digits.starts_with('4') && matches!(len, 16 | 19))
        || (matches!(&digits[..2.min(len)], "51" | "52" | "53" | "54" | "55") && len == 16)
        || (digits
            .get(..4)
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|p| (2221..=2720).contains(&p))
            && len == 16)
        || ((digits.starts_with("34") || digits.starts_with("37")) && len == 15)
        || (digits.starts_with("35") && len == 16);
    (15..=19).contains(&len) && issuer && luhn(digits)
}

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Validate an 18-character unified social credit code (GB 32100) by its check character.
pub fn valid_uscc(code: &str) -> bool {
    let code = code.to_ascii_uppercase();
    if code.len() != 18 {
        return false;
    }
    let vals: Option<Vec<usize>> = code.chars().map(|c| USCC_CHARS.find(c)).collect();
    let Some(vals) = vals else { return false };
    if !"123456789ABCDEFGY".contains(&code[..1]) || !code[2..8].bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: usize = vals[..17].iter().zip(W).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    vals[17] == check
}

/// The compiled PII detectors.
#[derive(Debug)]
pub struct PiiDetector {
    patterns: Vec<(PiiKind, Regex)>,
}

impl Default for PiiDetector {
    fn default() -> Self {
        PiiDetector::new()
    }
}

fn re(p: &str) -> Regex {
    Regex::new(p).unwrap_or_else(|e| unreachable!("built-in PII pattern `{p}` is invalid: {e}"))
}

impl PiiDetector {
    /// Compile the built-in detectors.
    pub fn new() -> Self {
        let patterns = vec![
            (
                PiiKind::Email,
                re(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}"),
            ),
            (PiiKind::ResidentId, re(r"[1-9][0-9]{16}[0-9Xx]")),
            (
                PiiKind::Uscc,
                re(r"[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}"),
            ),
            (
                PiiKind::BankCard,
                re(r"[0-9]{4}(?:[ \-]?[0-9]{4}){2}[ \-]?[0-9]{3,7}"),
            ),
            (
                PiiKind::Mobile,
                re(r"(?:\+?86[ \-]?)?1[3-9][0-9](?:[ \-]?[0-9]{4}){2}"),
            ),
            (
                PiiKind::Landline,
                re(r"(?:\(0[0-9]{2,3}\)|0[0-9]{2,3}-)[0-9]{7,8}"),
            ),
            (
                PiiKind::Passport,
                re(r"(?:[EeGgDdSsPp][0-9]{8}|[Ee][A-HJ-NP-Za-hj-np-z][0-9]{7})"),
            ),
            (
                PiiKind::Ipv6,
                re(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"),
            ),
            (PiiKind::Ipv4, re(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")),
            (
                PiiKind::LicencePlate,
                re(
                    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}",
                ),
            ),
        ];
        PiiDetector { patterns }
    }

    /// Find validated PII in `original`, whose light normalization is `norm`.
    pub fn find(&self, original: &str, norm: &Normalized) -> Vec<PiiMatch> {
        let text = norm.text.as_str();
        let islands = islands(text);
        let counts: Vec<Counts> = islands
            .iter()
            .map(|(a, b)| Counts::of(&text[*a..*b]))
            .collect();
        // Claimed spans, start → end; an earlier (higher-priority) kind wins an overlap.
        let mut taken: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
        let mut out = Vec::new();
        for (kind, regex) in &self.patterns {
            for ((a, b), counts) in islands.iter().zip(&counts) {
                if !counts.may_match(*kind) {
                    continue;
                }
                for m in regex.find_iter(&text[*a..*b]) {
                    let (s, e) = (a + m.start(), a + m.end());
                    let overlaps = taken
                        .range(..e)
                        .next_back()
                        .is_some_and(|(_, end)| *end > s);
                    if !boundary_ok(*kind, text, s, e) || overlaps {
                        continue;
                    }
                    let raw = m.as_str();
                    let value: String = match kind {
                        PiiKind::Email | PiiKind::Ipv6 | PiiKind::Ipv4 | PiiKind::LicencePlate => {
                            raw.to_owned()
                        }
                        _ => raw.chars().filter(|c| c.is_ascii_alphanumeric()).collect(),
                    };
                    let valid = match kind {
                        PiiKind::ResidentId => valid_resident_id(&value),
                        PiiKind::Uscc => {
                            valid_uscc(&value) && !value.bytes().all(|b| b.is_ascii_digit())
                        }
                        PiiKind::BankCard => valid_bank_card(&value),
                        PiiKind::Mobile => true,
                        PiiKind::Landline => true,
                        PiiKind::Passport => true,
                        PiiKind::Email => true,
                        PiiKind::Ipv4 => raw
                            .split('.')
                            .all(|o| o.parse::<u8>().is_ok() && (o == "0" || !o.starts_with('0'))),
                        PiiKind::Ipv6 => {
                            raw.matches(':').count() >= 2
                                && raw.parse::<std::net::Ipv6Addr>().is_ok()
                                && raw.chars().any(|c| c.is_ascii_alphanumeric())
                        }
                        PiiKind::LicencePlate => true,
                    };
                    if !valid {
                        continue;
                    }
                    let Some((os, oe)) = norm.original_span(s, e) else {
                        continue;
                    };
                    taken.insert(s, e);
                    // A mobile number's value is its last 11 digits (any +86 prefix dropped).
                    let value = if *kind == PiiKind::Mobile && value.len() > 11 {
                        value[value.len() - 11..].to_owned()
                    } else {
                        value
                    };
                    out.push(PiiMatch {
                        kind: *kind,
                        span: Span::new(os, oe),
                        matched: original[os..oe].to_owned(),
                        value,
                    });
                }
            }
        }
        out.sort_by_key(|m| (m.span.start, m.span.end));
        out
    }
}

/// What a pattern needs at least, counted once per island so that patterns which cannot match
/// there are not run: a necessary condition of each pattern of [`PiiDetector::new`].
#[derive(Debug, Clone, Copy)]
struct Counts {
    len: usize,
    digits: usize,
    at: bool,
    colons: usize,
    dots: usize,
    non_ascii: bool,
}

impl Counts {
    fn of(piece: &str) -> Counts {
        let mut c = Counts {
            len: piece.len(),
            digits: 0,
            at: false,
            colons: 0,
            dots: 0,
            non_ascii: false,
        };
        for b in piece.bytes() {
            match b {
                b'0'..=b'9' => c.digits += 1,
                b'@' => c.at = true,
                b':' => c.colons += 1,
                b'.' => c.dots += 1,
                0x80.. => c.non_ascii = true,
                _ => {}
            }
        }
        c
    }

    /// False when the pattern of `kind` cannot match: too few digits (18-character IDs hold 17
    /// digits, bank cards 15, mobiles 11, landlines 10, passports 7, USCCs 6, IPv4 4 with 3
    /// dots), no `@` for e-mail, fewer than two `:` for IPv6, no province character (and fewer
    /// than its 9 bytes) for a licence plate.
    fn may_match(&self, kind: PiiKind) -> bool {
        match kind {
            PiiKind::Email => self.at,
            PiiKind::ResidentId => self.digits >= 17,
            PiiKind::Uscc => self.digits >= 6 && self.len >= 18,
            PiiKind::BankCard => self.digits >= 15,
            PiiKind::Mobile => self.digits >= 11,
            PiiKind::Landline => self.digits >= 10,
            PiiKind::Passport => self.digits >= 7,
            PiiKind::Ipv6 => self.colons >= 2,
            PiiKind::Ipv4 => self.digits >= 4 && self.dots >= 3,
            PiiKind::LicencePlate => self.non_ascii && self.len >= 9,
        }
    }
}

/// The parts of `text` where PII can be: maximal runs of ASCII characters that hold a digit, `@`
/// or `:`, each with the one character before it (a licence plate's province character). Every
/// pattern needs ASCII digits or punctuation, so Chinese prose between them is never scanned.
fn islands(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii() {
            i += 1;
            continue;
        }
        let start = i;
        let mut useful = false;
        while i < bytes.len() && bytes[i].is_ascii() {
            useful |= bytes[i].is_ascii_digit() || bytes[i] == b'@' || bytes[i] == b':';
            i += 1;
        }
        if useful {
            let before = text[..start]
                .char_indices()
                .next_back()
                .map_or(start, |(p, _)| p);
            out.push((before, i));
        }
    }
    out
}

/// What may not touch a match: more digits for numbers, any ASCII letter or digit for codes
/// (Chinese text may always touch).
fn boundary_ok(kind: PiiKind, text: &str, s: usize, e: usize) -> bool {
    let before = text[..s].chars().next_back();
    let after = text[e..].chars().next();
    let glued = |c: Option<char>| match kind {
        PiiKind::Email => c.is_some_and(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '@')
        }),
        PiiKind::Ipv4 => c.is_some_and(|c| c.is_ascii_digit() || c == '.'),
        PiiKind::Ipv6 => c.is_some_and(|c| c.is_ascii_hexdigit() || c == ':'),
        // Numbers may touch letters (`tel13812345678`, `card4111…ok`) but not more digits.
        PiiKind::Mobile | PiiKind::Landline | PiiKind::BankCard => {
            c.is_some_and(|c| c.is_ascii_digit())
        }
        PiiKind::ResidentId => c.is_some_and(|c| c.is_ascii_digit() || c == 'X' || c == 'x'),
        _ => c.is_some_and(|c| c.is_ascii_alphanumeric()),
    };
    let after_ok = match kind {
        // A sentence may end right after an address.
        PiiKind::Email | PiiKind::Ipv4 => {
            !glued(after)
                || after == Some('.')
                    && text[e + 1..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_ascii_alphanumeric())
        }
        _ => !glued(after),
    };
    !glued(before) && after_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_id_checksum_and_date() {
        assert!(valid_resident_id("11010519491231002X"));
        assert!(!valid_resident_id("110105194912310021"), "bad check digit");
        assert!(!valid_resident_id("110105194902300028"), "30 February");
        assert!(!valid_resident_id("990105194912310023"), "no such province");
    }

    #[test]
    fn luhn_and_uscc() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
        assert!(valid_uscc("91350100M000100Y43"));
        assert!(!valid_uscc("91350100M000100Y44"));
    }

    #[test]
    fn masks() {
        assert_eq!(
            mask(PiiKind::ResidentId, "11010519491231002X", '*'),
            "110105********002X"
        );
        assert_eq!(mask(PiiKind::Mobile, "13812345678", '*'), "138****5678");
        assert_eq!(
            mask(PiiKind::Email, "alice@example.com", '*'),
            "a***@example.com"
        );
    }
}
