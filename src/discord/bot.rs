//! `Bot`: what every handler shares. Its state is in small owned pieces (`state`, `holes`, the
//! outbox), each with its own methods; the lookups every feature needs (rules, setup, texts)
//! are here.

use super::holes::Holes;
use super::outbox::Outbox;
use super::state::{
    GuildChannels, HeavyReports, Intake, KnownChannels, Lifecycle, LiveReactions,
    LostStaffChannels, PlaceLocks, RateLimits, ReactionIds, StoreWaits,
};
use crate::clock::Clock;
use crate::desk::Desk;
use crate::domain::shards::Shards;
use crate::domain::{GuildRules, Millis};
use crate::i18n::{self, Texts};
use crate::store::{DiscordSetup, StoreError};
use poise::serenity_prelude as serenity;
use std::sync::Arc;

pub type Error = anyhow::Error;
pub type Context<'a> = poise::Context<'a, Arc<Bot>, Error>;

pub struct Bot {
    pub desk: Desk,
    pub clock: Arc<dyn Clock>,
    pub bot_user_id: serenity::UserId,
    pub outbox: Arc<Outbox>,
    pub places: PlaceLocks,
    pub lifecycle: Lifecycle,
    pub intake: Intake,
    pub holes: Holes,
    pub known: KnownChannels,
    pub store_waits: StoreWaits,
    pub lost_staff: LostStaffChannels,
    /// Per-person limits on commands.
    pub limits: RateLimits,
    /// Exports and channel reports: one at a time per guild.
    pub heavy: HeavyReports,
    /// `DASHBOARD_URL`, for `/dashboard`'s links.
    pub dashboard_url: Option<String>,
    /// The shards this process connects: it does the timed work (surveys, service levels,
    /// alerts, catch-up) of their guilds only (`domain::shards`).
    pub shards: Shards,
    /// Ids of the reaction events the bot records (Discord gives reactions none).
    pub reaction_ids: ReactionIds,
    /// The posts whose live reaction events are not stored yet: a catch-up leaves them alone.
    pub live_reactions: LiveReactions,
}

impl Bot {
    pub fn new(
        desk: Desk,
        clock: Arc<dyn Clock>,
        me: serenity::UserId,
        outbox: Arc<Outbox>,
    ) -> Bot {
        Bot {
            desk,
            clock,
            bot_user_id: me,
            outbox,
            places: PlaceLocks::default(),
            lifecycle: Lifecycle::default(),
            intake: Intake::default(),
            holes: Holes::default(),
            known: KnownChannels::default(),
            store_waits: StoreWaits::default(),
            lost_staff: LostStaffChannels::default(),
            limits: RateLimits::default(),
            heavy: HeavyReports::default(),
            dashboard_url: None,
            shards: Shards::ALL,
            reaction_ids: ReactionIds::default(),
            live_reactions: LiveReactions::default(),
        }
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn stopping(&self) -> bool {
        self.lifecycle.stopping()
    }

    /// Stops taking events and waits (up to `grace`) for the ones being handled; then moves
    /// the cursors of channels with unhandled messages back before them, so that the next
    /// start's catch-up reads them.
    pub async fn drain(&self, grace: std::time::Duration) {
        if !self.lifecycle.stop_and_wait(grace).await {
            tracing::warn!("events still being handled at shutdown; the catch-up will finish them");
        }
        for (channel, hole) in self.holes.all() {
            self.remember_before(&channel, hole.guild.as_deref(), hole.first)
                .await;
        }
    }

    /// Moves the channel's cursor back before `message` (best effort: the database may be the
    /// reason it was not handled), so that a catch-up, even after a restart, reads it.
    pub async fn remember_before(&self, channel: &str, guild: Option<&str>, message: u64) {
        let before = i64::try_from(message.saturating_sub(1)).unwrap_or(i64::MAX);
        if let Err(e) = self
            .desk
            .store()
            .rewind_cursor(channel, guild, before, self.now())
            .await
        {
            tracing::warn!(channel, error = %e, "cannot record where to read the channel again from");
        }
    }

    pub async fn rules(&self, guild_id: &str) -> anyhow::Result<GuildRules> {
        Ok(self.desk.store().guild_rules(guild_id).await?)
    }

    pub async fn setup(&self, guild_id: &str) -> anyhow::Result<DiscordSetup> {
        let setup = self.desk.store().discord_setup(guild_id).await?;
        self.known.remember_guild(guild_id, guild_channels(&setup));
        Ok(setup)
    }

    /// The guild's staff and watched channels, from memory when read recently (ordinary chat
    /// must not cost a database read per message).
    pub async fn guild_channels(&self, guild_id: &str) -> anyhow::Result<GuildChannels> {
        if let Some(known) = self.known.guild(guild_id) {
            return Ok(known);
        }
        Ok(guild_channels(&self.setup(guild_id).await?))
    }

    /// The guild's engagement tracking, from memory when read recently (every message and
    /// reaction of the guild asks).
    pub async fn tracking(&self, guild_id: &str) -> anyhow::Result<crate::store::TrackingSetup> {
        if let Some(known) = self.known.tracking(guild_id) {
            return Ok(known);
        }
        let tracking = self.desk.store().tracking_setup(guild_id).await?;
        self.known.remember_tracking(guild_id, tracking.clone());
        Ok(tracking)
    }

    pub async fn texts(&self, guild_id: &str) -> &'static Texts {
        match self.rules(guild_id).await {
            Ok(r) => i18n::texts(r.locale),
            Err(_) => &i18n::EN,
        }
    }
}

fn guild_channels(setup: &DiscordSetup) -> GuildChannels {
    GuildChannels {
        staff: setup.staff_channel_id.clone(),
        watched: setup.watched.iter().map(|w| w.channel_id.clone()).collect(),
    }
}

/// True when `e` comes from a database that cannot take the call right now (down, locked
/// past the busy timeout, full, read-only), as opposed to a query that is wrong. Every
/// database error reaches this edge as a `StoreError`, which says itself whether it passes.
pub fn database_unreachable(e: &anyhow::Error) -> bool {
    database_outage(e).is_some()
}

/// Why the database cannot take the call, when that is what `e` says.
pub fn database_outage(e: &anyhow::Error) -> Option<crate::store::Outage> {
    e.chain().find_map(|cause| {
        cause
            .downcast_ref::<StoreError>()
            .and_then(StoreError::outage)
    })
}
