//! Database failures as broker errors.

use bisslog_messaging::BrokerError;

/// A driver error met while doing `what`, as the [`BrokerError`] the
/// consumer runner and publishers act on: a lost or unreachable database
/// is a [`BrokerError::Connection`], a busy one or an exhausted pool a
/// [`BrokerError::Timeout`] (both passing), anything else a
/// [`BrokerError::Rejected`] naming the operation.
pub(super) fn broker_error(what: &str, error: sqlx::Error) -> BrokerError {
    match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => {
            BrokerError::connection(format!("the broker's database failed {what}"), error)
        }
        sqlx::Error::PoolTimedOut => BrokerError::Timeout {
            message: format!("no database connection came free for {what}"),
        },
        sqlx::Error::Database(db) if is_busy(db.code().as_deref()) => BrokerError::Timeout {
            message: format!("the database stayed busy during {what}: {}", db.message()),
        },
        other => BrokerError::Rejected {
            message: format!("the broker's database failed {what}: {other}"),
        },
    }
}

/// A failure of the broker's own transaction (beginning or committing
/// it, met while doing `what`) as a [`BrokerError`] of the same meaning:
/// an unreachable database a [`BrokerError::Connection`], one that stayed
/// busy a [`BrokerError::Timeout`], anything else a
/// [`BrokerError::Rejected`].
pub(super) fn session_error(what: &str, error: bisslog_core::Error) -> BrokerError {
    use bisslog_core::{ErrorKind, UseCaseError as _};
    match error.kind() {
        ErrorKind::Connection | ErrorKind::Unavailable => {
            BrokerError::connection(format!("the broker's database failed {what}"), error)
        }
        ErrorKind::Timeout => BrokerError::Timeout {
            message: format!("the broker's database stayed busy during {what}: {error}"),
        },
        _ => BrokerError::Rejected {
            message: format!("the broker's database failed {what}: {error}"),
        },
    }
}

/// The same failure for another waiter of one statement (a
/// [`BrokerError`] is not `Clone`: its source is not): the same kind and
/// message.
pub(super) fn shared(error: &BrokerError) -> BrokerError {
    match error {
        BrokerError::Connection { message, .. } => BrokerError::Connection {
            message: message.clone(),
            source: None,
        },
        BrokerError::Timeout { message } => BrokerError::Timeout {
            message: message.clone(),
        },
        BrokerError::Rejected { message } => BrokerError::Rejected {
            message: message.clone(),
        },
        // Not made by `broker_error`.
        other => BrokerError::Rejected {
            message: other.to_string(),
        },
    }
}

/// PostgreSQL: serialization failure, deadlock, shutdown, too many
/// connections. SQLite: busy, locked.
fn is_busy(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("40001" | "40P01" | "57P01" | "57P02" | "57P03" | "53300" | "5" | "6")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_are_passing_problems() {
        assert!(matches!(
            broker_error("publishing", sqlx::Error::PoolTimedOut),
            BrokerError::Timeout { .. }
        ));
        assert!(matches!(
            broker_error("publishing", sqlx::Error::PoolClosed),
            BrokerError::Connection { .. }
        ));
        let other = broker_error("publishing", sqlx::Error::RowNotFound);
        assert!(other.to_string().contains("publishing"), "{other}");
    }

    #[test]
    fn a_shared_failure_keeps_its_kind_and_message() {
        for error in [
            broker_error("acknowledging", sqlx::Error::PoolClosed),
            broker_error("acknowledging", sqlx::Error::PoolTimedOut),
            broker_error("acknowledging", sqlx::Error::RowNotFound),
        ] {
            let copy = shared(&error);
            assert_eq!(copy.to_string(), error.to_string());
            assert_eq!(
                std::mem::discriminant(&copy),
                std::mem::discriminant(&error)
            );
        }
    }
}
