//! The standard commands that are more than a print: `check` and the
//! outbox's.

use std::process::ExitCode;

use bisslog_config::Settings;
use bisslog_core::Trigger;

use crate::composition::Composition;
use crate::error::StartError;
use crate::resources::Store;

/// `check`: the composition built (the metadata and the code agree, or
/// the composition would have failed), and every service's HTTP routes
/// compile. Prints what it checked; exit 1 on any problem.
pub(crate) fn check(composition: &Composition) -> ExitCode {
    let mut failed = false;
    for (service, _) in composition.parts() {
        let routes = composition
            .http_server(service)
            .served_elsewhere([Trigger::Consumer, Trigger::Schedule])
            .build();
        match routes {
            Ok(_) => println!(
                "ok: {} ({} use cases, every one registered, every interaction bound)",
                service.name(),
                service.use_cases().count()
            ),
            Err(error) => {
                failed = true;
                println!("{}: {error}", service.name());
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The SQL database of the configuration, for the outbox commands.
async fn outbox_database(settings: &Settings) -> Result<Store, StartError> {
    let store = Store::open(&settings.database_url).await?;
    if store.is_memory() {
        return Err(StartError::UnsupportedDatabase {
            url: settings.database_url.masked(),
            reason: "the outbox commands need a SQL database (DATABASE_URL=sqlite://... or postgres://...)".to_owned(),
        });
    }
    Ok(store)
}

/// `outbox stuck`: the events whose publication keeps failing.
pub(crate) async fn outbox_stuck(settings: &Settings) -> Result<ExitCode, StartError> {
    let store = outbox_database(settings).await?;
    #[cfg(feature = "sql")]
    if let Store::Sql(db) = &store {
        let outbox = bisslog_sql::Outbox::new(db.clone());
        let failed = |e: bisslog_core::Error| StartError::Database {
            url: settings.database_url.masked(),
            source: Box::new(e),
        };
        let stuck = outbox.stuck(100).await.map_err(failed)?;
        if stuck.is_empty() {
            println!(
                "no stuck events ({} pending)",
                outbox.pending().await.map_err(failed)?
            );
        }
        for row in stuck {
            println!(
                "{}\t{}\tqueue={}\tattempts={}\tlast error: {}",
                row.id,
                row.message_id,
                row.queue,
                row.attempts,
                row.last_error.as_deref().unwrap_or("-")
            );
        }
        db.close().await;
    }
    let _ = store;
    Ok(ExitCode::SUCCESS)
}

/// `outbox redrive ID`: a stuck event due again.
pub(crate) async fn outbox_redrive(settings: &Settings, id: i64) -> Result<ExitCode, StartError> {
    let store = outbox_database(settings).await?;
    #[cfg(feature = "sql")]
    if let Store::Sql(db) = &store {
        let outbox = bisslog_sql::Outbox::new(db.clone());
        let redriven = outbox.redrive(id).await.map_err(|e| StartError::Database {
            url: settings.database_url.masked(),
            source: Box::new(e),
        })?;
        db.close().await;
        if redriven {
            println!("event {id} is due again");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("error: no unpublished event has the id {id}");
        return Ok(ExitCode::FAILURE);
    }
    let _ = (store, id);
    Ok(ExitCode::FAILURE)
}
