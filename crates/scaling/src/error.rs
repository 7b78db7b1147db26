//! Typed errors for everything the library can refuse.
//!
//! Every variant caused by the user's input says what was wrong and where (file, row, column,
//! value) so the command line can print it as one line and exit with code 2.

use std::fmt;

/// Where a value sits in a user's file: the file, the 1-based data row (the header is not
/// counted) and, for CSV, the line the record starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file as the user named it.
    pub path: String,
    /// 1-based index of the data row (the first record after the header is row 1).
    pub row: usize,
    /// 1-based line of the file where the record starts, when the format has lines (CSV).
    pub line: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, row {} (line {})", self.path, self.row, line),
            None => write!(f, "{}, row {}", self.path, self.row),
        }
    }
}

/// All errors returned by the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{path}: cannot read the file")]
    Io {
        /// The file.
        path: String,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid CSV or JSON of the expected shape.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The table has no data rows (or none left after filtering).
    #[error("{path}: {message}")]
    Empty {
        /// The file.
        path: String,
        /// What was empty and why.
        message: String,
    },
    /// No column could be found for a role the command needs.
    #[error("{path}: no column for {role}: {}", fill(.message, .names, &|n: &str| n.to_string()))]
    MissingColumn {
        /// The file.
        path: String,
        /// The role (parameters, tokens, FLOPs, loss).
        role: String,
        /// Which names were tried or which setting named a missing column; each `{}` stands
        /// for the request field in `names` (as in [`Error::Setting`]).
        message: String,
        /// The request fields the message names.
        names: Vec<String>,
    },
    /// A cell holds a value the command cannot use.
    #[error("{location}, column {column:?}: {problem} (value {value:?})")]
    BadValue {
        /// File and row.
        location: Location,
        /// The column's header.
        column: String,
        /// The raw text of the cell.
        value: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A row filter that does not parse, or names no column: the message, then the filter
    /// with a caret under the character at fault.
    #[error("filter, character {character}: {message}\n  {filter}\n  {caret}")]
    Filter {
        /// The filter as written.
        filter: String,
        /// 1-based character of the filter where the problem is.
        character: usize,
        /// What is wrong.
        message: String,
        /// Spaces and a `^` under that character.
        caret: String,
    },
    /// A setting (a flag value, a law parameter) is out of its domain.
    #[error("{0}")]
    InvalidSetting(String),
    /// The data cannot support the requested fit (too few runs, say).
    #[error("{0}")]
    InsufficientData(String),
    /// A law or fit file is malformed.
    #[error("{path}: {message}")]
    LawFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// An output file could not be written (the file system refused: not the user's input).
    #[error("{path}: cannot write")]
    Write {
        /// The file.
        path: String,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A numerical failure that is not the user's fault.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// Settings of a request that cannot be used: a value out of its domain, a value that is
    /// missing, or settings that do not go together. The library does not know what a front
    /// end calls a setting (a command-line flag, a keyword argument), so the message is a
    /// template: each `{}` in `template` stands for the request field named in `names` (in
    /// order, snake_case as in the request structs). Displayed, the fields keep those names;
    /// [`Error::render`] lets a front end use its own.
    #[error("{}", fill(.template, .names, &|n: &str| n.to_string()))]
    Setting {
        /// The message, with `{}` where a setting is named.
        template: String,
        /// The request fields the message names, in the order of the `{}`.
        names: Vec<String>,
    },
}

/// `template` with each `{}` replaced by the next of `names`, as `name` renders it.
fn fill(template: &str, names: &[String], name: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut names = names.iter();
    let mut rest = template;
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        match names.next() {
            Some(n) => out.push_str(&name(n)),
            None => out.push_str("{}"),
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

impl Error {
    /// True when the error comes from the user's input or settings (the command line exits
    /// with code 2), false for internal failures and refused writes (exit code 1).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Numerical(_) | Error::Write { .. })
    }

    /// A [`Error::Setting`]: `template` with one `{}` per entry of `names` (request fields).
    ///
    /// # Examples
    /// ```
    /// let e = scaling::Error::setting("{} is above {}", &["min_flops", "max_flops"]);
    /// assert_eq!(e.to_string(), "min_flops is above max_flops");
    /// let flag = |n: &str| format!("--{}", n.replace('_', "-"));
    /// assert_eq!(e.render(&flag), "--min-flops is above --max-flops");
    /// ```
    pub fn setting(template: impl Into<String>, names: &[&str]) -> Error {
        Error::Setting {
            template: template.into(),
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// The message with every setting named by `name` (a front end's word for a request
    /// field: `--min-flops` on the command line); other errors as displayed.
    pub fn render(&self, name: &dyn Fn(&str) -> String) -> String {
        match self {
            Error::Setting { template, names } => fill(template, names, name),
            Error::MissingColumn {
                path,
                role,
                message,
                names,
            } => format!(
                "{path}: no column for {role}: {}",
                fill(message, names, name)
            ),
            other => other.to_string(),
        }
    }
}

/// Result type of the library.
pub type Result<T> = std::result::Result<T, Error>;
