//! "Did you mean" suggestions: the declared names closest to one that is
//! not declared, by edit distance.
//!
//! A suggestion compares the unknown name with every candidate, so a
//! policy with N unknown names among N declarations took O(N²) to check:
//! a file of 10,000 lines each using a name that does not exist took over
//! a minute, and 120,000 lines would have taken hours. One check therefore
//! has a budget for suggestions, in proportion to the size of its sources
//! ([`Suggestions::new`]). Ordinary mistakes get the suggestion they
//! always got; once the budget is spent, the remaining diagnostics come
//! without one, and a diagnostic never gets a suggestion that is not the
//! closest.

/// Work allowed for suggestions in any check, in units of one candidate
/// looked at, one byte of it read or one cell of an edit-distance table.
const BASE_BUDGET: usize = 10_000_000;
/// Work allowed for each byte of source, on top of [`BASE_BUDGET`].
const BUDGET_PER_BYTE: usize = 16;
/// Suggestions given for one unknown name.
const MAX_SUGGESTIONS: usize = 3;

/// The suggestion budget of one check.
#[derive(Debug)]
pub struct Suggestions {
    left: usize,
}

impl Suggestions {
    /// The budget for a policy whose sources total `source_bytes` bytes.
    pub fn new(source_bytes: usize) -> Suggestions {
        Suggestions {
            left: BASE_BUDGET.saturating_add(source_bytes.saturating_mul(BUDGET_PER_BYTE)),
        }
    }

    /// The candidates closest to `name` (at most three, closest first, then
    /// in alphabetical order), within an edit distance of a third of its
    /// length (at least 1), leaving out `name` itself. `candidates` is only
    /// called while the budget lasts; once it is spent, and for the search
    /// that spends it, there are none.
    pub fn closest<'a, I>(&mut self, name: &str, candidates: impl FnOnce() -> I) -> Vec<String>
    where
        I: IntoIterator<Item = &'a str>,
    {
        if self.left == 0 {
            return Vec::new();
        }
        closest(name, candidates(), &mut self.left).unwrap_or_else(|| {
            self.left = 0;
            Vec::new()
        })
    }
}

/// [`Suggestions::closest`], spending `budget`; `None` if it runs out.
fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    budget: &mut usize,
) -> Option<Vec<String>> {
    let a: Vec<char> = name.chars().collect();
    let limit = (a.len() / 3).max(1);
    let mut b: Vec<char> = Vec::new();
    let mut rows = (Vec::new(), Vec::new());
    let mut scored: Vec<(usize, &str)> = Vec::new();
    for c in candidates {
        *budget = budget.checked_sub(1 + c.len())?;
        if c == name {
            continue;
        }
        b.clear();
        b.extend(c.chars());
        // The distance is at least the difference in length.
        if a.len().abs_diff(b.len()) > limit {
            continue;
        }
        if let Some(d) = distance_within(&a, &b, limit, &mut rows, budget)? {
            scored.push((d, c));
        }
    }
    scored.sort();
    scored.dedup_by(|x, y| x.1 == y.1);
    Some(
        scored
            .into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|(_, c)| c.to_string())
            .collect(),
    )
}

/// The edit distance of `a` and `b` if it is at most `limit`: `Some(None)`
/// if it is more, `None` if `budget` (one unit a cell) runs out first.
fn distance_within(
    a: &[char],
    b: &[char],
    limit: usize,
    (prev, cur): &mut (Vec<usize>, Vec<usize>),
    budget: &mut usize,
) -> Option<Option<usize>> {
    prev.clear();
    prev.extend(0..=b.len());
    cur.clear();
    cur.resize(b.len() + 1, 0);
    for (i, &ca) in a.iter().enumerate() {
        *budget = budget.checked_sub(b.len())?;
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let d = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
            cur[j + 1] = d;
            row_min = row_min.min(d);
        }
        std::mem::swap(prev, cur);
        // No cell of a later row is smaller than the smallest of this one.
        if row_min > limit {
            return Some(None);
        }
    }
    let d = prev.get(b.len()).copied().unwrap_or(usize::MAX);
    Some((d <= limit).then_some(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit_distance(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        let mut cur = vec![0; b.len() + 1];
        for i in 1..=a.len() {
            cur[0] = i;
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        prev[b.len()]
    }

    /// What suggestions were before the budget: every candidate scored in
    /// full.
    fn unbudgeted(name: &str, candidates: &[&str]) -> Vec<String> {
        let limit = (name.chars().count() / 3).max(1);
        let mut scored: Vec<(usize, &str)> = candidates
            .iter()
            .map(|c| (edit_distance(name, c), *c))
            .filter(|(d, c)| *d <= limit && *c != name)
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored
            .into_iter()
            .take(3)
            .map(|(_, c)| c.to_string())
            .collect()
    }

    #[test]
    fn same_as_scoring_every_candidate() {
        let candidates = [
            "age",
            "aged",
            "page",
            "wage",
            "sage",
            "age",
            "household_size",
            "household_sizes",
            "house_size",
            "benefit",
            "benefits",
            "bnefit",
            "长者",
            "长者津贴",
            "",
            "a",
            "ab",
        ];
        let names = [
            "age",
            "agee",
            "ag",
            "a",
            "",
            "x",
            "household_siez",
            "hosehold_size",
            "benefti",
            "长",
            "长者津",
            "benefit",
            "completely_different",
        ];
        for name in names {
            let mut s = Suggestions::new(0);
            assert_eq!(
                s.closest(name, || candidates.iter().copied()),
                unbudgeted(name, &candidates),
                "{name}"
            );
        }
    }

    #[test]
    fn none_once_the_budget_is_spent() {
        let candidates: Vec<String> = (0..1000).map(|i| format!("rule_{i}")).collect();
        let mut s = Suggestions { left: 50_000 };
        let mut given = 0;
        for i in 0..1000 {
            let sugg = s.closest(&format!("rul_{i}"), || {
                candidates.iter().map(|c| c.as_str())
            });
            if sugg.is_empty() {
                break;
            }
            assert_eq!(sugg.first(), Some(&format!("rule_{i}")));
            given += 1;
        }
        assert!(given > 0 && given < 1000, "{given}");
        assert_eq!(s.left, 0);
        let mut called = false;
        let sugg = s.closest("rul_1", || {
            called = true;
            candidates.iter().map(|c| c.as_str())
        });
        assert!(sugg.is_empty() && !called);
    }

    #[test]
    fn a_huge_name_spends_the_budget_instead_of_hanging() {
        let long = "x".repeat(1_000_000);
        let longer = format!("{long}y");
        let mut s = Suggestions::new(2 * long.len());
        assert!(s.closest(&longer, || [long.as_str()]).is_empty());
        assert_eq!(s.left, 0);
    }
}
