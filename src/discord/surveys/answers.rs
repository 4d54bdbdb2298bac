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
    .max_length(COMMENT_MAX_CHARS as u16)
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
        ephemeral(
            ctx,
            c,
            "This survey no longer exists. / Ce questionnaire n'existe plus.",
        )
        .await?;
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
    if let Some(text) = refusal(bot, &job, c.user.id, c.id.get(), t).await? {
        ephemeral(ctx, c, text).await?;
        return Ok(None);
    }
    Ok(Some((job, t)))
}

/// Why `user` may not answer `job` with the interaction `interaction_id` (whose snowflake is
/// the time of the click or the form), if they may not: not their survey, or no longer open.
async fn refusal(
    bot: &Bot,
    job: &SurveyJob,
    user: serenity::UserId,
    interaction_id: u64,
    t: &'static Texts,
) -> anyhow::Result<Option<&'static str>> {
    if user.to_string() != job.customer_id {
        return Ok(Some(t.survey_not_yours));
    }
    Ok(match job.status {
        SurveyStatus::Withdrawn | SurveyStatus::Cancelled => Some(t.survey_withdrawn),
        SurveyStatus::Closed | SurveyStatus::Scheduled | SurveyStatus::Sending => {
            Some(t.survey_closed)
        }
        SurveyStatus::Sent => {
            let rules = bot.rules(&job.guild_id).await?;
            let at = snowflake_time(interaction_id);
            job.sent_at
                .is_some_and(|s| at > s + rules.survey_close_ms)
                .then_some(t.survey_closed)
        }
    })
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

/// The longest comment kept (the form says so too; a forged form is refused beyond it).
pub const COMMENT_MAX_CHARS: usize = 1_000;

/// The comment typed in the form.
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
}

/// The comment form, sent: the comment is stored with the survey, if it is its customer's,
/// the survey is still open, and the comment is not empty nor over the cap.
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
        m.create_response(
            &ctx.http,
            reply("This form is not recognised. / Ce formulaire n'est pas reconnu."),
        )
        .await?;
        return Ok(());
    };
    let Some(job) = bot.desk.store().survey(&survey_id).await? else {
        m.create_response(
            &ctx.http,
            reply("This survey no longer exists. / Ce questionnaire n'existe plus."),
        )
        .await?;
        return Ok(());
    };
    let t = bot.texts(&job.guild_id).await;
    if let Some(text) = refusal(bot, &job, m.user.id, m.id.get(), t).await? {
        m.create_response(&ctx.http, reply(text)).await?;
        return Ok(());
    }
    let text = comment_text(m);
    let refused = if text.trim().is_empty() {
        Some(t.comment_empty)
    } else if text.chars().count() > COMMENT_MAX_CHARS {
        Some(t.comment_too_long)
    } else {
        None
    };
    if let Some(why) = refused {
        m.create_response(&ctx.http, reply(why)).await?;
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
