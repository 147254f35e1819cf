//! Script API of `ndarray`: constructors, indexing, shape ops, arithmetic, reductions, printing.
//!
//! Named functions with hand-written docs live in the `#[export_module]`; operators, element-wise
//! maps and reductions (many near-identical overloads) are registered in loops by [`extras`].
use crate::engine::array::{BinOp, NdArray, Reduce};
use crate::engine::guard;
use rhai::plugin::*;
use rhai::{FuncRegistration, Module, FLOAT, INT};

/// The `ndarray` topic module.
pub fn module() -> Module {
    let mut m = exported_module!(array_api);
    m.set_custom_type::<NdArray>("ndarray");
    extras(&mut m);
    m
}

#[fdtlab_macros::guarded]
#[export_module]
pub mod array_api {
    use crate::engine::array::{dot, num_arg, shape_arg, shape_str, DotResult, NdArray};
    use crate::Error;
    use ndarray::{Array1, ArrayD, IxDyn};
    use rhai::{Array, Dynamic, EvalAltResult, INT};

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// Array of zeros with the given shape (an integer or an array of integers). Every array
    /// constructor and operation refuses a result larger than the memory budget
    /// (see `memory_budget`).
    ///
    /// ```rhai
    /// let a = zeros([2, 3]);
    /// assert_eq(a.shape, [2, 3]);
    /// assert_eq(a.sum(), 0.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn zeros(shape: Dynamic) -> Res<NdArray> {
        Ok(NdArray::full(&shape_arg(&shape, "zeros")?, 0.0, "zeros")?)
    }

    /// Array of ones with the given shape (an integer or an array of integers).
    ///
    /// ```rhai
    /// let a = ones(4);
    /// assert_eq(a.sum(), 4.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ones(shape: Dynamic) -> Res<NdArray> {
        Ok(NdArray::full(&shape_arg(&shape, "ones")?, 1.0, "ones")?)
    }

    /// Array of the given shape with every element equal to `value`.
    ///
    /// ```rhai
    /// let a = full([2, 2], 7);
    /// assert_eq(a.get([1, 1]), 7.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn full(shape: Dynamic, value: Dynamic) -> Res<NdArray> {
        let v = num_arg(&value, "full: value")?;
        Ok(NdArray::full(&shape_arg(&shape, "full")?, v, "full")?)
    }

    /// `n` evenly spaced numbers from `start` to `end`, both included (like numpy).
    ///
    /// ```rhai
    /// let x = linspace(0, 1, 5);
    /// assert_eq(x.to_array(), [0.0, 0.25, 0.5, 0.75, 1.0]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn linspace(start: Dynamic, end: Dynamic, n: INT) -> Res<NdArray> {
        let a = num_arg(&start, "linspace: start")?;
        let b = num_arg(&end, "linspace: end")?;
        if n < 0 {
            return Err(Error::invalid(format!("linspace: n = {n} must be >= 0")).into());
        }
        let n = crate::budget::count("linspace: n", n)?;
        crate::engine::array::checked_size(&[n], "linspace")?;
        Ok(NdArray::from_array(Array1::linspace(a, b, n).into_dyn()))
    }

    /// The numbers `0, 1, ..., n-1` as floats.
    ///
    /// ```rhai
    /// assert_eq(arange(3).to_array(), [0.0, 1.0, 2.0]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn arange(n: INT) -> Res<NdArray> {
        if n < 0 {
            return Err(Error::invalid(format!("arange: n = {n} must be >= 0")).into());
        }
        crate::engine::array::checked_size(&[crate::budget::count("arange: n", n)?], "arange")?;
        Ok(NdArray::from_array(
            Array1::from_iter((0..n).map(|i| i as f64)).into_dyn(),
        ))
    }

    /// The numbers `start, start+step, ...` below `end` (above it for a negative step).
    ///
    /// ```rhai
    /// assert_eq(arange(1, 2, 0.25).to_array(), [1.0, 1.25, 1.5, 1.75]);
    /// ```
    #[rhai_fn(name = "arange", return_raw)]
    pub fn arange3(start: Dynamic, end: Dynamic, step: Dynamic) -> Res<NdArray> {
        let a = num_arg(&start, "arange: start")?;
        let b = num_arg(&end, "arange: end")?;
        let s = num_arg(&step, "arange: step")?;
        if s == 0.0 || !s.is_finite() || !a.is_finite() || !b.is_finite() {
            return Err(Error::invalid(format!(
                "arange({a}, {b}, {s}): step must be finite and non-zero, and start/end finite"
            ))
            .into());
        }
        // A float count beyond usize saturates to usize::MAX, which no budget allows.
        let n = ((b - a) / s).ceil().max(0.0) as usize;
        crate::budget::check(
            &format!("arange({a}, {b}, {s})"),
            "the array",
            &[("elements", n)],
            8,
            "use a larger step or a shorter range",
        )?;
        Ok(NdArray::from_array(
            Array1::from_iter((0..n).map(|i| a + i as f64 * s)).into_dyn(),
        ))
    }

    /// Converts nested arrays of numbers (ints or floats) into an `ndarray`.
    /// Rows must all have the same length; elements may also be ndarrays of equal shape.
    ///
    /// ```rhai
    /// let m = nd([[1, 2, 3], [4, 5, 6.5]]);
    /// assert_eq(m.shape, [2, 3]);
    /// assert_eq(m[1][2], 6.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn nd(values: Dynamic) -> Res<NdArray> {
        Ok(NdArray::from_dynamic(&values, "nd")?)
    }

    /// Converts back to nested script arrays of floats (a float for a 0-d array).
    ///
    /// ```rhai
    /// let a = nd([[1, 2], [3, 4]]);
    /// assert_eq(a.to_array(), [[1.0, 2.0], [3.0, 4.0]]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn to_array(a: &mut NdArray) -> Res<Dynamic> {
        Ok(a.to_dynamic_checked("to_array")?)
    }

    /// The shape as an array of integers.
    ///
    /// ```rhai
    /// assert_eq(zeros([2, 5]).shape, [2, 5]);
    /// ```
    #[rhai_fn(get = "shape", pure)]
    pub fn get_shape(a: &mut NdArray) -> Array {
        a.shape()
            .iter()
            .map(|&d| Dynamic::from_int(d as INT))
            .collect()
    }

    /// The number of axes.
    ///
    /// ```rhai
    /// assert_eq(zeros([2, 5]).ndim, 2);
    /// ```
    #[rhai_fn(get = "ndim", pure)]
    pub fn get_ndim(a: &mut NdArray) -> INT {
        a.ndim() as INT
    }

    /// The total number of elements.
    ///
    /// ```rhai
    /// assert_eq(zeros([2, 5]).size, 10);
    /// ```
    #[rhai_fn(get = "size", pure)]
    pub fn get_size(a: &mut NdArray) -> INT {
        a.size() as INT
    }

    /// The length of the first axis (property `a.len` or method `a.len()`).
    ///
    /// ```rhai
    /// let a = zeros([4, 2]);
    /// assert_eq(a.len, 4);
    /// assert_eq(a.len(), 4);
    /// ```
    #[rhai_fn(get = "len", name = "len", pure, return_raw)]
    pub fn get_len(a: &mut NdArray) -> Res<INT> {
        match a.shape().first() {
            Some(&n) => Ok(n as INT),
            None => Err(Error::invalid("len of a 0-d array is undefined; use .size").into()),
        }
    }

    /// `a[i]`: the element `i` of a 1-D array, or the sub-array `i` along the first axis.
    /// Negative `i` counts from the end.
    ///
    /// ```rhai
    /// let a = nd([[1, 2], [3, 4]]);
    /// assert_eq(a[1][0], 3.0);
    /// assert_eq(a[-1].to_array(), [3.0, 4.0]);
    /// ```
    #[rhai_fn(index_get, pure, return_raw)]
    pub fn index_get(a: &mut NdArray, i: INT) -> Res<Dynamic> {
        Ok(a.index(i)?)
    }

    /// `a[i] = v`: sets element `i` (1-D) or fills / assigns the sub-array `i`.
    ///
    /// ```rhai
    /// let a = zeros([2, 2]);
    /// a[0] = 1;
    /// a[1][1] = 5;
    /// assert_eq(a.to_array(), [[1.0, 1.0], [0.0, 5.0]]);
    /// ```
    #[rhai_fn(index_set, return_raw)]
    pub fn index_set(a: &mut NdArray, i: INT, value: Dynamic) -> Res<()> {
        Ok(a.set(&[i], &value)?)
    }

    /// Element at a full index `[i, j, ...]` (a number), or the sub-array at a partial index.
    ///
    /// ```rhai
    /// let a = nd([[1, 2], [3, 4]]);
    /// assert_eq(a.get([1, 0]), 3.0);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn get(a: &mut NdArray, index: Array) -> Res<Dynamic> {
        let idx = super::int_list(&index, "get")?;
        Ok(a.get(&idx)?)
    }

    /// Sets the element at a full index to a number, or fills / assigns the sub-array at a
    /// partial index (the value broadcasts).
    ///
    /// ```rhai
    /// let a = zeros([2, 3]);
    /// a.set([0, 2], 1.5);
    /// a.set([1], [1, 2, 3]);
    /// assert_eq(a.to_array(), [[0.0, 0.0, 1.5], [1.0, 2.0, 3.0]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set(a: &mut NdArray, index: Array, value: Dynamic) -> Res<()> {
        let idx = super::int_list(&index, "set")?;
        Ok(a.set(&idx, &value)?)
    }

    /// Elements `start..end` (end excluded) along `axis`; negative values count from the end
    /// and the range is clamped like Python slices. No copy.
    ///
    /// ```rhai
    /// let a = arange(10);
    /// assert_eq(a.slice(0, 2, 5).to_array(), [2.0, 3.0, 4.0]);
    /// assert_eq(a.slice(0, -2, 100).to_array(), [8.0, 9.0]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn slice(a: &mut NdArray, axis: INT, start: INT, end: INT) -> Res<NdArray> {
        Ok(a.slice(axis, start, end)?)
    }

    /// The sub-array at index `i` along `axis` (that axis is removed). No copy.
    ///
    /// ```rhai
    /// let m = nd([[1, 2], [3, 4]]);
    /// assert_eq(m.index_axis(1, 0).to_array(), [1.0, 3.0]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn index_axis(a: &mut NdArray, axis: INT, i: INT) -> Res<NdArray> {
        Ok(a.index_axis(axis, i)?)
    }

    /// Same elements in row-major order with a new shape; one entry may be `-1` (inferred).
    ///
    /// ```rhai
    /// let m = arange(6).reshape([2, -1]);
    /// assert_eq(m.shape, [2, 3]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn reshape(a: &mut NdArray, shape: Dynamic) -> Res<NdArray> {
        let dims = if let Ok(n) = shape.as_int() {
            vec![n]
        } else if let Some(arr) = shape.read_lock::<Array>() {
            super::int_list(&arr, "reshape")?
        } else {
            return Err(Error::invalid(format!(
                "reshape: shape must be an integer or an array of integers, got {}",
                crate::engine::handles::script_type(&shape)
            ))
            .into());
        };
        Ok(a.reshape(&dims)?)
    }

    /// All elements as a 1-D array (row-major).
    ///
    /// ```rhai
    /// assert_eq(nd([[1, 2], [3, 4]]).flatten().to_array(), [1.0, 2.0, 3.0, 4.0]);
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn flatten(a: &mut NdArray) -> Res<NdArray> {
        Ok(a.reshape(&[-1])?)
    }

    /// Reverses the order of the axes (matrix transpose for 2-D). No copy.
    ///
    /// ```rhai
    /// let m = nd([[1, 2, 3], [4, 5, 6]]);
    /// assert_eq(m.transpose().shape, [3, 2]);
    /// assert_eq(m.transpose()[2][1], 6.0);
    /// ```
    #[rhai_fn(pure)]
    pub fn transpose(a: &mut NdArray) -> NdArray {
        a.transpose()
    }

    /// Matrix product for 1-D and 2-D arrays: vector·vector gives a number, matrix·vector a
    /// vector, matrix·matrix a matrix. `dot` is the same function.
    ///
    /// ```rhai
    /// let m = nd([[1, 2], [3, 4]]);
    /// let v = nd([1, 1]);
    /// assert_eq(m.matmul(v).to_array(), [3.0, 7.0]);
    /// assert_eq(v.dot(v), 2.0);
    /// ```
    #[rhai_fn(name = "matmul", name = "dot", pure, return_raw)]
    pub fn matmul(a: &mut NdArray, b: NdArray) -> Res<Dynamic> {
        Ok(match dot(a, &b)? {
            DotResult::Scalar(x) => Dynamic::from_float(x),
            DotResult::Array(m) => Dynamic::from(m),
        })
    }

    /// `true` if no element is NaN or infinite.
    ///
    /// ```rhai
    /// assert(ones(3).all_finite());
    /// assert(!(ones(3) / 0).all_finite());
    /// ```
    #[rhai_fn(pure)]
    pub fn all_finite(a: &mut NdArray) -> bool {
        a.all_finite()
    }

    /// Readable text: shape, then values (numpy-like, elided in the middle for big arrays).
    ///
    /// ```rhai
    /// let s = nd([1, 2]).to_string();
    /// assert_eq(s, "ndarray [2]: [1, 2]");
    /// ```
    #[rhai_fn(name = "to_string", name = "to_debug", pure)]
    pub fn to_string(a: &mut NdArray) -> String {
        a.to_string()
    }

    /// Stacks equally shaped arrays along a new first axis.
    ///
    /// ```rhai
    /// let s = stack([ones(3), zeros(3)]);
    /// assert_eq(s.shape, [2, 3]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stack(arrays: Array) -> Res<NdArray> {
        if arrays.is_empty() {
            return Err(Error::invalid("stack: needs at least one array").into());
        }
        let parts: Vec<NdArray> = arrays
            .iter()
            .map(|d| NdArray::from_dynamic(d, "stack"))
            .collect::<Result<_, _>>()?;
        let shape0 = parts[0].shape().to_vec();
        if let Some((k, p)) = parts
            .iter()
            .enumerate()
            .find(|(_, p)| p.shape() != &shape0[..])
        {
            return Err(Error::shape(format!(
                "stack: array {k} has shape {} but array 0 has shape {}; all must match",
                shape_str(p.shape()),
                shape_str(&shape0)
            ))
            .into());
        }
        let mut shape = vec![parts.len()];
        shape.extend_from_slice(&shape0);
        crate::engine::array::checked_size(&shape, "stack")?;
        let mut data = Vec::with_capacity(shape.iter().product());
        for p in &parts {
            data.extend(p.0.iter().copied());
        }
        Ok(NdArray::from_array(
            ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(|e| Error::shape(e.to_string()))?,
        ))
    }
}

/// Integer list argument (indices, shapes).
fn int_list(index: &rhai::Array, what: &str) -> Result<Vec<INT>, crate::Error> {
    index
        .iter()
        .map(|d| {
            d.as_int().map_err(|_| {
                crate::Error::invalid(format!(
                    "{what}: indices must be integers, got {} in {:?}",
                    crate::engine::handles::script_type(d),
                    index
                ))
            })
        })
        .collect()
}

/// Doc comment block: `summary` then an example in a ```rhai fence.
fn doc(summary: &str, example: &str) -> String {
    let mut s = String::new();
    for line in summary.lines() {
        s.push_str("/// ");
        s.push_str(line);
        s.push('\n');
    }
    s.push_str("///\n/// ```rhai\n");
    for line in example.lines() {
        s.push_str("/// ");
        s.push_str(line);
        s.push('\n');
    }
    s.push_str("/// ```");
    s
}

/// Doc of the float-axis overloads of the reductions (hidden from `help()`).
const GENERATED_AXIS_DOC: &str =
    "/// (generated overload) of an axis reduction: a whole float axis is accepted as an integer.";

/// Operators, element-wise functions and reductions.
pub fn extras(m: &mut Module) {
    type Res<T> = Result<T, Box<rhai::EvalAltResult>>;
    let ops = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Pow];
    for op in ops {
        let sym = op.symbol();
        let d = doc(
            &format!(
                "Element-wise `{sym}` between arrays (numpy broadcasting) or with a number on either side."
            ),
            &format!("let a = nd([1, 2]) {sym} 2;\nlet b = 2.0 {sym} nd([1, 2]);\nlet c = a {sym} b;"),
        );
        let reg = |params: [&str; 3]| {
            FuncRegistration::new(sym)
                .in_global_namespace()
                .with_params_info(params)
                .with_comments([d.as_str()])
        };
        reg(["a: ndarray", "b: ndarray", "ndarray"]).set_into_module(
            m,
            move |a: NdArray, b: NdArray| -> Res<NdArray> {
                guard::call(sym, || Ok(a.binary(&b, op)?))
            },
        );
        reg(["a: ndarray", "b: f64", "ndarray"]).set_into_module(m, move |a: NdArray, b: FLOAT| {
            guard::call_plain(sym, || a.scalar_op(b, op, false))
        });
        reg(["a: f64", "b: ndarray", "ndarray"]).set_into_module(m, move |a: FLOAT, b: NdArray| {
            guard::call_plain(sym, || b.scalar_op(a, op, true))
        });
        reg(["a: ndarray", "b: i64", "ndarray"]).set_into_module(m, move |a: NdArray, b: INT| {
            guard::call_plain(sym, || a.scalar_op(b as f64, op, false))
        });
        reg(["a: i64", "b: ndarray", "ndarray"]).set_into_module(m, move |a: INT, b: NdArray| {
            guard::call_plain(sym, || b.scalar_op(a as f64, op, true))
        });
    }
    FuncRegistration::new("-")
        .in_global_namespace()
        .with_params_info(["a: ndarray", "ndarray"])
        .with_comments([doc("Element-wise negation.", "let a = -nd([1, -2]);").as_str()])
        .set_into_module(m, |a: NdArray| guard::call_plain("-", || a.map(|x| -x)));
    let eq_doc = doc(
        "`true` if both arrays have the same shape and exactly equal elements (a single bool, not element-wise).",
        "assert(nd([1, 2]) == nd([1.0, 2.0]));\nassert(nd([1, 2]) != nd([1, 2, 3]));",
    );
    FuncRegistration::new("==")
        .in_global_namespace()
        .with_params_info(["a: ndarray", "b: ndarray", "bool"])
        .with_comments([eq_doc.as_str()])
        .set_into_module(m, |a: NdArray, b: NdArray| a == b);
    FuncRegistration::new("!=")
        .in_global_namespace()
        .with_params_info(["a: ndarray", "b: ndarray", "bool"])
        .with_comments([eq_doc.as_str()])
        .set_into_module(m, |a: NdArray, b: NdArray| a != b);

    type Map1 = (&'static str, &'static str, fn(f64) -> f64);
    let maps: [Map1; 7] = [
        ("abs", "absolute value", f64::abs),
        ("sqrt", "square root (NaN for negative elements)", f64::sqrt),
        ("exp", "exponential", f64::exp),
        (
            "ln",
            "natural logarithm (NaN for negative elements)",
            f64::ln,
        ),
        ("sin", "sine", f64::sin),
        ("cos", "cosine", f64::cos),
        ("tanh", "hyperbolic tangent", f64::tanh),
    ];
    for (name, what, f) in maps {
        FuncRegistration::new(name)
            .in_global_namespace()
            .with_params_info(["a: ndarray", "ndarray"])
            .with_comments([doc(
                &format!("Element-wise {what}."),
                &format!("let y = nd([0.5, 1, 2]).{name}();\nassert_eq(y.shape, [3]);"),
            )
            .as_str()])
            .set_into_module(m, move |a: NdArray| guard::call_plain(name, || a.map(f)));
    }
    for name in ["pow", "powf"] {
        let d = doc(
            "Element-wise power `a ** p` (same as the `**` operator).",
            &format!("assert_eq(nd([1, 2, 3]).{name}(2), nd([1, 4, 9]));"),
        );
        let reg = |p: &str| {
            FuncRegistration::new(name)
                .in_global_namespace()
                .with_params_info(["a: ndarray", p, "ndarray"])
                .with_comments([d.as_str()])
        };
        reg("p: f64").set_into_module(m, move |a: NdArray, p: FLOAT| {
            guard::call_plain(name, || a.map(|x| x.powf(p)))
        });
        reg("p: i64").set_into_module(m, move |a: NdArray, p: INT| {
            guard::call_plain(name, || {
                if let Ok(k) = i32::try_from(p) {
                    a.map(|x| x.powi(k))
                } else {
                    a.map(|x| x.powf(p as f64))
                }
            })
        });
    }

    // (reduction, over all elements, along an axis, expected value for [[1, 2], [3, 4]])
    let reductions = [
        (Reduce::Sum, "Sum of all elements.", "Sums along `axis`", "10"),
        (Reduce::Mean, "Mean of all elements.", "Means along `axis`", "2.5"),
        (
            Reduce::Var,
            "Population variance of all elements (divides by n like numpy's `var`, which is a reserved word in Rhai).",
            "Population variances along `axis`",
            "1.25",
        ),
        (
            Reduce::Std,
            "Population standard deviation of all elements (divides by n).",
            "Population standard deviations along `axis`",
            "sqrt(1.25)",
        ),
        (
            Reduce::Min,
            "Smallest element (NaN if any element is NaN).",
            "Minima along `axis`",
            "1.0",
        ),
        (
            Reduce::Max,
            "Largest element (NaN if any element is NaN).",
            "Maxima along `axis`",
            "4.0",
        ),
        (
            Reduce::ArgMax,
            "Flat (row-major) index of the largest element; the first one on ties.",
            "Indices (as floats) of the maxima along `axis`",
            "3",
        ),
        (
            Reduce::ArgMin,
            "Flat (row-major) index of the smallest element; the first one on ties.",
            "Indices (as floats) of the minima along `axis`",
            "0",
        ),
    ];
    for (r, all_text, axis_text, expect) in reductions {
        let name = r.name();
        let d_all = doc(
            all_text,
            &format!("let a = nd([[1, 2], [3, 4]]);\nassert_close(a.{name}(), {expect}, 1e-12);"),
        );
        let d_axis = doc(
            &format!("{axis_text} (negative counts from the end); that axis is removed."),
            &format!(
                "let a = nd([[1, 2], [3, 4]]);\nlet r = a.{name}(0);\nassert_eq(r.shape, [2]);"
            ),
        );
        let is_arg = matches!(r, Reduce::ArgMax | Reduce::ArgMin);
        let ret = if is_arg { "i64" } else { "f64" };
        let reg = FuncRegistration::new(name)
            .in_global_namespace()
            .with_params_info(["a: ndarray", ret])
            .with_comments([d_all.as_str()]);
        if is_arg {
            reg.set_into_module(m, move |a: NdArray| -> Res<INT> {
                guard::call(name, || Ok(a.reduce_all(r)? as INT))
            });
        } else {
            reg.set_into_module(m, move |a: NdArray| -> Res<FLOAT> {
                guard::call(name, || Ok(a.reduce_all(r)?))
            });
        }
        FuncRegistration::new(name)
            .in_global_namespace()
            .with_params_info(["a: ndarray", "axis: i64", "ndarray"])
            .with_comments([d_axis.as_str()])
            .set_into_module(m, move |a: NdArray, axis: INT| -> Res<NdArray> {
                guard::call(name, || Ok(a.reduce_axis(r, axis)?))
            });
        // A whole float axis (`a.sum(0.0)`) works like the integer.
        FuncRegistration::new(name)
            .in_global_namespace()
            .with_params_info(["a: ndarray", "axis: f64", "ndarray"])
            .with_comments([GENERATED_AXIS_DOC])
            .set_into_module(m, move |a: NdArray, axis: FLOAT| -> Res<NdArray> {
                let axis = guard::whole(name, "axis", axis)?;
                guard::call(name, || Ok(a.reduce_axis(r, axis)?))
            });
    }
}
