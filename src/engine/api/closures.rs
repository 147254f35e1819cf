//! Rhai closures as numerics traits: [`Drift`], [`NoiseFn`], [`Perturbation`], [`Observable`].
//!
//! A Rhai closure can only be called with the [`NativeCallContext`] of the native function that
//! received it, and neither the context nor a [`FnPtr`] is `Send`. The adapters here therefore
//! hold a raw pointer to the context ([`CallCtx`]) and
//!
//! - are built inside one native function call and dropped before it returns (they never end
//!   up in a script value: handles store the `FnPtr`s, not the adapters);
//! - return `false` from `parallel_safe()`, so the numerics call them only from the calling
//!   thread (members / experiments run one after another — the contract documented in
//!   [`crate::systems::sde`]). That is what makes the `unsafe impl Send + Sync` sound.
//!
//! Every failure of a closure (it throws, returns the wrong type or shape, or NaN) becomes a
//! [`crate::Error`] and so a catchable Rhai runtime error naming the closure's role; Ctrl-C
//! inside a closure stays an interruption.
use crate::engine::array::NdArray;
use crate::systems::observable::Observable;
use crate::systems::perturbation::Perturbation;
use crate::systems::sde::{copy_checked, Drift, NoiseFn};
use crate::{Error, Result};
use rhai::{Dynamic, EvalAltResult, FnPtr, NativeCallContext};

/// The calling native function's context, lifetime erased (see the module doc for the rules).
#[derive(Clone, Copy)]
pub struct CallCtx(*const NativeCallContext<'static>);

impl CallCtx {
    /// Wraps `ctx`.
    ///
    /// # Safety
    /// Every adapter holding the result must be dropped before `ctx` goes out of scope, and
    /// must only be used on the thread that owns `ctx`.
    pub unsafe fn new(ctx: &NativeCallContext) -> Self {
        CallCtx((ctx as *const NativeCallContext<'_>).cast())
    }

    /// Calls `f` with the arguments, mapping script errors to [`Error`] (`what` names the
    /// closure's role in messages).
    pub fn call(&self, f: &FnPtr, args: Vec<Dynamic>, what: &str) -> Result<Dynamic> {
        // SAFETY: `new`'s contract — the context outlives this adapter and we are on its thread.
        let ctx = unsafe { &*self.0 };
        f.call_raw(ctx, None, args)
            .map_err(|e| script_error(*e, what))
    }
}

/// A script error raised inside a closure → [`Error`] (Ctrl-C stays an interruption).
pub fn script_error(e: EvalAltResult, what: &str) -> Error {
    match e {
        EvalAltResult::ErrorTerminated(..) => Error::Interrupted(format!("{what}: interrupted")),
        other => Error::invalid(format!(
            "{what}: the closure failed: {}",
            crate::engine::format_error(&other, None)
        )),
    }
}

/// A state as the script sees it: a 1-D ndarray.
pub fn state_arg(x: &[f64]) -> Dynamic {
    Dynamic::from(NdArray::from_array(
        ndarray::Array1::from(x.to_vec()).into_dyn(),
    ))
}

/// A closure's result as a flat vector of `n` numbers (any shape of that size is accepted).
pub fn vector_result(v: &Dynamic, n: usize, what: &str) -> Result<Vec<f64>> {
    let a = NdArray::from_dynamic(v, what).map_err(|e| {
        Error::shape(format!(
            "{what} must return an ndarray or array of {n} numbers: {e}"
        ))
    })?;
    if a.size() != n {
        return Err(Error::shape(format!(
            "{what} returned shape {:?} ({} values) but {n} are needed; return one value per \
             component",
            a.shape(),
            a.size()
        )));
    }
    Ok(a.view().iter().copied().collect())
}

/// A closure's result as one number.
pub fn scalar_result(v: &Dynamic, what: &str) -> Result<f64> {
    if let Ok(x) = crate::engine::array::num_arg(v, what) {
        return Ok(x);
    }
    let a = NdArray::from_dynamic(v, what)?;
    if a.size() == 1 {
        return Ok(a.view().iter().copied().next().unwrap_or(f64::NAN));
    }
    Err(Error::shape(format!(
        "{what} must return one number, got shape {:?}",
        a.shape()
    )))
}

/// `F(x)` from a closure `|x| -> vector`.
pub struct ClosureDrift {
    /// Context of the native call that built this adapter.
    pub ctx: CallCtx,
    /// The closure.
    pub f: FnPtr,
    /// State dimension D.
    pub d: usize,
    /// "drift of system 'name'".
    pub what: String,
}
// SAFETY: parallel_safe() is false, so the numerics only call this on the calling thread.
unsafe impl Send for ClosureDrift {}
unsafe impl Sync for ClosureDrift {}

impl Drift for ClosureDrift {
    fn dim(&self) -> usize {
        self.d
    }
    fn eval(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        let r = self.ctx.call(&self.f, vec![state_arg(x)], &self.what)?;
        let v = vector_result(&r, self.d, &self.what)?;
        copy_checked(&v, out, &self.what)
    }
    fn parallel_safe(&self) -> bool {
        false
    }
}

/// `G(x)` from a closure returning a D×K matrix (or a length-D vector: diagonal, K = D).
pub struct ClosureNoise {
    /// Context of the native call that built this adapter.
    pub ctx: CallCtx,
    /// The closure.
    pub f: FnPtr,
    /// Rows D.
    pub d: usize,
    /// Columns K (found by evaluating the closure once at the start state).
    pub k: usize,
    /// True when the closure returns the diagonal (a length-D vector).
    pub diagonal: bool,
    /// "noise of system 'name'".
    pub what: String,
}
// SAFETY: as ClosureDrift.
unsafe impl Send for ClosureNoise {}
unsafe impl Sync for ClosureNoise {}

impl ClosureNoise {
    /// Evaluates the closure at `x0` to find K and whether it returns a diagonal.
    pub fn probe(ctx: CallCtx, f: FnPtr, x0: &[f64], what: String) -> Result<Self> {
        let d = x0.len();
        let r = ctx.call(&f, vec![state_arg(x0)], &what)?;
        let a = NdArray::from_dynamic(&r, &what)?;
        let (k, diagonal) = match a.shape() {
            [n] if *n == d => (d, true),
            [n, k] if *n == d && *k > 0 => (*k, false),
            s => {
                return Err(Error::shape(format!(
                    "{what} returned shape {s:?}; return a [{d}, K] matrix G(x) or a length-{d} \
                     vector (the diagonal of G)"
                )))
            }
        };
        Ok(ClosureNoise {
            ctx,
            f,
            d,
            k,
            diagonal,
            what,
        })
    }
}

impl NoiseFn for ClosureNoise {
    fn dim(&self) -> usize {
        self.d
    }
    fn k(&self) -> usize {
        self.k
    }
    fn eval(&self, x: &[f64], g: &mut [f64]) -> Result<()> {
        let r = self.ctx.call(&self.f, vec![state_arg(x)], &self.what)?;
        if self.diagonal {
            let v = vector_result(&r, self.d, &self.what)?;
            g.fill(0.0);
            for (i, vi) in v.iter().enumerate() {
                g[i * self.k + i] = *vi;
            }
        } else {
            let v = vector_result(&r, self.d * self.k, &self.what)?;
            copy_checked(&v, g, &self.what)?;
        }
        if let Some(i) = g.iter().position(|v| !v.is_finite()) {
            return Err(Error::BlowUp(format!(
                "{} returned {} in entry ({}, {}) at x = {}",
                self.what,
                g[i],
                i / self.k,
                i % self.k,
                crate::systems::sde::fmt_state(x)
            )));
        }
        Ok(())
    }
    fn parallel_safe(&self) -> bool {
        false
    }
}

/// How the divergence of a closure perturbation is obtained.
#[derive(Clone)]
pub enum DivSpec {
    /// Central finite differences (2D calls of `u`).
    Fd,
    /// A constant.
    Const(f64),
    /// A closure `|x| -> number`.
    Fn(FnPtr),
}

/// `u(x)` from a closure.
pub struct ClosurePerturbation {
    /// Context of the native call that built this adapter.
    pub ctx: CallCtx,
    /// `|x| -> vector`.
    pub f: FnPtr,
    /// The divergence.
    pub div: DivSpec,
    /// State dimension D.
    pub d: usize,
    /// Legend name.
    pub name: String,
}
// SAFETY: as ClosureDrift.
unsafe impl Send for ClosurePerturbation {}
unsafe impl Sync for ClosurePerturbation {}

impl Perturbation for ClosurePerturbation {
    fn dim(&self) -> usize {
        self.d
    }
    fn name(&self) -> String {
        self.name.clone()
    }
    fn u(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        let what = format!("perturbation '{}'", self.name);
        let r = self.ctx.call(&self.f, vec![state_arg(x)], &what)?;
        let v = vector_result(&r, self.d, &what)?;
        copy_checked(&v, out, &what)?;
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(Error::BlowUp(format!(
                "{what} returned {} in component {i} at x = {}; u must be finite",
                out[i],
                crate::systems::sde::fmt_state(x)
            )));
        }
        Ok(())
    }
    fn div(&self, x: &[f64]) -> Result<f64> {
        match &self.div {
            DivSpec::Fd => crate::systems::perturbation::fd_divergence(self, x),
            DivSpec::Const(c) => Ok(*c),
            DivSpec::Fn(f) => {
                let what = format!("divergence of perturbation '{}'", self.name);
                let r = self.ctx.call(f, vec![state_arg(x)], &what)?;
                let v = scalar_result(&r, &what)?;
                if !v.is_finite() {
                    return Err(Error::BlowUp(format!(
                        "{what} is {v} at x = {}",
                        crate::systems::sde::fmt_state(x)
                    )));
                }
                Ok(v)
            }
        }
    }
    fn parallel_safe(&self) -> bool {
        false
    }
}

/// `A(x)` from a closure `|x| -> number`.
pub struct ClosureObservable {
    /// Context of the native call that built this adapter.
    pub ctx: CallCtx,
    /// The closure.
    pub f: FnPtr,
    /// Legend name.
    pub name: String,
}
// SAFETY: as ClosureDrift.
unsafe impl Send for ClosureObservable {}
unsafe impl Sync for ClosureObservable {}

impl Observable for ClosureObservable {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn eval(&self, x: &[f64]) -> Result<f64> {
        let what = format!("observable '{}'", self.name);
        let r = self.ctx.call(&self.f, vec![state_arg(x)], &what)?;
        scalar_result(&r, &what)
    }
    fn parallel_safe(&self) -> bool {
        false
    }
}
