//! The `sqlx::Executor` methods of the traced types, stamped out once per type: `$inner` is the
//! untraced executor of `$this` (the pool, the connection), which each method wraps in a span.

macro_rules! traced_executor {
    ($c:lifetime, $DB:ident, $via:ident, |$this:ident| $inner:expr) => {
        type Database = $DB;

        fn fetch_many<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> ::futures_util::stream::BoxStream<
            'e,
            Result<
                ::sqlx::Either<
                    <$DB as ::sqlx::Database>::QueryResult,
                    <$DB as ::sqlx::Database>::Row,
                >,
                ::sqlx::Error,
            >,
        >
        where
            $c: 'e,
            E: 'q + ::sqlx::Execute<'q, $DB>,
        {
            let $this = self;
            let (query, call) = $crate::db::executor::start(&$this.shared, query);
            $crate::db::executor::stream(
                call,
                $crate::db::executor_impl::via!($via, fetch_many)($inner, query),
            )
        }

        fn fetch_optional<'e, 'q: 'e, E>(
            self,
            query: E,
        ) -> ::futures_util::future::BoxFuture<
            'e,
            Result<Option<<$DB as ::sqlx::Database>::Row>, ::sqlx::Error>,
        >
        where
            $c: 'e,
            E: 'q + ::sqlx::Execute<'q, $DB>,
        {
            let $this = self;
            let (query, call) = $crate::db::executor::start(&$this.shared, query);
            $crate::db::executor::optional(
                call,
                $crate::db::executor_impl::via!($via, fetch_optional)($inner, query),
            )
        }

        /// Delegated without a span: preparing is not executing (a traced execution of the
        /// prepared statement is a span).
        fn prepare_with<'e>(
            self,
            sql: ::sqlx::SqlStr,
            parameters: &'e [<$DB as ::sqlx::Database>::TypeInfo],
        ) -> ::futures_util::future::BoxFuture<
            'e,
            Result<<$DB as ::sqlx::Database>::Statement, ::sqlx::Error>,
        >
        where
            $c: 'e,
        {
            let $this = self;
            $crate::db::executor_impl::via!($via, prepare_with)($inner, sql, parameters)
        }

        #[doc(hidden)]
        fn describe<'e>(
            self,
            sql: ::sqlx::SqlStr,
        ) -> ::futures_util::future::BoxFuture<'e, Result<::sqlx::Describe<$DB>, ::sqlx::Error>>
        where
            $c: 'e,
        {
            let $this = self;
            $crate::db::executor_impl::via!($via, describe)($inner, sql)
        }
    };
}

/// The `Sealed` forwarding function of `$via` (`conn` or `pool`) for `$method`.
macro_rules! via {
    (conn, fetch_many) => {
        <DB as $crate::db::driver::Sealed>::conn_fetch_many
    };
    (conn, fetch_optional) => {
        <DB as $crate::db::driver::Sealed>::conn_fetch_optional
    };
    (conn, prepare_with) => {
        <DB as $crate::db::driver::Sealed>::conn_prepare_with
    };
    (conn, describe) => {
        <DB as $crate::db::driver::Sealed>::conn_describe
    };
    (pool, fetch_many) => {
        <DB as $crate::db::driver::Sealed>::pool_fetch_many
    };
    (pool, fetch_optional) => {
        <DB as $crate::db::driver::Sealed>::pool_fetch_optional
    };
    (pool, prepare_with) => {
        <DB as $crate::db::driver::Sealed>::pool_prepare_with
    };
    (pool, describe) => {
        <DB as $crate::db::driver::Sealed>::pool_describe
    };
}

pub(crate) use {traced_executor, via};
