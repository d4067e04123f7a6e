//! A real PostgreSQL server for one test: `initdb` in a temporary directory as an
//! unprivileged user, listening on 127.0.0.1 on a free port, stopped (only the postmaster this
//! started, by its pid) when dropped. Every wait is bounded.
//!
//! Without PostgreSQL's binaries a test is skipped with a printed reason, unless
//! `TOKLEDGER_REQUIRE_PG` is set (`.ci/run` sets it): then it fails.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "tl";
pub const PASSWORD: &str = "s3cret-pw";

pub struct Pg {
    _dir: tempfile::TempDir,
    root: PathBuf,
    pub port: u16,
    child: Option<Child>,
}

/// The newest PostgreSQL's bin directory holding `initdb` and `postgres`.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file()).then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

/// The uid and gid to run the server as: ourselves, unless we are root (initdb refuses
/// root): then `postgres` (Debian's package makes it), else `tokledger-pg`, made here.
fn server_user() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to our effective uid.
    if std::fs::metadata("/proc/self").map_or(true, |m| m.uid() != 0) {
        return None;
    }
    let lookup = |name: &str| -> Option<(u32, u32)> {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name) && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
        })
    };
    if let Some(ids) = lookup("postgres").or_else(|| lookup("tokledger-pg")) {
        return Some(ids);
    }
    let made = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "tokledger-pg",
        ])
        .status();
    assert!(
        made.is_ok_and(|s| s.success()),
        "could not create the user tokledger-pg"
    );
    Some(lookup("tokledger-pg").expect("tokledger-pg was just made"))
}

fn as_user(mut cmd: Command, user: Option<(u32, u32)>) -> Command {
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("addr")
        .port()
}

impl Pg {
    /// Start a server, or `None` (having said why) when PostgreSQL is not installed here.
    pub fn start() -> Option<Pg> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var_os("TOKLEDGER_REQUIRE_PG").is_none(),
                "TOKLEDGER_REQUIRE_PG is set and no PostgreSQL is installed under /usr/lib/postgresql/*/bin"
            );
            eprintln!(
                "skipped: no PostgreSQL under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
            );
            return None;
        };
        let user = server_user();
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("pg");
        std::fs::create_dir(&root).expect("mkdir");
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            if let Some((uid, gid)) = user {
                std::os::unix::fs::chown(&root, Some(uid), Some(gid)).expect("chown");
            }
        }
        let pwfile = root.join("pw");
        std::fs::write(&pwfile, PASSWORD).expect("pwfile");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).expect("chown");
        }
        let out = as_user(Command::new(bin.join("initdb")), user)
            .env_clear()
            .arg("-D")
            .arg(root.join("data"))
            .args(["-U", USER, "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .current_dir(&root)
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let log = std::fs::File::create(root.join("log")).expect("log");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(root.join("log"), Some(uid), Some(gid)).expect("chown");
        }
        let child = as_user(Command::new(bin.join("postgres")), user)
            .env_clear()
            .arg("-D")
            .arg(root.join("data"))
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-k")
            .arg(&root)
            .args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "max_connections=50",
            ])
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start postgres");
        let mut pg = Pg {
            _dir: dir,
            root,
            port,
            child: Some(child),
        };
        pg.wait_ready();
        Some(pg)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut c) =
                postgres::Client::connect(&self.admin_url("postgres"), postgres::NoTls)
            {
                c.simple_query("SELECT 1").expect("first query");
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "postgres did not start ({exited:?}): {}",
                std::fs::read_to_string(self.root.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The URL of database `db` with the right password.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql://{USER}:{PASSWORD}@127.0.0.1:{}/{db}",
            self.port
        )
    }

    fn admin_url(&self, db: &str) -> String {
        self.url(db)
    }

    /// A new, empty database.
    pub fn create_db(&self, name: &str) -> String {
        let mut c = self.client("postgres");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        self.url(name)
    }

    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.admin_url(db), postgres::NoTls).expect("connect")
    }
}

impl Drop for Pg {
    /// Fast shutdown of our postmaster (SIGINT), SIGKILL after 10 s.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
