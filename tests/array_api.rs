//! The `ndarray` script API: construction, shapes, indexing, broadcasting, scalars, reductions.
mod common;
use common::{check, err, ok};
use fdtlab::engine::NdArray;

fn arr(src: &str) -> NdArray {
    ok(src).try_cast::<NdArray>().expect("an ndarray")
}

fn vals(src: &str) -> Vec<f64> {
    arr(src).0.iter().copied().collect()
}

#[test]
fn constructors_and_shapes() {
    assert_eq!(arr("zeros([2, 3])").shape(), &[2, 3]);
    assert_eq!(arr("ones(4)").shape(), &[4]);
    assert_eq!(vals("full([2], 2.5)"), vec![2.5, 2.5]);
    assert_eq!(vals("linspace(0, 1, 3)"), vec![0.0, 0.5, 1.0]);
    assert_eq!(vals("arange(3)"), vec![0.0, 1.0, 2.0]);
    assert_eq!(vals("arange(0.5, 2, 0.5)"), vec![0.5, 1.0, 1.5]);
    assert_eq!(vals("arange(3, 0, -1)"), vec![3.0, 2.0, 1.0]);
    let a = arr("nd([[1, 2.5], [3, 4]])");
    assert_eq!(a.shape(), &[2, 2]);
    assert_eq!(
        a.0.iter().copied().collect::<Vec<_>>(),
        vec![1.0, 2.5, 3.0, 4.0]
    );
    assert_eq!(
        ok("zeros([2, 3]).shape").into_typed_array::<i64>().unwrap(),
        vec![2, 3]
    );
    assert_eq!(ok("zeros([2, 3]).ndim").as_int().unwrap(), 2);
    assert_eq!(ok("zeros([2, 3]).len").as_int().unwrap(), 2);
    assert_eq!(ok("zeros([2, 3]).size").as_int().unwrap(), 6);
    assert_eq!(arr("nd([ones(2), zeros(2)])").shape(), &[2, 2]);
    assert_eq!(arr("stack([ones(2), zeros(2), ones(2)])").shape(), &[3, 2]);
}

#[test]
fn constructor_errors() {
    let e = err("nd([[1, 2], [3]])");
    assert!(
        e.contains("ragged") && e.contains("[1]") && e.contains("length 1"),
        "{e}"
    );
    let e = err("nd([[1, 2], 3])");
    assert!(e.contains("ragged"), "{e}");
    let e = err("nd([1, \"a\"])");
    assert!(e.contains("[1]") && e.contains("string"), "{e}");
    let e = err("zeros([2, -1])");
    assert!(e.contains("shape"), "{e}");
    let e = err("zeros([100000, 100000, 1000])");
    assert!(
        e.contains("memory budget") && e.contains("100000 × 100000 × 1000 × 8 bytes"),
        "{e}"
    );
}

#[test]
fn to_array_round_trip() {
    check("let a = [[1.0, 2.0], [3.0, 4.0]]; assert_eq(nd(a).to_array(), a);");
    check("assert_eq(nd(5).to_array(), 5.0);");
}

#[test]
fn indexing() {
    check(
        "let a = nd([[1, 2, 3], [4, 5, 6]]);
        assert_eq(a[1][2], 6.0);
        assert_eq(a[-1][-3], 4.0);
        assert_eq(a[0].to_array(), [1.0, 2.0, 3.0]);
        assert_eq(a.get([1, 1]), 5.0);
        assert_eq(a.get([1]).to_array(), [4.0, 5.0, 6.0]);",
    );
    let e = err("let a = nd([1, 2, 3]);\na[3]");
    assert!(e.starts_with("2:"), "{e}");
    assert!(e.contains("index 3") && e.contains("length 3"), "{e}");
    let e = err("nd([[1, 2]]).get([0, 5])");
    assert!(
        e.contains("index 5") && e.contains("length 2") && e.contains("axis 1"),
        "{e}"
    );
    let e = err("nd([1, 2]).get([0, 0])");
    assert!(e.contains("2 indices") && e.contains("[2]"), "{e}");
}

#[test]
fn mutation_has_value_semantics() {
    check(
        "let a = zeros([2, 2]);
        let b = a;
        a.set([0, 1], 3);
        a[1][0] = 7;
        assert_eq(a.to_array(), [[0.0, 3.0], [7.0, 0.0]]);
        assert_eq(b.sum(), 0.0);
        a[0] = nd([1, 2]);
        assert_eq(a[0].to_array(), [1.0, 2.0]);
        a.set([1], 9);
        assert_eq(a[1].to_array(), [9.0, 9.0]);",
    );
    // Writing through a view shares nothing with the original.
    check("let a = arange(4); let s = a.slice(0, 1, 3); s[0] = 100; assert_eq(a[1], 1.0);");
    let e = err("let a = zeros([2, 2]); a.set([0], [1, 2, 3]);");
    assert!(e.contains("[3]") && e.contains("[2]"), "{e}");
}

#[test]
fn shape_operations() {
    assert_eq!(vals("arange(10).slice(0, 2, 5)"), vec![2.0, 3.0, 4.0]);
    assert_eq!(vals("arange(10).slice(0, -3, 100)"), vec![7.0, 8.0, 9.0]);
    assert_eq!(
        vals("arange(6).reshape([2, 3]).slice(1, 1, 2)"),
        vec![1.0, 4.0]
    );
    assert_eq!(
        vals("arange(6).reshape([2, 3]).index_axis(1, 2)"),
        vec![2.0, 5.0]
    );
    assert_eq!(arr("arange(6).reshape([3, -1])").shape(), &[3, 2]);
    assert_eq!(
        vals("arange(6).reshape([2, 3]).transpose().flatten()"),
        vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    );
    assert_eq!(arr("zeros([2, 3, 4]).transpose()").shape(), &[4, 3, 2]);
    let e = err("arange(6).reshape([4, 2])");
    assert!(e.contains("[6]") && e.contains("[4, 2]"), "{e}");
    let e = err("zeros([2, 2]).slice(2, 0, 1)");
    assert!(e.contains("axis 2") && e.contains("2 axes"), "{e}");
}

#[test]
fn arithmetic_with_arrays_and_scalars() {
    assert_eq!(vals("nd([1, 2]) + nd([10, 20])"), vec![11.0, 22.0]);
    assert_eq!(vals("nd([1, 2]) * 2"), vec![2.0, 4.0]);
    assert_eq!(vals("2 * nd([1, 2])"), vec![2.0, 4.0]);
    assert_eq!(vals("nd([1, 2]) / 2"), vec![0.5, 1.0]);
    assert_eq!(vals("1 / nd([1, 2])"), vec![1.0, 0.5]);
    assert_eq!(vals("nd([1, 2]) - 0.5"), vec![0.5, 1.5]);
    assert_eq!(vals("10.0 - nd([1, 2])"), vec![9.0, 8.0]);
    assert_eq!(vals("nd([1, 2]) ** 2"), vec![1.0, 4.0]);
    assert_eq!(vals("2 ** nd([1, 2])"), vec![2.0, 4.0]);
    assert_eq!(vals("-nd([1, -2])"), vec![-1.0, 2.0]);
    assert_eq!(
        vals("let a = nd([1, 2]); a += 1; a *= 3; a"),
        vec![6.0, 9.0]
    );
    assert_eq!(vals("nd([4, 9]).sqrt()"), vec![2.0, 3.0]);
    assert_eq!(vals("nd([-1, 2]).abs()"), vec![1.0, 2.0]);
    assert_eq!(vals("nd([0]).exp()"), vec![1.0]);
    assert_eq!(vals("nd([1]).ln()"), vec![0.0]);
    assert_eq!(vals("nd([2, 3]).pow(2)"), vec![4.0, 9.0]);
    assert_eq!(vals("nd([4]).powf(0.5)"), vec![2.0]);
}

#[test]
fn broadcasting() {
    assert_eq!(
        vals("nd([[1, 2, 3], [4, 5, 6]]) + nd([10, 20, 30])"),
        vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]
    );
    assert_eq!(
        vals("nd([[1], [2]]) * nd([1, 10])"),
        vec![1.0, 10.0, 2.0, 20.0]
    );
    let e = err("let a = zeros([2, 3]);\nlet b = a + zeros([2]);");
    assert!(e.starts_with("2:11:"), "{e}");
    assert!(e.contains("[2, 3] + [2]"), "{e}");
}

#[test]
fn reductions() {
    check(
        "let a = nd([[1, 2], [3, 4]]);
        assert_eq(a.sum(), 10.0);
        assert_eq(a.mean(), 2.5);
        assert_close(a.variance(), 1.25, 1e-15);
        assert_close(a.std(), sqrt(1.25), 1e-15);
        assert_eq(a.min(), 1.0);
        assert_eq(a.max(), 4.0);
        assert_eq(a.argmax(), 3);
        assert_eq(a.argmin(), 0);
        assert_eq(a.sum(0).to_array(), [4.0, 6.0]);
        assert_eq(a.mean(1).to_array(), [1.5, 3.5]);
        assert_eq(a.mean(-1).to_array(), [1.5, 3.5]);
        assert_eq(a.variance(0).to_array(), [1.0, 1.0]);
        assert_eq(a.max(1).to_array(), [2.0, 4.0]);
        assert_eq(a.argmax(1).to_array(), [1.0, 1.0]);",
    );
    let e = err("zeros([0]).mean()");
    assert!(e.contains("empty"), "{e}");
    let e = err("zeros([2, 2]).mean(2)");
    assert!(e.contains("axis 2"), "{e}");
}

#[test]
fn matmul() {
    check(
        "let m = nd([[1, 2], [3, 4]]);
        assert_eq(m.matmul(m).to_array(), [[7.0, 10.0], [15.0, 22.0]]);
        assert_eq(m.matmul(nd([1, 0])).to_array(), [1.0, 3.0]);
        assert_eq(nd([1, 0]).dot(m).to_array(), [1.0, 2.0]);
        assert_eq(nd([1, 2]).dot(nd([3, 4])), 11.0);",
    );
    let e = err("zeros([2, 3]).matmul(zeros([2, 3]))");
    assert!(
        e.contains("[2, 3] · [2, 3]") && e.contains("3 and 2"),
        "{e}"
    );
}

#[test]
fn printing() {
    assert_eq!(
        ok("nd([[1, 2], [3, 4]]).to_string()")
            .into_string()
            .unwrap(),
        "ndarray [2, 2]:\n[[1, 2],\n [3, 4]]"
    );
    let s = ok("arange(10000).reshape([100, 100]).to_string()")
        .into_string()
        .unwrap();
    assert!(
        s.starts_with("ndarray [100, 100]:\n[[   0,    1,    2, ...,   97,   98,   99],"),
        "{s}"
    );
    assert!(s.contains("\n ...,\n"), "{s}");
    assert!(s.lines().count() < 10, "{s}");
    let s = ok("zeros([2, 2, 2]).to_string()").into_string().unwrap();
    assert_eq!(
        s,
        "ndarray [2, 2, 2]:\n[[[0, 0],\n  [0, 0]],\n\n [[0, 0],\n  [0, 0]]]"
    );
    // Long rows wrap.
    let s = ok("arange(100).to_string()").into_string().unwrap();
    assert!(s.lines().all(|l| l.chars().count() <= 80), "{s}");
}
