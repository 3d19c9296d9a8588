//! Small dense matrices and the matrix exponential, enough for linear compartment models.
//!
//! A compartment model with piecewise-constant inputs is `x' = A x + u`. Over a step of length
//! `h` with constant `u`, the exact solution is `x(h) = Φ x(0) + Ψ u` with `Φ = e^{Ah}` and
//! `Ψ = ∫₀ʰ e^{Aτ} dτ`. Both come from one exponential of the block matrix `[[A, I], [0, 0]]·h`,
//! which stays valid when `A` is singular (an accumulating AUC state makes it so).

/// A square matrix in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Matrix {
    n: usize,
    data: Vec<f64>,
}

impl Matrix {
    pub(crate) fn zeros(n: usize) -> Self {
        Matrix {
            n,
            data: vec![0.0; n * n],
        }
    }

    pub(crate) fn identity(n: usize) -> Self {
        let mut m = Matrix::zeros(n);
        for i in 0..n {
            m.data[i * n + i] = 1.0;
        }
        m
    }

    /// A copy enlarged to `n` × `n`, new rows and columns zero.
    pub(crate) fn grown(&self, n: usize) -> Matrix {
        let mut m = Matrix::zeros(n.max(self.n));
        for i in 0..self.n {
            for j in 0..self.n {
                m.set(i, j, self.get(i, j));
            }
        }
        m
    }

    pub(crate) fn size(&self) -> usize {
        self.n
    }

    pub(crate) fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }

    /// Row `i`.
    pub(crate) fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.n..(i + 1) * self.n]
    }

    pub(crate) fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.n + j] = v;
    }

    pub(crate) fn add_to(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.n + j] += v;
    }

    fn scale(&self, s: f64) -> Matrix {
        Matrix {
            n: self.n,
            data: self.data.iter().map(|v| v * s).collect(),
        }
    }

    fn mul(&self, other: &Matrix) -> Matrix {
        let n = self.n;
        let mut out = Matrix::zeros(n);
        for i in 0..n {
            for k in 0..n {
                let a = self.data[i * n + k];
                if a == 0.0 {
                    continue;
                }
                for j in 0..n {
                    out.data[i * n + j] += a * other.data[k * n + j];
                }
            }
        }
        out
    }

    /// `self · v`.
    pub(crate) fn apply(&self, v: &[f64], out: &mut [f64]) {
        let n = self.n;
        for (row, o) in self.data.chunks_exact(n).zip(out.iter_mut()) {
            *o = row.iter().zip(v).map(|(a, b)| a * b).sum();
        }
    }

    /// Maximum absolute row sum (the ∞-norm).
    fn norm_inf(&self) -> f64 {
        (0..self.n)
            .map(|i| {
                self.data[i * self.n..(i + 1) * self.n]
                    .iter()
                    .map(|v| v.abs())
                    .sum::<f64>()
            })
            .fold(0.0, f64::max)
    }

    /// `e^{self}` by scaling and squaring with a Taylor series: the matrix is halved until its
    /// norm is below 1/2, the series summed to 16 terms (the remainder is below
    /// 0.5^17/17!·e^0.5 ≈ 3e-20, far under double precision), then squared back.
    pub(crate) fn exp(&self) -> Matrix {
        let norm = self.norm_inf();
        let squarings = if norm > 0.5 {
            (norm / 0.5).log2().ceil() as i32
        } else {
            0
        };
        let scaled = self.scale(0.5_f64.powi(squarings));
        let mut result = Matrix::identity(self.n);
        let mut term = Matrix::identity(self.n);
        for k in 1..=16 {
            term = term.mul(&scaled).scale(1.0 / f64::from(k));
            for (r, t) in result.data.iter_mut().zip(&term.data) {
                *r += t;
            }
        }
        for _ in 0..squarings {
            result = result.mul(&result);
        }
        result
    }
}

/// `Φ = e^{Ah}` and `Ψ = ∫₀ʰ e^{Aτ} dτ` for one step length.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) phi: Matrix,
    pub(crate) psi: Matrix,
}

/// `e^{Ah}` alone, for steps without input (the cheaper n×n exponential).
pub(crate) fn transition(a: &Matrix, h: f64) -> Matrix {
    a.scale(h).exp()
}

impl Step {
    pub(crate) fn new(a: &Matrix, h: f64) -> Step {
        let n = a.size();
        let mut block = Matrix::zeros(2 * n);
        for i in 0..n {
            for j in 0..n {
                block.set(i, j, a.get(i, j) * h);
            }
            block.set(i, n + i, h);
        }
        let e = block.exp();
        let mut phi = Matrix::zeros(n);
        let mut psi = Matrix::zeros(n);
        for i in 0..n {
            for j in 0..n {
                phi.set(i, j, e.get(i, j));
                psi.set(i, j, e.get(i, n + j));
            }
        }
        Step { phi, psi }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_of_a_diagonal_and_a_nilpotent_matrix() {
        let mut d = Matrix::zeros(2);
        d.set(0, 0, -3.0);
        d.set(1, 1, 2.5);
        let e = d.exp();
        assert!((e.get(0, 0) - (-3.0_f64).exp()).abs() < 1e-14);
        assert!((e.get(1, 1) / 2.5_f64.exp() - 1.0).abs() < 1e-13);
        // e^{[[0,1],[0,0]]} = [[1,1],[0,1]].
        let mut nil = Matrix::zeros(2);
        nil.set(0, 1, 1.0);
        let e = nil.exp();
        assert_eq!(
            (e.get(0, 0), e.get(0, 1), e.get(1, 0), e.get(1, 1)),
            (1.0, 1.0, 0.0, 1.0)
        );
    }

    #[test]
    fn the_step_integral_matches_the_scalar_formula_and_a_singular_matrix() {
        // x' = -k x + u: x(h) = e^{-kh} x0 + (1 - e^{-kh})/k · u.
        let k = 0.07;
        let h = 13.0;
        let mut a = Matrix::zeros(1);
        a.set(0, 0, -k);
        let s = Step::new(&a, h);
        assert!((s.phi.get(0, 0) - (-k * h).exp()).abs() < 1e-15);
        assert!((s.psi.get(0, 0) - (1.0 - (-k * h).exp()) / k).abs() < 1e-12);
        // A = 0 (singular): Ψ = h.
        let z = Step::new(&Matrix::zeros(1), 4.0);
        assert!((z.psi.get(0, 0) - 4.0).abs() < 1e-14);
    }
}
