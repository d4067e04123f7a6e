//! Resolved settings for one invocation; the only place that reads the process environment.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::agents::Env;
use crate::cost::{PriceFile, Pricer};
use crate::error::Error;
use crate::global::{ColorChoice, GlobalArgs};
use crate::store::Store;

/// What the calling agent tells us about its session through the environment.
#[derive(Clone, Debug, Default)]
pub struct AgentEnv {
    /// The variables the agents' descriptions name (`AgentSpec::env_vars`) that are set.
    pub vars: std::collections::BTreeMap<&'static str, String>,
    /// Set by `tokledger hook claude` through `CLAUDE_ENV_FILE`, or by hand.
    pub tokledger_session_id: Option<String>,
    pub tokledger_session_path: Option<String>,
    /// The agent the two above belong to (`claude` when the hook set them); unset means any.
    pub tokledger_session_tool: Option<String>,
    /// Claude Code gives its SessionStart hooks a file whose `export` lines later shell
    /// commands of the session source.
    pub claude_env_file: Option<PathBuf>,
}

impl AgentEnv {
    /// A variable an agent's description names, when set (and not blank).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

#[derive(Clone)]
pub struct Ctx {
    pub env: Env,
    /// Prices (the database loads on first use, not here).
    pub pricer: Pricer,
    pub agent: AgentEnv,
    pub db_path: PathBuf,
    pub busy: Duration,
    pub quiet: bool,
    pub verbose: bool,
    pub color: bool,
    /// Where tokledger keeps its own state (the hook's log): `$XDG_STATE_HOME/tokledger`,
    /// else `~/.local/state/tokledger`.
    pub state_dir: Option<PathBuf>,
    /// How long a snapshot waits for its anchor (`--anchor-wait`).
    pub anchor_wait: Duration,
    /// Transcript reads stop writing at this time (the hook sets it, to answer in time).
    pub read_deadline: Option<std::time::Instant>,
    /// `TZ`, for reports' `--tz local`.
    pub tz_env: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `$XDG_STATE_HOME/tokledger`, else `~/.local/state/tokledger`. Also used by the hook when
/// the rest of the settings could not be resolved, so it stands alone.
pub fn state_dir() -> Option<PathBuf> {
    var("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            var("HOME")
                .map(PathBuf::from)
                .or_else(dirs::home_dir)
                .map(|h| h.join(".local/state"))
        })
        .map(|d| d.join("tokledger"))
}

/// Whether tables are coloured: `--color always|never` decide; `auto` follows the
/// conventions `NO_COLOR` (set: never; it wins, being the stronger wish), `CLICOLOR_FORCE`
/// (set and not `0`: always, even piped), `CLICOLOR=0` (never), else whether stdout is a
/// terminal.
fn colour(choice: ColorChoice, var: impl Fn(&str) -> Option<String>, tty: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if var("NO_COLOR").is_some() => false,
        ColorChoice::Auto if var("CLICOLOR_FORCE").is_some_and(|v| v.trim() != "0") => true,
        ColorChoice::Auto if var("CLICOLOR").is_some_and(|v| v.trim() == "0") => false,
        ColorChoice::Auto => tty,
    }
}

impl Ctx {
    pub fn new(g: &GlobalArgs) -> Result<Ctx> {
        let env = Env::new(var("HOME").map(PathBuf::from).or_else(dirs::home_dir), var);
        let db_path = match g.db.as_ref().filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => p.clone(),
            None => {
                let data = env
                    .xdg_data_home()
                    .map(PathBuf::from)
                    .or_else(|| env.home.as_ref().map(|h| h.join(".local/share")))
                    .context("cannot find the ledger: set HOME, XDG_DATA_HOME or --db")?;
                data.join("tokledger/ledger.db")
            }
        };
        // A year at most: Duration cannot hold every finite f64.
        const MAX_SECS: f64 = 366.0 * 86400.0;
        if !(0.0..=MAX_SECS).contains(&g.busy_timeout) {
            return Err(Error::Usage(
                "--busy-timeout takes a number of seconds, from 0 to a year".into(),
            )
            .into());
        }
        if !(0.0..=MAX_SECS).contains(&g.anchor_wait) {
            return Err(Error::Usage(
                "--anchor-wait takes a number of seconds, from 0 to a year".into(),
            )
            .into());
        }
        let color = colour(g.color, var, std::io::stdout().is_terminal());
        crate::render::paint::set_enabled(color);
        let agent = AgentEnv {
            vars: crate::agents::Agent::ALL
                .iter()
                .flat_map(|a| a.spec().env_vars())
                .filter_map(|name| var(name).map(|v| (name, v)))
                .collect(),
            tokledger_session_id: var("TOKLEDGER_SESSION_ID"),
            tokledger_session_path: var("TOKLEDGER_SESSION_PATH"),
            tokledger_session_tool: var("TOKLEDGER_SESSION_TOOL"),
            claude_env_file: var("CLAUDE_ENV_FILE").map(PathBuf::from),
        };
        let price_file = match &g.prices {
            Some(p) => PriceFile::load(p)?,
            None => {
                let config = env
                    .xdg_config_home()
                    .map(PathBuf::from)
                    .or_else(|| env.home.as_ref().map(|h| h.join(".config")));
                match config
                    .map(|c| c.join("tokledger/prices.toml"))
                    .filter(|p| p.is_file())
                {
                    Some(p) => PriceFile::load(&p)?,
                    None => PriceFile::default(),
                }
            }
        };
        Ok(Ctx {
            pricer: Pricer::new(price_file),
            env,
            agent,
            db_path,
            busy: Duration::from_secs_f64(g.busy_timeout),
            anchor_wait: Duration::from_secs_f64(g.anchor_wait),
            quiet: g.quiet,
            verbose: g.verbose,
            color,
            state_dir: state_dir(),
            read_deadline: None,
            tz_env: var("TZ"),
        })
    }

    pub fn open_store(&self) -> Result<Store> {
        Store::open(&self.db_path, self.busy)
    }

    /// A status or warning line on stderr (silenced by --quiet; warnings are not).
    pub fn status(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{}", crate::format::printable(msg, true));
        }
    }

    pub fn warn(&self, msg: &str) {
        eprintln!(
            "tokledger: warning: {}",
            crate::format::printable(msg, true)
        );
    }

    pub fn stdout_is_terminal(&self) -> bool {
        std::io::stdout().is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_then_the_conventions() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(colour(
            ColorChoice::Always,
            env(&[("NO_COLOR", "1")]),
            false
        ));
        assert!(!colour(
            ColorChoice::Never,
            env(&[("CLICOLOR_FORCE", "1")]),
            true
        ));
        assert!(colour(ColorChoice::Auto, env(&[]), true));
        assert!(!colour(ColorChoice::Auto, env(&[]), false));
        assert!(!colour(ColorChoice::Auto, env(&[("NO_COLOR", "1")]), true));
        assert!(colour(
            ColorChoice::Auto,
            env(&[("CLICOLOR_FORCE", "1")]),
            false
        ));
        assert!(!colour(
            ColorChoice::Auto,
            env(&[("CLICOLOR_FORCE", "0")]),
            false
        ));
        assert!(!colour(ColorChoice::Auto, env(&[("CLICOLOR", "0")]), true));
        assert!(!colour(
            ColorChoice::Auto,
            env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]),
            true
        ));
    }
}
