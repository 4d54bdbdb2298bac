//! Each guild's rules (KPI.md's settings): what every figure is computed under.

use super::Result;
use crate::domain::GuildRules;
use async_trait::async_trait;
use std::collections::HashMap;

#[async_trait]
pub trait RulesStore: Send + Sync {
    /// The guild's rules, KPI.md's defaults where it has set none.
    async fn guild_rules(&self, guild_id: &str) -> Result<GuildRules>;

    /// The rules of every guild that has set any.
    async fn all_guild_rules(&self) -> Result<HashMap<String, GuildRules>>;

    /// Saves the guild's rules. When the change alters what the rollups derived (see
    /// `domain::rollup::rules_affect_rollups`), the guild's rollups are dropped and every one
    /// of its places marked dirty, in the same transaction.
    async fn save_guild_rules(&self, guild_id: &str, rules: &GuildRules) -> Result<()>;
}
