//! Counted nouns for summaries and status lines: `1 finding`, `2 findings`, never
//! `1 findings` or `finding(s)`.

/// `one` when `n` is 1, else `many`.
pub fn noun<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `n` followed by the right form of the noun: `1 record`, `0 records`, `3 records`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", noun(n, one, many))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(0, "finding", "findings"), "0 findings");
        assert_eq!(count(1, "finding", "findings"), "1 finding");
        assert_eq!(count(2, "entry", "entries"), "2 entries");
        assert_eq!(noun(1, "is", "are"), "is");
    }
}
