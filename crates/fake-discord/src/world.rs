//! What the fake knows of Discord: users, channels (DMs and threads included), messages,
//! guilds, registered commands and the interactions in flight. It learns from what tests
//! dispatch ([`World::learn_dispatch`]) and from what the bot does through REST, so that REST
//! answers agree with what the gateway said.

use crate::ids;
use crate::json::{field_id, merge};
use crate::payloads::guild::{dm_channel_json, user_json};
use crate::payloads::message::base_message;
use crate::payloads::reaction::emoji_key;
use crate::recording::RecordedAttachment;
use crate::time::{now_ms, snowflake_at};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The channel and the message (for components) of an interaction, by its token: where its
/// responses and follow-ups go.
pub(crate) struct InteractionInfo {
    pub channel_id: u64,
    pub message_id: Option<u64>,
}

#[derive(Default)]
pub(crate) struct World {
    /// The time of what the fake creates; `None` for the real clock.
    pub clock_ms: Option<i64>,
    pub users: HashMap<u64, Value>,
    pub channels: HashMap<u64, Value>,
    pub dm_by_user: HashMap<u64, u64>,
    /// Every message known (dispatched or created through REST), in creation order.
    pub messages: Vec<Value>,
    pub interactions: HashMap<String, InteractionInfo>,
    /// interaction token → id of its original response message.
    pub originals: HashMap<String, u64>,
    pub global_commands: Vec<Value>,
    pub guild_commands: HashMap<u64, Vec<Value>>,
    pub guilds: HashMap<u64, Value>,
    /// OAuth2: the user logged in to "Discord" in the browser (who approves an authorization).
    pub oauth_user: Option<u64>,
    /// OAuth2 authorization codes and access tokens not yet spent, → user.
    pub oauth_codes: HashMap<String, u64>,
    pub oauth_tokens: HashMap<String, u64>,
    /// Reactions on messages, in the order they were added: (message, emoji key, emoji, user).
    pub reactions: Vec<(u64, String, Value, u64)>,
}

impl World {
    pub(crate) fn now(&self) -> i64 {
        self.clock_ms.unwrap_or_else(now_ms)
    }

    pub(crate) fn learn_user(&mut self, user: &Value) {
        if let Some(id) = field_id(user, "id") {
            self.users.insert(id, user.clone());
        }
    }

    pub(crate) fn learn_channel(&mut self, channel: &Value) {
        if let Some(id) = field_id(channel, "id") {
            if channel.get("type").and_then(Value::as_u64) == Some(1) {
                if let Some(r) = channel.get("recipients").and_then(|r| r.get(0)) {
                    self.learn_user(r);
                    if let Some(uid) = field_id(r, "id") {
                        self.dm_by_user.insert(uid, id);
                    }
                }
            }
            self.channels.insert(id, channel.clone());
        }
    }

    pub(crate) fn learn_guild(&mut self, guild: &Value) {
        let Some(gid) = field_id(guild, "id") else {
            return;
        };
        for key in ["channels", "threads"] {
            for ch in guild
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let mut ch = ch.clone();
                ch["guild_id"] = json!(gid.to_string());
                self.learn_channel(&ch);
            }
        }
        for m in guild
            .get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(u) = m.get("user") {
                self.learn_user(u);
            }
        }
        self.guilds.insert(gid, guild.clone());
    }

    /// Keep the fake's world in line with what the bot was told over the gateway.
    pub(crate) fn learn_dispatch(&mut self, t: &str, d: &Value) {
        match t {
            "GUILD_CREATE" => self.learn_guild(d),
            "CHANNEL_CREATE" | "CHANNEL_UPDATE" | "THREAD_CREATE" | "THREAD_UPDATE" => {
                self.learn_channel(d)
            }
            "MESSAGE_CREATE" => {
                if let Some(author) = d.get("author") {
                    self.learn_user(author);
                }
                let (Some(cid), Some(aid)) = (
                    field_id(d, "channel_id"),
                    d.get("author").and_then(|a| field_id(a, "id")),
                ) else {
                    return;
                };
                if d.get("guild_id").is_none()
                    && aid != ids::BOT
                    && !self.channels.contains_key(&cid)
                {
                    self.learn_channel(&dm_channel_json(cid, aid));
                }
                // upsert: an echo of a message created through REST is already known
                match field_id(d, "id").and_then(|mid| self.message_index(mid)) {
                    Some(i) => merge(&mut self.messages[i], d),
                    None => self.messages.push(d.clone()),
                }
            }
            "MESSAGE_REACTION_ADD"
            | "MESSAGE_REACTION_REMOVE"
            | "MESSAGE_REACTION_REMOVE_ALL"
            | "MESSAGE_REACTION_REMOVE_EMOJI" => self.learn_reaction(t, d),
            "MESSAGE_DELETE" => {
                if let Some(mid) = field_id(d, "id") {
                    self.messages.retain(|m| field_id(m, "id") != Some(mid));
                }
            }
            "INTERACTION_CREATE" => {
                if let Some(u) = d
                    .get("user")
                    .or_else(|| d.get("member").and_then(|m| m.get("user")))
                {
                    self.learn_user(u);
                }
                if let Some(ch) = d.get("channel") {
                    if ch.get("type").and_then(Value::as_u64) == Some(1)
                        && !self.channels.contains_key(&field_id(ch, "id").unwrap_or(0))
                    {
                        self.learn_channel(ch);
                    }
                }
                if let (Some(token), Some(cid)) = (
                    d.get("token").and_then(Value::as_str),
                    field_id(d, "channel_id"),
                ) {
                    let message_id = d.get("message").and_then(|m| field_id(m, "id"));
                    self.interactions.insert(
                        token.to_string(),
                        InteractionInfo {
                            channel_id: cid,
                            message_id,
                        },
                    );
                }
            }
            _ => {}
        }
    }

    /// A reaction event changes who reacted with what, and the message's `reactions` (what a
    /// message read through REST shows).
    fn learn_reaction(&mut self, t: &str, d: &Value) {
        let Some(message) = field_id(d, "message_id") else {
            return;
        };
        let user = field_id(d, "user_id");
        let key = d.get("emoji").map(emoji_key);
        match t {
            "MESSAGE_REACTION_ADD" => {
                let (Some(user), Some(key)) = (user, key) else {
                    return;
                };
                if !self
                    .reactions
                    .iter()
                    .any(|r| r.0 == message && r.1 == key && r.3 == user)
                {
                    self.reactions
                        .push((message, key, d["emoji"].clone(), user));
                }
            }
            "MESSAGE_REACTION_REMOVE" => self
                .reactions
                .retain(|r| !(r.0 == message && Some(&r.1) == key.as_ref() && Some(r.3) == user)),
            "MESSAGE_REACTION_REMOVE_ALL" => self.reactions.retain(|r| r.0 != message),
            _ => self
                .reactions
                .retain(|r| !(r.0 == message && Some(&r.1) == key.as_ref())),
        }
        self.refresh_reactions(message);
    }

    /// The message's `reactions` as Discord shows them: each emoji once, in the order first
    /// added, with its count (`me` for the bot's own).
    fn refresh_reactions(&mut self, message: u64) {
        let mut shown: Vec<Value> = Vec::new();
        for (m, key, emoji, user) in &self.reactions {
            if *m != message {
                continue;
            }
            let me = *user == ids::BOT;
            match shown.iter_mut().find(|r| emoji_key(&r["emoji"]) == *key) {
                Some(r) => {
                    r["count"] = json!(r["count"].as_u64().unwrap_or(0) + 1);
                    r["count_details"]["normal"] = r["count"].clone();
                    if me {
                        r["me"] = json!(true);
                    }
                }
                None => shown.push(json!({
                    "count": 1,
                    "count_details": {"burst": 0, "normal": 1},
                    "me": me,
                    "me_burst": false,
                    "emoji": emoji,
                    "burst_colors": [],
                })),
            }
        }
        if let Some(i) = self.message_index(message) {
            self.messages[i]["reactions"] = json!(shown);
        }
    }

    /// The users who reacted to `message` with the emoji `key`, by id (as Discord lists them).
    pub(crate) fn reactors(&self, message: u64, key: &str) -> Vec<u64> {
        let mut users: Vec<u64> = self
            .reactions
            .iter()
            .filter(|r| r.0 == message && r.1 == key)
            .map(|r| r.3)
            .collect();
        users.sort_unstable();
        users
    }

    pub(crate) fn user(&self, id: u64) -> Value {
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| user_json(id))
    }

    pub(crate) fn dm_channel_for(&mut self, user_id: u64) -> u64 {
        if let Some(cid) = self.dm_by_user.get(&user_id) {
            return *cid;
        }
        let cid = if user_id == ids::CARLA {
            ids::CARLA_DM
        } else {
            snowflake_at(self.now())
        };
        let mut channel = dm_channel_json(cid, user_id);
        channel["recipients"] = json!([self.user(user_id)]);
        self.learn_channel(&channel);
        cid
    }

    /// The messages of a channel, oldest first, ephemeral ones included.
    pub(crate) fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        self.messages
            .iter()
            .filter(|m| field_id(m, "channel_id") == Some(channel_id))
            .cloned()
            .collect()
    }

    pub(crate) fn message_index(&self, id: u64) -> Option<usize> {
        self.messages
            .iter()
            .position(|m| field_id(m, "id") == Some(id))
    }

    pub(crate) fn guild_of_channel(&self, cid: u64) -> Option<u64> {
        self.channels
            .get(&cid)
            .and_then(|c| field_id(c, "guild_id"))
    }

    /// Attachments of a message built from uploaded files (+ descriptions of `payload_json`).
    fn attachments_json(
        &self,
        base: &str,
        channel_id: u64,
        body: &Value,
        uploads: &[RecordedAttachment],
    ) -> Vec<Value> {
        uploads
            .iter()
            .map(|up| {
                let aid = snowflake_at(self.now());
                let description = body
                    .get("attachments")
                    .and_then(Value::as_array)
                    .and_then(|a| {
                        a.iter().find(|a| {
                            a.get("filename").and_then(Value::as_str) == Some(&up.filename)
                        })
                    })
                    .and_then(|a| a.get("description").cloned())
                    .unwrap_or(Value::Null);
                let url = format!("{base}/attachments/{channel_id}/{aid}/{}", up.filename);
                json!({
                    "id": aid.to_string(),
                    "filename": up.filename,
                    "description": description,
                    "size": up.bytes.len(),
                    "url": url,
                    "proxy_url": url,
                    "content_type": up.content_type,
                    "height": null,
                    "width": null,
                })
            })
            .collect()
    }

    /// A message as REST returns it (REST-message-response.json), from a create-message body.
    pub(crate) fn build_message(
        &self,
        base: &str,
        channel_id: u64,
        body: &Value,
        uploads: &[RecordedAttachment],
        webhook: bool,
    ) -> Value {
        let now = self.now();
        let content = body.get("content").and_then(Value::as_str).unwrap_or("");
        let mut msg = base_message(
            snowflake_at(now),
            channel_id,
            user_json(ids::BOT),
            content,
            now,
        );
        msg["author"] = self.user(ids::BOT);
        msg["application_id"] = json!(ids::APP.to_string());
        if webhook {
            msg["webhook_id"] = json!(ids::APP.to_string());
        }
        self.apply_edit(base, &mut msg, body, uploads);
        if let Some(reference) = body.get("message_reference").filter(|r| r.is_object()) {
            let mut reference = reference.clone();
            if reference.get("channel_id").is_none() {
                reference["channel_id"] = json!(channel_id.to_string());
            }
            let referenced = field_id(&reference, "message_id")
                .and_then(|mid| self.message_index(mid))
                .map(|i| self.messages[i].clone())
                .unwrap_or(Value::Null);
            msg["message_reference"] = reference;
            msg["referenced_message"] = referenced;
            msg["type"] = json!(19);
        }
        msg
    }

    /// Apply a create/edit-message body (content, embeds, components, flags, attachments).
    pub(crate) fn apply_edit(
        &self,
        base: &str,
        msg: &mut Value,
        body: &Value,
        uploads: &[RecordedAttachment],
    ) {
        let channel_id = field_id(msg, "channel_id").unwrap_or(0);
        if let Some(c) = body.get("content").filter(|c| !c.is_null()) {
            msg["content"] = c.clone();
        }
        if let Some(embeds) = body.get("embeds").and_then(Value::as_array) {
            let embeds: Vec<Value> = embeds
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    if e.get("type").is_none() {
                        e["type"] = json!("rich");
                    }
                    e
                })
                .collect();
            msg["embeds"] = json!(embeds);
        }
        if let Some(components) = body.get("components").filter(|c| c.is_array()) {
            msg["components"] = components.clone();
        }
        if let Some(flags) = body.get("flags").and_then(Value::as_u64) {
            msg["flags"] = json!(flags);
        }
        // Attachments: keep the existing ones listed by id (all when the body does not say),
        // then add the uploads.
        let existing: Vec<Value> = msg["attachments"].as_array().cloned().unwrap_or_default();
        let kept: Vec<Value> = match body.get("attachments").and_then(Value::as_array) {
            None => existing,
            Some(listed) => existing
                .into_iter()
                .filter(|a| {
                    listed
                        .iter()
                        .any(|l| field_id(l, "id") == field_id(a, "id"))
                })
                .collect(),
        };
        let mut all = kept;
        all.extend(self.attachments_json(base, channel_id, body, uploads));
        msg["attachments"] = json!(all);
    }
}
