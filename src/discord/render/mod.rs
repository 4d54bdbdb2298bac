//! What reactif's messages look like: the report as an embed, and the survey message with its
//! buttons and later edits. Pure builders: nothing here sends.

pub mod engagement;
pub mod report;
pub mod survey;
