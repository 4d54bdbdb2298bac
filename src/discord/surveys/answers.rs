//! A customer's answer to a survey: a rating button, the comment button and its form. Only the
//! conversation's customer may answer, and only while the survey is open.

use crate::discord::bot::Bot;
use crate::discord::custom_id::{comment_id, parse_component_id, ComponentId};
use crate::discord::live::event;
use crate::discord::render::survey::{survey_components, survey_text};
use crate::discord::replies::ephemeral;
use crate::domain::{snowflake_time, EventKind, Rating};
use crate::i18n::Texts;
use crate::store::{Commit, CommitOutcome, SurveyJob, SurveyOp, SurveyStatus};
use poise::serenity_prelude as serenity;

/// The comment button: opens the comment form.
pub async fn on_comment_button(
    ctx: &serenity::Context,
    bot: &Bot,
    c: &serenity::ComponentInteraction,
    survey_id: &str,
) -> anyhow::Result<()> {
    let Some((job, t)) = open_survey_for(ctx, bot, c, survey_id).await? else {
        return Ok(());
    };
    let input = serenity::CreateInputText::new(
        serenity::InputTextStyle::Paragraph,
        t.comment_label,
        "comment",
    )
    .max_length(1000)
    .required(true);
    c.create_response(
        &ctx.http,
        serenity::CreateInteractionResponse::Modal(
            serenity::CreateModal::new(comment_id(&job.survey_id), t.comment_title)
                .components(vec![serenity::CreateActionRow::InputText(input)]),
        ),
    )
    .await?;
    Ok(())
}

/// The survey behind a click, if the clicker may still answer it; otherwise the refusal is sent
/// and `None` returned.
async fn open_survey_for(
    ctx: &serenity::Context,
    bot: &Bot,
    c: &serenity::ComponentInteraction,
    survey_id: &str,
) -> anyhow::Result<Option<(SurveyJob, &'static Texts)>> {
    let Some(mut job) = bot.desk.store().survey(survey_id).await? else {
        ephemeral(ctx, c, "This survey no longer exists.").await?;
        return Ok(None);
    };
    // A click can only follow the survey message, but it may arrive before the sender has
    // recorded the survey as sent: give that write a moment rather than refuse the click.
    for _ in 0..30 {
        if !matches!(job.status, SurveyStatus::Scheduled | SurveyStatus::Sending) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        match bot.desk.store().survey(survey_id).await? {
            Some(j) => job = j,
            None => break,
        }
    }
    let t = bot.texts(&job.guild_id).await;
    if c.user.id.to_string() != job.customer_id {
        ephemeral(ctx, c, t.survey_not_yours).await?;
        return Ok(None);
    }
    let refusal = match job.status {
        SurveyStatus::Withdrawn | SurveyStatus::Cancelled => Some(t.survey_withdrawn),
        SurveyStatus::Closed | SurveyStatus::Scheduled | SurveyStatus::Sending => {
            Some(t.survey_closed)
        }
        SurveyStatus::Sent => {
            let rules = bot.rules(&job.guild_id).await?;
            let click_at = snowflake_time(c.id.get());
            job.sent_at
                .is_some_and(|s| click_at > s + rules.survey_close_ms)
                .then_some(t.survey_closed)
        }
    };
    if let Some(text) = refusal {
        ephemeral(ctx, c, text).await?;
        return Ok(None);
    }
    Ok(Some((job, t)))
}

/// A rating button: stored as the survey's rating, and shown highlighted.
pub async fn on_rate(
    ctx: &serenity::Context,
    bot: &Bot,
    c: &serenity::ComponentInteraction,
    survey_id: &str,
    rating: Rating,
) -> anyhow::Result<()> {
    let Some((job, t)) = open_survey_for(ctx, bot, c, survey_id).await? else {
        return Ok(());
    };
    let ev = event(
        c.id.get(),
        &job.guild_id,
        &job.conversation,
        c.user.id.get(),
        EventKind::Rating {
            survey_id: job.survey_id.clone(),
            rating,
        },
    );
    let value = rating.get() as i32;
    let outcome = bot
        .desk
        .commit(&Commit {
            events: vec![ev],
            surveys: vec![SurveyOp::Rating {
                survey_id: job.survey_id.clone(),
                rating: value,
            }],
            ..Commit::default()
        })
        .await?;
    if outcome == CommitOutcome::Conflict {
        // A newer answer withdrew it (or it closed) between the check and the click's commit.
        return ephemeral(ctx, c, t.survey_withdrawn).await;
    }
    c.create_response(
        &ctx.http,
        serenity::CreateInteractionResponse::UpdateMessage(
            serenity::CreateInteractionResponseMessage::new()
                .content(survey_text(t, Some(value), false))
                .components(survey_components(
                    &job.survey_id,
                    Some(rating.get()),
                    false,
                    t,
                )),
        ),
    )
    .await?;
    Ok(())
}

/// The comment typed in the form, at most 1,000 characters.
fn comment_text(m: &serenity::ModalInteraction) -> String {
    m.data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .find_map(|c| match c {
            serenity::ActionRowComponent::InputText(i) if i.custom_id == "comment" => {
                i.value.clone()
            }
            _ => None,
        })
        .unwrap_or_default()
        .chars()
        .take(1000)
        .collect()
}

/// The comment form, sent: the comment is stored with the survey.
pub async fn on_modal(
    ctx: &serenity::Context,
    bot: &Bot,
    m: &serenity::ModalInteraction,
) -> anyhow::Result<()> {
    let reply = |text: &str| {
        serenity::CreateInteractionResponse::Message(
            serenity::CreateInteractionResponseMessage::new()
                .content(text)
                .ephemeral(true),
        )
    };
    let Some(ComponentId::Comment { survey_id }) = parse_component_id(&m.data.custom_id) else {
        m.create_response(&ctx.http, reply("This form is not recognised."))
            .await?;
        return Ok(());
    };
    let Some(job) = bot.desk.store().survey(&survey_id).await? else {
        m.create_response(&ctx.http, reply("This survey no longer exists."))
            .await?;
        return Ok(());
    };
    let t = bot.texts(&job.guild_id).await;
    if m.user.id.to_string() != job.customer_id {
        m.create_response(&ctx.http, reply(t.survey_not_yours))
            .await?;
        return Ok(());
    }
    let text = comment_text(m);
    if text.trim().is_empty() {
        m.create_response(&ctx.http, reply("The comment is empty: nothing was saved."))
            .await?;
        return Ok(());
    }
    let ev = event(
        m.id.get(),
        &job.guild_id,
        &job.conversation,
        m.user.id.get(),
        EventKind::Comment {
            survey_id: job.survey_id.clone(),
            text,
        },
    );
    bot.desk.ingest(std::slice::from_ref(&ev)).await?;
    m.create_response(&ctx.http, reply(t.comment_saved)).await?;
    Ok(())
}
