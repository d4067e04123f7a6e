//! What of paths, projects and notes leaves the machine (docs/TEAM.md, "What is sent").
//!
//! By default: a project is the last part of its working directory (`~` for the home
//! directory itself, whose last part is the user's name); a tool call's file path is
//! relative to the project when it is inside it, else the file name alone; notes as the
//! caller wrote them. Never: transcript paths, full working directories, shell commands,
//! git branches, message contents (the ledger holds none).

use std::path::Path;

#[derive(Clone, Debug, Default)]
pub struct Privacy {
    /// `--redact paths`: no file paths at all.
    pub paths: bool,
    /// `--redact projects`: no project names.
    pub projects: bool,
    /// `--redact notes`: no analysis notes.
    pub notes: bool,
    /// The home directory, which is never a project's name.
    pub home: Option<String>,
}

fn is_sep(c: char) -> bool {
    c == '/' || c == '\\'
}

fn last_part(p: &str) -> Option<&str> {
    p.trim_end_matches(is_sep)
        .rsplit(is_sep)
        .next()
        .filter(|s| !s.is_empty())
}

impl Privacy {
    pub fn project(&self, dir: Option<&str>) -> Option<String> {
        if self.projects {
            return None;
        }
        let dir = dir?.trim_end_matches(is_sep);
        if self
            .home
            .as_deref()
            .is_some_and(|h| h.trim_end_matches(is_sep) == dir)
        {
            return Some("~".to_owned());
        }
        last_part(dir).map(str::to_owned)
    }

    pub fn file_path(&self, path: Option<&str>, project_dir: Option<&str>) -> Option<String> {
        if self.paths {
            return None;
        }
        let path = path?;
        let absolute = path.starts_with(is_sep)
            || Path::new(path).is_absolute()
            || path.get(1..3) == Some(":\\");
        let inside = project_dir
            .map(|d| d.trim_end_matches(is_sep))
            .filter(|d| !d.is_empty())
            .and_then(|d| path.strip_prefix(d))
            .and_then(|rest| rest.strip_prefix(is_sep));
        let climbs = |p: &str| p.split(is_sep).any(|part| part == "..");
        match inside {
            Some(rel) if !rel.is_empty() && !climbs(rel) => Some(rel.to_owned()),
            _ if !absolute && !climbs(path) && !path.starts_with('~') => Some(path.to_owned()),
            _ => last_part(path).map(str::to_owned),
        }
    }

    pub fn notes<'a>(&self, notes: Option<&'a str>) -> Option<&'a str> {
        if self.notes { None } else { notes }
    }
}

#[cfg(test)]
mod tests {
    use super::Privacy;

    #[test]
    fn projects_are_their_last_part_and_home_is_tilde() {
        let p = Privacy {
            home: Some("/home/alice".into()),
            ..Privacy::default()
        };
        assert_eq!(
            p.project(Some("/home/alice/src/app/")).as_deref(),
            Some("app")
        );
        assert_eq!(p.project(Some("/home/alice")).as_deref(), Some("~"));
        assert_eq!(p.project(None), None);
        let hidden = Privacy {
            projects: true,
            ..p
        };
        assert_eq!(hidden.project(Some("/home/alice/src/app")), None);
    }

    #[test]
    fn file_paths_are_relative_to_the_project_or_a_file_name() {
        let p = Privacy::default();
        let dir = Some("/home/alice/app");
        assert_eq!(
            p.file_path(Some("/home/alice/app/src/main.rs"), dir)
                .as_deref(),
            Some("src/main.rs")
        );
        assert_eq!(
            p.file_path(Some("/home/alice/.ssh/config"), dir).as_deref(),
            Some("config")
        );
        assert_eq!(
            p.file_path(Some("/home/alice/app/../x/y.txt"), dir)
                .as_deref(),
            Some("y.txt")
        );
        assert_eq!(
            p.file_path(Some("src/lib.rs"), dir).as_deref(),
            Some("src/lib.rs")
        );
        assert_eq!(
            p.file_path(Some("../../etc/passwd"), dir).as_deref(),
            Some("passwd")
        );
        assert_eq!(
            p.file_path(Some("/home/alice/appendix.md"), dir).as_deref(),
            Some("appendix.md")
        );
        let none = Privacy {
            paths: true,
            ..Privacy::default()
        };
        assert_eq!(none.file_path(Some("src/lib.rs"), dir), None);
    }
}
