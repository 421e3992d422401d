//! Writing one statement for both engines.

/// Runs the same code on whichever engine a [`Connection`](crate::Connection)
/// or [`PoolRef`](crate::PoolRef) is: `$conn` is bound to the SQLite or the
/// PostgreSQL connection (or pool) in turn, so the body is written once and
/// compiled for each. The body must have one type for both engines: turn
/// a query result into what you need (`.map(drop)`, `rows_affected()`).
///
/// ```no_run
/// # async fn run(db: bisslog_sql::Database) -> Result<(), bisslog_core::Error> {
/// use bisslog_sql::{map_error, on_engine};
///
/// let mut session = db.transaction().await?;
/// on_engine!(session.connection()?, conn => {
///     sqlx::query("DELETE FROM notes WHERE id = $1").bind(7_i64).execute(conn).await.map(drop)
/// })
/// .map_err(map_error)?;
/// session.commit().await?;
///
/// let count: i64 = on_engine!(db.pool(), pool => {
///     sqlx::query_scalar("SELECT COUNT(*) FROM notes").fetch_one(pool).await
/// })
/// .map_err(map_error)?;
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! on_engine {
    ($either:expr, $conn:ident => $body:expr) => {
        match $crate::Engine::from($either) {
            $crate::Engine::Sqlite($conn) => $body,
            $crate::Engine::Postgres($conn) => $body,
        }
    };
}

/// Runs one of the framework's own statements outside a transaction
/// (`$body`, on `$conn`), mapping a failure with `$map` and returning it
/// with `?`. On SQLite the statement runs on a connection the database
/// keeps between the framework's statements (`database/kept.rs`): the
/// pool's check of a connection that comes back is a round trip to
/// SQLite's thread per statement, as dear as the statement itself.
macro_rules! own_statement {
    ($db:expr, $map:expr, $conn:ident => $body:expr) => {{
        let map = $map;
        let mut connection = $db.statement_connection().await.map_err(&map)?;
        let result = $crate::on_engine!(connection.engine(), $conn => $body).map_err(&map)?;
        connection.reusable();
        result
    }};
}
pub(crate) use own_statement;
