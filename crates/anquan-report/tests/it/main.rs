//! Report tests: a fixture report with every kind of row (pass / fail / inconclusive clauses, a
//! hostile prompt, unicode, empty sections) rendered in every format and language.

mod fixture;
mod html;
mod i18n;
mod json;
mod markdown;
