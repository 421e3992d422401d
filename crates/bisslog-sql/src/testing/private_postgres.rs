//! A PostgreSQL server of a test's own, to stop and start again: outages
//! are tested on it, never on the machine's shared server.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection as _;

use super::{in_ci, unique};

/// The variable naming the directory of PostgreSQL's programs (`initdb`,
/// `postgres`); otherwise the newest `/usr/lib/postgresql/*/bin`.
pub const POSTGRES_BIN_VARIABLE: &str = "BISSLOG_TEST_POSTGRES_BIN";

/// How long the server may take to start.
const START_LIMIT: Duration = Duration::from_secs(60);

/// A private PostgreSQL cluster: its own data directory in the system's
/// temporary directory, its own port on 127.0.0.1, trust authentication
/// for the `postgres` user. Stopped (by its pid) and deleted when dropped.
///
/// PostgreSQL refuses to run as root: when the test runs as root, the
/// server runs as the `postgres` user, which the Debian package creates.
pub struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    user: Option<(u32, u32)>,
    server: Option<Child>,
}

impl PrivatePostgres {
    /// Creates the cluster and starts it, waiting until it accepts
    /// connections; `None` when PostgreSQL's programs are not installed
    /// (the caller skips, saying so), a failure under `CI=true`.
    pub async fn start() -> Option<Self> {
        match Self::create().await {
            Ok(cluster) => Some(cluster),
            Err(why) => {
                assert!(
                    !in_ci(),
                    "CI must be able to run a private PostgreSQL: {why}"
                );
                super::skip(&format!("no private PostgreSQL server ({why})"));
                None
            }
        }
    }

    async fn create() -> Result<Self, String> {
        let bin = find_bin().ok_or_else(|| {
            format!("no initdb: set {POSTGRES_BIN_VARIABLE} or install postgresql")
        })?;
        let dir = std::env::temp_dir().join(format!("bisslog-pg-{}", unique()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let user = if is_root() {
            Some(postgres_user()?)
        } else {
            None
        };
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot give {} to postgres: {e}", dir.display()))?;
        }
        let port = free_port()?;
        let mut cluster = Self {
            bin,
            dir,
            port,
            user,
            server: None,
        };
        let status = cluster
            .command("initdb")
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(cluster.data())
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !status.success() {
            return Err(format!("initdb failed: {status}"));
        }
        cluster.start_again().await;
        Ok(cluster)
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The server's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    /// Stops the server (fast shutdown: SIGINT to its pid) and waits for it
    /// to exit: connections are cut, new ones refused.
    pub fn stop(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        let signalled = Command::new("kill")
            .args(["-INT", &server.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !signalled {
            let _ = server.kill();
        }
        let _ = server.wait();
    }

    /// Starts the server on the same port and data, and waits until it
    /// accepts connections (at most a minute).
    pub async fn start_again(&mut self) {
        assert!(self.server.is_none(), "the server is already running");
        let log = std::fs::File::create(self.dir.join("server.log"))
            .unwrap_or_else(|e| panic!("cannot create the server log: {e}"));
        let server = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string()])
            .arg("-k")
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off", "-c", "max_connections=40"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start postgres: {e}"));
        self.server = Some(server);
        self.wait_until_serving().await;
    }

    /// Waits until a connection succeeds, looking every 50 ms.
    async fn wait_until_serving(&mut self) {
        let deadline = Instant::now() + START_LIMIT;
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            if let Some(server) = self.server.as_mut()
                && let Ok(Some(status)) = server.try_wait()
            {
                let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                panic!("postgres exited with {status}:\n{log}");
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
                && let Ok(connection) = sqlx::PgConnection::connect(&self.url()).await
            {
                let _ = connection.close().await;
                return;
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not accept connections within {} s",
                START_LIMIT.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        command
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn find_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var(POSTGRES_BIN_VARIABLE) {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    // The real user id, without a libc binding: `id -u` prints it.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// The `postgres` user's uid and gid, from /etc/passwd.
fn postgres_user() -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string(Path::new("/etc/passwd")).unwrap_or_default();
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres"))
                .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
                .flatten()
        })
        .ok_or_else(|| "running as root needs a `postgres` user to run PostgreSQL as".to_owned())
}

/// A port free on 127.0.0.1 now.
fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}
