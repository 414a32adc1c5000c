//! Print refusals the detector misses on a JSON list of (answer, label) pairs (development aid).
fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/xs.json".into());
    let d = anquan_detect::refusal::RefusalDetector::builtin();
    let rows: Vec<(String, String)> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut n = 0;
    for (text, label) in rows {
        let truth = label.starts_with('2') || label.starts_with('3');
        let r = d.classify(&text);
        let pred = matches!(
            r.label,
            anquan_detect::refusal::RefusalLabel::Refused
                | anquan_detect::refusal::RefusalLabel::Partial
        );
        if truth && !pred && n < 25 {
            n += 1;
            let head: String = text.chars().take(220).collect();
            println!(
                "[{label}] {:?} ev={:?}\n  {head}\n",
                r.label,
                r.evidence
                    .iter()
                    .map(|e| (&e.0, &e.1, e.2))
                    .collect::<Vec<_>>()
            );
        }
    }
}
