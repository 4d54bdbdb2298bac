//! The facts of places (`domain::rollup::PlaceFacts`): the events a refresh replays, the
//! facts it finds there, and their replacement.

use super::rollups::{delete_keyed, mark, mark_versions, DIRTY_DAYS, DIRTY_PLACES, FACT_TABLES};
use super::{insert_rows, push_in, Db, Tx, INSERT_CHUNK};
use crate::domain::rollup::{ConversationFact, FactEnds, PlaceFacts, RequestFact, SurveyFact};
use crate::domain::Event;
use crate::store::backend::Dialect;
use crate::store::rows::EventRow;
use crate::store::{FactsUpdate, Result, StoreError};
use sqlx::{Pool, QueryBuilder};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A (guild, place) pair, as the facts' tables key them.
type PlaceKey<'a> = (&'a str, &'a str);

/// The events of these places (all of one guild), in no particular order.
pub(super) async fn events_of_places(
    pool: &Pool<Db>,
    guild_id: &str,
    conversations: &[String],
) -> Result<Vec<Event>> {
    // A refresh reads every event again: as one JSON array per chunk of places, so that each
    // event is not a row of its own to hand from the database's thread.
    type Columns = (
        String,
        String,
        String,
        String,
        i64,
        Option<String>,
        Option<i32>,
        Option<String>,
        Option<String>,
    );
    let mut out = Vec::new();
    for chunk in conversations.chunks(INSERT_CHUNK) {
        let (open, close) = Db::JSON_ROWS;
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT {open}id, conversation, kind, author_id, at_ms, survey_id, rating, \
             answer_message_id, body{close} FROM events WHERE guild_id = "
        ));
        qb.push_bind(guild_id.to_string());
        push_in(&mut qb, " AND conversation IN (", chunk);
        let (json,): (Option<String>,) = qb.build_query_as().fetch_one(pool).await?;
        let rows: Vec<Columns> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
            .map_err(|e| StoreError::Corrupt(format!("events of guild {guild_id}: {e}")))?;
        for (
            id,
            conversation,
            kind,
            author_id,
            at_ms,
            survey_id,
            rating,
            answer_message_id,
            body,
        ) in rows
        {
            out.push(Event::try_from(EventRow {
                id,
                guild_id: guild_id.to_string(),
                conversation,
                kind,
                author_id,
                at_ms,
                survey_id,
                rating,
                answer_message_id,
                body,
            })?);
        }
    }
    Ok(out)
}

/// The conversations of each place, by place and conversation id, as they are read.
type Conversations = HashMap<String, BTreeMap<String, ConversationFact>>;

/// The stored facts of these places (all of one guild), one per conversation key.
pub(super) async fn read(
    pool: &Pool<Db>,
    guild_id: &str,
    conversations: &[String],
) -> Result<HashMap<String, PlaceFacts>> {
    let mut convs: Conversations = HashMap::new();
    let mut surveys: HashMap<String, Vec<SurveyFact>> = HashMap::new();
    // One snapshot for all the statements: a refresh committing between two of them would
    // leave messages or requests of conversations the first one did not see.
    let mut tx = pool.begin_with(Db::BEGIN_SNAPSHOT).await?;
    for chunk in conversations.chunks(INSERT_CHUNK) {
        read_conversations(&mut tx, guild_id, chunk, &mut convs).await?;
        let mut qb = select_in(
            "conversation, survey_id, sent_ms, agent_id, rating",
            "kpi_surveys",
            guild_id,
            chunk,
        );
        // (place, survey, sent at, agent, rating)
        type Row = (String, String, i64, Option<String>, Option<i32>);
        let rows: Vec<Row> = qb.build_query_as().fetch_all(&mut *tx).await?;
        for (conversation, survey_id, sent_at, agent_id, rating) in rows {
            surveys.entry(conversation).or_default().push(SurveyFact {
                survey_id,
                sent_at,
                agent_id,
                rating: rating.map(|r| r as u8),
            });
        }
    }
    tx.commit().await?;
    let mut out: HashMap<String, PlaceFacts> = HashMap::new();
    for (conversation, list) in convs {
        let mut conversations: Vec<ConversationFact> = list.into_values().collect();
        for c in &mut conversations {
            c.messages.sort_unstable();
            c.requests.sort();
        }
        out.entry(conversation).or_default().conversations = conversations;
    }
    for (conversation, mut list) in surveys {
        list.sort_by(|a, b| a.survey_id.cmp(&b.survey_id));
        out.entry(conversation).or_default().surveys = list;
    }
    Ok(out)
}

/// `SELECT <columns> FROM <table>` of one guild's places among `chunk`.
fn select_in(columns: &str, table: &str, guild_id: &str, chunk: &[String]) -> QueryBuilder<Db> {
    let mut qb: QueryBuilder<Db> =
        QueryBuilder::new(format!("SELECT {columns} FROM {table} WHERE guild_id = "));
    qb.push_bind(guild_id.to_string());
    push_in(&mut qb, " AND conversation IN (", chunk);
    qb
}

/// Adds the conversations of the places in `chunk` to `convs`, with their messages, requests
/// and agents.
async fn read_conversations(
    tx: &mut super::Tx,
    guild_id: &str,
    chunk: &[String],
    convs: &mut Conversations,
) -> Result<()> {
    let query = |columns: &str, table: &str| select_in(columns, table, guild_id, chunk);
    let mut qb = query(CONVERSATION_COLUMNS, "kpi_conversations");
    let rows: Vec<ConversationRow> = qb.build_query_as().fetch_all(&mut **tx).await?;
    for row in rows {
        let (conversation, c) = conversation_fact(row);
        convs
            .entry(conversation)
            .or_default()
            .insert(c.id.clone(), c);
    }
    let mut qb = query("conversation, conv_id, at_ms", "kpi_messages");
    let rows: Vec<(String, String, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
    for (conversation, id, at) in rows {
        conversation_of(convs, "message", &conversation, &id)?
            .messages
            .push(at);
    }
    let mut qb = query(
        "conversation, conv_id, start_id, start_ms, answer_ms, agent_id, is_first, business_ms",
        "kpi_requests",
    );
    type Row = (
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<String>,
        i32,
        Option<i64>,
    );
    let rows: Vec<Row> = qb.build_query_as().fetch_all(&mut **tx).await?;
    for (conversation, id, start_id, start, answer_at, agent_id, is_first, business_ms) in rows {
        conversation_of(convs, "request", &conversation, &id)?
            .requests
            .push(RequestFact {
                start,
                start_id,
                answer_at,
                agent_id,
                is_first: is_first != 0,
                business_ms,
            });
    }
    let mut qb = query("conversation, conv_id, agent_id", "kpi_conv_agents");
    let rows: Vec<(String, String, String)> = qb.build_query_as().fetch_all(&mut **tx).await?;
    for (conversation, id, agent) in rows {
        conversation_of(convs, "agent", &conversation, &id)?
            .agents
            .insert(agent);
    }
    Ok(())
}

/// A conversation's columns, and its row: (place, id, opened, close, auto-close, lapse).
pub(super) const CONVERSATION_COLUMNS: &str =
    "conversation, conv_id, opened_ms, close_ms, auto_close_ms, lapses_ms";
pub(super) type ConversationRow = (String, String, i64, Option<i64>, Option<i64>, i64);

/// A conversation read from its row, with its place, without messages, requests or agents.
pub(super) fn conversation_fact(row: ConversationRow) -> (String, ConversationFact) {
    let (conversation, id, opened_at, close_at, auto_close_at, lapses_at) = row;
    let fact = ConversationFact {
        id,
        opened_at,
        messages: Vec::new(),
        requests: Vec::new(),
        agents: Default::default(),
        ends: FactEnds {
            close_at,
            auto_close_at,
            lapses_at,
        },
    };
    (conversation, fact)
}

/// The conversation `id` of a place, that `what` belongs to.
fn conversation_of<'c>(
    convs: &'c mut Conversations,
    what: &str,
    conversation: &str,
    id: &str,
) -> Result<&'c mut ConversationFact> {
    convs
        .get_mut(conversation)
        .and_then(|c| c.get_mut(id))
        .ok_or_else(|| StoreError::Corrupt(format!("{what} of unknown conversation {id}")))
}

/// Replaces the facts of each place still at the version read, marks the days they change
/// dirty and the places found irregular, in `tx`; returns how many were written.
pub(super) async fn write(tx: &mut Tx, updates: &[FactsUpdate]) -> Result<usize> {
    let mut by_guild: BTreeMap<&str, Vec<&FactsUpdate>> = BTreeMap::new();
    for u in updates {
        by_guild
            .entry(u.place.guild_id.as_str())
            .or_default()
            .push(u);
    }
    let mut written = 0;
    let mut irregular: BTreeSet<PlaceKey> = BTreeSet::new();
    let mut days: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (guild, list) in by_guild {
        for chunk in list.chunks(INSERT_CHUNK) {
            let fresh = still_current(tx, guild, chunk).await?;
            if fresh.is_empty() {
                continue;
            }
            written += fresh.len();
            let names: Vec<String> = fresh.iter().map(|u| u.place.conversation.clone()).collect();
            for table in std::iter::once(DIRTY_PLACES.table).chain(FACT_TABLES) {
                delete_keyed(tx, table, "conversation", guild, &names).await?;
            }
            for u in &fresh {
                if !u.regular {
                    irregular.insert((guild, u.place.conversation.as_str()));
                }
                days.extend(u.days.iter().map(|d| (guild, d.as_str())));
            }
            insert_conversations(tx, guild, &fresh).await?;
            irregular.extend(insert_surveys(tx, guild, &fresh).await?);
        }
    }
    for (guild, place) in irregular {
        sqlx::query(
            "INSERT INTO kpi_irregular (guild_id, conversation) VALUES ($1, $2) \
             ON CONFLICT (guild_id, conversation) DO NOTHING",
        )
        .bind(guild)
        .bind(place)
        .execute(&mut **tx)
        .await?;
    }
    let days: Vec<(&str, &str)> = days.into_iter().collect();
    mark(tx, DIRTY_DAYS, &days).await?;
    Ok(written)
}

/// The updates of `chunk` (all of `guild`) whose place is still at the version read: a newer
/// mark means newer events.
async fn still_current<'u>(
    tx: &mut Tx,
    guild: &str,
    chunk: &[&'u FactsUpdate],
) -> Result<Vec<&'u FactsUpdate>> {
    let names: Vec<String> = chunk.iter().map(|u| u.place.conversation.clone()).collect();
    let current = mark_versions(tx, DIRTY_PLACES, guild, &names).await?;
    Ok(chunk
        .iter()
        .copied()
        .filter(|u| current.get(&u.place.conversation) == Some(&u.place.version))
        .collect())
}

/// Inserts the conversations of the places of `fresh`, with their messages, requests and
/// agents.
async fn insert_conversations(tx: &mut Tx, guild: &str, fresh: &[&FactsUpdate]) -> Result<()> {
    let convs: Vec<(&str, &ConversationFact)> = fresh
        .iter()
        .flat_map(|u| {
            let place = u.place.conversation.as_str();
            u.facts.conversations.iter().map(move |c| (place, c))
        })
        .collect();
    let head = "INSERT INTO kpi_conversations (guild_id, conversation, conv_id, opened_ms, \
                close_ms, auto_close_ms, lapses_ms) ";
    insert_rows(tx, head, INSERT_CHUNK, &convs, |b, (place, c)| {
        b.push_bind(guild.to_string())
            .push_bind(place.to_string())
            .push_bind(c.id.clone())
            .push_bind(c.opened_at)
            .push_bind(c.ends.close_at)
            .push_bind(c.ends.auto_close_at)
            .push_bind(c.ends.lapses_at);
    })
    .await?;
    let messages: Vec<(&str, &str, i64)> = convs
        .iter()
        .flat_map(|(place, c)| {
            c.messages
                .iter()
                .map(move |at| (*place, c.id.as_str(), *at))
        })
        .collect();
    let head = "INSERT INTO kpi_messages (guild_id, conversation, conv_id, at_ms) ";
    insert_rows(tx, head, INSERT_CHUNK, &messages, |b, (place, id, at)| {
        b.push_bind(guild.to_string())
            .push_bind(place.to_string())
            .push_bind(id.to_string())
            .push_bind(*at);
    })
    .await?;
    let requests: Vec<(&str, &str, &RequestFact)> = convs
        .iter()
        .flat_map(|(place, c)| c.requests.iter().map(move |r| (*place, c.id.as_str(), r)))
        .collect();
    let head = "INSERT INTO kpi_requests (guild_id, conversation, conv_id, start_id, start_ms, \
                answer_ms, agent_id, is_first, business_ms) ";
    insert_rows(tx, head, INSERT_CHUNK, &requests, |b, (place, id, r)| {
        b.push_bind(guild.to_string())
            .push_bind(place.to_string())
            .push_bind(id.to_string())
            .push_bind(r.start_id.clone())
            .push_bind(r.start)
            .push_bind(r.answer_at)
            .push_bind(r.agent_id.clone())
            .push_bind(r.is_first as i32)
            .push_bind(r.business_ms);
    })
    .await?;
    let agents: Vec<(&str, &str, &str)> = convs
        .iter()
        .flat_map(|(place, c)| {
            c.agents
                .iter()
                .map(move |a| (*place, c.id.as_str(), a.as_str()))
        })
        .collect();
    let head = "INSERT INTO kpi_conv_agents (guild_id, conversation, conv_id, agent_id) ";
    insert_rows(tx, head, INSERT_CHUNK, &agents, |b, (place, id, agent)| {
        b.push_bind(guild.to_string())
            .push_bind(place.to_string())
            .push_bind(id.to_string())
            .push_bind(agent.to_string());
    })
    .await
}

/// Inserts the surveys of the places of `fresh`; returns the places found irregular: the same
/// survey id sent in two places, of which the guild's replay keeps only the first, which a
/// place alone cannot know.
async fn insert_surveys<'u>(
    tx: &mut Tx,
    guild: &'u str,
    fresh: &[&'u FactsUpdate],
) -> Result<Vec<PlaceKey<'u>>> {
    let surveys: Vec<(&str, &SurveyFact)> = fresh
        .iter()
        .flat_map(|u| {
            let place = u.place.conversation.as_str();
            u.facts.surveys.iter().map(move |s| (place, s))
        })
        .collect();
    let mut irregular = Vec::new();
    for part in surveys.chunks(INSERT_CHUNK) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO kpi_surveys (guild_id, conversation, survey_id, sent_ms, agent_id, rating) ",
        );
        qb.push_values(part, |mut b, (place, s)| {
            b.push_bind(guild.to_string())
                .push_bind(place.to_string())
                .push_bind(s.survey_id.clone())
                .push_bind(s.sent_at)
                .push_bind(s.agent_id.clone())
                .push_bind(s.rating.map(i32::from));
        });
        qb.push(" ON CONFLICT (guild_id, survey_id) DO NOTHING RETURNING survey_id");
        let stored: HashSet<String> = qb
            .build_query_as::<(String,)>()
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect();
        for (place, s) in part {
            if !stored.contains(&s.survey_id) {
                irregular.push((guild, *place));
            }
        }
    }
    Ok(irregular)
}
