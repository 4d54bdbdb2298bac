//! The survey message: the question, five rating buttons and a comment button; and the edits
//! that thank, close or withdraw it.

use crate::discord::channels::channel;
use crate::discord::custom_id::{comment_id, rate_id};
use crate::discord::replies::no_pings;
use crate::domain::Millis;
use crate::i18n::Texts;
use crate::store::{OutboxItem, SurveyJob};
use poise::serenity_prelude as serenity;

/// The five rating buttons and the comment button. The chosen rating is highlighted.
pub fn survey_components(
    survey_id: &str,
    chosen: Option<u8>,
    disabled: bool,
    t: &Texts,
) -> Vec<serenity::CreateActionRow> {
    let buttons = (1..=5u8)
        .map(|n| {
            serenity::CreateButton::new(rate_id(survey_id, n))
                .label(n.to_string())
                .style(if chosen == Some(n) {
                    serenity::ButtonStyle::Primary
                } else {
                    serenity::ButtonStyle::Secondary
                })
                .disabled(disabled)
        })
        .collect();
    let comment = serenity::CreateButton::new(comment_id(survey_id))
        .label(t.survey_add_comment)
        .style(serenity::ButtonStyle::Secondary)
        .disabled(disabled);
    vec![
        serenity::CreateActionRow::Buttons(buttons),
        serenity::CreateActionRow::Buttons(vec![comment]),
    ]
}

/// The survey's text: the question, then the thanks for a rating, then "closed".
pub fn survey_text(t: &Texts, rating: Option<i32>, closed: bool) -> String {
    let mut text = t.survey_question.to_string();
    if let Some(r) = rating {
        text.push_str("\n\n");
        text.push_str(&t.survey_thanks.replace("{rating}", &r.to_string()));
    }
    if closed {
        text.push_str("\n\n");
        text.push_str(t.survey_closed);
    }
    text
}

/// The outbox item that posts `job`'s survey (as a reply to the request, when it asks so).
pub fn survey_post(t: &Texts, job: &SurveyJob, now: Millis) -> anyhow::Result<OutboxItem> {
    let mut message = serenity::CreateMessage::new()
        .content(survey_text(t, None, false))
        .components(survey_components(&job.survey_id, None, false, t))
        .allowed_mentions(no_pings());
    if let Some(r) = job
        .reply_to
        .as_deref()
        .and_then(|r| r.parse::<u64>().ok())
        .filter(|r| *r > 0)
    {
        message =
            message.reference_message((channel(&job.channel_id), serenity::MessageId::new(r)));
    }
    let mut item = OutboxItem::post(
        format!("survey:{}", job.survey_id),
        &job.channel_id,
        serde_json::to_value(&message)?,
        now,
    );
    item.survey_id = Some(job.survey_id.clone());
    Ok(item.in_place(&job.guild_id, &job.conversation))
}

/// The edit that disables a sent survey's buttons once its rating window has passed.
pub fn close_edit(
    t: &Texts,
    job: &SurveyJob,
    message_id: &str,
    now: Millis,
) -> anyhow::Result<OutboxItem> {
    let edit = serenity::EditMessage::new()
        .content(survey_text(t, job.rating, true))
        .components(survey_components(
            &job.survey_id,
            job.rating.map(|r| r as u8),
            true,
            t,
        ));
    Ok(OutboxItem::patch(
        format!("close:{}", job.survey_id),
        &job.channel_id,
        message_id,
        serde_json::to_value(&edit)?,
        now,
    )
    .in_place(&job.guild_id, &job.conversation))
}

/// The edit that takes a survey's buttons away once a newer answer replaced it.
pub fn withdraw_edit(
    t: &Texts,
    job: &SurveyJob,
    channel_id: &str,
    message_id: &str,
    now: Millis,
) -> OutboxItem {
    OutboxItem::patch(
        format!("withdraw:{}", job.survey_id),
        channel_id,
        message_id,
        serde_json::json!({"content": t.survey_withdrawn, "components": []}),
        now,
    )
    .in_place(&job.guild_id, &job.conversation)
}
