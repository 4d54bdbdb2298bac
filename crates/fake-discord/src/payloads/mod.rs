//! Builders of the payloads the fake sends (gateway `d`s) and answers (REST bodies), in the
//! shapes serenity 0.12.5 parses. Each returns plain JSON: mutate it for the odd field a test
//! needs (`msg["attachments"] = ...`).
//!
//! A new gateway event needs a builder here (in the module of what it is about) and, when REST
//! must see its effect afterwards, a line in `World::learn_dispatch`.

pub(crate) mod app;
pub mod guild;
pub mod interaction;
pub mod message;
pub mod reaction;
