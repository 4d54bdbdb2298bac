//! The real bot (the code `reactif run` runs) against a fake Discord on 127.0.0.1 (the
//! `fake-discord` crate), with a fresh database and a fresh fake per test; one module per
//! feature, the harness in `harness.rs`, the people's steps in `steps.rs`.
//!
//! Handlers run concurrently, so every test waits for conditions with timeouts, never for an
//! order. A check that nothing (more) happened first waits for something the bot records when
//! it is done: its progress in a channel, an empty outbox, the pages a catch-up read, or its
//! clean exit; never for a fixed time.

#[path = "../support/mod.rs"]
mod support;

mod harness;
mod steps;

mod catch_up;
mod commands;
mod dashboard;
mod dashboard_access;
mod dashboard_pages;
mod engagement;
mod limits;
mod outbox;
mod privacy;
mod relay;
mod resilience;
mod service_levels;
mod serving;
mod shard_start;
mod sharding;
mod surveys;
mod watch;
