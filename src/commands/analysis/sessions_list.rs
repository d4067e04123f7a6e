//! `tokledger analysis sessions list`

use anyhow::Result;

use crate::agents::Agent;
use crate::ctx::Ctx;
use crate::render;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only this agent's sessions
    #[arg(long, value_enum)]
    pub tool: Option<Agent>,
    /// How many sessions to show
    #[arg(long, default_value_t = 20, conflicts_with = "all")]
    pub limit: usize,
    /// Show every session
    #[arg(long)]
    pub all: bool,
    /// One JSON document on stdout
    #[arg(short, long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    let tools: Vec<Agent> = args.tool.map_or(Agent::ALL.to_vec(), |t| vec![t]);
    let mut store = ctx.open_store()?;
    crate::read::read(
        ctx,
        &mut store,
        crate::read::Scope::Agents(&tools),
        // A large read prices as it goes (on the reader threads, issue #18): the first
        // report after it then has nothing left to price.
        crate::read::How {
            price: true,
            progress: true,
        },
    )?;
    let rows = store.sessions(args.tool, (!args.all).then_some(args.limit))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        render::sessions::json(&mut out, &rows)
    } else {
        render::sessions::table(&mut out, &rows, ctx.stdout_is_terminal())
    }
}
