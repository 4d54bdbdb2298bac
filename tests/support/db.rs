//! A fresh, real database per test: a SQLite file in a temporary folder, or a new PostgreSQL
//! database on the server named by REACTIF_TEST_POSTGRES_URL (dropped again by `cleanup`).

use reactif::store::{self, DynStore};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};

pub const PG_ENV: &str = "REACTIF_TEST_POSTGRES_URL";

pub struct TestDb {
    pub url: String,
    pub store: DynStore,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<(String, String)>,
}

impl TestDb {
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin, name)) = self.pg_name {
            if let Ok(mut conn) = PgConnection::connect(&admin).await {
                let _ = conn
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await;
            }
        }
    }
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("reactif.db").display());
    let store = store::open(&url).await.expect("a fresh SQLite database");
    TestDb {
        url,
        store,
        _dir: Some(dir),
        pg_name: None,
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A new, empty PostgreSQL database. Panics with a clear message when the server named by
/// REACTIF_TEST_POSTGRES_URL does not answer: the PostgreSQL suite must not pass silently.
pub async fn postgres() -> TestDb {
    let admin = std::env::var(PG_ENV).unwrap_or_else(|_| {
        panic!("{PG_ENV} is not set (e.g. postgres://postgres@127.0.0.1:5432/test)")
    });
    let name = format!(
        "reactif_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_millis() % 1_000_000
    );
    let mut conn = PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} does not answer: {e}"));
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    let _ = conn.close().await;
    let base = admin.split('?').next().unwrap_or(&admin);
    let url = match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |s| s + 2) => format!("{}/{name}", &base[..i]),
        _ => format!("{base}/{name}"),
    };
    let store = store::open(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    TestDb {
        url,
        store,
        _dir: None,
        pg_name: Some((admin, name)),
    }
}
