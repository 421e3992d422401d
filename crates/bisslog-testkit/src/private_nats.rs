//! A NATS server with JetStream of a test's own: started as a child
//! process on a free port of 127.0.0.1 with its store in a temporary
//! directory, stoppable and restartable on the same port and store (to
//! inject a broker outage), killed by its own pid when dropped.
//!
//! ```no_run
//! use bisslog_testkit::private_nats::PrivateNats;
//!
//! // `None` (and a line saying the test was skipped) when no
//! // nats-server is installed; a panic instead under `CI=true`.
//! let Some(mut nats) = PrivateNats::start_or_skip("my_test") else { return };
//! let url = nats.url(); // nats://127.0.0.1:<port>
//! nats.stop().unwrap(); // the broker is down (killed by its pid)
//! nats.restart().unwrap(); // back, same port, same JetStream store
//! ```
//!
//! The binary is `BISSLOG_TEST_NATS_SERVER` when set, else `nats-server`
//! on `PATH`, else `/usr/sbin/nats-server` (Debian's `nats-server`
//! package). Starting and restarting block the calling thread until the
//! server accepts connections (at most [`START_PATIENCE`]): call them from
//! a multi-threaded runtime, or in `spawn_blocking`.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start may take before it is an error.
pub const START_PATIENCE: Duration = Duration::from_secs(10);

/// Why a private server could not be started or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrivateNatsError {
    /// No nats-server binary was found.
    #[error(
        "no nats-server found (set BISSLOG_TEST_NATS_SERVER, put nats-server on PATH, or install the `nats-server` package)"
    )]
    NotFound,
    /// The process could not be started, stopped, or given its directory.
    #[error("{doing}: {source}")]
    Io {
        /// What was being done.
        doing: String,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// The server exited, or did not accept connections in time.
    #[error("the nats-server on port {port} {what}; its log:\n{log}")]
    NotServing {
        /// Its port.
        port: u16,
        /// What happened.
        what: String,
        /// The end of its log file.
        log: String,
    },
}

fn io(doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> PrivateNatsError {
    let doing = doing.into();
    move |source| PrivateNatsError::Io { doing, source }
}

/// A private nats-server (see the [module documentation](self)).
#[derive(Debug)]
pub struct PrivateNats {
    binary: PathBuf,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateNats {
    /// The nats-server binary to use, if there is one.
    pub fn binary() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("BISSLOG_TEST_NATS_SERVER") {
            return Some(PathBuf::from(path));
        }
        let on_path = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("nats-server"))
                .find(|candidate| candidate.is_file())
        });
        on_path.or_else(|| {
            let debian = PathBuf::from("/usr/sbin/nats-server");
            debian.is_file().then_some(debian)
        })
    }

    /// Starts a server on a free port with an empty JetStream store, and
    /// waits until it accepts connections.
    pub fn start() -> Result<Self, PrivateNatsError> {
        let binary = Self::binary().ok_or(PrivateNatsError::NotFound)?;
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "bisslog-private-nats-{}-{port}-{}",
            std::process::id(),
            bisslog_messaging::new_message_id()
        ));
        std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let mut server = Self {
            binary,
            port,
            dir,
            child: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// [`PrivateNats::start`], or `None` after printing that `test` was
    /// skipped when no nats-server is installed.
    ///
    /// # Panics
    ///
    /// When the server does not start, and, under `CI=true`, when there is
    /// no nats-server: a CI run must not skip silently.
    pub fn start_or_skip(test: &str) -> Option<Self> {
        match Self::start() {
            Ok(server) => Some(server),
            Err(PrivateNatsError::NotFound) if std::env::var("CI").as_deref() != Ok("true") => {
                crate::skip(&format!("{test}: {}", PrivateNatsError::NotFound));
                None
            }
            Err(error) => panic!("{test}: {error}"),
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port, the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of the JetStream store and the log, kept across
    /// restarts and removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the server process runs.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server by its pid (as a crash would) and waits for it to
    /// exit. Stopping a stopped server does nothing.
    pub fn stop(&mut self) -> Result<(), PrivateNatsError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.id();
        // An error here means it has already exited; `wait` reaps it.
        let _ = child.kill();
        child
            .wait()
            .map_err(io(format!("waiting for nats-server {pid} to exit")))?;
        Ok(())
    }

    /// Starts the server again on the same port and store (stopping it
    /// first if it runs), and waits until it accepts connections.
    pub fn restart(&mut self) -> Result<(), PrivateNatsError> {
        self.stop()?;
        let store = self.dir.join("jetstream");
        let log = self.log_path();
        let child = Command::new(&self.binary)
            .args(["-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-js")
            .arg("-sd")
            .arg(&store)
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io(format!("starting {}", self.binary.display())))?;
        self.child = Some(child);
        self.wait_until_serving()
    }

    /// Connects until the server accepts (it sends its `INFO` line at
    /// once), for at most [`START_PATIENCE`].
    fn wait_until_serving(&mut self) -> Result<(), PrivateNatsError> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + START_PATIENCE;
        loop {
            if !self.is_running() {
                return Err(self.not_serving("exited"));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.not_serving(&format!(
                    "did not accept connections within {START_PATIENCE:?}"
                )));
            }
            // Between connection attempts, not a wait for an event.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    fn not_serving(&self, what: &str) -> PrivateNatsError {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        PrivateNatsError::NotServing {
            port: self.port,
            what: what.to_owned(),
            log: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on now: the system's pick for a listener that
/// is closed at once. Another process could take it before the server
/// does; the server's start then fails and says so.
fn free_port() -> Result<u16, PrivateNatsError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(io("finding a free port on 127.0.0.1"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(io("finding a free port on 127.0.0.1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_stops_and_restarts_on_the_same_port_and_store() {
        let Some(mut nats) = PrivateNats::start_or_skip("private_nats") else {
            return;
        };
        let port = nats.port();
        let pid = nats.pid().unwrap();
        assert!(nats.dir().join("jetstream").is_dir(), "the store exists");
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
        nats.stop().unwrap();
        assert!(!nats.is_running());
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "nothing listens while stopped"
        );
        nats.restart().unwrap();
        assert_eq!(nats.port(), port);
        assert_ne!(nats.pid().unwrap(), pid);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
        let dir = nats.dir().to_owned();
        drop(nats);
        assert!(!dir.exists(), "the store is removed on drop");
    }
}
