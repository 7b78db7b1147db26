//! Quantiles and percentile summaries of samples (bootstrap replicates, simulations).

/// The `q` quantile of `v` by linear interpolation between order statistics (Hyndman & Fan
/// 1996 type 7, numpy's default). `v` must be sorted; `q` outside [0, 1] is clamped to it
/// (a NaN `q` gives NaN), so no `q` can index past the ends.
pub fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let n = v.len();
    if n == 0 || q.is_nan() {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// The `q` quantiles of `v` for each `q` in `qs` (ascending), exactly as
/// [`quantile_sorted`] gives them on `v` sorted by `f64::total_cmp`, found by selection
/// (Hoare's quickselect, `select_nth_unstable_by`) in linear time instead of sorting: the
/// order statistic below each `q` is selected, the one above it is the least of what lies
/// beyond. `v` is reordered. For large samples (a new-run interval holds up to two million
/// products) this is several times faster than a sort.
///
/// ```
/// let mut v = vec![5.0, 1.0, 4.0, 2.0, 3.0];
/// let q = scaling::num::quantiles_select(&mut v, &[0.1, 0.9]);
/// assert_eq!(q, vec![1.4, 4.6]);
/// ```
pub fn quantiles_select(v: &mut [f64], qs: &[f64]) -> Vec<f64> {
    debug_assert!(
        qs.windows(2).all(|w| !(w[1] < w[0])),
        "quantiles_select needs ascending levels, got {qs:?}"
    );
    let n = v.len();
    let mut from = 0;
    qs.iter()
        .map(|&q| {
            if n == 0 || q.is_nan() {
                return f64::NAN;
            }
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = (h.floor() as usize).max(from);
            let (_, &mut below, above) =
                v[from..].select_nth_unstable_by(lo - from, f64::total_cmp);
            let above = if lo + 1 < n {
                above
                    .iter()
                    .copied()
                    .min_by(f64::total_cmp)
                    .unwrap_or(below)
            } else {
                below
            };
            from = lo;
            below + (h - lo as f64) * (above - below)
        })
        .collect()
}

/// Percentile interval at `level` and standard error (n - 1 denominator) of `values`;
/// non-finite values are ignored. `None` when fewer than two are finite, or when the result
/// itself is not finite.
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
    // Scaled by the largest magnitude, so that values near 1e300 do not overflow the squares.
    let m = v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    let s = if m > 0.0 { m } else { 1.0 };
    let mean = v.iter().map(|x| x / s).sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x / s - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    let se = var.sqrt() * s;
    (lo.is_finite() && hi.is_finite() && se.is_finite()).then_some(([lo, hi], se))
}

/// Bins of `width` over non-negative distances (decades of extrapolation): bin b holds the
/// indices of the values in (b w, (b + 1) w], the first also 0 (values below 0 count as 0);
/// as many bins as reach the largest value, at least 1 and at most 200; empty bins are left
/// out. Returns (from, to, indices) per bin.
///
/// ```
/// let bins = scaling::num::distance_bins(&[0.0, 0.2, 0.5, 0.7, 1.6], 0.5);
/// assert_eq!(bins.len(), 3);
/// assert_eq!(bins[0].2, vec![0, 1, 2]);
/// assert_eq!((bins[2].0, bins[2].1), (1.5, 2.0));
/// ```
pub fn distance_bins(values: &[f64], width: f64) -> Vec<(f64, f64, Vec<usize>)> {
    let far = values.iter().copied().fold(0.0, f64::max);
    let nbins = ((far / width).ceil() as usize).clamp(1, 200);
    (0..nbins)
        .filter_map(|b| {
            let (from, to) = (b as f64 * width, (b + 1) as f64 * width);
            let inside: Vec<usize> = (0..values.len())
                .filter(|&i| {
                    let d = values[i].max(0.0);
                    (d > from || (b == 0 && d >= 0.0)) && d <= to
                })
                .collect();
            (!inside.is_empty()).then_some((from, to, inside))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Property: selection gives the bits of the sorted quantiles, with ties, signed zeros,
    /// tiny and large samples, and levels at the ends.
    #[test]
    fn selection_equals_sorted_quantiles() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for n in [1usize, 2, 3, 7, 100, 1001, 20_000] {
            for round in 0..4 {
                let v: Vec<f64> = (0..n)
                    .map(|_| match round {
                        0 => next(),
                        1 => (next() * 5.0).floor() - 2.0, // many ties
                        2 => {
                            if next() < 0.5 {
                                0.0
                            } else {
                                -0.0
                            }
                        }
                        _ => (next() - 0.5) * 1e300,
                    })
                    .collect();
                let mut sorted = v.clone();
                sorted.sort_by(f64::total_cmp);
                for qs in [[0.025, 0.975], [0.0, 1.0], [0.5, 0.5], [0.1, 0.9]] {
                    let mut w = v.clone();
                    let got = quantiles_select(&mut w, &qs);
                    for (g, q) in got.iter().zip(qs) {
                        let want = quantile_sorted(&sorted, q);
                        assert_eq!(g.to_bits(), want.to_bits(), "n={n} round={round} q={q}");
                    }
                }
            }
        }
    }
}
