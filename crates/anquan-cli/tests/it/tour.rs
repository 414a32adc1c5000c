//! `anquan tour`: the README's main job.

use crate::{json, ok};

#[test]
fn tour_in_both_languages() {
    insta::assert_snapshot!("tour_zh", ok(&["tour", "--today", "2026-12-01"]));
    insta::assert_snapshot!(
        "tour_en",
        ok(&["tour", "--lang", "en", "--today", "2026-12-01"])
    );
}

#[test]
fn tour_json() {
    let v = json(&["tour", "--today", "2026-12-01"]);
    assert_eq!(v["schema"], "anquan.tour.v1");
    assert_eq!(v["risks"]["gbt45654"], 31);
    assert_eq!(v["grades"].as_array().unwrap().len(), 6);
}

#[test]
fn lang_from_the_environment() {
    let out = crate::anquan()
        .env("ANQUAN_LANG", "en")
        .arg("tour")
        .output()
        .unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("anquan tour:")
    );
}
