//! An eigen-decomposition of a model's system matrix, for models whose structure allows a cheap
//! and exact one: a core of compartments exchanging drug (similar to a symmetric matrix,
//! because flows between compartments are symmetric in concentration) fed one way by depots.
//!
//! With `A = V Λ V⁻¹`, a step of length `h` is `Φ = V e^{Λh} V⁻¹` and
//! `Ψ = V diag((e^{λh} − 1)/λ) V⁻¹`: a few hundred operations, where the matrix exponential of the
//! block matrix costs tens of thousands. Population runs build one per virtual patient.

use crate::matrix::Matrix;
#[cfg(test)]
use crate::matrix::Step;

/// `A = V Λ V⁻¹`.
#[derive(Debug, Clone)]
pub(crate) struct Spectral {
    v: Matrix,
    v_inv: Matrix,
    lambda: Vec<f64>,
}

/// Eigenvalues and eigenvectors (columns) of a symmetric matrix by cyclic Jacobi rotations.
fn jacobi(s: &Matrix) -> (Vec<f64>, Matrix) {
    let n = s.size();
    let mut a = s.clone();
    let mut v = Matrix::identity(n);
    for _sweep in 0..50 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a.get(i, j).powi(2))
            .sum();
        let scale: f64 = (0..n)
            .map(|i| a.get(i, i).powi(2))
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        // Off-diagonal mass below 1e-26 of the diagonal's: eigenvalue errors are second order
        // in it, far below double precision.
        if off <= 1e-26 * scale {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = a.get(p, q);
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a.get(q, q) - a.get(p, p)) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let sn = t * c;
                for k in 0..n {
                    let (akp, akq) = (a.get(k, p), a.get(k, q));
                    a.set(k, p, c * akp - sn * akq);
                    a.set(k, q, sn * akp + c * akq);
                }
                for k in 0..n {
                    let (apk, aqk) = (a.get(p, k), a.get(q, k));
                    a.set(p, k, c * apk - sn * aqk);
                    a.set(q, k, sn * apk + c * aqk);
                }
                for k in 0..n {
                    let (vkp, vkq) = (v.get(k, p), v.get(k, q));
                    v.set(k, p, c * vkp - sn * vkq);
                    v.set(k, q, sn * vkp + c * vkq);
                }
            }
        }
    }
    ((0..n).map(|i| a.get(i, i)).collect(), v)
}

/// Solves `m x = b` by Gaussian elimination with partial pivoting; `None` if singular.
fn solve(m: &Matrix, b: &[f64]) -> Option<Vec<f64>> {
    let n = m.size();
    let mut a = m.clone();
    let mut x = b.to_vec();
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&i, &j| a.get(i, col).abs().total_cmp(&a.get(j, col).abs()))?;
        if a.get(pivot, col).abs() < 1e-14 {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                let (p, c) = (a.get(pivot, k), a.get(col, k));
                a.set(pivot, k, c);
                a.set(col, k, p);
            }
            x.swap(pivot, col);
        }
        for row in (col + 1)..n {
            let f = a.get(row, col) / a.get(col, col);
            if f != 0.0 {
                for k in col..n {
                    a.add_to(row, k, -f * a.get(col, k));
                }
                x[row] -= f * x[col];
            }
        }
    }
    for col in (0..n).rev() {
        let s: f64 = ((col + 1)..n).map(|k| a.get(col, k) * x[k]).sum();
        x[col] = (x[col] - s) / a.get(col, col);
    }
    Some(x)
}

/// The inverse by Gauss–Jordan elimination with partial pivoting; `None` if singular.
fn invert(m: &Matrix) -> Option<Matrix> {
    let n = m.size();
    let mut a = m.clone();
    let mut inv = Matrix::identity(n);
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&i, &j| a.get(i, col).abs().total_cmp(&a.get(j, col).abs()))?;
        if a.get(pivot, col).abs() < 1e-14 {
            return None;
        }
        for k in 0..n {
            let (p, c) = (a.get(pivot, k), a.get(col, k));
            a.set(pivot, k, c);
            a.set(col, k, p);
            let (p, c) = (inv.get(pivot, k), inv.get(col, k));
            inv.set(pivot, k, c);
            inv.set(col, k, p);
        }
        let d = a.get(col, col);
        for k in 0..n {
            a.set(col, k, a.get(col, k) / d);
            inv.set(col, k, inv.get(col, k) / d);
        }
        for row in 0..n {
            if row == col {
                continue;
            }
            let f = a.get(row, col);
            if f != 0.0 {
                for k in 0..n {
                    a.add_to(row, k, -f * a.get(col, k));
                    inv.add_to(row, k, -f * inv.get(col, k));
                }
            }
        }
    }
    Some(inv)
}

impl Spectral {
    /// Decomposes `a`, whose states fall in three parts: `core` states exchange drug with volumes
    /// `volumes` (so that `a[i][j]·V_j = a[j][i]·V_i` within the core); `depots` each drain into
    /// the core at the rate on their diagonal and receive nothing; `sinks` (an effect site, an
    /// area accumulator) receive from the core and feed nothing back. `None` when the structure
    /// does not hold or eigenvalues coincide, so the caller falls back to the matrix exponential.
    pub(crate) fn of_parts(
        a: &Matrix,
        core: &[usize],
        volumes: &[f64],
        depots: &[usize],
        sinks: &[usize],
    ) -> Option<Spectral> {
        let n = a.size();
        if core.len() + depots.len() + sinks.len() != n || core.len() != volumes.len() {
            return None;
        }
        let in_core = |i: usize| core.contains(&i);
        // Depots receive nothing and feed only the core; sinks feed nothing and receive only
        // from the core and the depots.
        for i in 0..n {
            for j in 0..n {
                let x = a.get(i, j);
                if i == j || x == 0.0 {
                    continue;
                }
                let allowed = if depots.contains(&i) {
                    false
                } else if depots.contains(&j) {
                    in_core(i) || sinks.contains(&i)
                } else if sinks.contains(&j) {
                    false
                } else {
                    // j in the core: it feeds the core and the sinks.
                    true
                };
                if !allowed {
                    return None;
                }
            }
        }
        let m = core.len();
        // Symmetrise the core: S = D^{-1/2} K D^{1/2}, D = diag(volumes).
        let mut s = Matrix::zeros(m);
        for (i, &ci) in core.iter().enumerate() {
            for (j, &cj) in core.iter().enumerate() {
                s.set(i, j, a.get(ci, cj) * (volumes[j] / volumes[i]).sqrt());
            }
        }
        for i in 0..m {
            for j in 0..i {
                let (x, y) = (s.get(i, j), s.get(j, i));
                if (x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1e-12) {
                    return None;
                }
            }
        }
        let distinct = |x: f64, y: f64| (x - y).abs() >= 1e-9 * x.abs().max(y.abs()).max(1e-12);
        let sink_rates: Vec<f64> = sinks.iter().map(|&sk| a.get(sk, sk)).collect();
        // A sink's part of an eigenvector of eigenvalue λ whose other entries are `x`:
        // (λ − L_s) z_s = Σ_j a[s][j] x_j.
        let sink_part = |sink: usize, rate: f64, lambda: f64, x: &dyn Fn(usize) -> f64| {
            (0..n)
                .filter(|&j| j != sink)
                .map(|j| a.get(sink, j) * x(j))
                .sum::<f64>()
                / (lambda - rate)
        };
        let (mu, w) = jacobi(&s);
        let mut v = Matrix::zeros(n);
        let mut lambda = Vec::with_capacity(n);
        for (k, &mu_k) in mu.iter().enumerate() {
            if sink_rates.iter().any(|&r| !distinct(mu_k, r)) {
                return None;
            }
            lambda.push(mu_k);
            for (i, &ci) in core.iter().enumerate() {
                v.set(ci, k, w.get(i, k) * volumes[i].sqrt());
            }
            for (&sk, &rate) in sinks.iter().zip(&sink_rates) {
                let z = sink_part(sk, rate, mu_k, &|j| v.get(j, k));
                v.set(sk, k, z);
            }
        }
        // Each depot: eigenvalue its own drain; the core part solves (K − λI) x = −a[core][depot].
        let mut k_core = Matrix::zeros(m);
        for (i, &ci) in core.iter().enumerate() {
            for (j, &cj) in core.iter().enumerate() {
                k_core.set(i, j, a.get(ci, cj));
            }
        }
        for &depot in depots {
            let l = a.get(depot, depot);
            if mu.iter().chain(&sink_rates).any(|&x| !distinct(x, l)) {
                return None;
            }
            let mut shifted = k_core.clone();
            for i in 0..m {
                shifted.add_to(i, i, -l);
            }
            let rhs: Vec<f64> = core.iter().map(|&ci| -a.get(ci, depot)).collect();
            let x = solve(&shifted, &rhs)?;
            let col = lambda.len();
            lambda.push(l);
            v.set(depot, col, 1.0);
            for (i, &ci) in core.iter().enumerate() {
                v.set(ci, col, x[i]);
            }
            for (&sk, &rate) in sinks.iter().zip(&sink_rates) {
                let z = sink_part(sk, rate, l, &|j| v.get(j, col));
                v.set(sk, col, z);
            }
        }
        // Each sink: its own rate, an eigenvector that is the sink alone.
        for (&sk, &rate) in sinks.iter().zip(&sink_rates) {
            let col = lambda.len();
            lambda.push(rate);
            v.set(sk, col, 1.0);
        }
        let v_inv = invert(&v)?;
        Some(Spectral { v, v_inv, lambda })
    }

    /// A propagation in this decomposition's eigen-coordinates `y = V⁻¹ x`, starting empty.
    pub(crate) fn modal(&self) -> Modal<'_> {
        let n = self.lambda.len();
        Modal {
            s: self,
            y: vec![0.0; n],
            r: vec![0.0; n],
            has_rate: false,
            h: f64::NAN,
            decay: vec![0.0; n],
            integral: vec![0.0; n],
        }
    }

    #[cfg(test)]
    fn combine(&self, f: impl Fn(f64) -> f64) -> Matrix {
        let n = self.lambda.len();
        let mut out = Matrix::zeros(n);
        for k in 0..n {
            let fk = f(self.lambda[k]);
            if fk == 0.0 {
                continue;
            }
            for i in 0..n {
                let vik = self.v.get(i, k) * fk;
                if vik == 0.0 {
                    continue;
                }
                for j in 0..n {
                    out.add_to(i, j, vik * self.v_inv.get(k, j));
                }
            }
        }
        out
    }

    /// `e^{Ah}`.
    #[cfg(test)]
    pub(crate) fn phi(&self, h: f64) -> Matrix {
        self.combine(|l| (l * h).exp())
    }

    /// `e^{Ah}` and `∫₀ʰ e^{Aτ} dτ`.
    #[cfg(test)]
    pub(crate) fn step(&self, h: f64) -> Step {
        Step {
            phi: self.phi(h),
            psi: self.combine(|l| {
                if (l * h).abs() < 1e-8 {
                    h * (1.0 + l * h / 2.0)
                } else {
                    (l * h).exp_m1() / l
                }
            }),
        }
    }
}

/// The state in eigen-coordinates: each mode `k` decays on its own, `y_k ← e^{λ_k h} y_k`, and
/// a constant input `r = V⁻¹ u` adds `(e^{λ_k h} − 1)/λ_k · r_k`: the closed-form sum of
/// exponentials, at the cost of one exponential per mode and step.
pub(crate) struct Modal<'a> {
    s: &'a Spectral,
    y: Vec<f64>,
    r: Vec<f64>,
    has_rate: bool,
    /// The last step length, with `e^{λh}` and `∫₀ʰ e^{λτ} dτ` per mode for it (uniform grids
    /// reuse them).
    h: f64,
    decay: Vec<f64>,
    integral: Vec<f64>,
}

impl crate::simulate::Propagation for Modal<'_> {
    fn bolus(&mut self, compartment: usize, amount: f64) {
        for (k, y) in self.y.iter_mut().enumerate() {
            *y += self.s.v_inv.get(k, compartment) * amount;
        }
    }

    fn set_rates(&mut self, rates: &[f64], any: bool) {
        self.has_rate = any;
        for (k, r) in self.r.iter_mut().enumerate() {
            *r = if any {
                rates
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| **u != 0.0)
                    .map(|(j, u)| self.s.v_inv.get(k, j) * u)
                    .sum()
            } else {
                0.0
            };
        }
    }

    fn advance(&mut self, h: f64) {
        if h.to_bits() != self.h.to_bits() {
            self.h = h;
            for ((e, i), &l) in self
                .decay
                .iter_mut()
                .zip(self.integral.iter_mut())
                .zip(&self.s.lambda)
            {
                let lh = l * h;
                *e = lh.exp();
                // By its series where λh is tiny (the area accumulator has λ = 0).
                *i = if lh.abs() < 1e-8 {
                    h * (1.0 + lh / 2.0)
                } else {
                    lh.exp_m1() / l
                };
            }
        }
        if self.has_rate {
            for (((y, e), i), r) in self
                .y
                .iter_mut()
                .zip(&self.decay)
                .zip(&self.integral)
                .zip(&self.r)
            {
                *y = *y * e + i * r;
            }
        } else {
            for (y, e) in self.y.iter_mut().zip(&self.decay) {
                *y *= e;
            }
        }
    }

    fn state(&self, index: usize) -> f64 {
        // Amounts in a compartment model fed non-negative inputs are never negative; the sum of
        // modes can round to a few 1e-17 below zero where a state is still empty.
        self.s
            .v
            .row(index)
            .iter()
            .zip(&self.y)
            .map(|(v, y)| v * y)
            .sum::<f64>()
            .max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use crate::matrix::{Step, transition};
    use crate::model::Patient;
    use crate::models::perez_ruixo::{Params, build_plasma_only};
    use crate::units::Kg;

    #[test]
    fn the_decomposition_gives_the_matrix_exponential() {
        let p = Patient {
            weight: Kg::new(80.0).unwrap(),
            age_years: Some(70.0),
            sex: None,
        };
        let mut params = Params::typical(&p);
        params.ka_n *= 1.7;
        params.vc *= 0.6;
        let built = build_plasma_only(params);
        let spectral = built
            .spectral
            .as_ref()
            .expect("the structure allows a decomposition");
        for h in [0.2, 1.0, 5.0, 31.8, 240.0] {
            let exact = Step::new(&built.a, h);
            let fast = spectral.step(h);
            let free = transition(&built.a, h);
            let n = built.a.size();
            for i in 0..n {
                for j in 0..n {
                    // Relative to the entry, with a floor well below any entry that matters
                    // (entries of Φ are at most 1; of Ψ at most h).
                    let tol = 1e-10 * exact.phi.get(i, j).abs() + 1e-14;
                    assert!(
                        (fast.phi.get(i, j) - exact.phi.get(i, j)).abs() < tol,
                        "phi {h} {i} {j}: {} vs {}",
                        fast.phi.get(i, j),
                        exact.phi.get(i, j)
                    );
                    assert!(
                        (free.get(i, j) - exact.phi.get(i, j)).abs() < tol,
                        "free {h} {i} {j}"
                    );
                    let tol = 1e-10 * exact.psi.get(i, j).abs() + 1e-14 * h;
                    assert!(
                        (fast.psi.get(i, j) - exact.psi.get(i, j)).abs() < tol,
                        "psi {h} {i} {j}"
                    );
                }
            }
        }
    }

    /// The eigen-coordinate simulation gives what the step matrices give, for boluses into the
    /// nasal depot, zero-order input into the gut and an IV infusion, at uneven times.
    #[test]
    fn the_modal_simulation_gives_the_step_matrix_simulation() {
        use crate::simulate::{Input, simulate_inputs};
        use crate::units::Minutes;
        let p = Patient {
            weight: Kg::new(64.0).unwrap(),
            age_years: Some(30.0),
            sex: None,
        };
        let modal = build_plasma_only(Params::typical(&p));
        assert!(modal.spectral.is_some());
        let mut physical = modal.clone();
        physical.spectral = None;
        let inputs = [
            Input::bolus(crate::models::perez_ruixo::NASAL, 0.0, 15.1),
            Input::zero_order(crate::models::perez_ruixo::GUT, 0.0, 9.3, 31.8),
            Input::bolus(crate::models::perez_ruixo::NASAL, 5.0, 9.4),
            Input::zero_order(0, 12.5, 20.0, 40.0),
        ];
        let times: Vec<Minutes> = [0.0, 0.0, 3.3, 5.0, 20.0, 52.5, 90.0, 600.0, 1440.0]
            .map(|t| Minutes::new("t", t).unwrap())
            .to_vec();
        let a = simulate_inputs(&modal, &inputs, &times).plasma;
        let b = simulate_inputs(&physical, &inputs, &times).plasma;
        assert!(b.iter().skip(2).all(|c| *c > 0.0));
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-10 * y.abs().max(1e-12),
                "{i}: {x} vs {y}"
            );
        }
    }

    /// Every IV model has a decomposition (core, effect site and area accumulator), and the
    /// eigen-coordinate simulation gives what the step matrices give for all three outputs.
    #[test]
    fn iv_models_simulate_in_eigen_coordinates_exactly() {
        use crate::models::{ModelId, ModelOptions};
        use crate::simulate::{Input, simulate_inputs};
        use crate::units::Minutes;
        let p = Patient {
            weight: Kg::new(91.0).unwrap(),
            age_years: Some(50.0),
            sex: None,
        };
        for id in [ModelId::Domino, ModelId::Clements250, ModelId::Kamp2020] {
            let modal = id.build(&p, ModelOptions::default());
            assert!(modal.spectral.is_some(), "{}", id.info().id);
            let mut physical = modal.clone();
            physical.spectral = None;
            let inputs = [
                Input::bolus(0, 0.0, 10.0),
                Input::zero_order(0, 2.0, 35.0, 40.0),
                Input::zero_order(0, 30.0, 5.0, 10.0),
            ];
            let times: Vec<Minutes> = (0..=300)
                .map(|i| Minutes::new("t", f64::from(i) * 0.7).unwrap())
                .collect();
            let a = simulate_inputs(&modal, &inputs, &times);
            let b = simulate_inputs(&physical, &inputs, &times);
            let close = |x: &[f64], y: &[f64], what: &str| {
                for (i, (x, y)) in x.iter().zip(y).enumerate() {
                    assert!(
                        (x - y).abs() <= 1e-10 * y.abs().max(1e-9),
                        "{} {what} {i}: {x} vs {y}",
                        id.info().id
                    );
                }
            };
            close(&a.plasma, &b.plasma, "plasma");
            close(&a.auc, &b.auc, "auc");
            if let (Some(x), Some(y)) = (&a.effect_site, &b.effect_site) {
                close(x, y, "effect site");
            }
            assert_eq!(a.effect_site.is_some(), id == ModelId::Domino);
        }
    }
}
