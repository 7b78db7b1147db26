//! A user's own law as a formula: `E + A*N^-alpha + B*D^-beta`.
//!
//! # Grammar
//! ```text
//! expr  := term (('+' | '-') term)*
//! term  := unary (('*' | '/') unary)*
//! unary := ('-' | '+') unary | power
//! power := atom ('^' unary)?            (right-associative: 2^3^2 = 2^9; -2^2 = -4)
//! atom  := number | name | name '(' expr (',' expr)* ')' | '(' expr ')' | '[' expr ']'
//! ```
//! Functions: `exp`, `ln` (also `log`, natural), `sqrt`, `min`, `max` (two or more
//! arguments). A leading `L =` is ignored. Names of variables (`N`, `D`, `C`, `U`, `S`,
//! `M` = D/N; see [`Var`]) or of a column of the data are data; every other name is a
//! parameter. `E` is a parameter (the irreducible loss), never Euler's number: write
//! `exp(1)` for e.
//!
//! # Derivatives
//! The formula is compiled to a postfix program and evaluated over forward-mode dual numbers
//! kept on the evaluation stack: each slot holds a value and its gradient with respect to
//! every parameter, so gradients are exact (no finite differences).

use std::fmt;

use super::form::{Domain, Form, ParamSpec, Var};
use crate::error::{Error, Result};

/// A parse error: what was wrong and at which character (0-based byte offset).
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// The formula as given.
    pub formula: String,
    /// Byte offset of the offending character.
    pub position: usize,
    /// What was expected or wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let col = self.formula[..self.position.min(self.formula.len())]
            .chars()
            .count();
        write!(
            f,
            "formula error at character {}: {}\n  {}\n  {}^",
            col + 1,
            self.message,
            self.formula,
            " ".repeat(col)
        )
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Error {
        Error::InvalidSetting(e.to_string())
    }
}

/// A function of the formula language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// e^x.
    Exp,
    /// Natural logarithm.
    Ln,
    /// Square root.
    Sqrt,
    /// Smallest argument.
    Min,
    /// Largest argument.
    Max,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A number.
    Num(f64),
    /// Data variable `i` of [`Formula::variables`].
    Var(usize),
    /// Parameter `i` of [`Formula::param_names`].
    Param(usize),
    /// -x.
    Neg(Box<Node>),
    /// x + y.
    Add(Box<Node>, Box<Node>),
    /// x - y.
    Sub(Box<Node>, Box<Node>),
    /// x * y.
    Mul(Box<Node>, Box<Node>),
    /// x / y.
    Div(Box<Node>, Box<Node>),
    /// x ^ y.
    Pow(Box<Node>, Box<Node>),
    /// f(args).
    Call(Func, Vec<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Num(f64),
    Var(usize),
    Param(usize),
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    /// Pow with an exponent that does not depend on any parameter.
    PowConstExp,
    /// Data variable `i` raised to the value on the stack: exp(b ln x_i), with ln x_i
    /// computed once per run.
    PowVar(usize),
    Pow,
    Exp,
    Ln,
    Sqrt,
    Min,
    Max,
}

/// A compiled formula: names, classification of names into data and parameters, the
/// postfix program, and each parameter's specification.
#[derive(Debug, Clone)]
pub struct Formula {
    text: String,
    name: String,
    root: Node,
    vars: Vec<Var>,
    specs: Vec<ParamSpec>,
    program: Vec<Op>,
    depth: usize,
    /// For each op, the parameters its result depends on, and whether each comes from the
    /// first (a) and second (b) operand: (param, in a, in b).
    deps: Vec<Vec<(usize, bool, bool)>>,
}

impl PartialEq for Formula {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.vars == other.vars && self.name == other.name
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    names: Vec<(String, usize)>,
}

impl<'a> Parser<'a> {
    fn err(&self, pos: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            formula: self.text.to_string(),
            position: pos,
            message: message.into(),
        }
    }

    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.pos).copied()
    }

    fn expr(&mut self) -> std::result::Result<Node, ParseError> {
        let mut lhs = self.term()?;
        loop {
            match self.peek() {
                Some(b'+') => {
                    self.pos += 1;
                    lhs = Node::Add(Box::new(lhs), Box::new(self.term()?));
                }
                Some(b'-') => {
                    self.pos += 1;
                    lhs = Node::Sub(Box::new(lhs), Box::new(self.term()?));
                }
                _ => return Ok(lhs),
            }
        }
    }

    fn term(&mut self) -> std::result::Result<Node, ParseError> {
        let mut lhs = self.unary()?;
        loop {
            match self.peek() {
                Some(b'*') => {
                    self.pos += 1;
                    if self.peek() == Some(b'*') {
                        return Err(
                            self.err(self.pos, "'**' is not an operator: write ^ for powers")
                        );
                    }
                    lhs = Node::Mul(Box::new(lhs), Box::new(self.unary()?));
                }
                Some(b'/') => {
                    self.pos += 1;
                    lhs = Node::Div(Box::new(lhs), Box::new(self.unary()?));
                }
                _ => return Ok(lhs),
            }
        }
    }

    fn unary(&mut self) -> std::result::Result<Node, ParseError> {
        match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                Ok(Node::Neg(Box::new(self.unary()?)))
            }
            Some(b'+') => {
                self.pos += 1;
                self.unary()
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> std::result::Result<Node, ParseError> {
        let base = self.atom()?;
        if self.peek() == Some(b'^') {
            self.pos += 1;
            let exp = self.unary()?;
            return Ok(Node::Pow(Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> std::result::Result<Node, ParseError> {
        let start = match self.peek() {
            None => {
                return Err(self.err(
                    self.bytes.len(),
                    "the formula ends too early: expected a number, a name or '('",
                ))
            }
            Some(_) => self.pos,
        };
        let c = self.bytes[start];
        if c == b'(' || c == b'[' {
            let close = if c == b'(' { b')' } else { b']' };
            self.pos += 1;
            let inner = self.expr()?;
            if self.peek() != Some(close) {
                return Err(self.err(
                    self.pos,
                    format!(
                        "expected '{}' to close the '{}' opened at character {}",
                        close as char,
                        c as char,
                        start + 1
                    ),
                ));
            }
            self.pos += 1;
            return Ok(inner);
        }
        if c.is_ascii_digit() || c == b'.' {
            let mut end = start;
            while end < self.bytes.len()
                && (self.bytes[end].is_ascii_digit() || self.bytes[end] == b'.')
            {
                end += 1;
            }
            if end < self.bytes.len() && (self.bytes[end] == b'e' || self.bytes[end] == b'E') {
                let mut e = end + 1;
                if e < self.bytes.len() && (self.bytes[e] == b'+' || self.bytes[e] == b'-') {
                    e += 1;
                }
                if e < self.bytes.len() && self.bytes[e].is_ascii_digit() {
                    while e < self.bytes.len() && self.bytes[e].is_ascii_digit() {
                        e += 1;
                    }
                    end = e;
                }
            }
            let s = &self.text[start..end];
            let v: f64 = s
                .parse()
                .map_err(|_| self.err(start, format!("{s:?} is not a number")))?;
            self.pos = end;
            return Ok(Node::Num(v));
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let mut end = start;
            while end < self.bytes.len()
                && (self.bytes[end].is_ascii_alphanumeric() || self.bytes[end] == b'_')
            {
                end += 1;
            }
            let name = &self.text[start..end];
            self.pos = end;
            if self.peek() == Some(b'(') {
                let func = match name {
                    "exp" => Func::Exp,
                    "ln" | "log" => Func::Ln,
                    "sqrt" => Func::Sqrt,
                    "min" => Func::Min,
                    "max" => Func::Max,
                    _ => {
                        return Err(self.err(
                            start,
                            format!(
                                "unknown function {name:?}: use exp, ln (or log), sqrt, min or max"
                            ),
                        ))
                    }
                };
                self.pos += 1;
                let mut args = vec![self.expr()?];
                while self.peek() == Some(b',') {
                    self.pos += 1;
                    args.push(self.expr()?);
                }
                if self.peek() != Some(b')') {
                    return Err(self.err(self.pos, format!("expected ')' to close {name}(")));
                }
                self.pos += 1;
                let ok = match func {
                    Func::Min | Func::Max => args.len() >= 2,
                    _ => args.len() == 1,
                };
                if !ok {
                    return Err(self.err(
                        start,
                        match func {
                            Func::Min | Func::Max => format!("{name} needs at least two arguments"),
                            _ => format!("{name} takes one argument, got {}", args.len()),
                        },
                    ));
                }
                return Ok(Node::Call(func, args));
            }
            let id = match self.names.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None => {
                    self.names.push((name.to_string(), start));
                    self.names.len() - 1
                }
            };
            // Names are classified after parsing; Param holds the name's index for now.
            return Ok(Node::Param(id));
        }
        Err(self.err(
            start,
            format!(
                "unexpected {:?}: expected a number, a name or '('",
                c as char
            ),
        ))
    }
}

fn remap(node: &mut Node, map: &[Node]) {
    match node {
        Node::Param(i) => *node = map[*i].clone(),
        Node::Num(_) | Node::Var(_) => {}
        Node::Neg(a) => remap(a, map),
        Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) | Node::Div(a, b) | Node::Pow(a, b) => {
            remap(a, map);
            remap(b, map);
        }
        Node::Call(_, args) => args.iter_mut().for_each(|a| remap(a, map)),
    }
}

fn has_param(node: &Node) -> bool {
    match node {
        Node::Param(_) => true,
        Node::Num(_) | Node::Var(_) => false,
        Node::Neg(a) => has_param(a),
        Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) | Node::Div(a, b) | Node::Pow(a, b) => {
            has_param(a) || has_param(b)
        }
        Node::Call(_, args) => args.iter().any(has_param),
    }
}

/// Total degree of `node` in the parameters of `set` if it is a polynomial of degree at
/// most 1 in them (affine), or `None` when they enter non-linearly.
fn degree(node: &Node, set: &[bool]) -> Option<u8> {
    Some(match node {
        Node::Param(i) => u8::from(set[*i]),
        Node::Num(_) | Node::Var(_) => 0,
        Node::Neg(a) => degree(a, set)?,
        Node::Add(a, b) | Node::Sub(a, b) => degree(a, set)?.max(degree(b, set)?),
        Node::Mul(a, b) => {
            let d = degree(a, set)? + degree(b, set)?;
            if d > 1 {
                return None;
            }
            d
        }
        Node::Div(a, b) => {
            if degree(b, set)? > 0 {
                return None;
            }
            degree(a, set)?
        }
        Node::Pow(..) | Node::Call(..) => {
            if uses(node, set) {
                return None;
            }
            0
        }
    })
}

fn uses(node: &Node, set: &[bool]) -> bool {
    match node {
        Node::Param(i) => set[*i],
        Node::Num(_) | Node::Var(_) => false,
        Node::Neg(a) => uses(a, set),
        Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) | Node::Div(a, b) | Node::Pow(a, b) => {
            uses(a, set) || uses(b, set)
        }
        Node::Call(_, args) => args.iter().any(|a| uses(a, set)),
    }
}

fn compile(node: &Node, out: &mut Vec<Op>) {
    match node {
        Node::Num(v) => out.push(Op::Num(*v)),
        Node::Var(i) => out.push(Op::Var(*i)),
        Node::Param(i) => out.push(Op::Param(*i)),
        Node::Neg(a) => {
            compile(a, out);
            out.push(Op::Neg);
        }
        Node::Pow(a, b) if matches!(**a, Node::Var(_)) => {
            let Node::Var(i) = **a else { unreachable!() };
            compile(b, out);
            out.push(Op::PowVar(i));
        }
        Node::Add(a, b) | Node::Sub(a, b) | Node::Mul(a, b) | Node::Div(a, b) | Node::Pow(a, b) => {
            compile(a, out);
            compile(b, out);
            out.push(match node {
                Node::Add(..) => Op::Add,
                Node::Sub(..) => Op::Sub,
                Node::Mul(..) => Op::Mul,
                Node::Div(..) => Op::Div,
                _ if !has_param(b) => Op::PowConstExp,
                _ => Op::Pow,
            });
        }
        Node::Call(f, args) => {
            compile(&args[0], out);
            match f {
                Func::Exp => out.push(Op::Exp),
                Func::Ln => out.push(Op::Ln),
                Func::Sqrt => out.push(Op::Sqrt),
                Func::Min | Func::Max => {
                    for a in &args[1..] {
                        compile(a, out);
                        out.push(if *f == Func::Min { Op::Min } else { Op::Max });
                    }
                }
            }
        }
    }
}

fn dependencies(program: &[Op]) -> Vec<Vec<(usize, bool, bool)>> {
    let mut stack: Vec<Vec<usize>> = Vec::new();
    let mut out = Vec::with_capacity(program.len());
    for op in program {
        match *op {
            Op::Num(_) | Op::Var(_) => {
                stack.push(vec![]);
                out.push(vec![]);
            }
            Op::Param(i) => {
                stack.push(vec![i]);
                out.push(vec![(i, true, false)]);
            }
            Op::Neg | Op::Exp | Op::Ln | Op::Sqrt | Op::PowVar(_) => {
                let a = stack.last().cloned().unwrap_or_default();
                out.push(a.iter().map(|&k| (k, true, false)).collect());
            }
            _ => {
                let b = stack.pop().unwrap_or_default();
                let a = stack.pop().unwrap_or_default();
                let mut u: Vec<usize> = a.iter().chain(&b).copied().collect();
                u.sort_unstable();
                u.dedup();
                out.push(
                    u.iter()
                        .map(|k| (*k, a.contains(k), b.contains(k)))
                        .collect(),
                );
                stack.push(u);
            }
        }
    }
    out
}

fn max_depth(program: &[Op]) -> usize {
    let (mut d, mut m) = (0i64, 0i64);
    for op in program {
        match op {
            Op::Num(_) | Op::Var(_) | Op::Param(_) => d += 1,
            Op::Neg | Op::Exp | Op::Ln | Op::Sqrt | Op::PowVar(_) => {}
            _ => d -= 1,
        }
        m = m.max(d);
    }
    m as usize
}

fn show(node: &Node, vars: &[Var], params: &[ParamSpec], prec: u8, out: &mut String) {
    // Precedence: 1 +-, 2 */, 3 unary minus, 4 ^, 5 atoms.
    let wrap = |p: u8, out: &mut String, f: &dyn Fn(&mut String)| {
        if p < prec {
            out.push('(');
            f(out);
            out.push(')');
        } else {
            f(out);
        }
    };
    match node {
        Node::Num(v) => {
            if *v < 0.0 {
                out.push('(');
                out.push_str(&format!("{v}"));
                out.push(')');
            } else {
                out.push_str(&format!("{v}"));
            }
        }
        Node::Var(i) => out.push_str(&vars[*i].symbol()),
        Node::Param(i) => out.push_str(&params[*i].name),
        Node::Neg(a) => wrap(3, out, &|o| {
            o.push('-');
            show(a, vars, params, 3, o);
        }),
        Node::Add(a, b) | Node::Sub(a, b) => wrap(1, out, &|o| {
            show(a, vars, params, 1, o);
            o.push_str(if matches!(node, Node::Add(..)) {
                " + "
            } else {
                " - "
            });
            show(b, vars, params, 2, o);
        }),
        Node::Mul(a, b) | Node::Div(a, b) => wrap(2, out, &|o| {
            show(a, vars, params, 2, o);
            o.push_str(if matches!(node, Node::Mul(..)) {
                "*"
            } else {
                "/"
            });
            show(b, vars, params, 3, o);
        }),
        Node::Pow(a, b) => wrap(4, out, &|o| {
            show(a, vars, params, 5, o);
            o.push('^');
            show(b, vars, params, 3, o);
        }),
        Node::Call(f, args) => {
            out.push_str(match f {
                Func::Exp => "exp",
                Func::Ln => "ln",
                Func::Sqrt => "sqrt",
                Func::Min => "min",
                Func::Max => "max",
            });
            out.push('(');
            for (k, a) in args.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                show(a, vars, params, 0, out);
            }
            out.push(')');
        }
    }
}

impl Formula {
    /// Parse `text`. A name is data when it is one of the variables `N`, `D`, `C`, `U`, `S`,
    /// `M` or appears in `columns` (the data's column names); otherwise it is a parameter.
    ///
    /// Parameters that enter linearly (jointly: the formula is affine in all of them, like
    /// E, A and B in `E + A*N^-alpha + B*D^-beta`) get the positive domain and are marked
    /// linear, so variable projection can solve for them; the others are real-valued with a
    /// start grid geometric from 0.02 to 3 (exponents). [`Formula::set_domain`] (and `--param NAME=LOW:HIGH`) changes both.
    ///
    /// # Errors
    /// [`ParseError`] pointing at the offending character; a formula without parameters or
    /// without data.
    pub fn parse(text: &str, columns: &[&str]) -> std::result::Result<Formula, ParseError> {
        let body_start = {
            let t = text.trim_start();
            let lead = text.len() - t.len();
            match t.strip_prefix('L').map(|r| r.trim_start()) {
                Some(r) if r.starts_with('=') && !r.starts_with("==") => text.len() - r.len() + 1,
                _ => lead,
            }
        };
        let mut p = Parser {
            text,
            bytes: text.as_bytes(),
            pos: body_start,
            names: Vec::new(),
        };
        if p.peek().is_none() {
            return Err(p.err(text.len(), "the formula is empty"));
        }
        let mut root = p.expr()?;
        if let Some(c) = p.peek() {
            return Err(p.err(
                p.pos,
                format!(
                    "unexpected {:?} after a complete expression: is an operator missing?",
                    c as char
                ),
            ));
        }
        let mut vars = Vec::new();
        let mut params: Vec<String> = Vec::new();
        let mut map = Vec::new();
        for (name, _) in &p.names {
            let var = Var::from_symbol(name).or_else(|| {
                columns
                    .contains(&name.as_str())
                    .then(|| Var::Column(name.clone()))
            });
            match var {
                Some(v) => {
                    map.push(Node::Var(vars.len()));
                    vars.push(v);
                }
                None => {
                    map.push(Node::Param(params.len()));
                    params.push(name.clone());
                }
            }
        }
        remap(&mut root, &map);
        if params.is_empty() {
            return Err(p.err(body_start, "the formula has no parameters to fit"));
        }
        if vars.is_empty() {
            return Err(p.err(
                body_start,
                "the formula reads no data: use N, D, C, U, S, M or a column name",
            ));
        }
        let mut linear = vec![false; params.len()];
        for i in 0..params.len() {
            let mut trial = linear.clone();
            trial[i] = true;
            if degree(&root, &trial).is_some_and(|d| d == 1) {
                linear = trial;
            }
        }
        let specs = params
            .iter()
            .zip(&linear)
            .map(|(n, &lin)| ParamSpec {
                name: n.clone(),
                meaning: if lin {
                    "a coefficient (enters linearly)".into()
                } else {
                    "a parameter of the formula".into()
                },
                domain: if lin { Domain::POSITIVE } else { Domain::REAL },
                linear: lin,
                grid: None,
            })
            .collect();
        let mut program = Vec::new();
        compile(&root, &mut program);
        let depth = max_depth(&program);
        let deps = dependencies(&program);
        Ok(Formula {
            text: text.trim().to_string(),
            name: "formula".into(),
            root,
            vars,
            specs,
            program,
            depth,
            deps,
        })
    }

    /// The formula as the user wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parsed expression.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The formula printed from its parse, with full precedence (for reading it back).
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        show(&self.root, &self.vars, &self.specs, 0, &mut s);
        s
    }

    /// Give a built-in form its name and its parameters' order, meanings, domains and start
    /// grids (`specs` names every parameter once; a parameter stays linear only when both the
    /// formula and its spec say so).
    pub(crate) fn with_specs(mut self, name: &str, specs: Vec<ParamSpec>) -> Formula {
        let old: Vec<String> = self.specs.iter().map(|s| s.name.clone()).collect();
        assert_eq!(specs.len(), old.len(), "{name}: one spec per parameter");
        let map: Vec<Node> = old
            .iter()
            .map(|n| {
                let j = specs
                    .iter()
                    .position(|s| &s.name == n)
                    .unwrap_or_else(|| panic!("{name}: no spec for {n}"));
                Node::Param(j)
            })
            .collect();
        let linear: Vec<bool> = specs
            .iter()
            .map(|s| s.linear && self.specs[old.iter().position(|n| *n == s.name).unwrap()].linear)
            .collect();
        remap(&mut self.root, &map);
        self.specs = specs;
        for (s, l) in self.specs.iter_mut().zip(linear) {
            s.linear = l;
        }
        self.program.clear();
        compile(&self.root, &mut self.program);
        self.deps = dependencies(&self.program);
        self.name = name.to_string();
        self
    }

    /// Replace the display text (built-in forms show the published notation).
    pub(crate) fn with_text(mut self, text: &str) -> Formula {
        self.text = text.to_string();
        self
    }

    /// Set a parameter's domain (bounds). A parameter with finite bounds on both sides is no
    /// longer solved by variable projection.
    ///
    /// # Errors
    /// An unknown parameter name, or bounds that are not `lo < hi`.
    pub fn set_domain(&mut self, name: &str, domain: Domain) -> Result<()> {
        if !(domain.lo < domain.hi) {
            return Err(Error::InvalidSetting(format!(
                "the bounds of {name} must satisfy low < high, got {}:{}",
                domain.lo, domain.hi
            )));
        }
        let known: Vec<String> = self.specs.iter().map(|s| s.name.clone()).collect();
        let s = self
            .specs
            .iter_mut()
            .find(|s| s.name == name)
            .ok_or_else(|| {
                Error::InvalidSetting(format!(
                    "{name:?} is not a parameter of the formula (its parameters: {})",
                    known.join(", ")
                ))
            })?;
        if s.linear && (domain.lo.is_finite() && domain.lo != 0.0 || domain.hi.is_finite()) {
            s.linear = false;
        }
        s.domain = domain;
        Ok(())
    }

    /// Evaluate the prediction L (not its log) at data `x` (one value per [`Formula::variables`])
    /// and parameters `p`; when `grad` is given, also dL/dp for every parameter.
    pub fn eval(&self, x: &[f64], p: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let np = if grad.is_some() { p.len() } else { 0 };
        let mut vals = [0.0f64; 32];
        let mut heap_vals;
        let vals: &mut [f64] = if self.depth <= 32 {
            &mut vals[..]
        } else {
            heap_vals = vec![0.0; self.depth];
            &mut heap_vals[..]
        };
        let mut gbuf = [0.0f64; 32 * 8];
        let mut heap_g;
        let gs: &mut [f64] = if self.depth * np <= gbuf.len() {
            &mut gbuf[..]
        } else {
            heap_g = vec![0.0; self.depth * np];
            &mut heap_g[..]
        };
        let mut sp = 0usize;
        for op in &self.program {
            match *op {
                Op::Num(_) | Op::Var(_) | Op::Param(_) => {
                    vals[sp] = match *op {
                        Op::Num(v) => v,
                        Op::Var(i) => x[i],
                        Op::Param(i) => p[i],
                        _ => unreachable!("leaf ops only"),
                    };
                    if np > 0 {
                        let g = &mut gs[sp * np..(sp + 1) * np];
                        g.iter_mut().for_each(|v| *v = 0.0);
                        if let Op::Param(i) = *op {
                            g[i] = 1.0;
                        }
                    }
                    sp += 1;
                }
                Op::Neg => {
                    vals[sp - 1] = -vals[sp - 1];
                    gs[(sp - 1) * np..sp * np].iter_mut().for_each(|v| *v = -*v);
                }
                Op::Exp | Op::Ln | Op::Sqrt | Op::PowVar(_) => {
                    let a = vals[sp - 1];
                    let (v, d) = match *op {
                        Op::Exp => {
                            let e = a.exp();
                            (e, e)
                        }
                        Op::PowVar(i) => {
                            let l = x[i].ln();
                            let v = (a * l).exp();
                            (v, v * l)
                        }
                        Op::Ln => (a.ln(), 1.0 / a),
                        _ => {
                            let s = a.sqrt();
                            (s, 0.5 / s)
                        }
                    };
                    vals[sp - 1] = v;
                    gs[(sp - 1) * np..sp * np].iter_mut().for_each(|g| *g *= d);
                }
                _ => {
                    let (a, b) = (vals[sp - 2], vals[sp - 1]);
                    // Partial derivatives of the result with respect to a and b.
                    let (v, da, db) = match *op {
                        Op::Add => (a + b, 1.0, 1.0),
                        Op::Sub => (a - b, 1.0, -1.0),
                        Op::Mul => (a * b, b, a),
                        Op::Div => (a / b, 1.0 / b, -a / (b * b)),
                        Op::PowConstExp | Op::Pow => {
                            let v = a.powf(b);
                            // d(a^b)/da = b a^(b-1) = b v / a, without a second powf.
                            let da = if np == 0 || b == 0.0 {
                                0.0
                            } else if a != 0.0 {
                                b * v / a
                            } else {
                                b * a.powf(b - 1.0)
                            };
                            let db = if np > 0 && *op == Op::Pow {
                                v * a.ln()
                            } else {
                                0.0
                            };
                            (v, da, db)
                        }
                        Op::Min => {
                            if a <= b {
                                (a, 1.0, 0.0)
                            } else {
                                (b, 0.0, 1.0)
                            }
                        }
                        Op::Max => {
                            if a >= b {
                                (a, 1.0, 0.0)
                            } else {
                                (b, 0.0, 1.0)
                            }
                        }
                        _ => unreachable!("unary and leaf ops are handled above"),
                    };
                    if np > 0 {
                        let (lo, hi) = gs.split_at_mut((sp - 1) * np);
                        let ga = &mut lo[(sp - 2) * np..];
                        let gb = &hi[..np];
                        if db == 0.0 {
                            ga.iter_mut().for_each(|g| *g *= da);
                        } else {
                            for (g, h) in ga.iter_mut().zip(gb) {
                                // Skip zero parts so 0 * inf (a zero partial times an
                                // infinite one) does not turn a gradient into NaN.
                                let u = if *g == 0.0 { 0.0 } else { *g * da };
                                let w = if *h == 0.0 { 0.0 } else { *h * db };
                                *g = u + w;
                            }
                        }
                    }
                    vals[sp - 2] = v;
                    sp -= 1;
                }
            }
        }
        if let Some(g) = grad {
            g[..np].copy_from_slice(&gs[..np]);
        }
        vals[0]
    }

    /// Evaluate L over many runs at once: `cols[j]` and `ln_cols[j]` hold variable j and its
    /// log for every run; `out[i]` receives L of run i and, when given, `grad[k * m + i]`
    /// receives dL/dp_k (m runs). Each operation runs over all runs in a tight loop, and
    /// gradients are carried only for the parameters each intermediate depends on.
    pub fn eval_batch(
        &self,
        cols: &[&[f64]],
        ln_cols: &[&[f64]],
        p: &[f64],
        out: &mut [f64],
        grad: Option<&mut [f64]>,
    ) {
        let m = out.len();
        let np = if grad.is_some() { p.len() } else { 0 };
        let depth = self.depth.max(1);
        let mut vals = vec![0.0f64; depth * m];
        let mut gs = vec![0.0f64; depth * np * m];
        let mut da = vec![0.0f64; m];
        let mut db = vec![0.0f64; m];
        let mut sp = 0usize;
        let slot = |s: usize, k: usize| (s * np + k) * m;
        for (op, deps) in self.program.iter().zip(&self.deps) {
            match *op {
                Op::Num(v) => {
                    vals[sp * m..(sp + 1) * m].iter_mut().for_each(|x| *x = v);
                    sp += 1;
                }
                Op::Var(i) => {
                    vals[sp * m..(sp + 1) * m].copy_from_slice(&cols[i][..m]);
                    sp += 1;
                }
                Op::Param(i) => {
                    vals[sp * m..(sp + 1) * m]
                        .iter_mut()
                        .for_each(|x| *x = p[i]);
                    if np > 0 {
                        let o = slot(sp, i);
                        gs[o..o + m].iter_mut().for_each(|g| *g = 1.0);
                    }
                    sp += 1;
                }
                Op::Neg | Op::Exp | Op::Ln | Op::Sqrt | Op::PowVar(_) => {
                    let v = &mut vals[(sp - 1) * m..sp * m];
                    match *op {
                        Op::Neg => {
                            for (x, d) in v.iter_mut().zip(da.iter_mut()) {
                                *x = -*x;
                                *d = -1.0;
                            }
                        }
                        Op::Exp => {
                            exp_in_place(v);
                            da.copy_from_slice(v);
                        }
                        Op::Ln => {
                            for (x, d) in v.iter_mut().zip(da.iter_mut()) {
                                *d = 1.0 / *x;
                                *x = x.ln();
                            }
                        }
                        Op::Sqrt => {
                            for (x, d) in v.iter_mut().zip(da.iter_mut()) {
                                *x = x.sqrt();
                                *d = 0.5 / *x;
                            }
                        }
                        Op::PowVar(j) => {
                            let l = &ln_cols[j][..m];
                            for (x, l) in v.iter_mut().zip(l) {
                                *x *= l;
                            }
                            exp_in_place(v);
                            for ((d, x), l) in da.iter_mut().zip(v.iter()).zip(l) {
                                *d = x * l;
                            }
                        }
                        _ => unreachable!("unary ops only"),
                    }
                    for &(k, _, _) in deps.iter().filter(|_| np > 0) {
                        let o = slot(sp - 1, k);
                        for (g, d) in gs[o..o + m].iter_mut().zip(&da) {
                            *g = if *g == 0.0 { 0.0 } else { *g * d };
                        }
                    }
                }
                _ => {
                    let (lo, hi) = vals.split_at_mut((sp - 1) * m);
                    let a = &mut lo[(sp - 2) * m..];
                    let b = &hi[..m];
                    let want = np > 0 && !deps.is_empty();
                    for i in 0..m {
                        let (x, y) = (a[i], b[i]);
                        let (v, pa, pb) = match *op {
                            Op::Add => (x + y, 1.0, 1.0),
                            Op::Sub => (x - y, 1.0, -1.0),
                            Op::Mul => (x * y, y, x),
                            Op::Div => (x / y, 1.0 / y, -x / (y * y)),
                            Op::PowConstExp | Op::Pow => {
                                let v = x.powf(y);
                                let pa = if !want || y == 0.0 {
                                    0.0
                                } else if x != 0.0 {
                                    y * v / x
                                } else {
                                    y * x.powf(y - 1.0)
                                };
                                let pb = if want && *op == Op::Pow {
                                    v * x.ln()
                                } else {
                                    0.0
                                };
                                (v, pa, pb)
                            }
                            Op::Min => {
                                if x <= y {
                                    (x, 1.0, 0.0)
                                } else {
                                    (y, 0.0, 1.0)
                                }
                            }
                            Op::Max => {
                                if x >= y {
                                    (x, 1.0, 0.0)
                                } else {
                                    (y, 0.0, 1.0)
                                }
                            }
                            _ => unreachable!("binary ops only"),
                        };
                        a[i] = v;
                        da[i] = pa;
                        db[i] = pb;
                    }
                    if want {
                        for &(k, in_a, in_b) in deps {
                            let (oa, ob) = (slot(sp - 2, k), slot(sp - 1, k));
                            let (glo, ghi) = gs.split_at_mut(ob);
                            let ga = &mut glo[oa..oa + m];
                            let gb = &ghi[..m];
                            match (in_a, in_b) {
                                (true, false) => {
                                    for (g, d) in ga.iter_mut().zip(&da) {
                                        *g = if *g == 0.0 { 0.0 } else { *g * d };
                                    }
                                }
                                (false, true) => {
                                    for ((g, h), d) in ga.iter_mut().zip(gb).zip(&db) {
                                        *g = if *h == 0.0 { 0.0 } else { *h * d };
                                    }
                                }
                                _ => {
                                    for (((g, h), d), e) in ga.iter_mut().zip(gb).zip(&da).zip(&db)
                                    {
                                        let u = if *g == 0.0 { 0.0 } else { *g * d };
                                        let w = if *h == 0.0 { 0.0 } else { *h * e };
                                        *g = u + w;
                                    }
                                }
                            }
                        }
                    }
                    sp -= 1;
                }
            }
        }
        out.copy_from_slice(&vals[..m]);
        if let Some(g) = grad {
            g[..np * m].iter_mut().for_each(|v| *v = 0.0);
            for &(k, _, _) in self.deps.last().into_iter().flatten() {
                g[k * m..(k + 1) * m].copy_from_slice(&gs[k * m..(k + 1) * m]);
            }
        }
    }
}

/// exp of every element, four lanes at a time (the kernel's vectorised exp, a few ulp from
/// the correctly rounded value).
fn exp_in_place(v: &mut [f64]) {
    let mut chunks = v.chunks_exact_mut(crate::fastmath::W);
    for c in &mut chunks {
        let x: [f64; crate::fastmath::W] = (&*c).try_into().expect("whole chunk");
        c.copy_from_slice(&crate::fastmath::exp4(x));
    }
    for x in chunks.into_remainder() {
        *x = x.exp();
    }
}

impl Form for Formula {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn formula(&self) -> String {
        format!("L = {}", self.text.trim_start_matches("L =").trim())
    }

    fn variables(&self) -> Vec<Var> {
        self.vars.clone()
    }

    fn params(&self) -> Vec<ParamSpec> {
        self.specs.clone()
    }

    fn predict(&self, x: &[f64], p: &[f64]) -> f64 {
        self.eval(x, p, None)
    }

    fn predict_grad_batch(
        &self,
        cols: &[&[f64]],
        ln_cols: &[&[f64]],
        p: &[f64],
        out: &mut [f64],
        grad: Option<&mut [f64]>,
    ) {
        self.eval_batch(cols, ln_cols, p, out, grad)
    }

    fn ln_predict_grad(&self, x: &[f64], p: &[f64], grad: Option<&mut [f64]>) -> f64 {
        match grad {
            None => self.eval(x, p, None).ln(),
            Some(g) => {
                let v = self.eval(x, p, Some(&mut *g));
                g.iter_mut().for_each(|d| *d /= v);
                v.ln()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(text: &str) -> Formula {
        Formula::parse(text, &[]).unwrap()
    }

    fn val(text: &str, x: &[f64], p: &[f64]) -> f64 {
        f(text).eval(x, p, None)
    }

    #[test]
    fn unary_minus_binds_looser_than_power() {
        // -2^2 = -4, as in mathematics (exmex gets this wrong; DESIGN.md).
        assert_eq!(val("-2^2 + 0*N*a", &[1.0], &[1.0]), -4.0);
        assert_eq!(val("2^-1 + 0*N*a", &[1.0], &[1.0]), 0.5);
        assert_eq!(val("2^3^2 + 0*N*a", &[1.0], &[1.0]), 512.0);
        assert_eq!(val("(-2)^2 + 0*N*a", &[1.0], &[1.0]), 4.0);
        assert_eq!(val("2*3-4/2-1 + 0*N*a", &[1.0], &[1.0]), 3.0);
    }

    #[test]
    fn e_is_a_parameter_not_eulers_number() {
        let g = f("E + A*N^-alpha");
        let names: Vec<String> = g.params().iter().map(|s| s.name.clone()).collect();
        assert_eq!(names, ["E", "A", "alpha"]);
        assert_eq!(g.variables(), vec![Var::N]);
        assert_eq!(g.eval(&[100.0], &[1.5, 10.0, 0.5], None), 2.5);
    }

    #[test]
    fn functions_and_columns() {
        let g = Formula::parse(
            "L = exp(a) + ln(N) * sqrt(b) + min(D, width) + max(1, 2, c)",
            &["width"],
        )
        .unwrap();
        assert_eq!(
            g.variables(),
            vec![Var::N, Var::D, Var::Column("width".into())]
        );
        let v = g.eval(&[1.0f64.exp(), 5.0, 3.0], &[0.0, 4.0, 7.0], None);
        assert!((v - (1.0 + 2.0 + 3.0 + 7.0)).abs() < 1e-14, "{v}");
        assert!(g.text().starts_with("L ="));
    }

    #[test]
    fn linear_parameters_are_found_jointly() {
        let lin = |t: &str| -> Vec<bool> { f(t).params().iter().map(|s| s.linear).collect() };
        assert_eq!(
            lin("E + A*N^-alpha + B*D^-beta"),
            [true, true, false, true, false]
        );
        // A*B is bilinear: only the first of them can be projected.
        assert_eq!(lin("E + A*B*N^-alpha"), [true, true, false, false]);
        assert_eq!(lin("(E + A*N^-alpha)^2"), [false, false, false]);
        assert_eq!(lin("E - A/N + N/k"), [true, true, false]);
    }

    #[test]
    fn parse_errors_point_at_the_character() {
        let e = Formula::parse("E + A*N^^alpha", &[]).unwrap_err();
        assert_eq!(e.position, 8);
        let shown = e.to_string();
        assert!(
            shown.contains("character 9") && shown.contains("        ^"),
            "{shown}"
        );
        let e = Formula::parse("E + A*(N^-alpha", &[]).unwrap_err();
        assert_eq!(e.position, 15);
        assert!(e.message.contains("')'"), "{}", e.message);
        let e = Formula::parse("E + foo(N)", &[]).unwrap_err();
        assert_eq!(e.position, 4);
        assert!(e.message.contains("unknown function"));
        let e = Formula::parse("E + A N", &[]).unwrap_err();
        assert_eq!(e.position, 6);
        let e = Formula::parse("E + A**N", &[]).unwrap_err();
        assert!(e.message.contains("^"), "{}", e.message);
        assert!(Formula::parse("E + A", &[])
            .unwrap_err()
            .message
            .contains("no data"));
        assert!(Formula::parse("N + 2", &[])
            .unwrap_err()
            .message
            .contains("no parameters"));
        assert!(Formula::parse("", &[]).is_err());
    }

    #[test]
    fn canonical_text_parses_to_the_same_tree() {
        for t in [
            "E + A*N^-alpha + B*D^-beta",
            "-2^2*a + N",
            "((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D",
            "E - (a - N)/(b*D) - -c",
            "exp(-a*N)*max(b, N, 2)",
        ] {
            let g = f(t);
            let h = f(&g.canonical());
            assert_eq!(g.root(), h.root(), "{t} -> {}", g.canonical());
        }
    }

    /// The batch evaluator (all runs per operation, sparse gradients) agrees with the
    /// run-by-run one, values and gradients.
    #[test]
    fn batch_evaluation_matches_scalar() {
        let cases: [(&str, &[f64]); 3] = [
            (
                "E + A*N^-alpha + B*D^-beta",
                &[1.7, 400.0, 0.34, 410.0, 0.28],
            ),
            (
                "exp(a)*ln(N)/sqrt(b) + min(c*N, D) - max(d, 1/N) - -N^2",
                &[0.3, 2.0, 1.5, 0.2],
            ),
            (
                "(N_c/N)^(alpha_N/alpha_D) + D_c/D",
                &[6.4e13, 0.076, 0.103, 1.8e13],
            ),
        ];
        let n: [f64; 4] = [3.0, 7.0, 1e3, 2e9];
        let d: [f64; 4] = [5.0, 2.0, 4e4, 3e11];
        for (t, p) in cases {
            let g = f(t);
            let ln_n: Vec<f64> = n.iter().map(|v| v.ln()).collect();
            let ln_d: Vec<f64> = d.iter().map(|v| v.ln()).collect();
            let mut out = [0.0; 4];
            let mut grad = vec![0.0; 4 * p.len()];
            g.eval_batch(&[&n, &d], &[&ln_n, &ln_d], p, &mut out, Some(&mut grad));
            let mut plain = [0.0; 4];
            g.eval_batch(&[&n, &d], &[&ln_n, &ln_d], p, &mut plain, None);
            for i in 0..4 {
                let mut gi = vec![0.0; p.len()];
                let v = g.eval(&[n[i], d[i]], p, Some(&mut gi));
                assert!(
                    (v - out[i]).abs() <= 1e-13 * v.abs(),
                    "{t} run {i}: {v} vs {}",
                    out[i]
                );
                assert_eq!(out[i], plain[i]);
                for k in 0..p.len() {
                    let b = grad[k * 4 + i];
                    assert!(
                        (gi[k] - b).abs() <= 1e-12 * gi[k].abs().max(1e-300),
                        "{t} run {i} param {k}: {} vs {b}",
                        gi[k]
                    );
                }
            }
        }
    }

    /// Property: dual-number gradients equal central finite differences.
    #[test]
    fn gradients_match_finite_differences() {
        let cases: [(&str, &[f64], &[f64]); 4] = [
            (
                "E + A*N^-alpha + B*D^-beta",
                &[3e8, 6e9],
                &[1.7, 400.0, 0.34, 410.0, 0.28],
            ),
            (
                "((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D",
                &[3e8, 6e9],
                &[6.4e13, 0.076, 0.103, 1.8e13],
            ),
            (
                "exp(a)*ln(N)/sqrt(b) + min(c*N, D) - max(d, 1/N)",
                &[3.0, 7.0],
                &[0.3, 2.0, 1.5, 0.2],
            ),
            (
                "E + A*N^-alpha*(1 + (N/d)^(1/f))^(-c*f)",
                &[2e9],
                &[1.5, 300.0, 0.3, 1e9, 0.5, 0.2],
            ),
        ];
        for (t, x, p) in cases {
            let g = f(t);
            let mut grad = vec![0.0; p.len()];
            let v = g.eval(x, p, Some(&mut grad));
            assert_eq!(v, g.eval(x, p, None), "{t}");
            for i in 0..p.len() {
                let h = 1e-6 * p[i].abs().max(1e-3);
                let (mut pp, mut pm) = (p.to_vec(), p.to_vec());
                pp[i] += h;
                pm[i] -= h;
                let fd = (g.eval(x, &pp, None) - g.eval(x, &pm, None)) / (2.0 * h);
                assert!(
                    (fd - grad[i]).abs() <= 1e-6 * (grad[i].abs() + v.abs() / p[i].abs().max(1e-3)),
                    "{t} param {i}: fd {fd} vs {}",
                    grad[i]
                );
            }
        }
    }
}
