//! Migrations that change existing data, checked on data written before them: on SQLite always, on
//! PostgreSQL when `GARRISON_TEST_POSTGRES_URL` is set.

use diesel::{
    Connection, PgConnection, RunQueryDsl, SqliteConnection, backend::Backend, migration::MigrationConnection,
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use garrison_core::{
    ApiKeyId, MemberKey, RobloxUserId, ServerId, Timestamp,
    ports::XpLedger,
    xp::{Actor, HistoryPage, Reference, XpChange, XpMutation, XpOperation, XpOutcome},
};
use garrison_storage::{Database, DieselXpLedger, PoolSizes};
use garrison_testkit::TestDatabase;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The migration that made XP references labels.
const LABELS: &str = "2026-12-04-100000_xp_idempotency_keys";

/// Applies every migration older than `LABELS`.
fn migrate_before<DB: Backend, C: MigrationHarness<DB> + MigrationConnection>(
    conn: &mut C,
    source: EmbeddedMigrations,
) {
    conn.setup().expect("the migrations table");
    let migrations = diesel::migration::MigrationSource::<DB>::migrations(&source).expect("migrations");
    for migration in migrations.iter().filter(|m| m.name().to_string().as_str() < LABELS) {
        conn.run_migration(&**migration).expect("older migration");
    }
}

/// Ledger rows as the old schema kept them: references unique per server, used as idempotency keys.
const OLD_ROWS: &str = "INSERT INTO xp_ledger (server_id, roblox_id, operation, amount, delta, balance, reference, reason, key_id, key_name, at) VALUES
    (10, 5, 'add', 40, 40, 40, 'Weekly patrol', 'patrol', 1, 'bot', 1000),
    (10, 5, 'add', 10, 10, 50, NULL, NULL, 1, 'bot', 2000),
    (10, 5, 'subtract', 5, -5, 45, 'order-9', NULL, 1, 'bot', 3000)";

#[derive(Debug, diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

fn labels_survive_the_migration(fresh: &TestDatabase) {
    let db = Database::open(fresh.url(), PoolSizes::default()).expect("open");
    let ids = db
        .with_connection(|conn| {
            diesel::sql_query(
                "INSERT INTO xp_balances (server_id, roblox_id, xp, last_decrease) VALUES (10, 5, 45, 5)",
            )
            .execute(conn)?;
            diesel::sql_query(OLD_ROWS).execute(conn)?;
            diesel::sql_query("SELECT id FROM xp_ledger ORDER BY id DESC").load::<Id>(conn)
        })
        .expect("rows in the old schema");
    let ids: Vec<i64> = ids.iter().map(|row| row.id).collect();
    let applied = db.migrate().expect("migrate");
    assert!(applied.iter().any(|version| version == "20261204100000"), "{applied:?}");

    let ledger = DieselXpLedger::new(db.clone());
    let member = MemberKey { server: ServerId::from_stored(10), member: RobloxUserId::from_stored(5) };
    let history = ledger.history(member, HistoryPage { limit: 10, before: None }).expect("history");
    assert_eq!(history.iter().map(|e| e.id).collect::<Vec<_>>(), ids, "every row kept, with its id");
    let kept: Vec<(i64, Option<&str>, Option<&str>)> =
        history.iter().map(|e| (e.delta, e.reference.as_deref(), e.reason.as_deref())).collect();
    assert_eq!(kept, [(-5, Some("order-9"), None), (10, None, None), (40, Some("Weekly patrol"), Some("patrol"))]);
    // The old references are labels now: reusing one makes a new change.
    let award = XpMutation {
        member,
        change: XpChange::new(XpOperation::Add, 40).expect("valid"),
        reference: Some(Reference::parse("Weekly patrol").expect("valid")),
        reason: None,
        actor: Actor { key_id: Some(ApiKeyId(1)), key_name: "bot".into() },
        at: Timestamp(4000),
        idempotency: None,
    };
    assert_eq!(ledger.apply(&award).expect("award"), XpOutcome::Applied { balance: 85, delta: 40 });
    let newest = ledger.history(member, HistoryPage { limit: 1, before: None }).expect("history");
    assert!(newest[0].id > ids[0], "new ids continue after the kept ones: {newest:?}");
}

#[test]
fn sqlite_xp_references_become_labels_without_losing_rows() {
    let fresh = TestDatabase::sqlite();
    let path = fresh.url().strip_prefix("sqlite://").expect("sqlite url");
    let mut conn = SqliteConnection::establish(path).expect("connect");
    migrate_before(&mut conn, SQLITE);
    drop(conn);
    labels_survive_the_migration(&fresh);
}

#[test]
fn postgres_xp_references_become_labels_without_losing_rows() {
    let Some(server) = garrison_testkit::postgres_url() else {
        garrison_testkit::report_skip("storage migrations postgres");
        return;
    };
    let fresh = TestDatabase::postgres(&server);
    let mut conn = PgConnection::establish(fresh.url()).expect("connect");
    migrate_before(&mut conn, POSTGRES);
    drop(conn);
    labels_survive_the_migration(&fresh);
}
