//! Sensitivity of the Chinchilla presets at 1e24 FLOPs against finite differences.

use scaling::law::{presets, Law};
use scaling::validate::{sensitivity, Target};

/// (L_opt, N_opt, D_opt) at C = 6 N D by the law's own allocation (Hoffmann et al. 2022, Eq. 4).
fn at_budget(law: &Law, c: f64) -> [f64; 3] {
    let n = law.g().unwrap() * (c / 6.0).powf(law.params_exponent().unwrap());
    let d = c / 6.0 / n;
    [law.predict(n, d, c), n, d]
}

#[test]
fn chinchilla_presets_at_1e24_match_finite_differences() {
    for name in ["chinchilla", "epoch"] {
        let law = presets::get(name).unwrap().law.unwrap();
        let c = 1e24;
        let s = sensitivity(
            &law,
            Target::Budget {
                flops: c,
                flops_per_param_token: 6.0,
            },
        )
        .unwrap();
        let base = at_budget(&law, c);
        assert!((s.loss - base[0]).abs() < 1e-12 * base[0]);
        assert!((s.params - base[1]).abs() < 1e-9 * base[1]);
        for (i, ps) in s.per_param.iter().enumerate() {
            let h = 1e-6 * law.params[i].abs().max(1e-3);
            let mut up = law.clone();
            let mut dn = law.clone();
            up.params[i] += h;
            dn.params[i] -= h;
            let (u, v) = (at_budget(&up, c), at_budget(&dn, c));
            let fd = |k: usize| (u[k] - v[k]) / (2.0 * h) * ps.step;
            let close = |a: f64, b: f64, what: &str| {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1e-12 * base[1]),
                    "{name} {} {what}: analytic {a}, finite difference {b}",
                    ps.name
                );
            };
            close(ps.loss, fd(0), "loss");
            close(ps.params_opt.unwrap(), fd(1), "N_opt");
            close(ps.tokens_opt.unwrap(), fd(2), "D_opt");
        }
        // The exponent shifts move the loss at the fixed (N_opt, D_opt) by exactly 1/5/10%.
        for sh in &s.exponent_shifts {
            let i = if sh.name == "alpha" { 3 } else { 4 };
            let mut l = law.clone();
            l.params[i] += sh.raise;
            let got = l.predict(s.params, s.tokens, c) / s.loss - 1.0;
            assert!(
                (got - sh.fraction).abs() < 1e-9,
                "{name} {}: {got}",
                sh.name
            );
        }
    }
}
