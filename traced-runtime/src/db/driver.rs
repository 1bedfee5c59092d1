//! What differs between the drivers: the `db.system.name`, where the server and database are
//! read from the connect options, how the dialect quotes.

use sqlx::{Connection, Database};

/// A sqlx database the instrumentation knows: `Postgres` (feature `db-postgres`), `MySql`
/// (`db-mysql`), `Sqlite` (`db-sqlite`). Sealed.
pub trait TracedDatabase: Database + private::Sealed {}

impl<DB: Database + private::Sealed> TracedDatabase for DB {}

pub(crate) mod private {
    use futures_util::future::BoxFuture;
    use futures_util::stream::BoxStream;
    use sqlx::{Describe, Either, Error, Execute, Pool, SqlStr};

    use super::{Connection, Database};

    type Step<DB> = Result<Either<<DB as Database>::QueryResult, <DB as Database>::Row>, Error>;

    /// The server and database a pool connects to.
    #[derive(Debug, Default)]
    pub struct Server {
        pub namespace: Option<String>,
        pub address: Option<String>,
        pub port: Option<u16>,
    }

    pub trait Sealed: Database {
        /// `db.system.name`.
        const SYSTEM_NAME: &'static str;
        /// Whether `"…"` is a string (MySQL without `ANSI_QUOTES`), not an identifier.
        const DOUBLE_QUOTED_STRINGS: bool;
        fn server(options: &<Self::Connection as Connection>::Options) -> Server;

        // sqlx's `Executor` of the connection and the pool, reached through the concrete
        // database: a generic bound `for<'c> &'c mut DB::Connection: Executor<'c>` on the traced
        // types' own `Executor` impls makes the compiler recurse through those impls whenever
        // `DB` is still being inferred (E0275 at `db::instrument(pool)`).
        fn conn_fetch_many<'e, 'q: 'e, E: 'q + Execute<'q, Self>>(
            conn: &'e mut Self::Connection,
            query: E,
        ) -> BoxStream<'e, Step<Self>>;
        fn conn_fetch_optional<'e, 'q: 'e, E: 'q + Execute<'q, Self>>(
            conn: &'e mut Self::Connection,
            query: E,
        ) -> BoxFuture<'e, Result<Option<Self::Row>, Error>>;
        fn conn_prepare_with<'e>(
            conn: &'e mut Self::Connection,
            sql: SqlStr,
            parameters: &'e [Self::TypeInfo],
        ) -> BoxFuture<'e, Result<Self::Statement, Error>>;
        fn conn_describe<'e>(
            conn: &'e mut Self::Connection,
            sql: SqlStr,
        ) -> BoxFuture<'e, Result<Describe<Self>, Error>>;
        fn pool_fetch_many<'e, 'q: 'e, E: 'q + Execute<'q, Self>>(
            pool: &'e Pool<Self>,
            query: E,
        ) -> BoxStream<'e, Step<Self>>;
        fn pool_fetch_optional<'e, 'q: 'e, E: 'q + Execute<'q, Self>>(
            pool: &'e Pool<Self>,
            query: E,
        ) -> BoxFuture<'e, Result<Option<Self::Row>, Error>>;
        fn pool_prepare_with<'e>(
            pool: &'e Pool<Self>,
            sql: SqlStr,
            parameters: &'e [Self::TypeInfo],
        ) -> BoxFuture<'e, Result<Self::Statement, Error>>;
        fn pool_describe<'e>(
            pool: &'e Pool<Self>,
            sql: SqlStr,
        ) -> BoxFuture<'e, Result<Describe<Self>, Error>>;
    }

    /// The forwarding methods of `Sealed`, the same for every driver.
    macro_rules! forward_executor {
        () => {
            fn conn_fetch_many<'e, 'q: 'e, E: 'q + ::sqlx::Execute<'q, Self>>(
                conn: &'e mut Self::Connection,
                query: E,
            ) -> ::futures_util::stream::BoxStream<
                'e,
                Result<::sqlx::Either<Self::QueryResult, Self::Row>, ::sqlx::Error>,
            > {
                ::sqlx::Executor::fetch_many(conn, query)
            }
            fn conn_fetch_optional<'e, 'q: 'e, E: 'q + ::sqlx::Execute<'q, Self>>(
                conn: &'e mut Self::Connection,
                query: E,
            ) -> ::futures_util::future::BoxFuture<'e, Result<Option<Self::Row>, ::sqlx::Error>> {
                ::sqlx::Executor::fetch_optional(conn, query)
            }
            fn conn_prepare_with<'e>(
                conn: &'e mut Self::Connection,
                sql: ::sqlx::SqlStr,
                parameters: &'e [Self::TypeInfo],
            ) -> ::futures_util::future::BoxFuture<'e, Result<Self::Statement, ::sqlx::Error>> {
                ::sqlx::Executor::prepare_with(conn, sql, parameters)
            }
            fn conn_describe<'e>(
                conn: &'e mut Self::Connection,
                sql: ::sqlx::SqlStr,
            ) -> ::futures_util::future::BoxFuture<'e, Result<::sqlx::Describe<Self>, ::sqlx::Error>> {
                ::sqlx::Executor::describe(conn, sql)
            }
            fn pool_fetch_many<'e, 'q: 'e, E: 'q + ::sqlx::Execute<'q, Self>>(
                pool: &'e ::sqlx::Pool<Self>,
                query: E,
            ) -> ::futures_util::stream::BoxStream<
                'e,
                Result<::sqlx::Either<Self::QueryResult, Self::Row>, ::sqlx::Error>,
            > {
                ::sqlx::Executor::fetch_many(pool, query)
            }
            fn pool_fetch_optional<'e, 'q: 'e, E: 'q + ::sqlx::Execute<'q, Self>>(
                pool: &'e ::sqlx::Pool<Self>,
                query: E,
            ) -> ::futures_util::future::BoxFuture<'e, Result<Option<Self::Row>, ::sqlx::Error>> {
                ::sqlx::Executor::fetch_optional(pool, query)
            }
            fn pool_prepare_with<'e>(
                pool: &'e ::sqlx::Pool<Self>,
                sql: ::sqlx::SqlStr,
                parameters: &'e [Self::TypeInfo],
            ) -> ::futures_util::future::BoxFuture<'e, Result<Self::Statement, ::sqlx::Error>> {
                ::sqlx::Executor::prepare_with(pool, sql, parameters)
            }
            fn pool_describe<'e>(
                pool: &'e ::sqlx::Pool<Self>,
                sql: ::sqlx::SqlStr,
            ) -> ::futures_util::future::BoxFuture<'e, Result<::sqlx::Describe<Self>, ::sqlx::Error>> {
                ::sqlx::Executor::describe(pool, sql)
            }
        };
    }
    #[allow(unused_imports)]
    pub(crate) use forward_executor;
}

#[allow(unused_imports)]
pub(crate) use private::{forward_executor, Sealed, Server};

#[cfg(feature = "db-postgres")]
impl Sealed for sqlx::Postgres {
    const SYSTEM_NAME: &'static str = "postgresql";
    forward_executor!();
    const DOUBLE_QUOTED_STRINGS: bool = false;

    fn server(options: &sqlx::postgres::PgConnectOptions) -> Server {
        Server {
            // PostgreSQL's default database is the user's name.
            namespace: Some(
                options
                    .get_database()
                    .unwrap_or_else(|| options.get_username())
                    .to_owned(),
            ),
            address: Some(match options.get_socket() {
                Some(socket) => socket.display().to_string(),
                None => options.get_host().to_owned(),
            }),
            port: Some(options.get_port()),
        }
    }
}

#[cfg(feature = "db-mysql")]
impl Sealed for sqlx::MySql {
    const SYSTEM_NAME: &'static str = "mysql";
    forward_executor!();
    const DOUBLE_QUOTED_STRINGS: bool = true;

    fn server(options: &sqlx::mysql::MySqlConnectOptions) -> Server {
        Server {
            namespace: options.get_database().map(str::to_owned),
            address: Some(match options.get_socket() {
                Some(socket) => socket.display().to_string(),
                None => options.get_host().to_owned(),
            }),
            port: Some(options.get_port()),
        }
    }
}

#[cfg(feature = "db-sqlite")]
impl Sealed for sqlx::Sqlite {
    const SYSTEM_NAME: &'static str = "sqlite";
    forward_executor!();
    const DOUBLE_QUOTED_STRINGS: bool = false;

    fn server(options: &sqlx::sqlite::SqliteConnectOptions) -> Server {
        let file = options.get_filename().display().to_string();
        // An in-memory database has no name worth recording (sqlx names it `sqlx-in-memory-N`).
        let in_memory = file.is_empty() || file == ":memory:" || file.contains("sqlx-in-memory");
        Server {
            namespace: (!in_memory).then_some(file),
            address: None,
            port: None,
        }
    }
}
