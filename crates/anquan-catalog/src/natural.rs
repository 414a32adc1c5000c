//! Natural ordering of ids: digit runs compare as numbers, so `fw2.6.1.9` < `fw2.6.1.10`.

use std::cmp::Ordering;

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Seg<'a> {
    Num(u64, usize),
    Text(&'a str),
}

fn segments(s: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let digit = bytes[i].is_ascii_digit();
        while i < bytes.len() && bytes[i].is_ascii_digit() == digit {
            i += 1;
        }
        let part = &s[start..i];
        if digit {
            // Leading zeros break ties so that `01` and `1` stay distinct and ordered.
            out.push(Seg::Num(part.parse().unwrap_or(u64::MAX), part.len()));
        } else {
            out.push(Seg::Text(part));
        }
    }
    out
}

/// Compare two ids in natural order. A prefix sorts before the longer id.
pub fn cmp(a: &str, b: &str) -> Ordering {
    segments(a).cmp(&segments(b))
}

#[cfg(test)]
mod tests {
    use super::cmp;
    use std::cmp::Ordering;

    #[test]
    fn numbers_compare_numerically() {
        assert_eq!(cmp("fw2.6.1.9", "fw2.6.1.10"), Ordering::Less);
        assert_eq!(cmp("fw2.3.1", "fw2.3.1.1"), Ordering::Less);
        assert_eq!(cmp("A.1.b", "A.1.a"), Ordering::Greater);
        assert_eq!(cmp("A.2", "A.10"), Ordering::Less);
        assert_eq!(cmp("ss.B", "ss.BA"), Ordering::Less);
        let mut ids = vec!["x.10", "x.2", "x.1.a", "x.1"];
        ids.sort_by(|a, b| cmp(a, b));
        assert_eq!(ids, ["x.1", "x.1.a", "x.2", "x.10"]);
    }
}
