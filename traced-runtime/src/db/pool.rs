//! The traced pool: what [`instrument`](super::instrument) returns.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use sqlx::{Database, Error, Executor, Pool};

use super::executor::Call;
use super::executor_impl::traced_executor;
use super::{Shared, TracedDatabase, TracedPoolConnection, TracedTransaction};

/// A sqlx [`Pool`] whose statements are spans: pass `&pool` wherever sqlx takes an executor.
///
/// It dereferences to the pool for everything else (`size`, `close`, `options`); `acquire` and
/// `begin` are its own and hand out traced connections and transactions. Cloning is cheap and
/// shares the pool, as `Pool::clone` does.
pub struct TracedPool<DB: Database> {
    pool: Pool<DB>,
    pub(crate) shared: Arc<Shared>,
}

impl<DB: Database> Clone for TracedPool<DB> {
    fn clone(&self) -> Self {
        TracedPool {
            pool: self.pool.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<DB: Database> fmt::Debug for TracedPool<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedPool")
            .field("pool", &self.pool)
            .field("instrumentation", &self.shared)
            .finish()
    }
}

impl<DB: Database> Deref for TracedPool<DB> {
    type Target = Pool<DB>;

    fn deref(&self) -> &Pool<DB> {
        &self.pool
    }
}

impl<DB: Database> TracedPool<DB> {
    pub(crate) fn new(pool: Pool<DB>, shared: Arc<Shared>) -> Self {
        TracedPool { pool, shared }
    }
}

impl<DB> TracedPool<DB>
where
    DB: TracedDatabase,
{
    /// A connection of the pool, traced (`Pool::acquire`). The wait is not a span.
    pub async fn acquire(&self) -> Result<TracedPoolConnection<DB>, Error> {
        let conn = self.pool.acquire().await?;
        Ok(TracedPoolConnection::new(conn, Arc::clone(&self.shared)))
    }

    /// Begins a transaction on a connection of the pool (`Pool::begin`): a `BEGIN` span.
    pub async fn begin(&self) -> Result<TracedTransaction<'static, DB>, Error> {
        let call = transaction_call(&self.shared, "BEGIN");
        match self.pool.begin().await {
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

    /// The pool itself, whose statements are not traced.
    pub fn as_untraced(&self) -> &Pool<DB> {
        &self.pool
    }

    /// The pool itself, whose statements are not traced.
    pub fn into_untraced(self) -> Pool<DB> {
        self.pool
    }
}

/// The span of `BEGIN`, `COMMIT` or `ROLLBACK`.
pub(crate) fn transaction_call(shared: &Arc<Shared>, operation: &'static str) -> Call {
    Call::start(
        shared,
        shared.cache.get(operation),
        Cow::Borrowed(operation),
    )
}

impl<'c, DB> Executor<'c> for &'c TracedPool<DB>
where
    DB: TracedDatabase,
{
    traced_executor!('c, DB, pool, |this| &this.pool);
}
