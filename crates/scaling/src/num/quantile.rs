//! Quantiles and percentile summaries of samples (bootstrap replicates, simulations).

/// The `q` quantile of `v` by linear interpolation between order statistics (Hyndman & Fan
/// 1996 type 7, numpy's default). `v` must be sorted.
pub fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Percentile interval at `level` and standard error (n - 1 denominator) of `values`;
/// non-finite values are ignored. `None` when fewer than two are finite.
pub fn summarise(values: &[f64], level: f64) -> Option<([f64; 2], f64)> {
    if !(level > 0.0 && level < 1.0) {
        return None;
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let a = (1.0 - level) / 2.0;
    let lo = quantile_sorted(&v, a);
    let hi = quantile_sorted(&v, 1.0 - a);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (v.len() - 1) as f64;
    Some(([lo, hi], var.sqrt()))
}
