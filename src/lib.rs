//! reactif: a Discord bot for support teams that measures how many messages come in, how many get
//! an answer, how fast, and how satisfied customers are. See README.md and docs/kpi.md.

pub mod cli;
pub mod clock;
pub mod demo;
pub mod desk;
pub mod discord;
pub mod domain;
pub mod i18n;
pub mod observe;
pub mod report;
pub mod settings;
pub mod store;
pub mod web;
