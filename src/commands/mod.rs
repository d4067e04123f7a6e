//! One module per leaf command: an `Args` struct and a `run` function.

pub mod analysis;
pub mod hook;
pub mod prices;
pub mod push;
pub mod report;
pub mod skills;
pub mod statusline;
