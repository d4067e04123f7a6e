//! Ids a person types: a unique beginning names one thing, git-style. An exact id always
//! wins; a prefix that begins several ids is a usage error (exit 2) listing them, since the
//! fix is to type more of it; one that begins none is "not found" (exit 1).

use crate::error::Error;

/// How many candidates an ambiguity error lists.
const SHOWN: usize = 20;

/// The one of `matches` (ids beginning with `given`, `given` itself first if it is one)
/// that `given` names. `what` names the kind of id in messages (`analysis`, `session`);
/// `list` is the command that shows them all.
pub fn pick(
    given: &str,
    mut matches: Vec<String>,
    what: &str,
    list: &str,
) -> Result<String, Error> {
    if let Some(exact) = matches.iter().position(|m| m == given) {
        return Ok(matches.swap_remove(exact));
    }
    match matches.len() {
        0 => Err(Error::NotFound(format!(
            "no {what} id is or begins with {given:?} (see `{list}`)"
        ))),
        1 => Ok(matches.remove(0)),
        n => {
            let more = if n > SHOWN { " (and more)" } else { "" };
            let mut msg = format!(
                "{given:?} begins {} {what} ids{more}; type more of one:",
                n.min(SHOWN)
            );
            for m in matches.iter().take(SHOWN) {
                msg.push_str("\n  ");
                msg.push_str(m);
            }
            Err(Error::Usage(msg))
        }
    }
}

/// The fewest characters that tell every id in `sorted` apart (at least `min`): one more
/// than the longest beginning two neighbours share.
pub fn unique_len(sorted: &[String], min: usize) -> usize {
    sorted
        .windows(2)
        .map(|w| {
            w[0].chars()
                .zip(w[1].chars())
                .take_while(|(a, b)| a == b)
                .count()
                + 1
        })
        .fold(min, usize::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn an_exact_id_wins_a_unique_prefix_names_one_and_others_fail() {
        assert_eq!(pick("ab", v(&["abc", "ab"]), "x", "l").unwrap(), "ab");
        assert_eq!(pick("ab", v(&["abc"]), "x", "l").unwrap(), "abc");
        let e = pick("a", v(&["ab", "ac"]), "session", "l").unwrap_err();
        assert!(
            matches!(&e, Error::Usage(m) if m.contains("\n  ab\n  ac")),
            "{e}"
        );
        let e = pick("z", v(&[]), "session", "l").unwrap_err();
        assert!(matches!(e, Error::NotFound(_)));
    }

    #[test]
    fn unique_lengths() {
        assert_eq!(unique_len(&v(&[]), 8), 8);
        assert_eq!(unique_len(&v(&["aaaaaaaaaa1", "aaaaaaaaaa2"]), 8), 11);
        assert_eq!(unique_len(&v(&["a1", "b2"]), 8), 8);
    }
}
