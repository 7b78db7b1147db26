//! Parsing of numeric cells: plain numbers, e-notation, and the size suffixes people write in
//! run tables ("70B", "1.4T", "125M").

/// Why a cell could not be read as a positive quantity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuantityProblem {
    /// The cell is empty.
    Empty,
    /// The cell is not a number.
    NotANumber,
    /// The cell is NaN.
    NaN,
    /// The cell is infinite (or overflows a 64-bit float).
    Infinite,
    /// The cell is zero where a positive value is needed.
    Zero,
    /// The cell is negative where a positive value is needed.
    Negative,
}

impl QuantityProblem {
    /// A short phrase for error messages.
    pub fn describe(&self) -> &'static str {
        match self {
            QuantityProblem::Empty => "empty value",
            QuantityProblem::NotANumber => {
                "not a number (expected e.g. 7e9, 7000000000, 7B or 1.4T)"
            }
            QuantityProblem::NaN => "NaN is not a usable value",
            QuantityProblem::Infinite => "infinite value",
            QuantityProblem::Zero => "zero where a positive value is needed",
            QuantityProblem::Negative => "negative value where a positive value is needed",
        }
    }
}

/// Multiplier for a size suffix: K = 1e3, M = 1e6, B or G = 1e9, T = 1e12 (either case).
fn suffix_multiplier(c: char) -> Option<f64> {
    match c.to_ascii_uppercase() {
        'K' => Some(1e3),
        'M' => Some(1e6),
        'B' | 'G' => Some(1e9),
        'T' => Some(1e12),
        _ => None,
    }
}

/// Parse a number written as plain decimal, e-notation or with a size suffix.
///
/// Accepts `"70000000000"`, `"7e10"`, `"70B"`, `"70G"`, `"1.4T"`, `"125M"`, `"10K"`, with
/// surrounding whitespace. Returns the problem for empty cells, text, NaN and infinities; the
/// sign is not checked here (see [`parse_positive`]).
///
/// # Examples
/// ```
/// use scaling::data::parse_quantity;
/// assert_eq!(parse_quantity("70B").unwrap(), 70e9);
/// assert_eq!(parse_quantity("1.4T").unwrap(), 1.4e12);
/// assert_eq!(parse_quantity(" 6e23 ").unwrap(), 6e23);
/// ```
pub fn parse_quantity(text: &str) -> Result<f64, QuantityProblem> {
    let s = text.trim();
    if s.is_empty() {
        return Err(QuantityProblem::Empty);
    }
    let lower = s.to_ascii_lowercase();
    if lower == "nan" || lower == "-nan" || lower == "+nan" {
        return Err(QuantityProblem::NaN);
    }
    let (digits, mult) = match s.chars().last().and_then(suffix_multiplier) {
        // "1e5" ends in a digit; "5B" ends in a suffix. A suffix must follow a digit or '.'.
        Some(m)
            if s.len() > 1 && {
                let prev = s[..s.len() - 1].chars().last().unwrap_or(' ');
                prev.is_ascii_digit() || prev == '.'
            } =>
        {
            (&s[..s.len() - 1], m)
        }
        _ => (s, 1.0),
    };
    // Rust's float parser accepts "inf" and "infinity"; report them as infinite.
    let v: f64 = digits.parse().map_err(|_| QuantityProblem::NotANumber)?;
    if v.is_nan() {
        return Err(QuantityProblem::NaN);
    }
    let v = v * mult;
    if !v.is_finite() {
        return Err(QuantityProblem::Infinite);
    }
    Ok(v)
}

/// Parse a quantity that must be strictly positive (a parameter count, a token count, FLOPs
/// or a loss).
///
/// # Examples
/// ```
/// use scaling::data::parse_positive;
/// assert_eq!(parse_positive("7B").unwrap(), 7e9);
/// assert_eq!(parse_positive("5.76e23").unwrap(), 5.76e23);
/// assert!(parse_positive("0").is_err() && parse_positive("-1").is_err());
/// ```
pub fn parse_positive(text: &str) -> Result<f64, QuantityProblem> {
    let v = parse_quantity(text)?;
    if v == 0.0 {
        Err(QuantityProblem::Zero)
    } else if v < 0.0 {
        Err(QuantityProblem::Negative)
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scientific_and_suffixes() {
        assert_eq!(parse_quantity("42").unwrap(), 42.0);
        assert_eq!(parse_quantity("4.2e1").unwrap(), 42.0);
        assert_eq!(parse_quantity("1E3").unwrap(), 1000.0);
        assert_eq!(parse_quantity("70B").unwrap(), 70e9);
        assert_eq!(parse_quantity("70b").unwrap(), 70e9);
        assert_eq!(parse_quantity("70G").unwrap(), 70e9);
        assert_eq!(parse_quantity("1.4T").unwrap(), 1.4e12);
        assert_eq!(parse_quantity("125M").unwrap(), 125e6);
        assert_eq!(parse_quantity("10K").unwrap(), 10e3);
        assert_eq!(parse_quantity("5.B").unwrap(), 5e9);
    }

    #[test]
    fn problems_are_named() {
        assert_eq!(parse_quantity(""), Err(QuantityProblem::Empty));
        assert_eq!(parse_quantity("   "), Err(QuantityProblem::Empty));
        assert_eq!(parse_quantity("abc"), Err(QuantityProblem::NotANumber));
        assert_eq!(parse_quantity("B"), Err(QuantityProblem::NotANumber));
        assert_eq!(parse_quantity("7X"), Err(QuantityProblem::NotANumber));
        assert_eq!(parse_quantity("NaN"), Err(QuantityProblem::NaN));
        assert_eq!(parse_quantity("inf"), Err(QuantityProblem::Infinite));
        assert_eq!(parse_quantity("-infinity"), Err(QuantityProblem::Infinite));
        assert_eq!(parse_quantity("1e400"), Err(QuantityProblem::Infinite));
        assert_eq!(parse_quantity("1e300T"), Err(QuantityProblem::Infinite));
        assert_eq!(parse_positive("0"), Err(QuantityProblem::Zero));
        assert_eq!(parse_positive("-3"), Err(QuantityProblem::Negative));
        assert_eq!(parse_positive("3"), Ok(3.0));
    }
}
