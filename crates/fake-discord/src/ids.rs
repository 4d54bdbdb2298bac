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
