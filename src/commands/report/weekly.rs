//! `tokledger report weekly`

use anyhow::Result;
use chrono::Weekday;

use crate::ctx::Ctx;
use crate::reports::usage::Period;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeekStart {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl WeekStart {
    fn weekday(self) -> Weekday {
        match self {
            WeekStart::Monday => Weekday::Mon,
            WeekStart::Tuesday => Weekday::Tue,
            WeekStart::Wednesday => Weekday::Wed,
            WeekStart::Thursday => Weekday::Thu,
            WeekStart::Friday => Weekday::Fri,
            WeekStart::Saturday => Weekday::Sat,
            WeekStart::Sunday => Weekday::Sun,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub usage: super::UsageArgs,
    /// The first day of a week (`--start-of-week`, as ccusage spells it, too)
    #[arg(
        long,
        visible_alias = "start-of-week",
        value_enum,
        default_value_t = WeekStart::Monday
    )]
    pub week_start: WeekStart,
}

pub fn run(ctx: &Ctx, args: &Args) -> Result<()> {
    super::period_report(ctx, &args.usage, Period::Week(args.week_start.weekday()))
}
