//! `reactif transcript`: a conversation's messages, for guilds that keep transcripts, one line
//! a message that a customer cannot forge.

use crate::desk::Desk;
use clap::Args;

#[derive(Args, Debug)]
pub struct TranscriptArgs {
    /// The guild (server) id.
    #[arg(long)]
    pub guild: String,
    /// The conversation key, as in `reactif export` (e.g. dm-123… for a DM ticket).
    #[arg(long)]
    pub conversation: String,
}

/// The transcript of one conversation, one line a message; or, as `Err`, a note saying why
/// there is none.
pub async fn transcript(
    desk: &Desk,
    args: &TranscriptArgs,
) -> anyhow::Result<Result<String, String>> {
    let lines = desk
        .store()
        .transcript(&args.guild, &args.conversation)
        .await?;
    if lines.is_empty() {
        return Ok(Err(format!(
            "No transcript stored for conversation {} of guild {} (transcripts are kept only when the guild turns them on with /setup transcripts:True, and only from then on).",
            args.conversation, args.guild
        )));
    }
    let mut out = String::new();
    for l in lines {
        out.push_str(&format!(
            "{} {}: {}\n",
            crate::domain::format_time(l.at),
            escape_line(&l.author_id),
            escape_line(&l.content)
        ));
    }
    Ok(Ok(out))
}

/// A message as one line that cannot pass for another: a backslash, a line break, a control
/// character or a character that turns text around (bidi) is written as an escape, so that a
/// customer cannot forge a line of the transcript (a time, an author, words).
pub fn escape_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible_break(c) => {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Line and paragraph separators, and the marks that reorder text (bidi overrides, isolates).
fn is_invisible_break(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}
