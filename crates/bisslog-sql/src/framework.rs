//! bisslog's own tables: the outbox, the inbox, leases, schedule ticks and
//! the durable broker's queues.

use crate::migrate::Migration;

/// Applied by [`Database::migrate`](crate::Database::migrate) before the
/// service's migrations.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
    version: 1,
    name: "bisslog outbox, inbox and leases",
    sqlite: "
        CREATE TABLE bisslog_outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id TEXT NOT NULL UNIQUE,
            queue TEXT NOT NULL,
            ordering_key TEXT,
            event_type TEXT,
            transaction_id TEXT,
            headers TEXT NOT NULL,
            payload BLOB NOT NULL,
            created_at_ms INTEGER NOT NULL,
            published_at_ms INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_attempt_at_ms INTEGER,
            next_attempt_at_ms INTEGER NOT NULL
        );
        CREATE INDEX bisslog_outbox_unpublished ON bisslog_outbox (id) WHERE published_at_ms IS NULL;
        CREATE INDEX bisslog_outbox_published ON bisslog_outbox (published_at_ms) WHERE published_at_ms IS NOT NULL;
        CREATE TABLE bisslog_inbox (
            consumer TEXT NOT NULL,
            message_id TEXT NOT NULL,
            handled_at_ms INTEGER NOT NULL,
            PRIMARY KEY (consumer, message_id)
        );
        CREATE INDEX bisslog_inbox_by_age ON bisslog_inbox (handled_at_ms);
        CREATE TABLE bisslog_leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at_ms INTEGER NOT NULL
        );",
    postgres: "
        CREATE TABLE bisslog_outbox (
            id BIGSERIAL PRIMARY KEY,
            message_id TEXT NOT NULL UNIQUE,
            queue TEXT NOT NULL,
            ordering_key TEXT,
            event_type TEXT,
            transaction_id TEXT,
            headers TEXT NOT NULL,
            payload BYTEA NOT NULL,
            created_at_ms BIGINT NOT NULL,
            published_at_ms BIGINT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_attempt_at_ms BIGINT,
            next_attempt_at_ms BIGINT NOT NULL
        );
        CREATE INDEX bisslog_outbox_unpublished ON bisslog_outbox (id) WHERE published_at_ms IS NULL;
        CREATE INDEX bisslog_outbox_published ON bisslog_outbox (published_at_ms) WHERE published_at_ms IS NOT NULL;
        CREATE TABLE bisslog_inbox (
            consumer TEXT NOT NULL,
            message_id TEXT NOT NULL,
            handled_at_ms BIGINT NOT NULL,
            PRIMARY KEY (consumer, message_id)
        );
        CREATE INDEX bisslog_inbox_by_age ON bisslog_inbox (handled_at_ms);
        CREATE TABLE bisslog_leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at_ms BIGINT NOT NULL
        );",
},
    Migration {
        version: 2,
        name: "bisslog schedule ticks",
        sqlite: "
        CREATE TABLE bisslog_schedule_ticks (
            schedule TEXT PRIMARY KEY,
            last_tick_ms INTEGER NOT NULL,
            running_tick_ms INTEGER,
            running_until_ms INTEGER
        );",
        postgres: "
        CREATE TABLE bisslog_schedule_ticks (
            schedule TEXT PRIMARY KEY,
            last_tick_ms BIGINT NOT NULL,
            running_tick_ms BIGINT,
            running_until_ms BIGINT
        );",
    },
    Migration {
        version: 3,
        name: "bisslog durable broker",
        sqlite: "
        CREATE TABLE bisslog_broker_queues (
            name TEXT PRIMARY KEY,
            created_at_ms INTEGER NOT NULL
        );
        CREATE TABLE bisslog_broker_messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            queue TEXT NOT NULL,
            message_id TEXT NOT NULL,
            headers TEXT NOT NULL,
            payload BLOB NOT NULL,
            deliveries INTEGER NOT NULL DEFAULT 0,
            available_at_ms INTEGER NOT NULL,
            lease_owner TEXT,
            lease_until_ms INTEGER,
            created_at_ms INTEGER NOT NULL,
            UNIQUE (queue, message_id)
        );
        CREATE INDEX bisslog_broker_messages_by_queue ON bisslog_broker_messages (queue, id);",
        postgres: "
        CREATE TABLE bisslog_broker_queues (
            name TEXT PRIMARY KEY,
            created_at_ms BIGINT NOT NULL
        );
        CREATE TABLE bisslog_broker_messages (
            id BIGSERIAL PRIMARY KEY,
            queue TEXT NOT NULL,
            message_id TEXT NOT NULL,
            headers TEXT NOT NULL,
            payload BYTEA NOT NULL,
            deliveries INTEGER NOT NULL DEFAULT 0,
            available_at_ms BIGINT NOT NULL,
            lease_owner TEXT,
            lease_until_ms BIGINT,
            created_at_ms BIGINT NOT NULL,
            UNIQUE (queue, message_id)
        );
        CREATE INDEX bisslog_broker_messages_by_queue ON bisslog_broker_messages (queue, id);",
    },
    Migration {
        version: 4,
        name: "bisslog broker events",
        // An event queue, and the consumer names with a copy of it (the
        // empty name marks the event itself as provisioned).
        sqlite: "
        CREATE TABLE bisslog_broker_events (
            queue TEXT NOT NULL,
            consumer TEXT NOT NULL,
            created_at_ms INTEGER NOT NULL,
            PRIMARY KEY (queue, consumer)
        );",
        postgres: "
        CREATE TABLE bisslog_broker_events (
            queue TEXT NOT NULL,
            consumer TEXT NOT NULL,
            created_at_ms BIGINT NOT NULL,
            PRIMARY KEY (queue, consumer)
        );",
    },
];
