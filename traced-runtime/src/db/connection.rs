//! A traced connection of the pool: what [`TracedPool::acquire`](super::TracedPool::acquire)
//! returns.

use std::fmt;
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Connection as _, Database, Error, Executor};

use super::executor_impl::traced_executor;
use super::pool::transaction_call;
use super::{Shared, TracedDatabase, TracedTransaction};

/// A pooled connection whose statements are spans: pass `&mut conn` where sqlx takes an
/// executor. Dropping it returns the connection to the pool.
pub struct TracedPoolConnection<DB: Database> {
    conn: PoolConnection<DB>,
    pub(crate) shared: Arc<Shared>,
}

impl<DB: Database> fmt::Debug for TracedPoolConnection<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedPoolConnection")
            .field("instrumentation", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<DB: Database> TracedPoolConnection<DB> {
    pub(crate) fn new(conn: PoolConnection<DB>, shared: Arc<Shared>) -> Self {
        TracedPoolConnection { conn, shared }
    }
}

impl<DB> TracedPoolConnection<DB>
where
    DB: TracedDatabase,
{
    /// Begins a transaction on this connection: a `BEGIN` span.
    pub async fn begin(&mut self) -> Result<TracedTransaction<'_, DB>, Error> {
        let call = transaction_call(&self.shared, "BEGIN");
        match self.conn.begin().await {
            Ok(tx) => {
                call.finish_without_rows(None);
                Ok(TracedTransaction::new(tx, Arc::clone(&self.shared)))
            }
            Err(error) => {
                call.finish_without_rows(Some(&error));
                Err(error)
            }
        }
    }

    /// The connection itself, whose statements are not traced.
    pub fn as_untraced(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }

    /// The pooled connection itself, whose statements are not traced.
    pub fn into_untraced(self) -> PoolConnection<DB> {
        self.conn
    }
}

impl<'c, DB> Executor<'c> for &'c mut TracedPoolConnection<DB>
where
    DB: TracedDatabase,
{
    traced_executor!('c, DB, conn, |this| &mut *this.conn);
}
