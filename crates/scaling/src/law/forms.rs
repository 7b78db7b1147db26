//! Built-in forms from the literature, each defined once as a formula with its parameters'
//! meanings, domains and start grids. Their predictions and exact gradients come from the
//! formula engine ([`super::formula`]).

use std::sync::OnceLock;

use super::form::{Domain, Grid, ParamSpec};
use super::formula::Formula;
use super::Variable;

fn spec(name: &str, meaning: &str, domain: Domain, linear: bool, grid: Option<Grid>) -> ParamSpec {
    ParamSpec::new(name, meaning, domain, linear, grid)
}

fn build(name: &str, body: &str, display: &str, specs: Vec<ParamSpec>) -> Formula {
    build_on(name, body, display, specs, &[])
}

/// [`build`] for a formula that reads the named data `columns`.
fn build_on(
    name: &str,
    body: &str,
    display: &str,
    specs: Vec<ParamSpec>,
    columns: &[&str],
) -> Formula {
    Formula::parse(body, columns)
        .unwrap_or_else(|e| panic!("built-in form {name}: {e}"))
        .with_specs(name, specs)
        .with_text(display)
}

const POS: Domain = Domain::POSITIVE;
const REAL: Domain = Domain::REAL;

/// Kaplan et al. 2020 (arXiv:2001.08361), Eq. 1.5:
/// `L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D`.
pub fn kaplan() -> &'static Formula {
    static F: OnceLock<Formula> = OnceLock::new();
    F.get_or_init(|| {
        build(
            "kaplan",
            "((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D",
            "[(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D",
            vec![
                spec(
                    "N_c",
                    "parameter scale: L = (N_c/N)^alpha_N when data is unlimited",
                    POS,
                    false,
                    Some(Grid::Geometric { lo: 1e10, hi: 1e16 }),
                ),
                spec(
                    "D_c",
                    "token scale: L = (D_c/D)^alpha_D when the model is unlimited",
                    POS,
                    false,
                    Some(Grid::Geometric { lo: 1e9, hi: 1e16 }),
                ),
                spec(
                    "alpha_N",
                    "exponent of N",
                    POS,
                    false,
                    Some(Grid::Geometric { lo: 0.02, hi: 0.5 }),
                ),
                spec(
                    "alpha_D",
                    "exponent of D",
                    POS,
                    false,
                    Some(Grid::Geometric { lo: 0.02, hi: 0.5 }),
                ),
            ],
        )
    })
}

/// Kaplan et al. 2020, Eq. 1.6 with a steps column:
/// `L(N, S) = (N_c/N)^alpha_N + (S_c/S)^alpha_S`.
pub fn kaplan_steps() -> &'static Formula {
    static F: OnceLock<Formula> = OnceLock::new();
    F.get_or_init(|| {
        build(
            "kaplan-steps",
            "(N_c/N)^alpha_N + (S_c/S)^alpha_S",
            "(N_c/N)^alpha_N + (S_c/S)^alpha_S",
            vec![
                spec(
                    "N_c",
                    "parameter scale (parameters)",
                    POS,
                    false,
                    Some(Grid::Geometric { lo: 1e10, hi: 1e16 }),
                ),
                spec(
                    "S_c",
                    "step scale (optimiser steps)",
                    POS,
                    false,
                    Some(Grid::Geometric { lo: 10.0, hi: 1e6 }),
                ),
                spec(
                    "alpha_N",
                    "exponent of N",
                    POS,
                    false,
                    Some(Grid::Geometric { lo: 0.02, hi: 1.0 }),
                ),
                spec(
                    "alpha_S",
                    "exponent of S",
                    POS,
                    false,
                    Some(Grid::Geometric { lo: 0.05, hi: 2.0 }),
                ),
            ],
        )
    })
}

/// Muennighoff et al. 2023 (arXiv:2305.16264), Eq. 5-7: Chinchilla's form with N and D
/// replaced by effective counts given U unique tokens. With G = (alpha A/(beta B))^(1/(alpha+beta))
/// and N_opt(U) = G (U G)^(beta/alpha) (Hoffmann et al. 2022, Eq. 4), U_N = min(N, N_opt(U)),
/// R_N = max(N/U_N - 1, 0), U_D = min(U, D), R_D = max(D/U - 1, 0):
/// `L = E + A/(U_N + U_N R_N* (1 - exp(-R_N/R_N*)))^alpha + B/(U_D + U_D R_D* (1 - exp(-R_D/R_D*)))^beta`.
pub fn data_constrained() -> &'static Formula {
    static F: OnceLock<Formula> = OnceLock::new();
    F.get_or_init(|| {
        let g = "((alpha*A/(beta*B))^(1/(alpha+beta)))";
        let nopt = format!("({g}*(U*{g})^(beta/alpha))");
        let un = format!("min(N, {nopt})");
        let rn = format!("max(N/{un} - 1, 0)");
        let neff = format!("({un} + {un}*R_N_star*(1 - exp(-{rn}/R_N_star)))");
        let ud = "min(U, D)";
        let rd = "max(D/U - 1, 0)";
        let deff = format!("({ud} + {ud}*R_D_star*(1 - exp(-{rd}/R_D_star)))");
        let body = format!("E + A*{neff}^-alpha + B*{deff}^-beta");
        build(
            "data-constrained",
            &body,
            "E + A/N'^alpha + B/D'^beta, N' = U_N + U_N R_N* (1 - exp(-R_N/R_N*)), D' = U_D + U_D R_D* (1 - exp(-R_D/R_D*))",
            vec![
                spec("E", "irreducible loss (nats)", POS, true, None),
                spec("A", "coefficient of the N term (nats x N^alpha)", POS, false, Some(Grid::Geometric { lo: 10.0, hi: 1e4 })),
                spec("B", "coefficient of the D term (nats x D^beta)", POS, false, Some(Grid::Geometric { lo: 10.0, hi: 1e4 })),
                spec("alpha", "exponent of N", POS, false, Some(Grid::Geometric { lo: 0.1, hi: 0.8 })),
                spec("beta", "exponent of D", POS, false, Some(Grid::Geometric { lo: 0.1, hi: 0.8 })),
                spec("R_D_star", "repeated epochs at which repeated tokens are worth 1 - 1/e of new ones", POS, false, Some(Grid::Geometric { lo: 1.0, hi: 100.0 })),
                spec("R_N_star", "excess parameters (in multiples of the optimum for U) half-life analogue", POS, false, Some(Grid::Geometric { lo: 1.0, hi: 100.0 })),
            ],
        )
    })
}

/// Gadre et al. 2024 (arXiv:2403.08540), Eq. 4: the over-training law
/// `L(C, M) = E + (a M^eta + b M^-eta) C^-eta` with M = D/N tokens per parameter.
pub fn overtraining() -> &'static Formula {
    static F: OnceLock<Formula> = OnceLock::new();
    F.get_or_init(|| {
        build(
            "overtraining",
            "E + (a*M^eta + b*M^-eta)*C^-eta",
            "E + (a M^eta + b M^-eta) C^-eta",
            vec![
                spec("E", "irreducible loss (nats)", POS, true, None),
                spec(
                    "a",
                    "coefficient of the over-training term (nats x FLOPs^eta)",
                    POS,
                    true,
                    None,
                ),
                spec(
                    "b",
                    "coefficient of the under-training term (nats x FLOPs^eta)",
                    POS,
                    true,
                    None,
                ),
                spec(
                    "eta",
                    "exponent of C (equals alpha/2 = beta/2 of a Chinchilla law with alpha = beta)",
                    REAL,
                    false,
                    Some(Grid::Geometric { lo: 0.02, hi: 1.0 }),
                ),
            ],
        )
    })
}

/// The multiplicative form `L = E + A N^-alpha D^-beta` (one of the families of
/// simple-scaling-laws; Kaplan et al. 2020 discuss it in Sec. 4).
pub fn multiplicative() -> &'static Formula {
    static F: OnceLock<Formula> = OnceLock::new();
    F.get_or_init(|| {
        build(
            "multiplicative",
            "E + A*N^-alpha*D^-beta",
            "E + A N^-alpha D^-beta",
            vec![
                spec("E", "irreducible loss (nats)", POS, true, None),
                spec("A", "coefficient (nats x N^alpha D^beta)", POS, true, None),
                spec("alpha", "exponent of N", REAL, false, None),
                spec("beta", "exponent of D", REAL, false, None),
            ],
        )
    })
}

/// A broken power law with one break (Caballero et al. 2022, arXiv:2210.14891, Eq. 1):
/// `L = E + b x^-c0 (1 + (x/d1)^(1/f1))^(-c1 f1)`: slope c0 before the break at x = d1,
/// c0 + c1 after it, f1 its sharpness.
pub fn broken_power(x: Variable) -> &'static Formula {
    static F: [OnceLock<Formula>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match x {
        Variable::Params => 0,
        Variable::Tokens => 1,
        Variable::Flops => 2,
    };
    F[slot].get_or_init(|| {
        let (lo, hi) = match x {
            Variable::Params => (1e6, 1e12),
            Variable::Tokens => (1e7, 1e13),
            Variable::Flops => (1e15, 1e25),
        };
        broken_power_on(x.symbol(), None, lo, hi)
    })
}

/// [`broken_power`] in the variable `s` (a law variable's symbol, or the data column `s` when
/// `column` is given), with the break's start grid geometric from `lo` to `hi`.
pub(crate) fn broken_power_on(s: &str, column: Option<&str>, lo: f64, hi: f64) -> Formula {
    build_on(
        "broken-power",
        &format!("E + b*{s}^-c0*(1 + ({s}/d1)^(1/f1))^(-c1*f1)"),
        &format!("E + b {s}^-c0 (1 + ({s}/d1)^(1/f1))^(-c1 f1)"),
        vec![
            spec("E", "irreducible loss (nats)", POS, true, None),
            spec(
                "b",
                &format!("coefficient (nats x {s}^c0)"),
                POS,
                true,
                None,
            ),
            spec(
                "c0",
                &format!("slope before the break (loss falls as {s}^-c0)"),
                REAL,
                false,
                Some(Grid::Linear { lo: 0.0, hi: 1.0 }),
            ),
            spec(
                "c1",
                "change of slope at the break (c0 + c1 after it)",
                REAL,
                false,
                Some(Grid::Linear { lo: -0.5, hi: 1.0 }),
            ),
            spec(
                "d1",
                &format!("where the break is ({s})"),
                POS,
                false,
                Some(Grid::Geometric { lo, hi }),
            ),
            spec(
                "f1",
                "sharpness of the break (smaller is sharper)",
                POS,
                false,
                Some(Grid::Geometric { lo: 0.05, hi: 2.0 }),
            ),
        ],
        column.as_slice(),
    )
}

/// Chinchilla's form as a formula (Hoffmann et al. 2022, Eq. 2), for the generic paths; fits
/// of this form use the fast kernel in `fit::objective`.
pub fn chinchilla() -> &'static Formula {
    static F: OnceLock<Formula> = OnceLock::new();
    F.get_or_init(|| {
        build(
            "chinchilla",
            "E + A*N^-alpha + B*D^-beta",
            "E + A / N^alpha + B / D^beta",
            vec![
                spec(
                    "E",
                    "irreducible loss: the limit at infinite scale (nats)",
                    POS,
                    true,
                    None,
                ),
                spec(
                    "A",
                    "coefficient of the N term (nats x N^alpha)",
                    POS,
                    true,
                    None,
                ),
                spec(
                    "B",
                    "coefficient of the D term (nats x D^beta)",
                    POS,
                    true,
                    None,
                ),
                spec(
                    "alpha",
                    "exponent of N: loss falls as N^-alpha",
                    REAL,
                    false,
                    None,
                ),
                spec(
                    "beta",
                    "exponent of D: loss falls as D^-beta",
                    REAL,
                    false,
                    None,
                ),
            ],
        )
    })
}

/// The saturating power law `L = E + A x^-alpha` as a formula.
pub fn power(x: Variable) -> &'static Formula {
    static F: [OnceLock<Formula>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match x {
        Variable::Params => 0,
        Variable::Tokens => 1,
        Variable::Flops => 2,
    };
    F[slot].get_or_init(|| power_on(x.symbol(), None, true))
}

/// [`power`] in the variable `s` (a law variable's symbol, or the data column `s` when
/// `column` is given); without the floor (`floor` false) it is the pure power law
/// `A x^-alpha`.
pub(crate) fn power_on(s: &str, column: Option<&str>, floor: bool) -> Formula {
    let e = spec(
        "E",
        "irreducible loss: the limit at infinite scale (nats)",
        POS,
        true,
        None,
    );
    let rest = vec![
        spec(
            "A",
            &format!("coefficient of the {s} term (nats x {s}^alpha)"),
            POS,
            true,
            None,
        ),
        spec(
            "alpha",
            &format!("exponent of {s}: loss falls as {s}^-alpha"),
            REAL,
            false,
            None,
        ),
    ];
    let (body, display, specs) = if floor {
        (
            format!("E + A*{s}^-alpha"),
            format!("E + A * {s}^-alpha"),
            std::iter::once(e).chain(rest).collect(),
        )
    } else {
        (format!("A*{s}^-alpha"), format!("A * {s}^-alpha"), rest)
    };
    build_on("power", &body, &display, specs, column.as_slice())
}
