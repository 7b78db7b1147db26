//! Command lines rendered for a POSIX shell (the HTML report's "Reproduce" commands).

/// `s` quoted for a POSIX shell when it needs it: words of letters, digits and `-_./,:=+@%`
/// stand as they are; anything else goes in single quotes (a `'` inside as `'\''`).
///
/// # Examples
/// ```
/// use scaling::report::shell::word;
/// assert_eq!(word("runs.csv"), "runs.csv");
/// assert_eq!(word("N < 1e9"), "'N < 1e9'");
/// assert_eq!(word("it's"), "'it'\\''s'");
/// ```
pub fn word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A command line from words, each quoted for the shell as needed.
///
/// # Examples
/// ```
/// let words = ["scaling", "fit", "my runs.csv"].map(String::from);
/// assert_eq!(scaling::report::shell::command_line(&words), "scaling fit 'my runs.csv'");
/// ```
pub fn command_line(words: &[String]) -> String {
    words.iter().map(|w| word(w)).collect::<Vec<_>>().join(" ")
}
