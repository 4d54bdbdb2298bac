//! Satisfaction surveys: timers kept in the database (so a restart between an answer and its
//! survey still sends it), buttons with a versioned `custom_id` handled in the global event
//! handler (so a click works after a restart and hours later), and the daily load alert.

use super::relay::{channel, no_pings, on_team_choice, TEAM_PREFIX};
use super::{event, Bot, BotOptions};
use crate::domain::kpi::{local_day, Scope, Window};
use crate::domain::{snowflake_time, EventKind, Rating, DAY};
use crate::i18n::Texts;
use crate::store::{Commit, OutboxItem, OutboxOp, SurveyJob, SurveyOp, SurveyStatus};
use poise::serenity_prelude as serenity;
use std::sync::Arc;
use std::time::Instant;

/// What a button or menu of ours means. `custom_id`s are versioned (`v1`) so that a later
/// release can change them and still read the old ones still sitting in people's DMs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentId {
    Rate { survey_id: String, rating: Rating },
    Comment { survey_id: String },
    Team,
}

pub const RATE_PREFIX: &str = "survey:v1:";
pub const COMMENT_PREFIX: &str = "survey-comment:v1:";

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
        return (rest.parse::<u64>().is_ok_and(|v| v > 0)).then_some(ComponentId::Team);
    }
    None
}

/// The five rating buttons and the comment button. The chosen rating is highlighted.
pub fn survey_components(
    survey_id: &str,
    chosen: Option<u8>,
    disabled: bool,
    t: &Texts,
) -> Vec<serenity::CreateActionRow> {
    let buttons = (1..=5u8)
        .map(|n| {
            serenity::CreateButton::new(format!("{RATE_PREFIX}{survey_id}:{n}"))
                .label(n.to_string())
                .style(if chosen == Some(n) {
                    serenity::ButtonStyle::Primary
                } else {
                    serenity::ButtonStyle::Secondary
                })
                .disabled(disabled)
        })
        .collect();
    let comment = serenity::CreateButton::new(format!("{COMMENT_PREFIX}{survey_id}"))
        .label(t.survey_add_comment)
        .style(serenity::ButtonStyle::Secondary)
        .disabled(disabled);
    vec![
        serenity::CreateActionRow::Buttons(buttons),
        serenity::CreateActionRow::Buttons(vec![comment]),
    ]
}

fn survey_text(t: &Texts, rating: Option<i32>, closed: bool) -> String {
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

pub async fn ephemeral(
    ctx: &serenity::Context,
    c: &serenity::ComponentInteraction,
    text: &str,
) -> anyhow::Result<()> {
    c.create_response(
        &ctx.http,
        serenity::CreateInteractionResponse::Message(
            serenity::CreateInteractionResponseMessage::new()
                .content(text)
                .ephemeral(true),
        ),
    )
    .await?;
    Ok(())
}

/// The edit that takes a survey's buttons away once a newer answer replaced it.
pub fn withdraw_edit(
    t: &Texts,
    job: &SurveyJob,
    channel_id: &str,
    message_id: &str,
    now: crate::domain::Millis,
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

/// Queues the surveys whose agent has been silent long enough, and sends them.
async fn send_due(bot: &Bot, http: &serenity::Http) -> anyhow::Result<()> {
    let store = bot.desk.store();
    for job in store.due_surveys(bot.now(), 50).await? {
        let t = bot.texts(&job.guild_id).await;
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
            bot.now(),
        );
        item.survey_id = Some(job.survey_id.clone());
        let item = item.in_place(&job.guild_id, &job.conversation);
        let commit = Commit {
            surveys: vec![SurveyOp::StartSending {
                survey_id: job.survey_id.clone(),
            }],
            outbox: vec![OutboxOp::enqueue(item)],
            ..Commit::default()
        };
        super::outbox::commit_and_send(bot, http, commit).await?;
    }
    Ok(())
}

/// Disables the buttons of surveys whose rating window has passed.
async fn close_expired(bot: &Bot, http: &serenity::Http) -> anyhow::Result<()> {
    let store = bot.desk.store();
    for job in store.surveys_to_close(bot.now() - DAY, 50).await? {
        let t = bot.texts(&job.guild_id).await;
        let mut commit = Commit {
            surveys: vec![SurveyOp::Status {
                survey_id: job.survey_id.clone(),
                from: vec![SurveyStatus::Sent],
                status: SurveyStatus::Closed,
            }],
            ..Commit::default()
        };
        if let Some(m) = job.message_id.as_deref().filter(|m| !m.is_empty()) {
            let edit = serenity::EditMessage::new()
                .content(survey_text(t, job.rating, true))
                .components(survey_components(
                    &job.survey_id,
                    job.rating.map(|r| r as u8),
                    true,
                    t,
                ));
            commit.outbox.push(OutboxOp::enqueue(
                OutboxItem::patch(
                    format!("close:{}", job.survey_id),
                    &job.channel_id,
                    m,
                    serde_json::to_value(&edit)?,
                    bot.now(),
                )
                .in_place(&job.guild_id, &job.conversation),
            ));
        }
        super::outbox::commit_and_send(bot, http, commit).await?;
    }
    Ok(())
}

/// Posts "load is rising while responsiveness falls" in each guild's alert channel, at most once
/// a day.
async fn load_alerts(bot: &Bot, http: &serenity::Http) -> anyhow::Result<()> {
    let store = bot.desk.store();
    let now = bot.now();
    let mut guilds: Vec<String> = store.all_guild_rules().await?.into_keys().collect();
    guilds.extend(store.guilds_with_staff_channel().await?);
    guilds.sort();
    guilds.dedup();
    for guild in guilds {
        let setup = store.discord_setup(&guild).await?;
        let Some(alert_channel) = setup.alert_channel_id else {
            continue;
        };
        let scope = Scope {
            guild_id: Some(guild.clone()),
            ..Scope::default()
        };
        let report = bot.desk.report(&scope, Window::last_days(now, 7)).await?;
        let Some(alert) = &report.load_alert else {
            continue;
        };
        let rules = store.guild_rules(&guild).await?;
        let day = local_day(&rules.timezone, now).to_string();
        let t = crate::i18n::texts(rules.locale);
        let text = crate::report::text::load_alert_line(alert, t, "the previous 7 days");
        let mut item =
            OutboxItem::post_text(format!("alert:{guild}:{day}"), &alert_channel, &text, now);
        item.guild_id = Some(guild.clone());
        let commit = Commit {
            alert_day: Some((guild.clone(), day)),
            outbox: vec![OutboxOp::enqueue(item)],
            ..Commit::default()
        };
        super::outbox::commit_and_send(bot, http, commit).await?;
    }
    Ok(())
}

pub async fn run_timers(bot: Arc<Bot>, http: Arc<serenity::Http>, options: BotOptions) {
    let mut tick = tokio::time::interval(options.survey_tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_alert: Option<Instant> = None;
    // While the database is unreachable every step fails the same way: say it once.
    let mut db_down = false;
    while !bot.stopping() {
        tick.tick().await;
        if bot.stopping() {
            break;
        }
        let mut failures: Vec<(&str, anyhow::Error)> = Vec::new();
        if let Err(e) = send_due(&bot, &http).await {
            failures.push(("sending due surveys", e));
        }
        if let Err(e) = super::outbox::deliver_due(&bot, &http).await {
            failures.push(("delivering queued messages", e));
        }
        if let Err(e) = close_expired(&bot, &http).await {
            failures.push(("closing surveys", e));
        }
        if last_alert.is_none_or(|t| t.elapsed() >= options.alert_every) {
            last_alert = Some(Instant::now());
            if let Err(e) = load_alerts(&bot, &http).await {
                failures.push(("checking the load alert", e));
            }
        }
        let unreachable = failures
            .iter()
            .any(|(_, e)| super::handler::database_unreachable(e));
        if unreachable && !db_down {
            tracing::error!("the database is unreachable; timers and deliveries wait for it");
        } else if !unreachable && db_down {
            tracing::info!("the database answers again");
        }
        db_down = unreachable;
        if !unreachable {
            for (what, e) in failures {
                tracing::warn!(error = %format!("{e:#}"), "{what} failed; will retry");
            }
            // Beside the timers, one at a time: a long read-back must not stop deliveries.
            if !bot.filling.swap(true, std::sync::atomic::Ordering::SeqCst) {
                let filler = Arc::clone(&bot);
                tokio::spawn(async move {
                    super::catchup::fill_holes(&filler).await;
                    filler
                        .filling
                        .store(false, std::sync::atomic::Ordering::SeqCst);
                });
            }
        }
    }
}

pub async fn on_component(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    c: &serenity::ComponentInteraction,
) -> anyhow::Result<()> {
    match parse_component_id(&c.data.custom_id) {
        Some(ComponentId::Team) => on_team_choice(ctx, bot, c).await,
        Some(ComponentId::Rate { survey_id, rating }) => {
            rate(ctx, bot, c, &survey_id, rating).await
        }
        Some(ComponentId::Comment { survey_id }) => {
            let Some((job, t)) = open_survey_for(ctx, bot, c, &survey_id).await? else {
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
                    serenity::CreateModal::new(
                        format!("{COMMENT_PREFIX}{}", job.survey_id),
                        t.comment_title,
                    )
                    .components(vec![serenity::CreateActionRow::InputText(input)]),
                ),
            )
            .await?;
            Ok(())
        }
        None => {
            tracing::warn!(custom_id = %c.data.custom_id, user = %c.user.id, "unknown component");
            ephemeral(
                ctx,
                c,
                "This button is not recognised (it may come from an older message).",
            )
            .await
        }
    }
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

async fn rate(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
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
    if outcome == crate::store::CommitOutcome::Conflict {
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

pub async fn on_modal(
    ctx: &serenity::Context,
    bot: &Arc<Bot>,
    m: &serenity::ModalInteraction,
) -> anyhow::Result<()> {
    let reply = |text: String| {
        serenity::CreateInteractionResponse::Message(
            serenity::CreateInteractionResponseMessage::new()
                .content(text)
                .ephemeral(true),
        )
    };
    let Some(ComponentId::Comment { survey_id }) = parse_component_id(&m.data.custom_id) else {
        m.create_response(&ctx.http, reply("This form is not recognised.".into()))
            .await?;
        return Ok(());
    };
    let Some(job) = bot.desk.store().survey(&survey_id).await? else {
        m.create_response(&ctx.http, reply("This survey no longer exists.".into()))
            .await?;
        return Ok(());
    };
    let t = bot.texts(&job.guild_id).await;
    if m.user.id.to_string() != job.customer_id {
        m.create_response(&ctx.http, reply(t.survey_not_yours.into()))
            .await?;
        return Ok(());
    }
    let text: String = m
        .data
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
        .collect();
    if text.trim().is_empty() {
        m.create_response(
            &ctx.http,
            reply("The comment is empty: nothing was saved.".into()),
        )
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
    m.create_response(&ctx.http, reply(t.comment_saved.into()))
        .await?;
    Ok(())
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
        assert_eq!(parse_component_id("team:v1:99"), Some(ComponentId::Team));
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
