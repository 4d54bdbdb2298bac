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

/// A person's name as chosen by them: it may hold Markdown (`**`, `__`, `>`, `` ` ``...) or
/// look like a link, so it is shown through `escape_markdown` or `plain_title`.
fn raw_name(user: &serenity::User) -> String {
    user.global_name
        .clone()
        .unwrap_or_else(|| user.name.clone())
}

/// The name as written into a relay header, where Discord renders Markdown: every character
/// Markdown gives a meaning to is escaped, so that the name reads as typed and cannot restyle
/// the header or forge a line.
pub fn display_name(user: &serenity::User) -> String {
    escape_markdown(&raw_name(user))
}

/// The name as a thread's title, where a backslash would show: the styling characters are
/// left out, and line breaks become spaces.
pub fn title_name(user: &serenity::User) -> String {
    raw_name(user)
        .chars()
        .filter(|c| !TITLE_DROPPED.contains(c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The characters Discord's Markdown gives a meaning to inside a line (a name is never at a
/// line's start, where `#`, `-` and `>` would matter too), links and mentions included.
const MARKDOWN: &[char] = &[
    '\\', '*', '_', '~', '`', '|', '>', '[', ']', '(', ')', '<', ':', '@',
];

/// What a thread's title leaves out: the characters that style text (a title does not
/// render Markdown, but a backslash would show).
const TITLE_DROPPED: &[char] = &['\\', '*', '_', '~', '`', '|', '>'];

pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push(' ');
            continue;
        }
        if MARKDOWN.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
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
    fn names_are_escaped_for_markdown() {
        assert_eq!(escape_markdown("**Boss**"), "\\*\\*Boss\\*\\*");
        assert_eq!(escape_markdown("a_b`c"), "a\\_b\\`c");
        assert_eq!(escape_markdown("> quote\nline"), "\\> quote line");
        assert_eq!(escape_markdown("[x](http://e)"), "\\[x\\]\\(http\\://e\\)");
    }

    #[test]
    fn long_messages_are_cut_below_discords_limit_without_splitting_characters() {
        let text = "é".repeat(2_500);
        let p = pieces(&text);
        assert!(p.iter().all(|s| s.len() <= PIECE));
        assert_eq!(p.concat(), text);
        assert_eq!(pieces(""), vec![String::new()]);
    }
}
