//! Who may see a guild on the dashboard: the rule of `/stats` (an agent role of the guild's
//! `/setup`, or Manage Server), decided on every request from what Discord says now, with the
//! bot's token; never from what the browser or the session says.

use super::{Web, WebError};
use crate::settings::Secret;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A member of a guild as far as access goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub roles: Vec<String>,
    /// Manage Server or Administrator (from the roles' permissions), or the owner.
    pub manage_server: bool,
}

/// Where memberships are read from: Discord in production and in the tests (the fake), the
/// demo's make-believe for `reactif dashboard --demo`.
#[async_trait]
pub trait Members: Send + Sync {
    /// `None` when the user is not a member of the guild (or the bot is not in it).
    async fn member(&self, guild_id: &str, user_id: &str) -> anyhow::Result<Option<Membership>>;

    /// The names to show for some of a guild's members (the server nickname, else the global
    /// display name, else the username); those it cannot tell now are left out (shown by id).
    async fn names(&self, _guild_id: &str, _user_ids: &[String]) -> HashMap<String, String> {
        HashMap::new()
    }
}

/// How long a looked-up name is reused: names change rarely, and each look-up is a request.
const NAME_TTL: std::time::Duration = std::time::Duration::from_secs(3600);
/// Look-ups per page at most: a page of 200 agents must not wait for 200 requests; the others
/// show by id until a later page has asked for them.
const NAME_LOOKUPS_PER_PAGE: usize = 20;

/// A member's name to show, from Discord's member object.
pub fn display_name(member: &Value) -> Option<String> {
    [
        &member["nick"],
        &member["user"]["global_name"],
        &member["user"]["username"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().filter(|s| !s.trim().is_empty()))
    .map(str::to_string)
}

const ADMINISTRATOR: u64 = 1 << 3;
const MANAGE_GUILD: u64 = 1 << 5;

/// Discord's REST API with the bot's token (`GET /guilds/{id}` and its member).
pub struct DiscordMembers {
    /// (guild, user) → name, and when it was read.
    names: Mutex<HashMap<(String, String), (String, Instant)>>,
    http: reqwest::Client,
    /// `https://discord.com` or `DISCORD_API_URL`.
    api_base: String,
    token: Secret,
}

impl DiscordMembers {
    pub fn new(api_base: &str, token: Secret) -> anyhow::Result<DiscordMembers> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(DiscordMembers {
            names: Mutex::new(HashMap::new()),
            http,
            api_base: api_base.trim_end_matches('/').to_string(),
            token,
        })
    }

    /// GET a path of the API; `None` on 404.
    async fn get(&self, path: &str) -> anyhow::Result<Option<Value>> {
        let response = self
            .http
            .get(format!("{}/api/v10{path}", self.api_base))
            .header("Authorization", format!("Bot {}", self.token.expose()))
            .send()
            .await
            .inspect_err(|_| crate::observe::rest_call(0))?;
        let status = response.status();
        crate::observe::rest_call(status.as_u16());
        if status.as_u16() == 404 {
            return Ok(None);
        }
        if !status.is_success() {
            anyhow::bail!("Discord answered {status} to GET {path}");
        }
        Ok(Some(response.json().await?))
    }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Manage Server from the guild's roles: the owner, or @everyone's (the role whose id is the
/// guild's) and the member's roles' permissions together.
pub fn manage_server(guild: &Value, user_id: &str, roles: &[String]) -> bool {
    if guild["owner_id"].as_str() == Some(user_id) {
        return true;
    }
    let guild_id = guild["id"].as_str().unwrap_or_default();
    let permissions = guild["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            let id = r["id"].as_str().unwrap_or_default();
            id == guild_id || roles.iter().any(|m| m == id)
        })
        .filter_map(|r| r["permissions"].as_str()?.parse::<u64>().ok())
        .fold(0, |acc, p| acc | p);
    permissions & (ADMINISTRATOR | MANAGE_GUILD) != 0
}

#[async_trait]
impl Members for DiscordMembers {
    async fn member(&self, guild_id: &str, user_id: &str) -> anyhow::Result<Option<Membership>> {
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !ok(guild_id) || !ok(user_id) {
            return Ok(None);
        }
        let Some(member) = self
            .get(&format!("/guilds/{guild_id}/members/{user_id}"))
            .await?
        else {
            return Ok(None);
        };
        let Some(guild) = self.get(&format!("/guilds/{guild_id}")).await? else {
            return Ok(None);
        };
        let roles = ids(&member["roles"]);
        let manage_server = manage_server(&guild, user_id, &roles);
        Ok(Some(Membership {
            roles,
            manage_server,
        }))
    }

    async fn names(&self, guild_id: &str, user_ids: &[String]) -> HashMap<String, String> {
        let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.names.lock().unwrap_or_else(|e| e.into_inner());
            for id in user_ids.iter().filter(|id| ok(id)) {
                match cache.get(&(guild_id.to_string(), id.clone())) {
                    Some((name, at)) if at.elapsed() < NAME_TTL => {
                        out.insert(id.clone(), name.clone());
                    }
                    _ => missing.push(id.clone()),
                }
            }
        }
        missing.truncate(NAME_LOOKUPS_PER_PAGE);
        let reads = missing.iter().map(|id| async move {
            let member = self.get(&format!("/guilds/{guild_id}/members/{id}")).await;
            (id, member)
        });
        for (id, member) in futures_util::future::join_all(reads).await {
            // A departed member or a failed read: shown by id, asked again next time.
            let Some(name) = member.ok().flatten().as_ref().and_then(display_name) else {
                continue;
            };
            let mut cache = self.names.lock().unwrap_or_else(|e| e.into_inner());
            cache.insert(
                (guild_id.to_string(), id.clone()),
                (name.clone(), Instant::now()),
            );
            out.insert(id.clone(), name);
        }
        out
    }
}

/// `reactif dashboard --demo`: nobody but the demo's visitor, admin of the demo guild only.
pub struct DemoMembers;

pub const DEMO_USER: &str = "demo";

#[async_trait]
impl Members for DemoMembers {
    async fn member(&self, guild_id: &str, user_id: &str) -> anyhow::Result<Option<Membership>> {
        Ok(
            (guild_id == crate::demo::DEMO_GUILD && user_id == DEMO_USER).then(|| Membership {
                roles: Vec::new(),
                manage_server: true,
            }),
        )
    }
}

/// Who may open a page: the support pages are the staff's (the `/stats` rule); the engagement
/// page is also the community team's (the `/engagement` rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Staff,
    StaffOrCommunity,
}

/// Refuses unless `user_id` is an agent (a role of the guild's setup) or has Manage Server
/// there, as Discord says now.
pub async fn require_staff(web: &Web, guild_id: &str, user_id: &str) -> Result<(), WebError> {
    require(web, guild_id, user_id, Audience::Staff).await
}

/// Refuses unless `user_id` may see pages of this kind in the guild, as Discord says now: an
/// agent role or Manage Server, or for `StaffOrCommunity` also the guild's community role
/// (`/setup community_role`).
pub async fn require(
    web: &Web,
    guild_id: &str,
    user_id: &str,
    audience: Audience,
) -> Result<(), WebError> {
    let Some(member) = web.members.member(guild_id, user_id).await? else {
        return Err(WebError::Forbidden);
    };
    if member.manage_server {
        return Ok(());
    }
    let setup = web.desk.store().discord_setup(guild_id).await?;
    let has = |role: &String| member.roles.iter().any(|r| r == role);
    if setup.agent_roles.iter().any(has) {
        return Ok(());
    }
    if audience == Audience::StaffOrCommunity {
        let tracking = web.desk.store().tracking_setup(guild_id).await?;
        if tracking.community_role.as_ref().is_some_and(has) {
            return Ok(());
        }
    }
    Err(WebError::Forbidden)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn manage_server_comes_from_the_owner_everyone_or_the_members_roles() {
        let guild = json!({
            "id": "10", "owner_id": "1",
            "roles": [
                {"id": "10", "permissions": "1024"},
                {"id": "20", "permissions": "32"},
                {"id": "30", "permissions": "8"},
                {"id": "40", "permissions": "0"},
            ]
        });
        assert!(manage_server(&guild, "1", &[]));
        assert!(!manage_server(&guild, "2", &["40".into()]));
        assert!(manage_server(&guild, "2", &["20".into()]));
        assert!(manage_server(&guild, "2", &["30".into()]));
        let everyone_admin = json!({"id": "10", "roles": [{"id": "10", "permissions": "32"}]});
        assert!(manage_server(&everyone_admin, "2", &[]));
    }
}
