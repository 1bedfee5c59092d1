//! The database of the database benches: SQLite in memory with one order, and the statement
//! they run.

use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};

/// The statement measured: `fetch_one` by id.
pub const SELECT: &str = "SELECT total FROM orders WHERE id = $1";

/// One connection (each connection to `sqlite::memory:` is a database of its own) to a table
/// `orders` holding order 1, of total 4200.
pub async fn orders_pool() -> SqlitePool {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("SQLite in memory");
    sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO orders (id, total) VALUES (1, 4200)")
        .execute(&pool)
        .await
        .unwrap();
    pool
}
