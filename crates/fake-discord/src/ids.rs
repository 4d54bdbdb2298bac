//! Ids of the default world, the ones of `discord-payloads/*.json`: one guild with its owner,
//! two customers, an agent, an admin, an outsider, four channels and Carla's DM channel.

/// The bot user and its application (same id).
pub const BOT: u64 = 1191168914227331073;
pub const APP: u64 = BOT;
pub const GUILD: u64 = 1191168956170371082;
/// Guild owner.
pub const OLGA: u64 = 1191168998113411092;
/// Customers.
pub const CARLA: u64 = 1191169002307715093;
pub const CODY: u64 = 1191169006502019094;
/// Has the "Support Agent" role.
pub const ALEX: u64 = 1191169010696323095;
/// Has the "Admin" role (Manage Server).
pub const ADA: u64 = 1191169014890627096;
/// A member without roles.
pub const OTTO: u64 = 1191169019084931097;
pub const EVERYONE_ROLE: u64 = GUILD;
pub const AGENT_ROLE: u64 = 1191169040056451102;
pub const ADMIN_ROLE: u64 = 1191169044250755103;
pub const BOT_ROLE: u64 = 1191169048445059104;
pub const STAFF: u64 = 1191169081999491112;
pub const SUPPORT: u64 = 1191169086193795113;
/// A forum channel (type 15).
pub const HELP_FORUM: u64 = 1191169090388099114;
pub const ALERTS: u64 = 1191169094582403115;
/// Carla's DM channel with the bot (what `POST /users/@me/channels` answers for her).
pub const CARLA_DM: u64 = 1191169174274179134;

/// The ids of a guild built like the default one ([`crate::guild_like_default`]): the guild and
/// its channels. Its roles and members are the default guild's (role ids shared, as the tests
/// with a second guild always did), so `message_create` and the interactions' members carry the
/// right roles in any of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuildIds {
    pub guild: u64,
    pub staff: u64,
    pub support: u64,
    pub help_forum: u64,
    pub alerts: u64,
}

/// The default guild's ids.
pub const DEFAULT_GUILD: GuildIds = GuildIds {
    guild: GUILD,
    staff: STAFF,
    support: SUPPORT,
    help_forum: HELP_FORUM,
    alerts: ALERTS,
};

/// Guilds for sharded tests: `SHARD_GUILDS[i]` belongs to shard `i` of 4 (Discord's rule,
/// `(guild_id >> 22) % 4 == i`), hence to shard `i % 2` of 2. Shard 0's is the default guild
/// (`(GUILD >> 22) % 4 == 0`); the three others were picked with their timestamp bits so.
pub const SHARD_GUILDS: [GuildIds; 4] = [
    DEFAULT_GUILD,
    GuildIds {
        guild: 1191169375604838401,
        staff: 1191169375659368448,
        support: 1191169375663562753,
        help_forum: 1191169375667757058,
        alerts: 1191169375671951363,
    },
    GuildIds {
        guild: 1191169375609032706,
        staff: 1191169375688728583,
        support: 1191169375692922888,
        help_forum: 1191169375697117193,
        alerts: 1191169375701311498,
    },
    GuildIds {
        guild: 1191169375613227011,
        staff: 1191169375718088718,
        support: 1191169375722283023,
        help_forum: 1191169375726477328,
        alerts: 1191169375730671633,
    },
];

/// The shard of `count` that Discord sends `guild_id`'s events to.
pub const fn shard_of(guild_id: u64, count: u64) -> u64 {
    if count == 0 {
        return 0;
    }
    (guild_id >> 22) % count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shard_guild_belongs_to_its_shard() {
        for (i, g) in SHARD_GUILDS.iter().enumerate() {
            let i = i as u64;
            assert_eq!(shard_of(g.guild, 4), i, "{g:?}");
            assert_eq!(shard_of(g.guild, 2), i % 2, "{g:?}");
            assert_eq!(shard_of(g.guild, 1), 0);
        }
        // Every id of the four guilds is distinct (a shared channel or role id would mix them).
        let mut all: Vec<u64> = SHARD_GUILDS
            .iter()
            .flat_map(|g| [g.guild, g.staff, g.support, g.help_forum, g.alerts])
            .collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 20);
    }
}
