//! A traced transaction: `BEGIN`, `COMMIT` and `ROLLBACK` are spans of their own (their
//! duration and failure matter: a slow commit is a fsync, a failed one loses the work), and
//! statements inside are spans under whatever span is current where they run.

use std::fmt;
use std::sync::Arc;

use sqlx::{Database, Error, Executor, Transaction};

use super::executor_impl::traced_executor;
use super::pool::transaction_call;
use super::{Shared, TracedDatabase};

/// A transaction whose statements are spans: pass `&mut tx` where sqlx takes an executor.
///
/// Dropped without [`commit`](Self::commit) or [`rollback`](Self::rollback), sqlx rolls it back
/// on the connection's next use; that rollback is not a span.
pub struct TracedTransaction<'c, DB: Database> {
    tx: Transaction<'c, DB>,
    pub(crate) shared: Arc<Shared>,
}

impl<DB: Database> fmt::Debug for TracedTransaction<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedTransaction")
            .field("instrumentation", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<'c, DB: Database> TracedTransaction<'c, DB> {
    pub(crate) fn new(tx: Transaction<'c, DB>, shared: Arc<Shared>) -> Self {
        TracedTransaction { tx, shared }
    }
}

impl<'c, DB> TracedTransaction<'c, DB>
where
    DB: TracedDatabase,
{
    /// Commits: a `COMMIT` span.
    pub async fn commit(self) -> Result<(), Error> {
        let call = transaction_call(&self.shared, "COMMIT");
        let result = self.tx.commit().await;
        call.finish_without_rows(result.as_ref().err());
        result
    }

    /// Rolls back: a `ROLLBACK` span.
    pub async fn rollback(self) -> Result<(), Error> {
        let call = transaction_call(&self.shared, "ROLLBACK");
        let result = self.tx.rollback().await;
        call.finish_without_rows(result.as_ref().err());
        result
    }

    /// The transaction's connection itself, whose statements are not traced.
    pub fn as_untraced(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

impl<'c, 't, DB> Executor<'c> for &'c mut TracedTransaction<'t, DB>
where
    DB: TracedDatabase,
{
    traced_executor!('c, DB, conn, |this| &mut *this.tx);
}
