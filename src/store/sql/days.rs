//! The stored days (`kpi_days`) and their delay blocks (`kpi_delay_blocks`): written by a
//! refresh, read by reports.

use super::rollups::{delete_keyed, mark_versions, DIRTY_DAYS};
use super::{insert_rows, Db, Tx, INSERT_CHUNK};
use crate::domain::delay_kind::DelayKind;
use crate::domain::percentile::BlockKey;
use crate::domain::rollup::{
    day_key, parse_day_key, Block, Part, Piece, ServicePart, ServicePiece,
};
use crate::store::backend::Dialect;
use crate::store::{DayRollup, DayUpdate, Result, StoreError};
use sqlx::Pool;
use std::collections::{BTreeMap, HashMap};

/// Stores the pieces of the days still at the version read, with their delay blocks, in
/// `tx`; returns how many.
pub(super) async fn write(tx: &mut Tx, updates: &[DayUpdate]) -> Result<usize> {
    let mut by_guild: BTreeMap<&str, Vec<&DayUpdate>> = BTreeMap::new();
    for u in updates {
        by_guild.entry(u.day.guild_id.as_str()).or_default().push(u);
    }
    let mut written = 0;
    for (guild, list) in by_guild {
        for chunk in list.chunks(INSERT_CHUNK) {
            let names: Vec<String> = chunk.iter().map(|u| u.day.day.clone()).collect();
            // Only days still at the version read: a newer mark means newer facts.
            let current = mark_versions(tx, DIRTY_DAYS, guild, &names).await?;
            let fresh: Vec<&DayUpdate> = chunk
                .iter()
                .copied()
                .filter(|u| current.get(&u.day.day) == Some(&u.day.version))
                .collect();
            if fresh.is_empty() {
                continue;
            }
            written += fresh.len();
            let names: Vec<String> = fresh.iter().map(|u| u.day.day.clone()).collect();
            for table in [DIRTY_DAYS.table, "kpi_days", "kpi_delay_blocks"] {
                delete_keyed(tx, table, "day", guild, &names).await?;
            }
            insert_days(tx, guild, &fresh).await?;
        }
    }
    Ok(written)
}

/// Inserts the parts and delay blocks of `fresh` (all of `guild`).
async fn insert_days(tx: &mut Tx, guild: &str, fresh: &[&DayUpdate]) -> Result<()> {
    // An empty day has no row: a missing row is a day with nothing in it.
    let days: Vec<&DayUpdate> = fresh
        .iter()
        .copied()
        .filter(|u| u.piece != Piece::default() || u.service != ServicePiece::default())
        .collect();
    let head = "INSERT INTO kpi_days (guild_id, day, data, agents, service, service_agents) ";
    insert_rows(tx, head, 100, &days, |b, u| {
        b.push_bind(guild.to_string())
            .push_bind(u.day.day.clone())
            .push_bind(u.piece.guild.encode())
            .push_bind(u.piece.encode_agents())
            .push_bind(u.service.guild.encode())
            .push_bind(u.service.encode_agents());
    })
    .await?;
    let blocks: Vec<(&str, &Block)> = fresh
        .iter()
        .flat_map(|u| u.blocks.iter().map(move |b| (u.day.day.as_str(), b)))
        .collect();
    let head = "INSERT INTO kpi_delay_blocks (guild_id, day, kind, first_bucket, data) ";
    insert_rows(tx, head, INSERT_CHUNK, &blocks, |b, (day, block)| {
        b.push_bind(guild.to_string())
            .push_bind(day.to_string())
            .push_bind(block.kind.code() as i64)
            .push_bind(block.first as i64)
            .push_bind(block.data.clone());
    })
    .await
}

/// The guild's stored days `from_day..=to_day`, with the agents' parts only if `agents`.
pub(super) async fn stored(
    pool: &Pool<Db>,
    guild_id: &str,
    from_day: &str,
    to_day: &str,
    agents: bool,
) -> Result<Vec<DayRollup>> {
    // NULL decodes as an absent blob whatever the backend calls its type.
    let sql = if agents {
        "SELECT day, data, agents, service, service_agents FROM kpi_days \
         WHERE guild_id = $1 AND day >= $2 AND day <= $3"
    } else {
        "SELECT day, data, NULL, service, NULL FROM kpi_days \
         WHERE guild_id = $1 AND day >= $2 AND day <= $3"
    };
    type Row = (
        String,
        Vec<u8>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        Option<Vec<u8>>,
    );
    let rows: Vec<Row> = sqlx::query_as(sql)
        .bind(guild_id)
        .bind(from_day)
        .bind(to_day)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(day, data, agents, service, service_agents)| {
            let corrupt = || StoreError::Corrupt(format!("rollup of {guild_id} on {day}"));
            let guild = Part::decode(&data).ok_or_else(corrupt)?;
            // A day summed before migration 0018 has no service part: it is marked dirty, so
            // the refresh that precedes every report has summed it again.
            let service = service
                .as_deref()
                .and_then(ServicePart::decode)
                .ok_or_else(corrupt)?;
            Ok(DayRollup {
                day,
                guild,
                agents: agents.unwrap_or_default(),
                service,
                service_agents: service_agents.unwrap_or_default(),
            })
        })
        .collect()
}

/// The guild's delay blocks at `keys`, by key; a key with no block is left out.
pub(super) async fn blocks(
    pool: &Pool<Db>,
    guild_id: &str,
    keys: &[BlockKey],
) -> Result<HashMap<BlockKey, Vec<u8>>> {
    // The keys go as one JSON bind, so that the statement's text is the same for any number
    // of them: prepared once per connection, not parsed and planned again with a thousand
    // placeholders at each report.
    let json = serde_json::Value::Array(
        keys.iter()
            .map(|k| {
                let (day, kind, first) = (day_key(k.day), k.kind.code() as i64, k.first as i64);
                serde_json::json!({"d": day, "k": kind, "f": first})
            })
            .collect(),
    )
    .to_string();
    let rows: Vec<(String, i64, i64, Vec<u8>)> = sqlx::query_as(Db::BLOCKS_BY_KEYS)
        .bind(guild_id)
        .bind(json)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(day, kind, first, data)| {
            let corrupt = || StoreError::Corrupt(format!("delay block of {guild_id} on {day}"));
            let key = BlockKey {
                day: parse_day_key(&day).ok_or_else(corrupt)?,
                kind: u8::try_from(kind)
                    .ok()
                    .and_then(DelayKind::from_code)
                    .ok_or_else(corrupt)?,
                first: u16::try_from(first).map_err(|_| corrupt())?,
            };
            Ok((key, data))
        })
        .collect()
}
