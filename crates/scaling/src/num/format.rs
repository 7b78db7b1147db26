//! Number formatting for reports and messages: significant digits and size suffixes.

/// `x` to `digits` significant digits, fixed notation between 1e-3 and 1e6, scientific
/// outside.
pub fn sig(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".into();
    }
    let mag = x.abs().log10().floor() as i32;
    if (-3..6).contains(&mag) {
        let decimals = (digits as i32 - 1 - mag).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{:.*e}", digits.saturating_sub(1), x)
    }
}

/// A count with a size suffix: 1.2K, 400M, 70.0B, 1.40T (three significant digits);
/// scientific notation from 1e15 up.
pub fn human(x: f64) -> String {
    if !x.is_finite() || x.abs() >= 1e15 {
        return format!("{x:.3e}");
    }
    let (v, s) = if x.abs() >= 1e12 {
        (x / 1e12, "T")
    } else if x.abs() >= 1e9 {
        (x / 1e9, "B")
    } else if x.abs() >= 1e6 {
        (x / 1e6, "M")
    } else if x.abs() >= 1e3 {
        (x / 1e3, "K")
    } else {
        (x, "")
    };
    format!("{}{s}", sig(v, 3))
}
