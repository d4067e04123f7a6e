//! The agents' skill files and hook settings: templates under `templates/`, embedded in the
//! binary and rendered with minijinja into `integrations/<agent>/…` (`tokledger skills
//! render`, `make assemble-skills`).
//!
//! `templates/<agent>/<path>.j2` renders to `<agent>/<path>`; `templates/<agent>/<path>`
//! without `.j2` is copied as it is; `templates/skills/` holds the shared parts the agent
//! wrappers include (a wrapper sets the agent's binding, then includes the shared skill).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use minijinja::{Environment, UndefinedBehavior, syntax::SyntaxConfig};

/// The agents that get skill files: every agent of the registry with templates.
pub fn agents() -> Vec<&'static str> {
    crate::agents::Agent::ALL
        .iter()
        .filter(|a| !a.spec().templates().is_empty())
        .map(|a| a.as_str())
        .collect()
}

/// The parts every agent's skill includes.
const SHARED: &[(&str, &str)] = &[(
    "skills/check.md.j2",
    include_str!("../templates/skills/check.md.j2"),
)];

/// Every file under `templates/`, by its path there: the shared parts, then each agent's
/// (`AgentSpec::templates`). Embedded so the binary renders the same files wherever it
/// runs; a test checks that no file of the folder is missing here.
pub fn templates() -> Vec<(&'static str, &'static str)> {
    SHARED
        .iter()
        .copied()
        .chain(
            crate::agents::Agent::ALL
                .iter()
                .flat_map(|a| a.spec().templates().iter().copied()),
        )
        .collect()
}

/// One output file, by its path below the output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub path: PathBuf,
    pub agent: &'static str,
    pub text: String,
}

fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    // Block tags take their own line, so templates can be laid out readably without
    // leaving blank lines in the output; the files end with their newline.
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    // A misspelt variable fails the render instead of leaving a hole in a command line.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in templates() {
        if name.ends_with(".j2") {
            env.add_template(name, source)
                .with_context(|| format!("templates/{name}"))?;
        }
    }
    Ok(env)
}

/// Render every agent's files, in a stable order.
pub fn render_all() -> Result<Vec<Rendered>> {
    let env = environment()?;
    let mut out = Vec::new();
    let agents = agents();
    for (name, source) in templates() {
        let Some(agent) = agents
            .iter()
            .copied()
            .find(|a| Path::new(name).starts_with(a))
        else {
            continue;
        };
        let (path, text) = match name.strip_suffix(".j2") {
            Some(stem) => {
                let tmpl = env.get_template(name)?;
                let text = tmpl
                    .render(minijinja::context! { agent => agent })
                    .map_err(|e| anyhow::anyhow!("templates/{name}: {e:#}"))?;
                (stem, text)
            }
            None => (name, source.to_owned()),
        };
        out.push(Rendered {
            path: PathBuf::from(path),
            agent,
            text,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
