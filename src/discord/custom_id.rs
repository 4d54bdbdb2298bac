//! The `custom_id`s of reactif's buttons, menus and forms. They are versioned (`v1`) so that a
//! later release can change them and still read the old ones still sitting in people's DMs;
//! the gateway reads them to route a click to its feature.

use crate::domain::Rating;

/// What a button or menu of ours means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentId {
    Rate {
        survey_id: String,
        rating: Rating,
    },
    Comment {
        survey_id: String,
    },
    /// The team menu of a DM that could go to several guilds, with the DM's message id.
    Team {
        message_id: u64,
    },
}

pub const RATE_PREFIX: &str = "survey:v1:";
pub const COMMENT_PREFIX: &str = "survey-comment:v1:";
pub const TEAM_PREFIX: &str = "team:v1:";

pub fn rate_id(survey_id: &str, rating: u8) -> String {
    format!("{RATE_PREFIX}{survey_id}:{rating}")
}

/// The comment button, and the form it opens.
pub fn comment_id(survey_id: &str) -> String {
    format!("{COMMENT_PREFIX}{survey_id}")
}

pub fn team_id(message_id: u64) -> String {
    format!("{TEAM_PREFIX}{message_id}")
}

fn valid_survey_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses any `custom_id`; anything not ours, or malformed, is `None`.
pub fn parse_component_id(id: &str) -> Option<ComponentId> {
    if let Some(rest) = id.strip_prefix(RATE_PREFIX) {
        let (survey, rating) = rest.rsplit_once(':')?;
        let rating: i64 = rating.parse().ok()?;
        return (valid_survey_id(survey))
            .then_some(())
            .and(Rating::parse(rating).ok().map(|rating| ComponentId::Rate {
                survey_id: survey.to_string(),
                rating,
            }));
    }
    if let Some(survey) = id.strip_prefix(COMMENT_PREFIX) {
        return valid_survey_id(survey).then(|| ComponentId::Comment {
            survey_id: survey.to_string(),
        });
    }
    if let Some(rest) = id.strip_prefix(TEAM_PREFIX) {
        let message_id = rest.parse::<u64>().ok().filter(|v| *v > 0)?;
        return Some(ComponentId::Team { message_id });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn our_custom_ids_parse_and_others_do_not() {
        assert_eq!(
            parse_component_id("survey:v1:123:4"),
            Some(ComponentId::Rate {
                survey_id: "123".into(),
                rating: Rating::parse(4).unwrap()
            })
        );
        assert_eq!(
            parse_component_id("survey-comment:v1:123"),
            Some(ComponentId::Comment {
                survey_id: "123".into()
            })
        );
        assert_eq!(
            parse_component_id("team:v1:99"),
            Some(ComponentId::Team { message_id: 99 })
        );
        for bad in [
            "survey:v1:123:6",
            "survey:v1:123:0",
            "survey:v1::3",
            "survey:v2:1:3",
            "survey:v1:1:3:4",
            "survey:v1:a b:3",
            "team:v1:0",
            "",
            "survey-comment:v1:",
        ] {
            assert_eq!(parse_component_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_ids_we_write_keep_their_v1_shape() {
        // Buttons already in people's DMs carry these: they must never change.
        assert_eq!(rate_id("42", 3), "survey:v1:42:3");
        assert_eq!(comment_id("42"), "survey-comment:v1:42");
        assert_eq!(team_id(7), "team:v1:7");
    }

    proptest! {
        #[test]
        fn any_custom_id_parses_without_panicking(s in ".{0,120}") {
            let _ = parse_component_id(&s);
        }

        #[test]
        fn a_rating_id_parses_back_to_what_was_written(id in "[0-9]{1,20}", r in 1u8..=5) {
            let parsed = parse_component_id(&format!("{RATE_PREFIX}{id}:{r}"));
            prop_assert_eq!(parsed, Some(ComponentId::Rate { survey_id: id, rating: Rating::parse(r as i64).unwrap() }));
        }
    }
}
