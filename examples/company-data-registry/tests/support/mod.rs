//! Running the example's binaries as a user would: real processes on real
//! sockets, stopped by their own pid.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The registry binary.
pub const REGISTRY: &str = env!("CARGO_BIN_EXE_company-data-registry");
/// The audit binary.
pub const AUDIT: &str = env!("CARGO_BIN_EXE_company-data-audit");
/// The importer binary.
pub const IMPORTER: &str = env!("CARGO_BIN_EXE_company-data-importer");

/// A running service process, killed (by its pid) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    lines: mpsc::Receiver<String>,
    /// Every line read so far, in order.
    history: std::sync::Mutex<Vec<String>>,
    pub client: reqwest::Client,
}

impl Server {
    /// The registry on `database_url` with the in-process broker (and the
    /// audit service in the same process, its trail in memory).
    pub fn start(database_url: &str) -> Self {
        Self::spawn(
            REGISTRY,
            &[("DATABASE_URL", database_url)],
            "registry data listening on http://",
        )
    }

    /// A binary with `PORT=0`, `AUDIT_PORT=0`, `IMPORTER_PORT=0`, the audit trail in memory,
    /// the in-process broker (`BROKER_URL=in-process`: the embedded
    /// default would write its file in the working directory) and INFO
    /// logs, plus `env`; ready once it prints `ready`.
    pub fn spawn(binary: &str, env: &[(&str, &str)], ready: &str) -> Self {
        let mut command = Self::command(binary);
        command.env("BROKER_URL", "in-process");
        for (name, value) in env {
            command.env(name, value);
        }
        Self::run(command, ready)
    }

    /// [`Server::spawn`] in the working directory `dir`, without
    /// `BROKER_URL` (the embedded default, whose file goes in `dir`).
    pub fn spawn_in(
        dir: &std::path::Path,
        binary: &str,
        env: &[(&str, &str)],
        ready: &str,
    ) -> Self {
        let mut command = Self::command(binary);
        command.current_dir(dir);
        for (name, value) in env {
            command.env(name, value);
        }
        Self::run(command, ready)
    }

    fn command(binary: &str) -> Command {
        let mut command = Command::new(binary);
        command
            .env("PORT", "0")
            .env("AUDIT_PORT", "0")
            .env("IMPORTER_PORT", "0")
            .env("AUDIT_DATABASE_URL", "memory")
            .env("RUST_LOG", "info")
            .env_remove("BISSLOG_LOG_FORMAT")
            .env_remove("BROKER_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        command
    }

    fn run(mut command: Command, ready: &str) -> Self {
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            lines,
            history: std::sync::Mutex::default(),
            client: test_client(),
        };
        let listening = server.wait_for_line(|l| l.contains(ready));
        server.base = format!("http://{}", address_in(&listening));
        server
    }

    /// The base URL of another service this process runs, from the line
    /// it printed when it started listening (`audit listening on http://`).
    /// The servers of one process start together: the line may come
    /// after the main one's, so it is waited for (30 s at most).
    pub fn base_of(&self, listening: &str) -> String {
        format!("http://{}", address_in(&self.line_with(listening)))
    }

    /// The first line printed containing `text`, waited for (30 s at most).
    pub fn line_with(&self, text: &str) -> String {
        self.output()
            .into_iter()
            .find(|l| l.contains(text))
            .unwrap_or_else(|| self.wait_for_line(|l| l.contains(text)))
    }

    /// The pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next output line matching `wanted`, within 30 s.
    pub fn wait_for_line(&self, wanted: impl Fn(&str) -> bool) -> String {
        self.wait_for_line_within(Duration::from_secs(30), wanted)
            .unwrap_or_else(|| panic!("the service printed nothing expected within 30 s"))
    }

    /// The next output line matching `wanted`, or `None` after `limit`.
    pub fn wait_for_line_within(
        &self,
        limit: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.history.lock().unwrap().push(line.clone());
                    if wanted(&line) {
                        return Some(line);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Every line printed so far.
    pub fn output(&self) -> Vec<String> {
        let mut history = self.history.lock().unwrap();
        history.extend(self.lines.try_iter());
        history.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => panic!(
                "{path}: {error:?}\nthe service printed:\n{}",
                self.output().join("\n")
            ),
        };
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, body)
    }

    /// [`get_until`] on a path of this server.
    pub async fn get_until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        get_until(&self.client, &self.url(path), done).await
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(self) -> std::process::ExitStatus {
        self.signal("-TERM")
    }

    /// Sends SIGKILL (no chance to clean up) and waits for the process.
    pub fn kill(self) -> std::process::ExitStatus {
        self.signal("-KILL")
    }

    /// Sends `signal` (`-TERM`) without waiting.
    pub fn send_signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (30 s at most) for the process to exit, and returns its status
    /// and every line it printed.
    pub fn wait_exit(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        // Standard output closes when the process exits.
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.history.lock().unwrap().push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the service did not exit within 30 s")
                }
            }
        }
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, self.history.lock().unwrap().clone());
            }
            std::thread::park_timeout(Duration::from_millis(100));
        }
        panic!("the service did not exit within 30 s");
    }

    fn signal(mut self, signal: &str) -> std::process::ExitStatus {
        self.send_signal(signal);
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::park_timeout(Duration::from_millis(100));
        }
        panic!("the service did not stop within 30 s of {signal}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `host:port` after `http://` in a log line.
pub fn address_in(line: &str) -> String {
    line.split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line}"))
        .to_owned()
}

/// A real broker for the example's tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RealBroker {
    Nats,
    Amqp,
    Redis,
    /// With the example's `kafka` feature.
    #[cfg(feature = "kafka")]
    Kafka,
}

impl RealBroker {
    /// The variable naming its server.
    fn variable(self) -> &'static str {
        match self {
            RealBroker::Nats => "BISSLOG_TEST_NATS_URL",
            RealBroker::Amqp => "BISSLOG_TEST_AMQP_URL",
            RealBroker::Redis => "BISSLOG_TEST_REDIS_URL",
            #[cfg(feature = "kafka")]
            RealBroker::Kafka => "BISSLOG_TEST_KAFKA_URL",
        }
    }

    /// Whether this broker's server is configured: the test is skipped,
    /// saying so, without one, except under `CI=true`.
    pub fn available(self) -> bool {
        bisslog_testkit::server_url(self.variable()).is_some()
    }

    /// Its server's URL (the test checked [`RealBroker::available`]).
    pub fn url(self) -> String {
        bisslog_testkit::server_url(self.variable())
            .unwrap_or_else(|| panic!("{} is not set", self.variable()))
    }
}

/// The queues the example's services use.
pub const QUEUES: [&str; 5] = [
    "company_data_insertion.queue",
    "company_data_insertion.dlq_queue",
    "company_data.inserted",
    "company_data.inserted.dlq",
    "company_data.inserted.importer_dlq",
];

/// The event queue of the example, and the consumer names of its two
/// subscribers: the audit service's and the importer's.
pub const EVENT: (&str, [&str; 2]) = (
    "company_data.inserted",
    [
        "company_data_audit-record_insertion",
        "company_data_importer-note_insertion",
    ],
);

/// A namespace unique to this test, so tests share the broker without
/// meeting.
pub fn namespace(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("test-{test}-{}-{nanos}.", std::process::id())
}

/// A client of the broker, under `namespace`, as another service would
/// publish with.
pub async fn client(broker: RealBroker, namespace: &str) -> bisslog::messaging::Namespaced {
    use bisslog::messaging::Namespaced;
    match broker {
        RealBroker::Nats => Namespaced::new(
            bisslog::nats::NatsBroker::connect(&RealBroker::Nats.url())
                .await
                .unwrap(),
            namespace,
        ),
        RealBroker::Amqp => Namespaced::new(
            bisslog::amqp::AmqpBroker::connect(&RealBroker::Amqp.url())
                .await
                .unwrap(),
            namespace,
        ),
        RealBroker::Redis => Namespaced::new(
            bisslog::redis::RedisBroker::connect(&RealBroker::Redis.url())
                .await
                .unwrap(),
            namespace,
        ),
        #[cfg(feature = "kafka")]
        RealBroker::Kafka => Namespaced::new(
            bisslog::kafka::KafkaBroker::connect(&RealBroker::Kafka.url())
                .await
                .unwrap(),
            namespace,
        ),
    }
}

/// Deletes what a test created on the broker under `namespace`.
pub async fn clean_up(broker: RealBroker, namespace: &str) {
    match broker {
        RealBroker::Nats => {
            let nats = bisslog::nats::NatsBroker::connect(&RealBroker::Nats.url())
                .await
                .unwrap();
            for queue in QUEUES {
                if let Ok(Some(stream)) = nats.stream_of(&format!("{namespace}{queue}")).await {
                    let _ = nats.jetstream().delete_stream(&stream).await;
                }
            }
        }
        RealBroker::Amqp => {
            let amqp = bisslog::amqp::AmqpBroker::connect(&RealBroker::Amqp.url())
                .await
                .unwrap();
            // The event's exchange, and its subscribers' own queues.
            let (event, consumers) = EVENT;
            let _ = amqp.delete_exchange(&format!("{namespace}{event}")).await;
            let copies =
                consumers.map(|consumer| bisslog::messaging::event_copy_name(event, consumer));
            for queue in QUEUES
                .iter()
                .copied()
                .chain(copies.iter().map(String::as_str))
            {
                let name = format!("{namespace}{queue}");
                let _ = amqp.delete_queue(&name).await;
                for seconds in [1, 2, 4, 8, 16, 32] {
                    let retry = bisslog::amqp::AmqpBroker::retry_queue_name(
                        &name,
                        Duration::from_secs(seconds),
                    );
                    let _ = amqp.delete_queue(&retry).await;
                }
            }
        }
        RealBroker::Redis => {
            // The streams, and the sorted sets of delayed retries their
            // groups keep (`bisslog:delayed:<group>:<stream>`).
            let redis = bisslog::redis::RedisBroker::connect(&RealBroker::Redis.url())
                .await
                .unwrap();
            let mut connection = redis.connection();
            let mut keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("bisslog:delayed:*:{namespace}*"))
                .query_async(&mut connection)
                .await
                .unwrap();
            keys.extend(QUEUES.iter().map(|queue| format!("{namespace}{queue}")));
            let _: () = redis::cmd("DEL")
                .arg(keys)
                .query_async(&mut connection)
                .await
                .unwrap();
        }
        // The namespace's topics are left: the adapter deletes no topic,
        // and the test's are named for it alone.
        #[cfg(feature = "kafka")]
        RealBroker::Kafka => {}
    }
}

/// The next message of a queue, read as a consumer named `reader` would.
pub async fn next_message(
    broker: &impl bisslog::messaging::Broker,
    queue: &str,
) -> bisslog::messaging::Message {
    use futures_util::StreamExt as _;
    let subscription = bisslog::messaging::Subscription {
        queue: queue.to_owned(),
        consumer: "test-reader".to_owned(),
        prefetch: 1,
        ack_wait: Duration::from_secs(30),
        provision: true,
        kind: Default::default(),
    };
    let mut deliveries = broker.subscribe(&subscription).await.unwrap();
    let delivery = tokio::time::timeout(Duration::from_secs(30), deliveries.next())
        .await
        .unwrap_or_else(|_| panic!("nothing arrived on {queue} within 30 s"))
        .unwrap_or_else(|| panic!("the subscription to {queue} ended"))
        .unwrap();
    let message = delivery.message().clone();
    delivery.ack().await.unwrap();
    message
}

/// The transaction id of a bisslog log line
/// (`[time][transaction][LEVEL][checkpoint] message`).
pub fn transaction_of(line: &str) -> &str {
    line.split('[')
        .nth(2)
        .and_then(|s| s.split(']').next())
        .unwrap_or_default()
}

/// A schema that takes any object with a whole number `n`.
/// Publishes `{"n": 0}` … `{"n": count - 1}` as insertion messages of the
/// `counter` schema.
pub async fn publish_counters(client: &impl bisslog::messaging::Broker, count: u64) {
    for n in 0..count {
        let payload = serde_json::json!({"schema_keyname": "counter", "body": {"n": n}});
        client
            .publish(
                "company_data_insertion.queue",
                &bisslog::messaging::Message::new(serde_json::to_vec(&payload).unwrap()),
            )
            .await
            .unwrap();
    }
}

pub fn counter_schema() -> Value {
    serde_json::json!({
        "schema_keyname": "counter",
        "schema_name": "Counter",
        "schema_description": "Numbered records for messaging tests",
        "current_schema_definition": {
            "type": "object",
            "required": ["n"],
            "properties": {"n": {"type": "integer"}}
        }
    })
}

/// How many messages wait in a queue (see `Broker::depth`). For the
/// event queue on RabbitMQ, those in the audit service's own queue: an
/// event is an exchange there, which holds nothing.
pub async fn depth(broker: RealBroker, namespace: &str, queue: &str) -> u64 {
    use bisslog::messaging::Broker as _;
    let (event, [audit, _]) = EVENT;
    let queue = match broker {
        RealBroker::Amqp if queue == event => bisslog::messaging::event_copy_name(event, audit),
        _ => queue.to_owned(),
    };
    client(broker, namespace)
        .await
        .depth(&queue)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{broker:?} cannot count {queue}"))
}

/// GETs `url` until `done` holds for its JSON body, bounded by 30 s, and
/// returns that body. Checkpoints such as `[data-inserted]` are logged
/// inside the use case, before its transaction commits: a read right after
/// the line may not see the write yet.
pub async fn get_until(
    client: &reqwest::Client,
    url: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut poll = tokio::time::interval(Duration::from_millis(50));
    loop {
        poll.tick().await;
        let response = client.get(url).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == 200 && done(&body) {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "GET {url} did not reach the expected state within 30 s: {status} {body}"
        );
    }
}

/// A plain client for the test's requests. With the `tls` feature reqwest
/// is built with rustls and no crypto provider, so a plain client needs the
/// process-wide one (docs/security.md, "HTTPS JWKS URLs").
fn test_client() -> reqwest::Client {
    #[cfg(feature = "tls")]
    bisslog::tls::install_default_provider();
    reqwest::Client::new()
}
