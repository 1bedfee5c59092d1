//! The guide's order flow with its orders in a database: every SQL statement a span under the
//! `#[traced]` function that ran it, as `SQLAlchemyInstrumentor` gives the guide's Python service.
//!
//! SQLite in memory by default; the database of `DATABASE_URL` when set (`postgres://…`,
//! `mysql://…`, `mariadb://…`). It creates its table, places and reads an order, runs one
//! statement on a missing table and handles the error, drops its table.
//!
//! ```sh
//! cargo run --example orders_db --features db                     # SQLite in memory, the trace on the console
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run --example orders_db --features db
//! DATABASE_URL=mysql://root@127.0.0.1:3306/test cargo run --example orders_db --features db
//! OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
//!   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 cargo run --example orders_db --features db
//! ```

use sqlx::{AssertSqlSafe, Database, Decode, Encode, IntoArguments, Type};
use traced_runtime::db::{self, Instrumentation, TracedDatabase, TracedPool};
use traced_runtime::traced;

/// The table, unique per run so that runs against a shared server do not collide.
fn table() -> String {
    format!("orders_example_{}", std::process::id())
}

/// What the flow needs of a sqlx database: `i64` and `String` in and out. (An application
/// with one database writes none of this: its functions take `&TracedPool<Postgres>`.)
trait OrdersDb: TracedDatabase {
    /// The n-th placeholder: `$1` or `?`.
    fn placeholder(n: usize) -> String;
}

impl OrdersDb for sqlx::Postgres {
    fn placeholder(n: usize) -> String {
        format!("${n}")
    }
}

impl OrdersDb for sqlx::MySql {
    fn placeholder(_: usize) -> String {
        "?".to_owned()
    }
}

impl OrdersDb for sqlx::Sqlite {
    fn placeholder(n: usize) -> String {
        format!("${n}")
    }
}

#[traced(attrs(order.id = order_id))]
async fn place_order<DB>(
    pool: &TracedPool<DB>,
    order_id: i64,
    customer: &str,
    total_cents: i64,
) -> Result<(), sqlx::Error>
where
    DB: OrdersDb,
    <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    let p = DB::placeholder;
    // A transaction: BEGIN, the INSERT and COMMIT are spans under `place_order`.
    let mut tx = pool.begin().await?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {} (id, customer, total_cents) VALUES ({}, {}, {})",
        table(),
        p(1),
        p(2),
        p(3)
    )))
    .bind(order_id)
    .bind(customer) // bound values are never recorded
    .bind(total_cents)
    .execute(&mut tx)
    .await?;
    tx.commit().await
}

#[traced(attrs(order.id = order_id))]
async fn read_order<DB>(pool: &TracedPool<DB>, order_id: i64) -> Result<(String, i64), sqlx::Error>
where
    DB: OrdersDb,
    <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> (String, i64): sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT customer, total_cents FROM {} WHERE id = {}",
        table(),
        DB::placeholder(1)
    )))
    .bind(order_id)
    .fetch_one(pool)
    .await
}

/// A statement on a table that does not exist: its span is an error, and so is this function's
/// (the `?`); the caller handles it.
#[traced]
async fn read_archive<DB>(pool: &TracedPool<DB>) -> Result<u64, sqlx::Error>
where
    DB: OrdersDb,
    <DB as Database>::Arguments: IntoArguments<DB>,
{
    let result = sqlx::query("SELECT * FROM orders_archive_missing")
        .execute(pool)
        .await?;
    let _ = result;
    Ok(0)
}

#[traced]
async fn run<DB>(pool: TracedPool<DB>) -> Result<(), sqlx::Error>
where
    DB: OrdersDb,
    <DB as Database>::Arguments: IntoArguments<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB> + Decode<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> (String, i64): sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TABLE {} (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL, total_cents BIGINT NOT NULL)",
        table()
    )))
    .execute(&pool)
    .await?;

    let flow = async {
        place_order(&pool, 7, "ann@example.com", 4250).await?;
        let (customer, total) = read_order(&pool, 7).await?;
        println!("order 7: {customer}, {total} cents");
        match read_archive(&pool).await {
            Ok(_) => println!("archive read"),
            Err(error) => println!("no archive ({error}); carrying on"),
        }
        Ok::<_, sqlx::Error>(())
    };
    let result = flow.await;
    sqlx::query(AssertSqlSafe(format!("DROP TABLE {}", table())))
        .execute(&pool)
        .await?;
    result
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = traced_runtime::Telemetry::builder()
        .service_name("orders-db")
        .service_version(env!("CARGO_PKG_VERSION"))
        .console_by_default()
        .install()?;

    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    let result = if url.starts_with("postgres") {
        run(db::instrument(sqlx::PgPool::connect(&url).await?)).await
    } else if url.starts_with("mariadb") {
        // sqlx's MySQL driver does not tell MariaDB apart: say it.
        let url = url.replacen("mariadb", "mysql", 1);
        let pool = sqlx::MySqlPool::connect(&url).await?;
        run(Instrumentation::new()
            .system_name("mariadb")
            .instrument(pool))
        .await
    } else if url.starts_with("mysql") {
        run(db::instrument(sqlx::MySqlPool::connect(&url).await?)).await
    } else {
        // One connection: each connection to `sqlite::memory:` is a database of its own.
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await?;
        run(db::instrument(pool)).await
    };
    telemetry.shutdown()?;
    Ok(result?)
}
