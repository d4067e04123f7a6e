use anyhow::Result;
use clap::Subcommand;

use crate::ctx::Ctx;

pub mod render;

#[derive(Subcommand, Debug)]
pub enum SkillsCommand {
    /// Render the agents' skill files and hook settings from the templates
    Render(render::Args),
}

pub fn run(ctx: &Ctx, cmd: &SkillsCommand) -> Result<()> {
    match cmd {
        SkillsCommand::Render(a) => render::run(ctx, a),
    }
}
