//! Users, members, roles, channels, threads and the default guild (the shapes of
//! `discord-payloads/`, checked against serenity 0.12.5).

use crate::ids;
use crate::json::merge;
use crate::time::{snowflake_at, snowflake_ms, timestamp_at};
use serde_json::{json, Value};

const JOINED_AT: &str = "2024-01-01T00:00:00.000000+00:00";
/// Permissions of the default guild's owner: every bit.
const ALL_PERMISSIONS: u64 = (1 << 51) - 1;

/// (id, username, global_name, bot)
pub(crate) const KNOWN_USERS: &[(u64, &str, &str, bool)] = &[
    (ids::BOT, "reactif", "Reactif", true),
    (ids::OLGA, "olga-owner", "Olga-Owner", false),
    (ids::CARLA, "carla-customer", "Carla-Customer", false),
    (ids::CODY, "cody-customer", "Cody-Customer", false),
    (ids::ALEX, "alex-agent", "Alex-Agent", false),
    (ids::ADA, "ada-admin", "Ada-Admin", false),
    (ids::OTTO, "otto-outsider", "Otto-Outsider", false),
];

/// (user, roles) of the default guild's members.
const MEMBER_ROLES: &[(u64, &[u64])] = &[
    (ids::BOT, &[ids::BOT_ROLE]),
    (ids::OLGA, &[]),
    (ids::CARLA, &[]),
    (ids::CODY, &[]),
    (ids::ALEX, &[ids::AGENT_ROLE]),
    (ids::ADA, &[ids::ADMIN_ROLE]),
    (ids::OTTO, &[]),
];

/// (id, name, position, permissions, managed)
const ROLES: &[(u64, &str, u64, u64, bool)] = &[
    (ids::EVERYONE_ROLE, "@everyone", 0, 311385508929, false),
    (ids::AGENT_ROLE, "Support Agent", 1, 0, false),
    (ids::ADMIN_ROLE, "Admin", 2, 32, false),
    (ids::BOT_ROLE, "reactif", 3, 397284863057, true),
];

/// (id, type, name, position)
pub(crate) const CHANNELS: &[(u64, u8, &str, u16)] = &[
    (ids::STAFF, 0, "staff", 0),
    (ids::SUPPORT, 0, "support", 1),
    (ids::HELP_FORUM, 15, "help-forum", 2),
    (ids::ALERTS, 0, "alerts", 3),
];

/// A user object. Users of the default guild get their real names; others `user-<id>`.
pub fn user_json(id: u64) -> Value {
    let (username, global_name, bot) = KNOWN_USERS
        .iter()
        .find(|u| u.0 == id)
        .map(|u| (u.1.to_string(), Value::from(u.2), u.3))
        .unwrap_or_else(|| (format!("user-{id}"), Value::Null, false));
    json!({
        "id": id.to_string(),
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

/// Roles of `user_id` in the default guild (empty for unknown users).
pub fn default_member_roles(user_id: u64) -> Vec<u64> {
    MEMBER_ROLES
        .iter()
        .find(|m| m.0 == user_id)
        .map(|m| m.1.to_vec())
        .unwrap_or_default()
}

/// The permissions Discord computes for a member of the default guild: everyone's plus their
/// roles', or every bit for the owner.
pub fn default_member_permissions(user_id: u64) -> u64 {
    if user_id == ids::OLGA {
        return ALL_PERMISSIONS;
    }
    let roles = default_member_roles(user_id);
    ROLES
        .iter()
        .filter(|r| r.0 == ids::EVERYONE_ROLE || roles.contains(&r.0))
        .fold(0, |acc, r| acc | r.3)
}

fn id_strings(ids: &[u64]) -> Vec<String> {
    ids.iter().map(u64::to_string).collect()
}

/// A guild member object without `user` (the shape inside MESSAGE_CREATE).
pub(crate) fn member_without_user(roles: &[u64]) -> Value {
    json!({
        "roles": id_strings(roles),
        "nick": null,
        "avatar": null,
        "banner": null,
        "joined_at": JOINED_AT,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    })
}

/// A guild member object with `user` (GUILD_CREATE `members`).
pub fn member_json(user_id: u64, roles: &[u64]) -> Value {
    let mut member = member_without_user(roles);
    member["user"] = user_json(user_id);
    member
}

fn role_json(id: u64, name: &str, position: u64, permissions: u64, managed: bool) -> Value {
    let mut role = json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions.to_string(),
        "managed": managed,
        "mentionable": false,
        "flags": 0,
    });
    if managed {
        role["tags"] = json!({"bot_id": ids::BOT.to_string()});
    }
    role
}

/// A guild text (0) or forum (15) channel object as in GUILD_CREATE.
pub fn guild_channel_json(guild_id: u64, id: u64, kind: u8, name: &str, position: u16) -> Value {
    let mut channel = json!({
        "id": id.to_string(),
        "type": kind,
        "guild_id": guild_id.to_string(),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": false,
        "topic": null,
        "parent_id": null,
        "rate_limit_per_user": 0,
        "last_message_id": null,
        "flags": 0,
    });
    if kind == 15 {
        let extra = json!({
            "available_tags": [],
            "default_reaction_emoji": null,
            "default_thread_rate_limit_per_user": 0,
            "default_sort_order": null,
            "default_forum_layout": 0,
            "default_auto_archive_duration": 4320,
        });
        merge(&mut channel, &extra);
    }
    channel
}

/// A DM channel object (type 1) with one recipient.
pub fn dm_channel_json(channel_id: u64, recipient_id: u64) -> Value {
    json!({
        "id": channel_id.to_string(),
        "type": 1,
        "flags": 0,
        "recipients": [user_json(recipient_id)],
        "last_message_id": null,
    })
}

/// The `d` of the default GUILD_CREATE: exactly `discord-payloads/GUILD_CREATE.json`
/// (roles everyone / Support Agent / Admin / reactif, channels staff / support / help-forum /
/// alerts, seven members, see [`ids`]).
pub fn default_guild() -> Value {
    guild_like_default(&ids::DEFAULT_GUILD, "Reactif Test Guild")
}

/// The GUILD_CREATE of shard guild `i` of [`ids::SHARD_GUILDS`] (shard `i` of 4): built like
/// the default guild, named `Shard i Guild` (`i = 0` is the default guild itself).
pub fn shard_guild(i: usize) -> Value {
    if i == 0 {
        return default_guild();
    }
    guild_like_default(&ids::SHARD_GUILDS[i], &format!("Shard {i} Guild"))
}

/// A guild like the default one (same roles, same seven members, channels staff / support /
/// help-forum / alerts) with the guild and channel ids of `g`.
pub fn guild_like_default(g: &ids::GuildIds, name: &str) -> Value {
    let roles: Vec<Value> = ROLES
        .iter()
        .map(|r| role_json(r.0, r.1, r.2, r.3, r.4))
        .collect();
    let members: Vec<Value> = MEMBER_ROLES.iter().map(|m| member_json(m.0, m.1)).collect();
    let channel_ids = [g.staff, g.support, g.help_forum, g.alerts];
    let channels: Vec<Value> = CHANNELS
        .iter()
        .zip(channel_ids)
        .map(|(c, id)| guild_channel_json(g.guild, id, c.1, c.2, c.3))
        .collect();
    // two json! calls: one would pass the macro recursion limit of the including crate
    let mut guild = json!({
        "id": g.guild.to_string(),
        "name": name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": ids::OLGA.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
    });
    let rest = json!({
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "max_video_channel_users": 25,
        "widget_enabled": false,
        "widget_channel_id": null,
        "joined_at": JOINED_AT,
        "large": false,
        "unavailable": false,
        "member_count": members.len(),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    merge(&mut guild, &rest);
    guild
}

/// A thread channel object (type 11, public thread) as REST returns it; with `newly_created` it
/// is also the `d` of a THREAD_CREATE (e.g. a forum post: parent [`ids::HELP_FORUM`]).
pub fn thread_json(
    guild_id: u64,
    parent_id: u64,
    thread_id: u64,
    name: &str,
    owner_id: u64,
) -> Value {
    let created = timestamp_at(snowflake_ms(thread_id));
    json!({
        "id": thread_id.to_string(),
        "type": 11,
        "guild_id": guild_id.to_string(),
        "parent_id": parent_id.to_string(),
        "owner_id": owner_id.to_string(),
        "name": name,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "applied_tags": [],
        "thread_metadata": {
            "archived": false,
            "auto_archive_duration": 4320,
            "archive_timestamp": created,
            "locked": false,
            "create_timestamp": created,
        },
    })
}

/// The `d` of a THREAD_CREATE for a thread created by `owner_id` at `at_ms`.
pub fn thread_create(
    guild_id: u64,
    parent_id: u64,
    name: &str,
    owner_id: u64,
    at_ms: i64,
) -> Value {
    let mut thread = thread_json(guild_id, parent_id, snowflake_at(at_ms), name, owner_id);
    thread["newly_created"] = json!(true);
    thread
}
