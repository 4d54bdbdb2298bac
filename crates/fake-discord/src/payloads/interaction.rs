//! Interactions: slash commands, components (buttons, selects) and modal submits, as
//! INTERACTION_CREATE carries them. The token of each is `tok_<interaction id>`.

use crate::ids;
use crate::json::merge;
use crate::payloads::guild::{
    default_member_permissions, default_member_roles, dm_channel_json, member_json, user_json,
    CHANNELS,
};
use crate::payloads::message::{bot_message, Place};
use crate::time::{now_ms, snowflake_at};
use serde_json::{json, Value};

/// `app_permissions` Discord sends for interactions in a DM.
const DM_APP_PERMISSIONS: &str = "117760";

/// One action row with one secondary button.
pub fn button_row(custom_id: &str, label: &str) -> Value {
    json!([{
        "type": 1,
        "components": [{"type": 2, "style": 2, "label": label, "custom_id": custom_id, "disabled": false}],
    }])
}

/// A slash command option `{name, type, value}`; the type is inferred from the value:
/// string 3, integer 4, boolean 5, other number 10. For user/channel/role options or
/// subcommands write the JSON by hand.
pub fn option(name: &str, value: impl Into<Value>) -> Value {
    let value = value.into();
    let kind = match &value {
        Value::Bool(_) => 5,
        Value::Number(n) if n.is_i64() || n.is_u64() => 4,
        Value::Number(_) => 10,
        _ => 3,
    };
    json!({"name": name, "type": kind, "value": value})
}

fn channel_for_interaction(place: Place, user_id: u64) -> Value {
    match place {
        Place::Dm { channel_id } => dm_channel_json(channel_id, user_id),
        Place::Guild {
            guild_id,
            channel_id,
        } => {
            let name = CHANNELS
                .iter()
                .find(|c| c.0 == channel_id)
                .map(|c| c.2.to_string())
                .unwrap_or_else(|| format!("channel-{channel_id}"));
            json!({
                "id": channel_id.to_string(),
                "type": 0,
                "flags": 0,
                "name": name,
                "guild_id": guild_id.to_string(),
                "parent_id": null,
                "permissions": default_member_permissions(user_id).to_string(),
            })
        }
    }
}

/// Common INTERACTION_CREATE fields (`INTERACTION_CREATE-*.json`); `token` is `tok_<id>`.
fn interaction_base(kind: u8, data: Value, user_id: u64, place: Place) -> Value {
    let id = snowflake_at(now_ms());
    let mut it = json!({
        "id": id.to_string(),
        "application_id": ids::APP.to_string(),
        "type": kind,
        "data": data,
        "channel_id": place.channel_id().to_string(),
        "channel": channel_for_interaction(place, user_id),
        "token": format!("tok_{id}"),
        "version": 1,
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 8388608,
    });
    match place.guild_id() {
        None => {
            let extra = json!({
                "user": user_json(user_id),
                "app_permissions": DM_APP_PERMISSIONS,
                "authorizing_integration_owners": {"0": "0"},
                "context": 1,
            });
            merge(&mut it, &extra);
        }
        Some(guild_id) => {
            let mut member = member_json(user_id, &default_member_roles(user_id));
            member["permissions"] = json!(default_member_permissions(user_id).to_string());
            let extra = json!({
                "guild_id": guild_id.to_string(),
                "member": member,
                "guild_locale": "en-US",
                "app_permissions": "397284863057",
                "guild": {"id": guild_id.to_string(), "locale": "en-US", "features": []},
                "authorizing_integration_owners": {"0": guild_id.to_string()},
                "context": 0,
            });
            merge(&mut it, &extra);
        }
    }
    it
}

/// The `d` of an INTERACTION_CREATE for the slash command `/name` (type 2), with options made by
/// [`option`]. In a guild the member gets the default guild's roles and permissions.
pub fn slash_command(name: &str, options: Vec<Value>, user_id: u64, place: Place) -> Value {
    let data = json!({
        "id": snowflake_at(now_ms()).to_string(),
        "name": name,
        "type": 1,
        "options": options,
    });
    interaction_base(2, data, user_id, place)
}

/// The `d` of a component interaction (type 3): `component_type` 2 for a button (no `values`),
/// 3 for a string select. `message` is the message that carried the component; `None` builds a
/// bot message in that channel with a button of `custom_id`.
pub fn component_interaction(
    custom_id: &str,
    component_type: u8,
    values: Option<Vec<String>>,
    user_id: u64,
    place: Place,
    message: Option<Value>,
) -> Value {
    let mut data = json!({"custom_id": custom_id, "component_type": component_type});
    if let Some(values) = values {
        data["values"] = json!(values);
    }
    let mut it = interaction_base(3, data, user_id, place);
    it["message"] = message.unwrap_or_else(|| {
        bot_message(
            place.channel_id(),
            "",
            button_row(custom_id, "button"),
            now_ms(),
        )
    });
    it
}

/// The `d` of a button click (type 3), see [`component_interaction`].
pub fn button_click(custom_id: &str, user_id: u64, place: Place, message: Option<Value>) -> Value {
    component_interaction(custom_id, 2, None, user_id, place, message)
}

/// The `d` of a modal submit (type 5) with text inputs `(custom_id, value)`, one per row.
/// `message` is the message whose component opened the modal, if any.
pub fn modal_submit(
    custom_id: &str,
    fields: &[(&str, &str)],
    user_id: u64,
    place: Place,
    message: Option<Value>,
) -> Value {
    let rows: Vec<Value> = fields
        .iter()
        .map(|(id, value)| {
            json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]})
        })
        .collect();
    let mut it = interaction_base(
        5,
        json!({"custom_id": custom_id, "components": rows}),
        user_id,
        place,
    );
    if let Some(message) = message {
        it["message"] = message;
    }
    it
}
