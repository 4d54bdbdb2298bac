//! The daily load alert: "load is rising while responsiveness falls", posted in each guild's
//! alert channel at most once a (local) day.

use super::bot::Bot;
use crate::domain::kpi::{local_day, Scope, Window};
use crate::store::{Commit, OutboxItem, OutboxOp};

/// Posts the alert in each guild whose last 7 days call for it.
pub async fn load_alerts(bot: &Bot) -> anyhow::Result<()> {
    let store = bot.desk.store();
    let now = bot.now();
    let mut guilds: Vec<String> = store.all_guild_rules().await?.into_keys().collect();
    guilds.extend(store.guilds_with_staff_channel().await?);
    guilds.sort();
    guilds.dedup();
    // Each guild's alert is its shard's process's to post.
    guilds.retain(|g| bot.shards.owns_guild(Some(g)));
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
        let text = crate::report::text::load_alert_line(alert, t, t.against_previous_7_days);
        let mut item =
            OutboxItem::post_text(format!("alert:{guild}:{day}"), &alert_channel, &text, now);
        item.guild_id = Some(guild.clone());
        let commit = Commit {
            alert_day: Some((guild.clone(), day)),
            outbox: vec![OutboxOp::enqueue(item)],
            ..Commit::default()
        };
        let sent = bot.outbox.commit_and_send(commit).await?;
        bot.outbox.leave(sent.follow_ups);
    }
    Ok(())
}
