//! The themes of a post: its forum tags as Discord shows them, and the `#hashtags` of its text,
//! lower-cased. The live bot derives them at ingest so that no message text is stored.

/// The theme of a post that has none.
pub const UNTAGGED: &str = "untagged";

/// What a post's themes mean for the figures: each once (the first occurrence keeps its place),
/// and `untagged` when there are none.
pub fn normalize_themes<S: AsRef<str>>(themes: &[S]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(themes.len().max(1));
    for t in themes {
        let t = t.as_ref();
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    if out.is_empty() {
        out.push(UNTAGGED.to_string());
    }
    out
}

/// The themes of a live post: the names of its forum tags exactly as Discord shows them, then
/// the hashtags of its text in the order they appear; `untagged` when there are none.
pub fn post_themes<S: AsRef<str>>(forum_tags: &[S], text: &str) -> Vec<String> {
    let mut all: Vec<String> = forum_tags.iter().map(|t| t.as_ref().to_string()).collect();
    all.extend(hashtags(text));
    normalize_themes(&all)
}

/// The `#hashtags` written in a text, lower-cased, without `#`, each once, in order.
///
/// A hashtag is `#` followed by letters, digits, `_` or `-` (at least one letter), where the `#`
/// starts a word: not after a letter or digit (`C#`, `page#anchor`), not in a channel mention
/// (`<#123>`), not escaped (`\#`), not after `&`, `#` or `/`. Words containing `://` (links) and
/// code (between backticks) are skipped; a markdown heading (`# Title`) has no name after its `#`.
/// Trailing `-` and `_` are not part of the name (`#launch-` is `launch`).
pub fn hashtags(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p]);
        if c == '`' {
            i = skip_code(&chars, i);
            continue;
        }
        if prev.is_none_or(char::is_whitespace) && word_is_link(&chars, i) {
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            continue;
        }
        if c == '#' && prev.is_none_or(starts_a_word) {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && in_name(chars[end]) {
                end += 1;
            }
            let name: String = chars[start..end].iter().collect();
            let name = name.trim_end_matches(['-', '_']);
            if name.chars().any(char::is_alphabetic) {
                let name = name.to_lowercase();
                if !found.contains(&name) {
                    found.push(name);
                }
            }
            i = end.max(start);
            continue;
        }
        i += 1;
    }
    found
}

/// Whether a `#` after `prev` starts a hashtag.
fn starts_a_word(prev: char) -> bool {
    !(prev.is_alphanumeric() || matches!(prev, '&' | '#' | '<' | '/' | '\\'))
}

/// Letters and digits of any script, the marks that combine with them (`e` + U+0301 is `é`
/// written in two code points), the joiners some scripts need, `_` and `-`.
fn in_name(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c, '_' | '-' | '\u{200C}' | '\u{200D}')
        || matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Whether the whitespace-separated word starting at `i` is a link (`https://…`, `<https://…>`).
fn word_is_link(chars: &[char], i: usize) -> bool {
    let word = chars[i..].iter().take_while(|c| !c.is_whitespace());
    let mut window = ['\0'; 3];
    for c in word {
        window = [window[1], window[2], *c];
        if window == [':', '/', '/'] {
            return true;
        }
    }
    false
}

/// The index after a code span opened by the run of backticks at `i`: its closing run of the
/// same length, as markdown reads it. An unclosed run is plain text.
fn skip_code(chars: &[char], i: usize) -> usize {
    let run = chars[i..].iter().take_while(|c| **c == '`').count();
    let mut j = i + run;
    while j < chars.len() {
        if chars[j] == '`' {
            let close = chars[j..].iter().take_while(|c| **c == '`').count();
            if close == run {
                return j + close;
            }
            j += close;
        } else {
            j += 1;
        }
    }
    i + run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(text: &str) -> Vec<String> {
        hashtags(text)
    }

    #[test]
    fn hashtags_are_lower_cased_without_their_sign() {
        assert_eq!(tags("New #Release today #events"), ["release", "events"]);
        assert_eq!(tags("#Release"), ["release"]);
    }

    #[test]
    fn channel_mentions_are_not_hashtags() {
        assert_eq!(tags("see <#123456789012345678> and #faq"), ["faq"]);
        assert!(tags("<#123>").is_empty());
    }

    #[test]
    fn a_sign_inside_a_word_is_not_a_hashtag() {
        assert!(tags("we write C# and F# here").is_empty());
        assert_eq!(tags("C#, F# or #rust?"), ["rust"]);
        assert!(tags("a&#39;b").is_empty());
    }

    #[test]
    fn links_with_an_anchor_are_not_hashtags() {
        assert!(tags("read https://example.com/docs#install now").is_empty());
        assert!(tags("<https://example.com/#/route>").is_empty());
        assert!(tags("[the guide](https://example.com/guide#faq)").is_empty());
        assert!(tags("example.com/page#top").is_empty());
        assert_eq!(tags("https://example.com #news"), ["news"]);
    }

    #[test]
    fn punctuation_after_a_tag_ends_it() {
        assert_eq!(
            tags("#release. #events, #faq! (#patch) #qa: #ask?"),
            ["release", "events", "faq", "patch", "qa", "ask"]
        );
        assert_eq!(tags("#rust's new"), ["rust"]);
        assert_eq!(tags("#launch- and #wip_"), ["launch", "wip"]);
        assert_eq!(
            tags("**#bold** _#italic_ ||#spoiler||"),
            ["bold", "italic", "spoiler"]
        );
    }

    #[test]
    fn hyphens_and_underscores_join_a_tag() {
        assert_eq!(
            tags("#release-notes #game_night"),
            ["release-notes", "game_night"]
        );
    }

    #[test]
    fn unicode_letters_make_tags_and_lower_case_as_unicode_does() {
        assert_eq!(
            tags("#Été #CAFÉ #日本語 #Ünïcödé"),
            ["été", "café", "日本語", "ünïcödé"]
        );
        // `é` written as `e` + a combining accent stays one tag.
        assert_eq!(tags("#cafe\u{301} time"), ["cafe\u{301}"]);
        // Emoji are not letters.
        assert!(tags("#🎉").is_empty());
        assert_eq!(tags("#fête🎉"), ["fête"]);
    }

    #[test]
    fn numbers_headings_and_escapes_are_not_tags() {
        assert!(tags("we are #1 and #2024").is_empty());
        assert_eq!(tags("#2024recap"), ["2024recap"]);
        assert!(tags("# Title\n## Subtitle\n-# small print").is_empty());
        assert!(tags(r"\#not-a-tag").is_empty());
        assert!(tags("##double").is_empty());
    }

    #[test]
    fn code_is_not_searched_for_tags() {
        assert!(tags("use `#include` here").is_empty());
        assert_eq!(
            tags("```c\n#include <stdio.h>\n#define X\n``` then #code"),
            ["code"]
        );
        assert_eq!(tags("a lone ` then #tag"), ["tag"]);
        assert_eq!(tags("`` a ` #in `` #out"), ["out"]);
    }

    #[test]
    fn a_repeated_tag_counts_once_in_its_first_place() {
        assert_eq!(
            tags("#News then #events then #news and #NEWS"),
            ["news", "events"]
        );
    }

    #[test]
    fn forum_tags_are_kept_as_discord_shows_them_and_come_first() {
        assert_eq!(
            post_themes(&["Game Night", "Release"], "Join us #events #release"),
            ["Game Night", "Release", "events", "release"]
        );
        assert_eq!(post_themes(&["Q&A", "Q&A"], ""), ["Q&A"]);
    }

    #[test]
    fn a_post_without_tags_is_untagged() {
        assert_eq!(post_themes::<&str>(&[], "hello <#1> C# #1"), [UNTAGGED]);
        assert_eq!(normalize_themes::<String>(&[]), [UNTAGGED]);
        assert_eq!(normalize_themes(&["a", "b", "a"]), ["a", "b"]);
        // Imported themes keep their case: these are two themes.
        assert_eq!(normalize_themes(&["News", "news"]), ["News", "news"]);
    }
}
