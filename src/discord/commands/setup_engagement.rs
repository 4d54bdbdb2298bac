//! `/setup`'s engagement settings (docs/engagement.md, "In Discord"): the channels whose
//! messages are posts, and the community role that may read `/engagement`.

use crate::discord::bot::Error;
use crate::discord::replies::user_error;
use crate::i18n::CommunityTexts;
use crate::store::{TrackingSetup, WatchKind, WatchedChannel};
use poise::serenity_prelude as serenity;

pub struct TrackingOptions {
    pub engagement_channel: Option<serenity::PartialChannel>,
    pub remove_engagement_channel: Option<serenity::PartialChannel>,
    pub community_role: Option<serenity::Role>,
    pub clear_community_role: Option<bool>,
}

impl TrackingOptions {
    pub fn any(&self) -> bool {
        self.engagement_channel.is_some()
            || self.remove_engagement_channel.is_some()
            || self.community_role.is_some()
            || self.clear_community_role == Some(true)
    }
}

/// Posts are made in text, announcement and forum channels; threads, voice channels and
/// categories hold none (a thread's messages are replies to its post).
fn post_kind(c: &serenity::PartialChannel) -> Option<WatchKind> {
    match c.kind {
        serenity::ChannelType::Text | serenity::ChannelType::News => Some(WatchKind::Text),
        serenity::ChannelType::Forum => Some(WatchKind::Forum),
        _ => None,
    }
}

/// Applies the options to `t`; returns what changed, in words. A refusal changes nothing.
pub fn apply(
    t: &mut TrackingSetup,
    o: TrackingOptions,
    c: &CommunityTexts,
) -> Result<Vec<String>, Error> {
    let mut changed = Vec::new();
    if let Some(ch) = o.engagement_channel {
        let mention = format!("<#{}>", ch.id);
        let kind = post_kind(&ch)
            .ok_or_else(|| user_error(c.engagement_channel_kind.replace("{channel}", &mention)))?;
        let id = ch.id.to_string();
        t.channels.retain(|w| w.channel_id != id);
        t.channels.push(WatchedChannel {
            channel_id: id,
            kind,
        });
        changed.push(
            c.changed_tracking
                .replace("{value}", &format!("{mention} ({})", kind_name(kind, c))),
        );
    }
    if let Some(ch) = o.remove_engagement_channel {
        let id = ch.id.to_string();
        let mention = format!("<#{id}>");
        if t.channel(&id).is_none() {
            return Err(user_error(c.not_tracked.replace("{channel}", &mention)));
        }
        t.channels.retain(|w| w.channel_id != id);
        changed.push(c.changed_untracked.replace("{value}", &mention));
    }
    if o.clear_community_role == Some(true) {
        t.community_role = None;
        changed.push(c.cleared_community_role.to_string());
    }
    if let Some(r) = o.community_role {
        t.community_role = Some(r.id.to_string());
        changed.push(
            c.changed_community_role
                .replace("{value}", &format!("<@&{}>", r.id)),
        );
    }
    Ok(changed)
}

/// The engagement settings as `/setup` shows them.
pub fn describe(t: &TrackingSetup, c: &CommunityTexts, none: &str, not_set: &str) -> String {
    let channels = if t.channels.is_empty() {
        none.to_string()
    } else {
        t.channels
            .iter()
            .map(|w| format!("<#{}> ({})", w.channel_id, kind_name(w.kind, c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let role = t
        .community_role
        .as_ref()
        .map(|r| format!("<@&{r}>"))
        .unwrap_or_else(|| not_set.to_string());
    c.describe
        .replace("{channels}", &channels)
        .replace("{role}", &role)
}

fn kind_name(kind: WatchKind, c: &CommunityTexts) -> &'static str {
    match kind {
        WatchKind::Text => c.kind_text,
        WatchKind::Forum => c.kind_forum,
    }
}
