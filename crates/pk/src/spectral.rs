//! An eigen-decomposition of a model's system matrix, for models whose structure allows a cheap
//! and exact one: a core of compartments exchanging drug (similar to a symmetric matrix,
//! because flows between compartments are symmetric in concentration) fed one way by depots.
//!
//! With `A = V Λ V⁻¹`, a step of length `h` is `Φ = V e^{Λh} V⁻¹` and
//! `Ψ = V diag((e^{λh} − 1)/λ) V⁻¹`: a few hundred operations, where the matrix exponential of the
//! block matrix costs tens of thousands. Population runs build one per virtual patient.

use crate::matrix::{Matrix, Step};

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
    /// Decomposes `a`, whose states `core` exchange drug with volumes `volumes` (so that
    /// `a[i][j]·V_j = a[j][i]·V_i` within the core) and whose states `depots` each drain into the
    /// core at the rate on their diagonal and receive nothing. Every state must be in one of the
    /// two lists. `None` when the structure does not hold or eigenvalues coincide, so the caller
    /// falls back to the matrix exponential.
    pub(crate) fn of_core_and_depots(
        a: &Matrix,
        core: &[usize],
        volumes: &[f64],
        depots: &[usize],
    ) -> Option<Spectral> {
        let n = a.size();
        if core.len() + depots.len() != n || core.len() != volumes.len() {
            return None;
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
        let (mu, w) = jacobi(&s);
        let mut v = Matrix::zeros(n);
        let mut lambda = vec![0.0; n];
        for (k, &mu_k) in mu.iter().enumerate() {
            lambda[k] = mu_k;
            for (i, &ci) in core.iter().enumerate() {
                v.set(ci, k, w.get(i, k) * volumes[i].sqrt());
            }
        }
        // Each depot: eigenvalue its own drain; the core part solves (K − λI) x = −a[core][depot].
        let mut k_core = Matrix::zeros(m);
        for (i, &ci) in core.iter().enumerate() {
            for (j, &cj) in core.iter().enumerate() {
                k_core.set(i, j, a.get(ci, cj));
            }
        }
        for (d, &depot) in depots.iter().enumerate() {
            let l = a.get(depot, depot);
            if mu
                .iter()
                .any(|&x| (x - l).abs() < 1e-9 * l.abs().max(1e-12))
            {
                return None;
            }
            let mut shifted = k_core.clone();
            for i in 0..m {
                shifted.add_to(i, i, -l);
            }
            let rhs: Vec<f64> = core.iter().map(|&ci| -a.get(ci, depot)).collect();
            let x = solve(&shifted, &rhs)?;
            let col = m + d;
            lambda[col] = l;
            v.set(depot, col, 1.0);
            for (i, &ci) in core.iter().enumerate() {
                v.set(ci, col, x[i]);
            }
        }
        let v_inv = invert(&v)?;
        Some(Spectral { v, v_inv, lambda })
    }

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
    pub(crate) fn phi(&self, h: f64) -> Matrix {
        self.combine(|l| (l * h).exp())
    }

    /// `e^{Ah}` and `∫₀ʰ e^{Aτ} dτ`.
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
}
