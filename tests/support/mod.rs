//! Shared test support: fresh databases, the independent KPI and engagement oracles, random histories, a TCP
//! relay a test can cut. (The fake Discord is the `fake-discord` crate.)
//! Each integration test binary uses a part of it, hence the dead-code allowances.

#[allow(dead_code)]
pub mod db;
#[allow(dead_code)]
pub mod engagement_oracle;
#[allow(dead_code)]
pub mod json;
#[allow(dead_code)]
pub mod oracle;
#[allow(dead_code)]
pub mod scenario;
#[allow(dead_code)]
pub mod tcp_proxy;
