//! `NdArray`: the n-dimensional f64 array scripts see as `ndarray`.
//!
//! Backed by `ndarray::ArcArray<f64, IxDyn>`, so clones (every Rhai assignment and argument
//! pass) share the buffer; a write copies only when the buffer is shared (copy-on-write), so
//! `let b = a; a.set([0], 1.0);` leaves `b` unchanged, like Rhai arrays.
//!
//! Everything here is plain Rust returning [`crate::Result`]; `api/array.rs` exposes it to Rhai.
//! Numerics code hands arrays to scripts with [`NdArray::from_array`] and takes them back with
//! [`NdArray::view`] / [`NdArray::into_owned`] / [`NdArray::from_dynamic`].
use crate::{Error, Result};
use ndarray::{ArcArray, ArrayD, ArrayView1, ArrayViewD, Axis, Ix1, Ix2, IxDyn, Slice, Zip};
use rhai::{Array, Dynamic, INT};
use std::fmt;

/// Bytes of one script value (a Rhai `Dynamic`) in a script array.
pub const SCRIPT_VALUE_BYTES: usize = std::mem::size_of::<Dynamic>();

/// An n-dimensional array of f64 with cheap clones (Rhai type name `ndarray`).
#[derive(Clone, Debug, PartialEq)]
pub struct NdArray(pub ArcArray<f64, IxDyn>);

/// Result of [`dot`]: a number for vector·vector, an array otherwise.
#[derive(Clone, Debug)]
pub enum DotResult {
    /// 1-D · 1-D.
    Scalar(f64),
    /// Matrix products.
    Array(NdArray),
}

/// Element-wise binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinOp {
    /// The operator as written in scripts.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "**",
        }
    }
    /// Applies the operator to two numbers.
    #[inline]
    pub fn apply(self, x: f64, y: f64) -> f64 {
        match self {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => x / y,
            BinOp::Pow => x.powf(y),
        }
    }
}

/// Reductions available over all elements or along one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Mean,
    Var,
    Std,
    Min,
    Max,
    ArgMax,
    ArgMin,
}

impl Reduce {
    /// The script-level name.
    pub fn name(self) -> &'static str {
        match self {
            Reduce::Sum => "sum",
            Reduce::Mean => "mean",
            Reduce::Var => "variance",
            Reduce::Std => "std",
            Reduce::Min => "min",
            Reduce::Max => "max",
            Reduce::ArgMax => "argmax",
            Reduce::ArgMin => "argmin",
        }
    }
    fn needs_elements(self) -> bool {
        !matches!(self, Reduce::Sum)
    }
    /// Reduces a 1-D lane (already known non-empty unless `Sum`).
    fn lane(self, v: ArrayView1<f64>) -> f64 {
        let n = v.len() as f64;
        match self {
            Reduce::Sum => v.sum(),
            Reduce::Mean => v.sum() / n,
            Reduce::Var | Reduce::Std => {
                let m = v.sum() / n;
                let var = v.fold(0.0, |acc, &x| acc + (x - m) * (x - m)) / n;
                if self == Reduce::Std {
                    var.sqrt()
                } else {
                    var
                }
            }
            Reduce::Min => v.fold(f64::INFINITY, |a, &x| nan_min(a, x)),
            Reduce::Max => v.fold(f64::NEG_INFINITY, |a, &x| nan_max(a, x)),
            Reduce::ArgMax => arg_extreme(v.iter().copied(), |x, best| x > best) as f64,
            Reduce::ArgMin => arg_extreme(v.iter().copied(), |x, best| x < best) as f64,
        }
    }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// Index of the first extreme element; a NaN wins (as in numpy).
fn arg_extreme(it: impl Iterator<Item = f64>, better: impl Fn(f64, f64) -> bool) -> usize {
    let mut best_i = 0;
    let mut best = f64::NAN;
    for (i, x) in it.enumerate() {
        if x.is_nan() {
            return i;
        }
        if i == 0 || better(x, best) {
            best = x;
            best_i = i;
        }
    }
    best_i
}

/// `[2, 3]`-style text for a shape.
pub fn shape_str(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

/// Number of elements of `shape`, checked (overflow-safe) against the memory budget
/// ([`crate::budget`]) for an array of f64 of that shape.
pub fn checked_size(shape: &[usize], what: &str) -> Result<usize> {
    check_values(what, shape, 8)?;
    // The budget check above guarantees the product fits.
    Ok(shape.iter().product())
}

/// Checks that `∏ shape` values of `bytes` bytes each fit the memory budget; the message
/// shows the shape, e.g. `zeros: the array would take 7.3 TiB (1000000 × 1000000 × 8 bytes)`.
pub fn check_values(what: &str, shape: &[usize], bytes: usize) -> Result<u64> {
    if crate::budget::fits_quickly(shape, bytes) {
        return Ok(shape.iter().map(|&d| d as u64).product::<u64>() * bytes as u64);
    }
    let dims: Vec<(&str, usize)> = shape.iter().map(|&d| ("", d)).collect();
    crate::budget::check(what, "the array", &dims, bytes, "use a smaller shape")
}

/// The numpy broadcast shape of `a` and `b`, or `None` if they are incompatible.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
    }
    Some(out)
}

/// Resolves a possibly negative axis (`-1` = last) for an array with `ndim` axes.
pub fn axis_of(ndim: usize, axis: INT, what: &str) -> Result<usize> {
    let a = if axis < 0 { axis + ndim as INT } else { axis };
    if a < 0 || a >= ndim as INT {
        let valid = if ndim == 0 {
            "a 0-d array has no axes".to_string()
        } else {
            format!(
                "valid axes are 0 to {} (or -1 to -{ndim} from the end)",
                ndim - 1
            )
        };
        return Err(Error::invalid(format!(
            "{what}: axis {axis} is out of range for an array with {ndim} axes; {valid}"
        )));
    }
    Ok(a as usize)
}

/// Resolves a possibly negative index (`-1` = last) into an axis of length `len`.
pub fn index_of(len: usize, i: INT, what: &str) -> Result<usize> {
    let j = if i < 0 { i + len as INT } else { i };
    if len == 0 {
        return Err(Error::invalid(format!(
            "{what}: index {i} is out of range for an empty array (length 0): it has no elements"
        )));
    }
    if j < 0 || j >= len as INT {
        return Err(Error::invalid(format!(
            "{what}: index {i} is out of range for length {len}; valid indices are 0..{} (or -{len}..-1 from the end)",
            len as INT - 1
        )));
    }
    Ok(j as usize)
}

/// A number argument: accepts script integers and floats.
pub fn num_arg(d: &Dynamic, what: &str) -> Result<f64> {
    if let Ok(x) = d.as_float() {
        Ok(x)
    } else if let Ok(i) = d.as_int() {
        Ok(i as f64)
    } else {
        Err(Error::invalid(format!(
            "{what} must be a number, got {}{}",
            crate::engine::handles::script_type(d),
            crate::engine::handles::numbers_hint(d)
        )))
    }
}

/// A shape argument: an integer `n` (1-D) or an array of non-negative integers.
pub fn shape_arg(d: &Dynamic, what: &str) -> Result<Vec<usize>> {
    let bad = |x: String| {
        Error::invalid(format!(
            "{what}: shape must be an integer or an array of non-negative integers like [2, 3], got {x}"
        ))
    };
    if let Ok(n) = d.as_int() {
        if n < 0 {
            return Err(bad(n.to_string()));
        }
        return Ok(vec![n as usize]);
    }
    if let Some(arr) = d.read_lock::<Array>() {
        let mut shape = Vec::with_capacity(arr.len());
        for x in arr.iter() {
            match x.as_int() {
                Ok(n) if n >= 0 => shape.push(n as usize),
                _ => return Err(bad(format!("{:?}", *arr))),
            }
        }
        return Ok(shape);
    }
    if let Some(a) = d.read_lock::<NdArray>() {
        if a.ndim() == 1 && a.0.iter().all(|&x| x >= 0.0 && x.fract() == 0.0) {
            return Ok(a.0.iter().map(|&x| x as usize).collect());
        }
    }
    Err(bad(crate::engine::handles::script_type(d)))
}

impl NdArray {
    /// Wraps an owned array (no copy).
    pub fn from_array(a: ArrayD<f64>) -> Self {
        NdArray(a.into_shared())
    }
    /// Wraps a shared array (no copy).
    pub fn from_shared(a: ArcArray<f64, IxDyn>) -> Self {
        NdArray(a)
    }
    /// Builds an array from row-major data; `data.len()` must equal the shape's size.
    pub fn from_shape_vec(shape: &[usize], data: Vec<f64>) -> Result<Self> {
        let n = data.len();
        ArrayD::from_shape_vec(IxDyn(shape), data)
            .map(Self::from_array)
            .map_err(|_| Error::shape(format!("{n} values do not fill shape {}", shape_str(shape))))
    }
    /// An array of `shape` filled with `v`.
    pub fn full(shape: &[usize], v: f64, what: &str) -> Result<Self> {
        checked_size(shape, what)?;
        Ok(Self::from_array(ArrayD::from_elem(IxDyn(shape), v)))
    }
    /// A 0-d array holding `x`.
    pub fn scalar(x: f64) -> Self {
        Self::from_array(ArrayD::from_elem(IxDyn(&[]), x))
    }
    /// A read-only view (no copy).
    pub fn view(&self) -> ArrayViewD<'_, f64> {
        self.0.view()
    }
    /// The owned array; no copy when this is the only handle to the buffer.
    pub fn into_owned(self) -> ArrayD<f64> {
        self.0.into_owned()
    }
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.0.shape()
    }
    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.0.ndim()
    }
    /// Number of elements.
    pub fn size(&self) -> usize {
        self.0.len()
    }

    /// Converts a script value: an `ndarray`, a (nested) array of numbers, or a number (0-d).
    /// Nested arrays may also hold `ndarray`s of equal shape (they are stacked).
    pub fn from_dynamic(d: &Dynamic, what: &str) -> Result<Self> {
        if let Some(a) = d.read_lock::<NdArray>() {
            return Ok(a.clone());
        }
        if let Ok(x) = num_arg(d, what) {
            return Ok(Self::scalar(x));
        }
        if !d.is_array() {
            return Err(Error::invalid(format!(
                "{what}: expected an ndarray, an array of numbers or a number, got {}{}",
                crate::engine::handles::script_type(d),
                crate::engine::handles::numbers_hint(d)
            )));
        }
        let mut shape = Vec::new();
        infer_shape(d, &mut shape);
        checked_size(&shape, what)?;
        let mut data = Vec::with_capacity(shape.iter().product());
        let mut path = Vec::new();
        collect_nested(d, &shape, 0, &mut data, &mut path, what)?;
        Self::from_shape_vec(&shape, data)
    }

    /// [`NdArray::to_dynamic_nested`] after checking the memory budget: each element becomes
    /// a script value of [`SCRIPT_VALUE_BYTES`] bytes.
    pub fn to_dynamic_checked(&self, what: &str) -> Result<Dynamic> {
        check_values(what, self.shape(), SCRIPT_VALUE_BYTES)?;
        Ok(self.to_dynamic_nested())
    }

    /// Nested script arrays of floats (a float for a 0-d array).
    pub fn to_dynamic_nested(&self) -> Dynamic {
        fn rec(v: ArrayViewD<f64>) -> Dynamic {
            if v.ndim() == 0 {
                return Dynamic::from_float(v.iter().next().copied().unwrap_or(f64::NAN));
            }
            let arr: Array = v.outer_iter().map(rec).collect();
            Dynamic::from_array(arr)
        }
        rec(self.view())
    }

    /// `a[i]`: a number for 1-D arrays, the sub-array along axis 0 otherwise.
    pub fn index(&self, i: INT) -> Result<Dynamic> {
        if self.ndim() == 0 {
            return Err(Error::invalid(
                "cannot index a 0-d array; use .get([]) or .to_array()",
            ));
        }
        let k = index_of(self.shape()[0], i, "ndarray index")?;
        if self.ndim() == 1 {
            Ok(Dynamic::from_float(self.0[[k].as_slice()]))
        } else {
            Ok(Dynamic::from(NdArray(
                self.0.clone().index_axis_move(Axis(0), k),
            )))
        }
    }

    fn resolve_index(&self, idx: &[INT], what: &str) -> Result<Vec<usize>> {
        if idx.len() > self.ndim() {
            return Err(Error::invalid(format!(
                "{what}: {} indices given for an array of shape {} ({} axes)",
                idx.len(),
                shape_str(self.shape()),
                self.ndim()
            )));
        }
        idx.iter()
            .zip(self.shape())
            .enumerate()
            .map(|(ax, (&i, &len))| index_of(len, i, &format!("{what} (axis {ax})")))
            .collect()
    }

    /// `a.get([i, j, ..])`: a number for a full index, a sub-array for a partial one.
    pub fn get(&self, idx: &[INT]) -> Result<Dynamic> {
        let ix = self.resolve_index(idx, "get")?;
        if ix.len() == self.ndim() {
            return Ok(Dynamic::from_float(self.0[ix.as_slice()]));
        }
        let mut sub = self.0.clone();
        for &i in &ix {
            sub = sub.index_axis_move(Axis(0), i);
        }
        Ok(Dynamic::from(NdArray(sub)))
    }

    /// `a.set([i, j, ..], v)`: `v` is a number (fills a partial index) or an array that
    /// broadcasts to the indexed sub-array.
    pub fn set(&mut self, idx: &[INT], v: &Dynamic) -> Result<()> {
        let ix = self.resolve_index(idx, "set")?;
        let scalar = num_arg(v, "set value").ok();
        let src = match scalar {
            Some(_) => None,
            None => Some(NdArray::from_dynamic(v, "set value")?),
        };
        let mut view = self.0.view_mut();
        for &i in &ix {
            view = view.index_axis_move(Axis(0), i);
        }
        if let Some(x) = scalar {
            view.fill(x);
        } else if let Some(b) = src {
            let target = view.shape().to_vec();
            let bv = b.0.broadcast(IxDyn(&target)).ok_or_else(|| {
                Error::shape(format!(
                    "set: value of shape {} does not fit the indexed sub-array of shape {}",
                    shape_str(b.shape()),
                    shape_str(&target)
                ))
            })?;
            view.assign(&bv);
        }
        Ok(())
    }

    /// Sub-array `start..end` along `axis` (negative values count from the end; the range is
    /// clamped like Python slices). Shares the buffer.
    pub fn slice(&self, axis: INT, start: INT, end: INT) -> Result<Self> {
        let ax = axis_of(self.ndim(), axis, "slice")?;
        let len = self.shape()[ax] as INT;
        let clamp = |i: INT| {
            let j = if i < 0 { i + len } else { i };
            j.clamp(0, len)
        };
        let (s, e) = (clamp(start), clamp(end));
        let e = e.max(s);
        let mut out = self.0.clone();
        out.slice_axis_inplace(Axis(ax), Slice::from(s as isize..e as isize));
        Ok(NdArray(out))
    }

    /// The sub-array at `i` along `axis` (one axis fewer). Shares the buffer.
    pub fn index_axis(&self, axis: INT, i: INT) -> Result<Self> {
        let ax = axis_of(self.ndim(), axis, "index_axis")?;
        let k = index_of(self.shape()[ax], i, "index_axis")?;
        Ok(NdArray(self.0.clone().index_axis_move(Axis(ax), k)))
    }

    /// Row-major reshape; one entry may be `-1` (inferred).
    pub fn reshape(&self, shape: &[INT]) -> Result<Self> {
        let n = self.size();
        let bad = || {
            Error::shape(format!(
                "reshape: cannot reshape an array of shape {} ({n} elements) into {:?}; the sizes must match",
                shape_str(self.shape()),
                shape
            ))
        };
        let mut dims = Vec::with_capacity(shape.len());
        let mut infer = None;
        let mut known: usize = 1;
        for (k, &d) in shape.iter().enumerate() {
            if d == -1 && infer.is_none() {
                infer = Some(k);
                dims.push(1);
            } else if d == -1 {
                return Err(Error::shape(format!(
                    "reshape: {shape:?} has more than one -1; only one -1 allowed (the one size \
                     inferred from the others)"
                )));
            } else if d < 0 {
                return Err(Error::shape(format!(
                    "reshape: size {d} in {shape:?}; sizes must be ≥ 0, or -1 for one size \
                     inferred from the others"
                )));
            } else {
                known = known.checked_mul(d as usize).ok_or_else(bad)?;
                dims.push(d as usize);
            }
        }
        if let Some(k) = infer {
            if known == 0 || !n.is_multiple_of(known) {
                return Err(bad());
            }
            dims[k] = n / known;
        } else if known != n {
            return Err(bad());
        }
        let src = if self.0.is_standard_layout() {
            self.0.clone()
        } else {
            check_values("reshape", self.shape(), 8)?;
            self.0.as_standard_layout().to_shared()
        };
        src.into_shape_with_order(IxDyn(&dims))
            .map(NdArray)
            .map_err(|_| bad())
    }

    /// Reverses the axes (matrix transpose for 2-D). Shares the buffer.
    pub fn transpose(&self) -> Self {
        NdArray(self.0.clone().reversed_axes())
    }

    /// Element-wise map into a new array.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Self {
        Self::from_array(self.0.mapv(f))
    }

    /// `self op s` (or `s op self` when `scalar_left`).
    pub fn scalar_op(&self, s: f64, op: BinOp, scalar_left: bool) -> Self {
        if scalar_left {
            self.map(|x| op.apply(s, x))
        } else {
            self.map(|x| op.apply(x, s))
        }
    }

    /// Element-wise `self op other` with numpy broadcasting.
    pub fn binary(&self, other: &NdArray, op: BinOp) -> Result<Self> {
        let check = |shape: &[usize]| -> Result<()> {
            if !crate::budget::fits_quickly(shape, 8) {
                let what = format!(
                    "{} {} {}",
                    shape_str(self.shape()),
                    op.symbol(),
                    shape_str(other.shape())
                );
                check_values(&what, shape, 8)?;
            }
            Ok(())
        };
        if self.shape() == other.shape() {
            check(self.shape())?;
            let out = Zip::from(&self.0)
                .and(&other.0)
                .map_collect(|&x, &y| op.apply(x, y));
            return Ok(Self::from_array(out));
        }
        let err = || {
            Error::shape(format!(
                "{} {} {}: shapes cannot be broadcast together; use equal shapes or size-1 axes",
                shape_str(self.shape()),
                op.symbol(),
                shape_str(other.shape())
            ))
        };
        let shape = broadcast_shape(self.shape(), other.shape()).ok_or_else(err)?;
        check(&shape)?;
        let a = self.0.broadcast(IxDyn(&shape)).ok_or_else(err)?;
        let b = other.0.broadcast(IxDyn(&shape)).ok_or_else(err)?;
        let out = Zip::from(&a).and(&b).map_collect(|&x, &y| op.apply(x, y));
        Ok(Self::from_array(out))
    }

    /// Reduction over all elements.
    pub fn reduce_all(&self, r: Reduce) -> Result<f64> {
        if r.needs_elements() && self.size() == 0 {
            return Err(Error::invalid(format!(
                "{} of an empty array (shape {}) is undefined",
                r.name(),
                shape_str(self.shape())
            )));
        }
        match r {
            Reduce::Sum => Ok(self.0.sum()),
            Reduce::Mean => Ok(self.0.sum() / self.size() as f64),
            Reduce::ArgMax => Ok(arg_extreme(self.0.iter().copied(), |x, b| x > b) as f64),
            Reduce::ArgMin => Ok(arg_extreme(self.0.iter().copied(), |x, b| x < b) as f64),
            _ => {
                check_values(r.name(), self.shape(), 8)?;
                let flat: Vec<f64> = self.0.iter().copied().collect();
                Ok(r.lane(ArrayView1::from(&flat[..])))
            }
        }
    }

    /// Reduction along `axis` (the axis disappears from the shape).
    pub fn reduce_axis(&self, r: Reduce, axis: INT) -> Result<Self> {
        let ax = axis_of(self.ndim(), axis, r.name())?;
        if r.needs_elements() && self.shape()[ax] == 0 {
            return Err(Error::invalid(format!(
                "{} along axis {ax} of an array of shape {}: that axis is empty",
                r.name(),
                shape_str(self.shape())
            )));
        }
        Ok(Self::from_array(
            self.0.map_axis(Axis(ax), |lane| r.lane(lane)),
        ))
    }

    /// `true` if every element is finite (no NaN or ±inf).
    pub fn all_finite(&self) -> bool {
        self.0.iter().all(|x| x.is_finite())
    }
}

/// Descends the first elements of nested arrays to find the shape.
fn infer_shape(d: &Dynamic, shape: &mut Vec<usize>) {
    if let Some(arr) = d.read_lock::<Array>() {
        shape.push(arr.len());
        if let Some(first) = arr.first() {
            infer_shape(first, shape);
        }
    } else if let Some(a) = d.read_lock::<NdArray>() {
        shape.extend_from_slice(a.shape());
    }
}

fn path_str(path: &[usize]) -> String {
    path.iter().map(|i| format!("[{i}]")).collect()
}

fn collect_nested(
    d: &Dynamic,
    shape: &[usize],
    depth: usize,
    out: &mut Vec<f64>,
    path: &mut Vec<usize>,
    what: &str,
) -> Result<()> {
    if depth == shape.len() {
        return match num_arg(d, what) {
            Ok(x) => {
                out.push(x);
                Ok(())
            }
            Err(_) if d.is_array() || d.is::<NdArray>() => Err(Error::shape(format!(
                "{what}: ragged nested array: element {} is deeper than element {}; all rows must have the same length",
                path_str(path),
                path_str(&vec![0; depth])
            ))),
            Err(_) => Err(Error::invalid(format!(
                "{what}: element {} is {}, expected a number",
                path_str(path),
                crate::engine::handles::script_type(d)
            ))),
        };
    }
    if let Some(a) = d.read_lock::<NdArray>() {
        if a.shape() != &shape[depth..] {
            return Err(Error::shape(format!(
                "{what}: element {} is an ndarray of shape {} but the nesting needs shape {}",
                path_str(path),
                shape_str(a.shape()),
                shape_str(&shape[depth..])
            )));
        }
        out.extend(a.0.iter().copied());
        return Ok(());
    }
    let Some(arr) = d.read_lock::<Array>() else {
        return Err(Error::shape(format!(
            "{what}: ragged nested array: element {} is {} but element {} is an array of length {}; all rows must have the same length",
            path_str(path),
            crate::engine::handles::script_type(d),
            path_str(&vec![0; depth]),
            shape[depth]
        )));
    };
    if arr.len() != shape[depth] {
        return Err(Error::shape(format!(
            "{what}: ragged nested array: element {} has length {} but element {} has length {}; all rows must have the same length",
            path_str(path),
            arr.len(),
            path_str(&vec![0; depth]),
            shape[depth]
        )));
    }
    for (i, x) in arr.iter().enumerate() {
        path.push(i);
        collect_nested(x, shape, depth + 1, out, path, what)?;
        path.pop();
    }
    Ok(())
}

/// Matrix/vector product for 1-D and 2-D arrays.
pub fn dot(a: &NdArray, b: &NdArray) -> Result<DotResult> {
    let err = |why: &str| {
        Error::shape(format!(
            "matmul {} · {}: {why}",
            shape_str(a.shape()),
            shape_str(b.shape())
        ))
    };
    let inner = |ka: usize, kb: usize| {
        if ka == kb {
            Ok(())
        } else {
            Err(err(&format!(
                "inner dimensions {ka} and {kb} differ; the last axis of the left operand must match the first axis of the right one"
            )))
        }
    };
    match (a.ndim(), b.ndim()) {
        (1, 1) => {
            inner(a.shape()[0], b.shape()[0])?;
            let (x, y) = (view1(a), view1(b));
            Ok(DotResult::Scalar(x.dot(&y)))
        }
        (2, 2) => {
            inner(a.shape()[1], b.shape()[0])?;
            check_values("matmul", &[a.shape()[0], b.shape()[1]], 8)?;
            Ok(DotResult::Array(NdArray::from_array(
                view2(a).dot(&view2(b)).into_dyn(),
            )))
        }
        (2, 1) => {
            inner(a.shape()[1], b.shape()[0])?;
            Ok(DotResult::Array(NdArray::from_array(
                view2(a).dot(&view1(b)).into_dyn(),
            )))
        }
        (1, 2) => {
            inner(a.shape()[0], b.shape()[0])?;
            Ok(DotResult::Array(NdArray::from_array(
                view1(a).dot(&view2(b)).into_dyn(),
            )))
        }
        _ => Err(err("only 1-D and 2-D arrays are supported")),
    }
}

fn view1(a: &NdArray) -> ndarray::ArrayView1<'_, f64> {
    // Callers check ndim == 1, so this conversion cannot fail.
    a.0.view()
        .into_dimensionality::<Ix1>()
        .unwrap_or_else(|_| ndarray::ArrayView1::from(&[][..]))
}

fn view2(a: &NdArray) -> ndarray::ArrayView2<'_, f64> {
    // Callers check ndim == 2, so this conversion cannot fail.
    a.0.view()
        .into_dimensionality::<Ix2>()
        .unwrap_or_else(|_| ndarray::ArrayView2::from_shape((0, 0), &[][..]).expect("empty"))
}

// ---------------------------------------------------------------- printing

/// Arrays with more elements than this print elided (first and last 3 along each axis).
const SUMMARY_THRESHOLD: usize = 1000;
const EDGE: usize = 3;
const LINE_WIDTH: usize = 75;

/// `%g`-like formatting with 6 significant digits and no trailing zeros.
pub fn fmt_g(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let exp = x.abs().log10().floor() as i32;
    if (-5..6).contains(&exp) {
        let decimals = (5 - exp).max(0) as usize;
        let s = format!("{x:.decimals$}");
        trim_zeros(&s)
    } else {
        let s = format!("{x:.5e}");
        match s.split_once('e') {
            Some((m, e)) => format!("{}e{e}", trim_zeros(m)),
            None => s,
        }
    }
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            "0".into()
        } else {
            t.into()
        }
    } else {
        s.into()
    }
}

/// Indices shown along an axis of length `len`; `None` marks the elision.
fn shown(len: usize, summarise: bool) -> Vec<Option<usize>> {
    if summarise && len > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((len - EDGE..len).map(Some))
            .collect()
    } else {
        (0..len).map(Some).collect()
    }
}

fn max_width(v: &ArrayViewD<f64>, summarise: bool) -> usize {
    if v.ndim() == 0 {
        return fmt_g(*v.iter().next().unwrap_or(&0.0)).len();
    }
    shown(v.shape()[0], summarise)
        .into_iter()
        .flatten()
        .map(|i| max_width(&v.index_axis(Axis(0), i), summarise))
        .max()
        .unwrap_or(0)
}

fn render(v: &ArrayViewD<f64>, depth: usize, width: usize, summarise: bool, out: &mut String) {
    if v.ndim() == 0 {
        let s = fmt_g(*v.iter().next().unwrap_or(&0.0));
        out.push_str(&format!("{s:>width$}"));
        return;
    }
    out.push('[');
    let idx = shown(v.shape()[0], summarise);
    if v.ndim() == 1 {
        let indent = " ".repeat(depth + 1);
        let mut line_len = depth + 1;
        for (k, i) in idx.iter().enumerate() {
            let item = match i {
                Some(i) => format!("{:>width$}", fmt_g(v[[*i].as_slice()])),
                None => "...".to_string(),
            };
            let sep = if k + 1 < idx.len() { "," } else { "" };
            if k > 0 {
                if line_len + 1 + item.len() + sep.len() > LINE_WIDTH {
                    out.push('\n');
                    out.push_str(&indent);
                    line_len = depth + 1;
                } else {
                    out.push(' ');
                    line_len += 1;
                }
            }
            out.push_str(&item);
            out.push_str(sep);
            line_len += item.len() + sep.len();
        }
    } else {
        let blank = "\n".repeat(v.ndim() - 1);
        let indent = " ".repeat(depth + 1);
        for (k, i) in idx.iter().enumerate() {
            if k > 0 {
                out.push(',');
                out.push_str(&blank);
                out.push_str(&indent);
            }
            match i {
                Some(i) => render(&v.index_axis(Axis(0), *i), depth + 1, width, summarise, out),
                None => out.push_str("..."),
            }
        }
    }
    out.push(']');
}

impl fmt::Display for NdArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.view();
        let summarise = self.size() > SUMMARY_THRESHOLD;
        let width = max_width(&v, summarise);
        let mut body = String::new();
        render(&v, 0, width, summarise, &mut body);
        let sep = if body.contains('\n') { "\n" } else { " " };
        write!(f, "ndarray {}:{sep}{body}", shape_str(self.shape()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast_shape(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(broadcast_shape(&[2, 1], &[1, 4]), Some(vec![2, 4]));
        assert_eq!(broadcast_shape(&[2, 3], &[2]), None);
        assert_eq!(broadcast_shape(&[], &[5]), Some(vec![5]));
    }

    #[test]
    fn fmt_g_cases() {
        assert_eq!(fmt_g(1.0), "1");
        assert_eq!(fmt_g(-2.5), "-2.5");
        assert_eq!(fmt_g(0.1 + 0.2), "0.3");
        assert_eq!(fmt_g(123456.0), "123456");
        assert_eq!(fmt_g(1234567.0), "1.23457e6");
        assert_eq!(fmt_g(1e-7), "1e-7");
        assert_eq!(fmt_g(f64::NAN), "NaN");
    }

    #[test]
    fn display_small_and_elided() {
        let a = NdArray::from_shape_vec(&[2, 3], (0..6).map(|x| x as f64).collect()).unwrap();
        assert_eq!(a.to_string(), "ndarray [2, 3]:\n[[0, 1, 2],\n [3, 4, 5]]");
        let b = NdArray::from_shape_vec(&[3], vec![1.0, -0.5, 2.0]).unwrap();
        assert_eq!(b.to_string(), "ndarray [3]: [   1, -0.5,    2]");
        let big = NdArray::full(&[2000], 1.0, "t").unwrap();
        assert_eq!(big.to_string(), "ndarray [2000]: [1, 1, 1, ..., 1, 1, 1]");
    }

    #[test]
    fn reductions_and_nan() {
        let a = NdArray::from_shape_vec(&[4], vec![1.0, 3.0, 2.0, 3.0]).unwrap();
        assert_eq!(a.reduce_all(Reduce::ArgMax).unwrap(), 1.0);
        assert_eq!(a.reduce_all(Reduce::Mean).unwrap(), 2.25);
        assert!((a.reduce_all(Reduce::Var).unwrap() - 0.6875).abs() < 1e-15);
        let n = NdArray::from_shape_vec(&[3], vec![1.0, f64::NAN, 2.0]).unwrap();
        assert!(n.reduce_all(Reduce::Max).unwrap().is_nan());
        assert_eq!(n.reduce_all(Reduce::ArgMax).unwrap(), 1.0);
    }
}
