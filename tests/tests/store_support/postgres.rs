//! A real PostgreSQL server for the store tests, from Debian's `postgresql` package: a new
//! cluster (`initdb`) in a temporary directory, one `postgres` process listening on one address,
//! password (SCRAM) authentication only, no Unix socket. Stopped and deleted when dropped,
//! also when a test panics.
//!
//! `initdb` and `postgres` refuse to run as root. When the tests run as root (CI does), the
//! cluster belongs to the `postgres` user that the package creates (or `nobody` when there is
//! none): the directory is given to that user and both programs run under it through `setpriv
//! --reuid/--regid --clear-groups` (util-linux, always there on Debian). As any other user, they
//! run as that user.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::TestCertificates;

/// The database user of the test clusters.
pub const PG_USER: &str = "oauth";

/// How to start a [`PostgresServer`].
#[derive(Default)]
pub struct PostgresOptions<'a> {
    /// Run inside this network namespace (`ip netns exec`), listening on `listen`.
    pub netns: Option<&'a str>,
    /// The address to listen on (default 127.0.0.1).
    pub listen: Option<&'a str>,
    /// The port (default: a free port of 127.0.0.1).
    pub port: Option<u16>,
    /// Speak TLS only (`hostssl`), with these certificates.
    pub tls: Option<&'a TestCertificates>,
}

/// A PostgreSQL server in a temporary directory, stopped and deleted on drop.
pub struct PostgresServer {
    child: Child,
    host: String,
    port: u16,
    password: String,
    dir: Option<tempfile::TempDir>,
}

/// The directory of PostgreSQL's programs: the newest `/usr/lib/postgresql/*/bin` with `initdb`,
/// or `None`.
pub fn postgres_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether PostgreSQL can be run here. When it cannot, prints why and returns `false`, or
/// panics when `CI` is set: CI must run these tests (scripts/test installs `postgresql`).
pub fn postgres_available(test: &str) -> bool {
    if postgres_bin_dir().is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); CI must \
         install Debian's `postgresql` (scripts/test does)"
    );
    eprintln!(
        "SKIPPED, NOT PASSED: {test}: PostgreSQL is not installed, so this test did not run \
         (set CI=true to make this a failure; apt-get install postgresql)"
    );
    false
}

/// The user the cluster runs as, when the tests run as root: (uid, gid).
fn cluster_owner() -> Option<(u32, u32)> {
    let id = |args: &[&str]| -> Option<u32> {
        let out = Command::new("id").args(args).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    if id(&["-u"])? != 0 {
        return None;
    }
    ["postgres", "nobody"]
        .into_iter()
        .find_map(|user| Some((id(&["-u", user])?, id(&["-g", user])?)))
        .or_else(|| panic!("running as root, and neither `postgres` nor `nobody` exists"))
}

/// A command that runs `program` in `netns` (if any) as the cluster's owner.
fn command(program: &Path, netns: Option<&str>, owner: Option<(u32, u32)>) -> Command {
    let mut argv: Vec<String> = Vec::new();
    if let Some(ns) = netns {
        argv.extend(["ip", "netns", "exec", ns].map(String::from));
    }
    if let Some((uid, gid)) = owner {
        argv.extend([
            "setpriv".to_owned(),
            format!("--reuid={uid}"),
            format!("--regid={gid}"),
        ]);
        argv.extend(["--clear-groups", "--"].map(String::from));
    }
    argv.push(program.display().to_string());
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]);
    command
}

fn chown(path: &Path, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to the cluster owner");
    }
}

impl PostgresServer {
    /// A server on 127.0.0.1, or `None` when PostgreSQL is not installed (see
    /// [`postgres_available`]).
    pub fn start(test: &str) -> Option<PostgresServer> {
        postgres_available(test).then(|| PostgresServer::start_with(PostgresOptions::default()))
    }

    /// A server as `options` say. PostgreSQL must be installed.
    pub fn start_with(options: PostgresOptions<'_>) -> PostgresServer {
        let bin = postgres_bin_dir().expect("PostgreSQL is installed");
        let owner = cluster_owner();
        let dir = tempfile::tempdir().expect("a temporary directory");
        chown(dir.path(), owner);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let password = format!("pg-secret-{}-{nanos}", std::process::id());
        let data = dir.path().join("data");
        init_cluster(&bin, dir.path(), &data, &password, owner);
        let host = options.listen.unwrap_or("127.0.0.1").to_owned();
        let port = options.port.unwrap_or_else(super::free_port);
        let mut settings = vec![
            format!("listen_addresses={host}"),
            "unix_socket_directories=".to_owned(),
            "fsync=off".to_owned(),
            "synchronous_commit=off".to_owned(),
            "full_page_writes=off".to_owned(),
        ];
        let hba = match options.tls {
            Some(certificates) => {
                settings.extend(tls_settings(dir.path(), certificates, owner));
                "hostssl all all samenet scram-sha-256\n"
            }
            None => "host all all samenet scram-sha-256\n",
        };
        std::fs::write(data.join("pg_hba.conf"), hba).expect("pg_hba.conf written");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("a log file");
        let mut server = command(&bin.join("postgres"), options.netns, owner);
        server.arg("-D").arg(&data).args(["-p", &port.to_string()]);
        for setting in &settings {
            server.args(["-c", setting]);
        }
        let child = server
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        let server = PostgresServer {
            child,
            host,
            port,
            password,
            dir: Some(dir),
        };
        server.wait_ready(&bin, options.netns);
        server
    }

    fn wait_ready(&self, bin: &Path, netns: Option<&str>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = command(&bin.join("pg_isready"), netns, None)
                .args(["-q", "-h", &self.host, "-p", &self.port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not accept connections on {}:{} within 30 s; its log:\n{}",
                self.host,
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.path().join("server.log")).ok())
            .unwrap_or_default()
    }

    /// `postgres://oauth:PASSWORD@HOST:PORT/postgres`, with `query` appended (e.g.
    /// `?sslmode=require`).
    pub fn url_with(&self, query: &str) -> String {
        format!(
            "postgres://{PG_USER}:{}@{}:{}/postgres{query}",
            self.password, self.host, self.port
        )
    }

    /// `postgres://oauth:PASSWORD@HOST:PORT/postgres`.
    pub fn url(&self) -> String {
        self.url_with("")
    }

    /// The password of the `oauth` user.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// What `psql` prints for `sql` (unaligned, tuples only), from this machine's loopback.
    pub fn psql(&self, sql: &str) -> String {
        let bin = postgres_bin_dir().expect("PostgreSQL is installed");
        let out = Command::new(bin.join("psql"))
            .args([&self.url(), "-X", "-At", "-c", sql])
            .stdin(Stdio::null())
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn init_cluster(bin: &Path, dir: &Path, data: &Path, password: &str, owner: Option<(u32, u32)>) {
    let pwfile = dir.join("pwfile");
    std::fs::write(&pwfile, password).expect("password file written");
    chown(&pwfile, owner);
    let out = command(&bin.join("initdb"), None, owner)
        .arg("-D")
        .arg(data)
        .args([
            "-U",
            PG_USER,
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
        ])
        .args(["--no-sync", "--no-instructions"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .stdin(Stdio::null())
        .output()
        .expect("initdb runs");
    assert!(
        out.status.success(),
        "initdb failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&pwfile);
}

/// Writes the server's certificate and key (mode 0600, owned by the cluster's owner, as
/// PostgreSQL requires) and returns the settings that turn TLS on.
fn tls_settings(
    dir: &Path,
    certificates: &TestCertificates,
    owner: Option<(u32, u32)>,
) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let cert = dir.join("server.crt");
    let key = dir.join("server.key");
    for (path, text) in [
        (&cert, &certificates.server_pem),
        (&key, &certificates.server_key_pem),
    ] {
        std::fs::write(path, text).expect("certificate file written");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .expect("certificate file mode");
        chown(path, owner);
    }
    vec![
        "ssl=on".to_owned(),
        format!("ssl_cert_file={}", cert.display()),
        format!("ssl_key_file={}", key.display()),
    ]
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // Immediate shutdown (SIGQUIT): the cluster is thrown away.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-QUIT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(self.dir.take());
    }
}
