//! Faults of the ledger file itself (issue "messages that do not say what is wrong", and the
//! durability window): every error names the ledger, the cause in words and what to do;
//! a ledger that can only be read is still read; a damaged one takes no writes; what a
//! command acknowledged is in the main file when it exits.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Output;

use crate::common::{TestEnv, stderr};

/// Root ignores permission bits: as root, the runs that must meet them run as `nobody`.
const NOBODY: u32 = 65_534;

fn is_root(env: &TestEnv) -> bool {
    std::fs::metadata(env.dir.path()).expect("stat").uid() == 0
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Run as a user the ledger's permissions apply to.
fn run_limited(env: &TestEnv, args: &[&str]) -> Output {
    let mut c = env.cmd(args);
    if is_root(env) {
        c.uid(NOBODY).gid(NOBODY);
    }
    c.output().expect("run")
}

/// An `analysis add` of one token.
const ADD_C: &[&str] = &[
    "analysis",
    "add",
    "--tool",
    "claude",
    "--source-id",
    "c",
    "--tokens-in",
    "1",
];

fn bytes_of(paths: &[&Path]) -> Vec<Option<Vec<u8>>> {
    paths.iter().map(|p| std::fs::read(p).ok()).collect()
}

fn wal(db: &Path) -> std::path::PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push("-wal");
    s.into()
}

/// A ledger that has read the fixtures and holds two analyses, closed (WAL checkpointed).
fn filled() -> TestEnv {
    let env = TestEnv::with_fixtures();
    for s in ["a", "b"] {
        let out = env.run(&[
            "analysis",
            "add",
            "--tool",
            "claude",
            "--source-id",
            s,
            "--tokens-in",
            "5",
            "--tokens-out",
            "7",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = env.run(&["report", "daily", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    env
}

fn daily_json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn a_ledger_this_user_cannot_write_is_still_read_and_writes_say_why() {
    let env = filled();
    let want = daily_json(&env.run(&["report", "daily", "--json"]));
    let db = env.db();
    // The file read-only, its folder writable (SQLite can make its -wal and -shm there).
    chmod(env.dir.path(), 0o777);
    chmod(&env.home(), 0o755);
    chmod(&db, 0o444);
    let before = bytes_of(&[&db]);
    let out = run_limited(&env, &["report", "daily", "--json"]);
    assert_eq!(
        daily_json(&out),
        want,
        "the same report, from what the ledger holds"
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("the ledger {} is read-only", db.display()))
            && err.contains("permission denied for this user")
            && err.contains("transcripts were not read"),
        "{err}"
    );
    let list = run_limited(&env, &["analysis", "list", "--json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let add = run_limited(&env, ADD_C);
    assert_eq!(add.status.code(), Some(1));
    let err = stderr(&add);
    assert!(
        err.contains(&format!("the ledger {} cannot be written", db.display()))
            && err.contains("permission denied for this user")
            && err.contains("nothing was written")
            && !err.contains("Error code"),
        "{err}"
    );
    assert_eq!(bytes_of(&[&db]), before, "the ledger is untouched");
}

#[test]
fn a_ledger_in_a_folder_this_user_cannot_write_is_still_read() {
    let env = filled();
    let want = daily_json(&env.run(&["report", "daily", "--json"]));
    let db = env.db();
    assert!(
        !wal(&db).exists(),
        "closed: the WAL was checkpointed and removed"
    );
    // The file writable, its folder not: SQLite cannot create the -wal and -shm files.
    chmod(&db, 0o666);
    chmod(env.dir.path(), 0o555);
    chmod(&env.home(), 0o755);
    let out = run_limited(&env, &["report", "daily", "--json"]);
    let got = daily_json(&out);
    chmod(env.dir.path(), 0o755);
    assert_eq!(got, want);
    assert!(
        stderr(&out).contains(&format!(
            "its folder {} is not writable",
            env.dir.path().display()
        )),
        "{}",
        stderr(&out)
    );
    chmod(env.dir.path(), 0o555);
    let add = run_limited(&env, ADD_C);
    chmod(env.dir.path(), 0o755);
    assert_eq!(add.status.code(), Some(1));
    assert!(
        stderr(&add).contains("cannot be written: its folder")
            && !stderr(&add).contains("Error code"),
        "{}",
        stderr(&add)
    );
}

#[test]
fn a_ledger_that_cannot_be_created_says_where_and_why() {
    let env = TestEnv::empty();
    let dir = env.dir.path().join("locked");
    std::fs::create_dir(&dir).expect("mkdir");
    chmod(env.dir.path(), 0o755);
    chmod(&env.home(), 0o755);
    chmod(&dir, 0o555);
    let db = dir.join("new.db");
    let out = run_limited(
        &env,
        &["--db", db.to_str().expect("utf8"), "analysis", "list"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("could not open the ledger {}", db.display()))
            && err.contains("cannot be created there")
            && err.contains("Permission denied"),
        "{err}"
    );
}

/// The page of `table`'s b-tree root, and the page size.
fn root_page(db: &Path, table: &str) -> (u64, u64) {
    let c = rusqlite::Connection::open(db).expect("open");
    let root: i64 = c
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = ?1",
            [table],
            |r| r.get(0),
        )
        .expect("root page");
    let size: i64 = c
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .expect("page size");
    (
        u64::try_from(root).expect("positive"),
        u64::try_from(size).expect("positive"),
    )
}

fn overwrite(path: &Path, at: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open");
    f.seek(SeekFrom::Start(at)).expect("seek");
    f.write_all(bytes).expect("write");
}

#[test]
fn a_damaged_ledger_takes_no_writes_and_validate_says_so() {
    let env = filled();
    let db = env.db();
    let (root, page) = root_page(&db, "analysis_logs");
    // Cell pointers of the analyses' page pointing nowhere, its cells overwritten.
    let start = (root - 1) * page;
    overwrite(&db, start + 8, &[0, 0, 0xff, 0xff]);
    overwrite(&db, start + page - 2000, &[0xff; 2000]);
    let before = bytes_of(&[&db, &wal(&db)]);
    for args in [
        ADD_C,
        &[
            "analysis",
            "start",
            "--tool",
            "claude",
            "--source-id",
            "c",
            "--usage-session-id",
            crate::common::SA,
        ],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("the ledger {} is damaged", db.display()))
                && err.contains("nothing was written")
                && err.contains(".recover"),
            "{args:?}: {err}"
        );
    }
    let validate = env.run(&["analysis", "validate"]);
    assert_eq!(validate.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&validate.stdout).contains("the ledger file is damaged")
            || stderr(&validate).contains("is damaged"),
        "{}",
        stderr(&validate)
    );
    assert_eq!(
        bytes_of(&[&db]),
        before[..1],
        "the damaged file took no write"
    );
}

#[test]
fn a_truncated_or_foreign_ledger_is_named_as_such() {
    let env = filled();
    let db = env.db();
    let len = std::fs::metadata(&db).expect("stat").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .expect("open")
        .set_len(len - 1000)
        .expect("truncate");
    let out = env.run(&["analysis", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is damaged (its length")
            && stderr(&out).contains("truncated or appended to"),
        "{}",
        stderr(&out)
    );
    std::fs::write(&db, "name,tokens\nx,1\n").expect("write");
    let out = env.run(&["report", "daily"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not a tokledger ledger: it is not an SQLite file"),
        "{}",
        stderr(&out)
    );
}

/// Issue: with the WAL copied into the ledger only every 64 MiB, a ledger another process
/// held open kept acknowledged writes in the WAL alone; a copy of the file lost them.
#[test]
fn what_a_command_acknowledged_is_in_the_ledger_file_while_another_holds_it() {
    let env = filled();
    let db = env.db();
    let holder = rusqlite::Connection::open(&db).expect("hold the ledger open");
    let n: i64 = holder
        .query_row("SELECT count(*) FROM analysis_logs", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 2);
    let id = env.start(
        "held",
        &["--tool", "claude", "--usage-session-id", crate::common::SA],
    );
    let out = env.run(&["analysis", "mark", "--id", &id, "--stage", "read"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The main file alone, as a backup tool or a lost WAL leaves it.
    let copy = env.dir.path().join("copy.db");
    std::fs::copy(&db, &copy).expect("copy");
    let c = rusqlite::Connection::open(&copy).expect("open copy");
    let stages: String = c
        .query_row(
            "SELECT stages_json FROM analysis_logs WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )
        .expect("the started analysis is in the file");
    assert!(stages.contains("\"read\""), "{stages}");
    drop(holder);
}

/// A 2 MiB tmpfs below the test's folder, unmounted when dropped; `None` (saying why) where
/// the test may not mount one.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(env: &TestEnv) -> Option<Tmpfs> {
        if !is_root(env) {
            eprintln!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        let mnt = env.dir.path().join("small");
        std::fs::create_dir(&mnt).expect("mkdir");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
            .arg(&mnt)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: this machine does not let the test mount a tmpfs");
            return None;
        }
        Some(Tmpfs(mnt))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// A read-only mount: read, and writes say so.
#[test]
fn a_ledger_on_a_read_only_mount_is_read_and_writes_say_why() {
    let env = filled();
    let Some(mount) = Tmpfs::mount(&env) else {
        return;
    };
    let db = mount.0.join("l.db");
    let dbs = db.to_str().expect("utf8");
    let first = env.run(&[
        "--db",
        dbs,
        "analysis",
        "add",
        "--tool",
        "claude",
        "--source-id",
        "a",
        "--tokens-in",
        "3",
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let remount = std::process::Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&mount.0)
        .status()
        .is_ok_and(|s| s.success());
    assert!(remount, "remount read-only");
    let report = env.run(&["--db", dbs, "report", "daily", "--json"]);
    assert!(report.status.success(), "{}", stderr(&report));
    let list = env.run(&["--db", dbs, "analysis", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(v["analyses"][0]["source_id"], "a");
    let add = env.run(&[
        "--db",
        dbs,
        "analysis",
        "add",
        "--tool",
        "claude",
        "--source-id",
        "b",
        "--tokens-in",
        "3",
    ]);
    assert_eq!(add.status.code(), Some(1));
    assert!(
        stderr(&add).contains(&format!(
            "the ledger {} cannot be written: the file system is mounted read-only",
            db.display()
        )),
        "{}",
        stderr(&add)
    );
}

/// A full disk: said as such, the ledger still read, nothing lost. Needs a small file
/// system: a tmpfs, mounted only where this test may mount (root).
#[test]
fn a_full_disk_is_said_as_such_and_the_ledger_is_still_read() {
    let env = filled();
    let Some(mount) = Tmpfs::mount(&env) else {
        return;
    };
    let mnt = mount.0.clone();
    let db = mnt.join("l.db");
    let dbs = db.to_str().expect("utf8");
    let add = |source: &str| {
        env.run(&[
            "--db",
            dbs,
            "analysis",
            "add",
            "--tool",
            "claude",
            "--source-id",
            source,
            "--tokens-in",
            "3",
        ])
    };
    assert!(add("first").status.success());
    // Fill the rest of the file system.
    let _ = std::fs::write(mnt.join("fill"), vec![0u8; 4 << 20]);
    let out = add("second");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&db.display().to_string())
            && err.contains("full")
            && err.contains("nothing was written")
            && !err.contains("Error code"),
        "{err}"
    );
    let list = env.run(&["--db", dbs, "analysis", "list", "--json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).expect("json");
    let sources: Vec<&str> = v["analyses"]
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["source_id"].as_str().expect("str"))
        .collect();
    assert_eq!(sources, ["first"], "what was acknowledged is there");
}
