//! Risk grading of AI applications (Framework 2.0 annex 1) and, later, assessments.
//!
//! The main design decision: **the rubric is data.** No national formula for grading AI
//! applications is published yet, so the questions, scores, weights, cut points, floors, lanes and
//! controls live in the catalog (`grading/rubric.toml`), and this crate only applies them. A user
//! who disagrees with a weight edits the data, not the code, and every [`Grade`] says which rubric
//! version produced it and that it is not a regulator's grade.

mod answers;
mod error;
mod grade;

pub use answers::{Answers, AnswersFormat};
pub use error::{GradeError, Result};
pub use grade::{
    ClauseRef, ControlRef, Driver, FactorScore, FloorApplied, GRADE_SCHEMA, Grade, grade,
};
