//! How a relayed message reads: who wrote it, when (if late), its text cut below Discord's
//! limit into pieces that arrive in order.

use crate::domain::Millis;
use crate::store::OutboxItem;
use poise::serenity_prelude as serenity;

/// Discord's limit is 2,000 characters a message; relayed text is cut into pieces below it.
const PIECE: usize = 1_900;

pub fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        if current.len() + ch.len_utf8() > PIECE {
            out.push(std::mem::take(&mut current));
        }
        current.push(ch);
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out
}

/// Relays sent late (fetched after downtime) say when the message was really written.
pub fn delay_mark(msg: &serenity::Message, delayed: bool) -> String {
    if delayed {
        format!(
            "⏱ <t:{}:f> (delayed) ",
            msg.id.created_at().unix_timestamp()
        )
    } else {
        String::new()
    }
}

pub fn display_name(user: &serenity::User) -> String {
    user.global_name
        .clone()
        .unwrap_or_else(|| user.name.clone())
}

/// The outbox items of one relayed message: its pieces under Discord's limit, each waiting for
/// the one before, so that they arrive in order.
pub fn relay_items(
    now: Millis,
    channel_id: &str,
    header: &str,
    body: &str,
    key: &str,
) -> Vec<OutboxItem> {
    let mut items: Vec<OutboxItem> = Vec::new();
    for (j, piece) in pieces(body).into_iter().enumerate() {
        let text = if j == 0 {
            format!("{header}{piece}")
        } else {
            piece
        };
        let mut item = OutboxItem::post_text(format!("{key}:{j}"), channel_id, &text, now);
        item.after_key = items.last().map(|p| p.dedupe_key.clone());
        items.push(item);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_below_discords_limit_without_splitting_characters() {
        let text = "é".repeat(2_500);
        let p = pieces(&text);
        assert!(p.iter().all(|s| s.len() <= PIECE));
        assert_eq!(p.concat(), text);
        assert_eq!(pieces(""), vec![String::new()]);
    }
}
