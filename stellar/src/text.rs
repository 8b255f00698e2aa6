//! What text a client may send. Control characters have no place in SEP text fields
//! (names, memos, URLs, KYC values), and NUL in particular is refused by PostgreSQL's
//! text type: they are rejected at every boundary, so both backends behave the same.

/// A control character other than tab, line feed and carriage return (which
/// multi-line values such as addresses may hold).
pub fn is_forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

pub fn has_forbidden(s: &str) -> bool {
    s.chars().any(is_forbidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_forbidden_but_line_breaks_are_not() {
        for bad in ["a\u{0}b", "\u{1b}[31m", "x\u{7f}", "\u{85}", "\u{8}"] {
            assert!(has_forbidden(bad), "{bad:?}");
        }
        for good in ["Ada Lovelace", "line one\nline two\r\n\tindented", "Zoë 张伟", ""] {
            assert!(!has_forbidden(good), "{good:?}");
        }
    }
}
