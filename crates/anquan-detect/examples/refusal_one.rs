//! Classify one answer given as the first argument (development aid).
fn main() {
    let text = std::env::args().nth(1).unwrap_or_default();
    let r = anquan_detect::refusal::RefusalDetector::builtin().classify(&text);
    println!("{:?} {:.2} {:?}", r.label, r.confidence, r.evidence);
}
