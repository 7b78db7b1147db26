//! Row filters (`dataset == 'rpj' and N < 1e9`) and groups of rows (one analysis per dataset,
//! recipe or architecture).
//!
//! # Filter language
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" expr ")" | compare
//! compare := operand ("==" | "=" | "!=" | "<" | "<=" | ">" | ">=") operand
//! operand := column | number | 'text' | "text"
//! column  := a header (letters, digits, _ . /), or any header in backticks: `eval/loss`;
//!            N, D, C and loss name the columns of those roles (aliases and column
//!            overrides apply)
//! number  := 1e9, 0.5, -3, or with a suffix: 125M, 7B, 1.4T
//! ```
//! `&&`, `||` and `!` may stand for `and`, `or` and `not`. Against a number a cell is read as
//! a quantity (`7B`); against text it is compared as text, trimmed, with `==` or `!=` only. An
//! empty cell satisfies no comparison. Errors name the character where the problem is.

use std::collections::HashMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::quantity::parse_quantity;
use super::runs::{find_column, normalise, ColumnOverrides, Role};
use super::table::RunTable;
use crate::error::{Error, Result};

/// A parsed row filter; [`RowFilter::matches`] evaluates it on a table.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFilter {
    text: String,
    expr: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => o == Equal,
            Op::Ne => o != Equal,
            Op::Lt => o == Less,
            Op::Le => o != Greater,
            Op::Gt => o == Greater,
            Op::Ge => o != Less,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Column { name: String, pos: usize },
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Compare {
        lhs: Operand,
        op: Op,
        rhs: Operand,
        pos: usize,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Number(f64),
    Text(String),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("column {s:?}"),
            Tok::Number(v) => format!("number {v}"),
            Tok::Text(s) => format!("text {s:?}"),
            Tok::Op(o) => format!("{:?}", o.symbol()),
            Tok::And => "\"and\"".into(),
            Tok::Or => "\"or\"".into(),
            Tok::Not => "\"not\"".into(),
            Tok::Open => "\"(\"".into(),
            Tok::Close => "\")\"".into(),
            Tok::End => "the end of the filter".into(),
        }
    }
}

/// The error for the filter `text` at byte `pos`: the message, then the filter with a caret
/// under the character.
fn filter_error(text: &str, pos: usize, message: impl Into<String>) -> Error {
    let col = text[..pos.min(text.len())].chars().count();
    Error::Filter {
        filter: text.to_string(),
        character: col + 1,
        message: message.into(),
        caret: format!("{}^", " ".repeat(col)),
    }
}

fn lex(text: &str) -> Result<Vec<(Tok, usize)>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let ident_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/');
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => {
                out.push((Tok::Open, i));
                i += 1;
            }
            b')' => {
                out.push((Tok::Close, i));
                i += 1;
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = b.get(i + 1) == Some(&b'=');
                let tok = match (c, two) {
                    (b'=', _) => Tok::Op(Op::Eq),
                    (b'!', true) => Tok::Op(Op::Ne),
                    (b'!', false) => Tok::Not,
                    (b'<', true) => Tok::Op(Op::Le),
                    (b'<', false) => Tok::Op(Op::Lt),
                    (b'>', true) => Tok::Op(Op::Ge),
                    _ => Tok::Op(Op::Gt),
                };
                out.push((tok, i));
                i += if two { 2 } else { 1 };
            }
            b'&' | b'|' => {
                if b.get(i + 1) != Some(&c) {
                    return Err(filter_error(
                        text,
                        i,
                        format!(
                            "write {0}{0} (or {1})",
                            c as char,
                            if c == b'&' { "and" } else { "or" }
                        ),
                    ));
                }
                out.push((if c == b'&' { Tok::And } else { Tok::Or }, i));
                i += 2;
            }
            b'\'' | b'"' | b'`' => {
                let Some(len) = text[i + 1..].find(c as char) else {
                    return Err(filter_error(
                        text,
                        i,
                        format!("this {} is never closed", c as char),
                    ));
                };
                let inner = text[i + 1..i + 1 + len].to_string();
                out.push((
                    if c == b'`' {
                        Tok::Ident(inner)
                    } else {
                        Tok::Text(inner)
                    },
                    i,
                ));
                i += len + 2;
            }
            _ if c.is_ascii_digit()
                || ((c == b'-' || c == b'+' || c == b'.')
                    && b.get(i + 1)
                        .is_some_and(|d| d.is_ascii_digit() || *d == b'.')) =>
            {
                i += 1;
                while i < b.len() {
                    let d = b[i];
                    let exp_sign = (d == b'-' || d == b'+') && matches!(b[i - 1], b'e' | b'E');
                    if d.is_ascii_alphanumeric() || d == b'.' || exp_sign {
                        i += 1;
                    } else {
                        break;
                    }
                }
                let word = &text[start..i];
                let v = parse_quantity(word).map_err(|p| {
                    filter_error(
                        text,
                        start,
                        format!("{word:?} is not a number: {}", p.describe()),
                    )
                })?;
                out.push((Tok::Number(v), start));
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (ident_char(b[i]) || b[i] >= 0x80) {
                    i += 1;
                }
                let word = &text[start..i];
                let tok = match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    _ => Tok::Ident(word.to_string()),
                };
                out.push((tok, start));
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(filter_error(
                    text,
                    i,
                    format!(
                        "unexpected {ch:?} (quote text as 'text' and odd column names as `name`)"
                    ),
                ));
            }
        }
    }
    out.push((Tok::End, text.len()));
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(Tok, usize)>,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &(Tok, usize) {
        &self.toks[self.at.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> (Tok, usize) {
        let t = self.peek().clone();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr> {
        let mut e = self.and()?;
        while self.peek().0 == Tok::Or {
            self.next();
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut e = self.unary()?;
        while self.peek().0 == Tok::And {
            self.next();
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr> {
        match self.peek().0 {
            Tok::Not => {
                self.next();
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Tok::Open => {
                let (_, open) = self.next();
                let e = self.or()?;
                let (t, pos) = self.next();
                if t != Tok::Close {
                    return Err(filter_error(
                        self.text,
                        pos,
                        format!(
                            "expected \")\" to close the \"(\" at character {}, found {}",
                            self.text[..open].chars().count() + 1,
                            t.describe()
                        ),
                    ));
                }
                Ok(e)
            }
            _ => self.compare(),
        }
    }

    fn operand(&mut self, after: &str) -> Result<Operand> {
        let (t, pos) = self.next();
        match t {
            Tok::Ident(name) => Ok(Operand::Column { name, pos }),
            Tok::Number(v) => Ok(Operand::Number(v)),
            Tok::Text(s) => Ok(Operand::Text(s)),
            other => Err(filter_error(
                self.text,
                pos,
                format!(
                    "expected a column, a number or 'text'{after}, found {}",
                    other.describe()
                ),
            )),
        }
    }

    fn compare(&mut self) -> Result<Expr> {
        let lhs = self.operand("")?;
        let (t, pos) = self.next();
        let Tok::Op(op) = t else {
            return Err(filter_error(
                self.text,
                pos,
                format!(
                    "expected a comparison (==, !=, <, <=, >, >=), found {}",
                    t.describe()
                ),
            ));
        };
        let rhs = self.operand(&format!(" after {:?}", op.symbol()))?;
        let text_side = matches!(lhs, Operand::Text(_)) || matches!(rhs, Operand::Text(_));
        if text_side && !matches!(op, Op::Eq | Op::Ne) {
            return Err(filter_error(
                self.text,
                pos,
                format!("text is compared with == or != only, not {:?}", op.symbol()),
            ));
        }
        Ok(Expr::Compare { lhs, op, rhs, pos })
    }
}

impl RowFilter {
    /// Parse a filter such as `dataset == 'rpj' and N < 1e9` (grammar in the module docs).
    ///
    /// # Errors
    /// [`Error::Filter`] naming the character where the text stops making sense.
    pub fn parse(text: &str) -> Result<RowFilter> {
        let toks = lex(text)?;
        if toks.len() == 1 {
            return Err(filter_error(text, 0, "the filter is empty"));
        }
        let mut p = Parser { text, toks, at: 0 };
        let expr = p.or()?;
        let (t, pos) = p.next();
        if t != Tok::End {
            return Err(filter_error(
                text,
                pos,
                format!(
                    "expected \"and\", \"or\" or the end of the filter, found {}",
                    t.describe()
                ),
            ));
        }
        Ok(RowFilter {
            text: text.to_string(),
            expr,
        })
    }

    /// The filter as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Which rows of `table` the filter keeps (one flag per row).
    ///
    /// # Errors
    /// [`Error::Filter`] for a name that is no column; [`Error::BadValue`] for a non-empty
    /// cell that is not a number where the filter compares it with a number.
    pub fn matches(&self, table: &RunTable, overrides: &ColumnOverrides) -> Result<Vec<bool>> {
        let mut cols: HashMap<String, usize> = HashMap::new();
        self.resolve(&self.expr, table, overrides, &mut cols)?;
        (0..table.rows.len())
            .map(|r| self.eval(&self.expr, table, r, &cols))
            .collect()
    }

    fn resolve(
        &self,
        e: &Expr,
        table: &RunTable,
        ov: &ColumnOverrides,
        cols: &mut HashMap<String, usize>,
    ) -> Result<()> {
        match e {
            Expr::And(a, b) | Expr::Or(a, b) => {
                self.resolve(a, table, ov, cols)?;
                self.resolve(b, table, ov, cols)
            }
            Expr::Not(a) => self.resolve(a, table, ov, cols),
            Expr::Compare { lhs, rhs, .. } => {
                for o in [lhs, rhs] {
                    if let Operand::Column { name, pos } = o {
                        if !cols.contains_key(name) {
                            let i = self.column(name, *pos, table, ov)?;
                            cols.insert(name.clone(), i);
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// A name in the filter: an exact header, a role (N, D, C, loss, or a role's alias), or a
    /// header equal up to case, spaces and hyphens.
    fn column(&self, name: &str, pos: usize, t: &RunTable, ov: &ColumnOverrides) -> Result<usize> {
        if let Some(i) = t.column_index(name) {
            return Ok(i);
        }
        let role = match name {
            "N" | "n" | "params" => Some(Role::Params),
            "D" | "d" | "tokens" => Some(Role::Tokens),
            "C" | "c" | "flops" => Some(Role::Flops),
            "L" | "loss" => Some(Role::Loss),
            _ => None,
        };
        if let Some(role) = role {
            if let Some(i) = find_column(t, role, ov)? {
                return Ok(i);
            }
        }
        let want = normalise(name);
        let near: Vec<usize> = (0..t.columns.len())
            .filter(|&i| normalise(&t.columns[i]) == want)
            .collect();
        match near.as_slice() {
            [i] => Ok(*i),
            [] => Err(filter_error(
                &self.text,
                pos,
                format!(
                    "{name:?} is not a column of {} (columns are: {})",
                    t.path,
                    t.column_list()
                ),
            )),
            several => Err(filter_error(
                &self.text,
                pos,
                format!(
                    "{name:?} could be any of the columns {}; write the exact name in backticks",
                    several
                        .iter()
                        .map(|&i| format!("`{}`", t.columns[i]))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    fn eval(
        &self,
        e: &Expr,
        t: &RunTable,
        r: usize,
        cols: &HashMap<String, usize>,
    ) -> Result<bool> {
        match e {
            Expr::And(a, b) => Ok(self.eval(a, t, r, cols)? && self.eval(b, t, r, cols)?),
            Expr::Or(a, b) => Ok(self.eval(a, t, r, cols)? || self.eval(b, t, r, cols)?),
            Expr::Not(a) => Ok(!self.eval(a, t, r, cols)?),
            Expr::Compare { lhs, op, rhs, pos } => {
                let numeric =
                    matches!(lhs, Operand::Number(_)) || matches!(rhs, Operand::Number(_));
                let text_mode = matches!(lhs, Operand::Text(_)) || matches!(rhs, Operand::Text(_));
                let cell = |o: &Operand| -> Option<(String, usize)> {
                    match o {
                        Operand::Column { name, .. } => {
                            let c = cols[name];
                            Some((t.cell(r, c).trim().to_string(), c))
                        }
                        _ => None,
                    }
                };
                let num = |o: &Operand| -> Result<Option<f64>> {
                    match o {
                        Operand::Number(v) => Ok(Some(*v)),
                        Operand::Text(_) => Ok(None),
                        Operand::Column { .. } => {
                            let (s, c) = cell(o).expect("a column");
                            if s.is_empty() {
                                return Ok(None);
                            }
                            parse_quantity(&s).map(Some).map_err(|p| Error::BadValue {
                                location: t.location(r),
                                column: t.columns[c].clone(),
                                value: s.clone(),
                                problem: format!(
                                    "the filter {:?} compares this column with a number at character {}, but the value {}",
                                    self.text,
                                    self.text[..*pos].chars().count() + 1,
                                    p.describe()
                                ),
                            })
                        }
                    }
                };
                let text = |o: &Operand| -> String {
                    match o {
                        Operand::Text(s) => s.clone(),
                        Operand::Number(v) => v.to_string(),
                        Operand::Column { .. } => cell(o).expect("a column").0,
                    }
                };
                let empty = |o: &Operand| cell(o).is_some_and(|(s, _)| s.is_empty());
                if empty(lhs) || empty(rhs) {
                    return Ok(false);
                }
                if numeric && !text_mode {
                    return match (num(lhs)?, num(rhs)?) {
                        (Some(x), Some(y)) => Ok(op.holds(x.total_cmp(&y))),
                        _ => Ok(false),
                    };
                }
                if !text_mode {
                    // Two columns: numbers when both read as numbers, else text.
                    let (a, b) = (text(lhs), text(rhs));
                    if let (Ok(x), Ok(y)) = (parse_quantity(&a), parse_quantity(&b)) {
                        return Ok(op.holds(x.total_cmp(&y)));
                    }
                    if !matches!(op, Op::Eq | Op::Ne) {
                        return Err(filter_error(
                            &self.text,
                            *pos,
                            format!(
                                "{}: {a:?} and {b:?} are not both numbers, and text is compared with == or != only",
                                t.location(r)
                            ),
                        ));
                    }
                    return Ok(op.holds(a.cmp(&b)));
                }
                Ok(op.holds(text(lhs).cmp(&text(rhs))))
            }
        }
    }
}

/// A group of rows sharing the values of some columns, in the order the group first appears
/// in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// (column, value) pairs, in the order the columns were given.
    pub key: Vec<(String, String)>,
    /// 0-based table rows of the group, in file order.
    pub rows: Vec<usize>,
}

impl Group {
    /// `dataset=rpj, param_count=standard` (empty for the single group of an ungrouped run).
    pub fn label(&self) -> String {
        self.key
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The key as a JSON-style object (columns in the order given).
    pub fn key_map(&self) -> GroupKey<'_> {
        GroupKey(&self.key)
    }
}

/// A group's key, serialised as an object whose keys keep the order the columns were given.
#[derive(Debug, Clone, Copy)]
pub struct GroupKey<'a>(&'a [(String, String)]);

impl Serialize for GroupKey<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Split `rows` (0-based table rows) into groups by the values of the columns `by` (cells
/// trimmed), in order of first appearance; one group holding every row when `by` is empty.
///
/// # Examples
/// ```
/// use scaling::data::{group_rows, RunTable};
/// let t = RunTable::from_csv_str("runs.csv", "set,N,loss\nc4,1e8,3.1\nrw,1e8,3.0\nc4,1e9,2.7\n").unwrap();
/// let g = group_rows(&t, &["set".to_string()], &[0, 1, 2]).unwrap();
/// assert_eq!((g[0].label(), g[0].rows.clone()), ("set=c4".to_string(), vec![0, 2]));
/// assert_eq!(g[1].rows, vec![1]);
/// assert!(group_rows(&t, &["lr".to_string()], &[0]).is_err()); // not a header
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] when a name in `by` is not a header (naming the request field
/// `by`, which a front end renders as its flag or keyword).
pub fn group_rows(table: &RunTable, by: &[String], rows: &[usize]) -> Result<Vec<Group>> {
    if by.is_empty() {
        return Ok(vec![Group {
            key: vec![],
            rows: rows.to_vec(),
        }]);
    }
    let idx: Vec<usize> = by
        .iter()
        .map(|c| table.field_column("by", c))
        .collect::<Result<_>>()?;
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    let mut out: Vec<Group> = Vec::new();
    for &r in rows {
        let values: Vec<String> = idx
            .iter()
            .map(|&i| table.cell(r, i).trim().to_string())
            .collect();
        match index.get(&values) {
            Some(&g) => out[g].rows.push(r),
            None => {
                index.insert(values.clone(), out.len());
                out.push(Group {
                    key: by.iter().cloned().zip(values).collect(),
                    rows: vec![r],
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RunTable {
        RunTable::from_csv_str(
            "t.csv",
            "dataset,params,tokens,loss,eval/loss\nrpj,1e8,2e9,3.1,3.2\nc4,5e8,1e10,2.9,3.0\nrpj,2B,4e10,2.5,\nrpj,,1e9,3.3,3.4\n",
        )
        .unwrap()
    }

    fn keep(f: &str) -> Vec<bool> {
        RowFilter::parse(f)
            .unwrap()
            .matches(&table(), &ColumnOverrides::default())
            .unwrap()
    }

    #[test]
    fn where_selects_by_text_and_role_symbols() {
        assert_eq!(
            keep("dataset == 'rpj' and N < 1e9"),
            [true, false, false, false]
        );
        assert_eq!(
            keep("dataset != \"rpj\" or N >= 2B"),
            [false, true, true, false]
        );
        assert_eq!(keep("not (dataset == 'c4')"), [true, false, true, true]);
        assert_eq!(
            keep("`eval/loss` < 3.25 && loss > 3"),
            [true, false, false, false]
        );
        assert_eq!(keep("params = 500M"), [false, true, false, false]);
    }

    #[test]
    fn where_empty_cell_matches_no_comparison() {
        // Row 4 has no params: neither N < 1e9 nor its negation by != holds.
        assert_eq!(keep("N != 1"), [true, true, true, false]);
    }

    #[test]
    fn where_parse_errors_point_at_the_character() {
        let e = RowFilter::parse("dataset == 'rpj' and N << 1e9").unwrap_err();
        let s = e.to_string();
        assert!(s.contains("character 25"), "{s}");
        assert!(s.ends_with(&format!("\n  {}^", " ".repeat(24))), "{s:?}");
        let e = RowFilter::parse("dataset == 'rpj").unwrap_err().to_string();
        assert!(
            e.contains("character 12") && e.contains("never closed"),
            "{e}"
        );
        let e = RowFilter::parse("dataset < 'rpj'").unwrap_err().to_string();
        assert!(e.contains("== or != only"), "{e}");
        let e = RowFilter::parse("(N < 1").unwrap_err().to_string();
        assert!(e.contains("to close"), "{e}");
        let e = RowFilter::parse("N < 1 N").unwrap_err().to_string();
        assert!(e.contains("character 7"), "{e}");
    }

    #[test]
    fn where_unknown_column_lists_the_headers() {
        let e = RowFilter::parse("model == 'x'")
            .unwrap()
            .matches(&table(), &ColumnOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"model\" is not a column") && e.contains("\"dataset\""),
            "{e}"
        );
    }

    #[test]
    fn where_non_number_against_number_names_the_cell() {
        let e = RowFilter::parse("dataset > 3")
            .unwrap()
            .matches(&table(), &ColumnOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.csv, row 1") && e.contains("\"rpj\""), "{e}");
    }

    #[test]
    fn by_groups_keep_first_appearance_order() {
        let t = RunTable::from_csv_str("t.csv", "d,x\nz,1\na,2\nz,3\nm,4\n").unwrap();
        let g = group_rows(&t, &["d".into()], &[0, 1, 2, 3]).unwrap();
        let labels: Vec<String> = g.iter().map(Group::label).collect();
        assert_eq!(labels, ["d=z", "d=a", "d=m"]);
        assert_eq!(g[0].rows, [0, 2]);
        let key = serde_json::to_string(&g[1].key_map()).unwrap();
        assert_eq!(key, r#"{"d":"a"}"#);
    }

    #[test]
    fn by_key_keeps_the_columns_order_given() {
        let t = RunTable::from_csv_str("t.csv", "b,a\n1,2\n").unwrap();
        let g = group_rows(&t, &["b".into(), "a".into()], &[0]).unwrap();
        assert_eq!(g[0].label(), "b=1, a=2");
        assert_eq!(
            serde_json::to_string(&g[0].key_map()).unwrap(),
            r#"{"b":"1","a":"2"}"#
        );
    }
}
