//! Satisfaction surveys: timers kept in the database (so a restart between an answer and its
//! survey still sends it), buttons with a versioned `custom_id` handled in the global event
//! handler (so a click works after a restart and hours later), a comment form, and the record
//! of each survey's delivery (the follow-up of its outbox item).

mod answers;
mod sending;

pub use answers::{on_comment_button, on_modal, on_rate};
pub use sending::{close_expired, delivered, send_due};
