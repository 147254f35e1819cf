use super::*;
use crate::systems::linear_ou::LinearOu;
use ndarray::array;
use std::sync::Mutex;

fn ou3() -> Sde {
    let a = array![[-1.0, 2.0, 0.0], [0.0, -1.0, 1.0], [0.5, 0.0, -2.0]];
    let g = array![[1.0, 0.0], [0.3, 0.5], [0.0, 1.0]];
    LinearOu::new(a, g).unwrap().sde().unwrap()
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn opts(members: usize, method: Method) -> SdeRunOpts {
    SdeRunOpts {
        members,
        dt: 0.01,
        spinup: 1.0,
        duration: 5.0,
        save_every: 10,
        seed: 42,
        method,
        init: SdeInit::Point(vec![0.5, -0.5, 1.0]),
    }
}

#[test]
fn one_and_two_threads_are_bit_identical() {
    crate::core::progress::set_quiet(true);
    for method in [Method::Em, Method::Heun] {
        let sde = ou3();
        let o = opts(5, method);
        let a = in_pool(1, || sde.simulate(&o).unwrap());
        let b = in_pool(2, || sde.simulate(&o).unwrap());
        assert_eq!(a.data.shape(), &[5, 51, 3]);
        assert!(a
            .data
            .iter()
            .zip(b.data.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        assert_eq!(a.dt, 0.1);
        assert!((a.t0 - 1.0).abs() < 1e-12);
        // Members differ (independent streams) and start after spin-up.
        assert_ne!(a.data[[0, 0, 0]], a.data[[1, 0, 0]]);
    }
}

/// Drift of dx = −x used to inject faults.
struct Faulty {
    mode: &'static str,
    log: Option<Mutex<Vec<std::thread::ThreadId>>>,
}

impl Drift for Faulty {
    fn dim(&self) -> usize {
        2
    }
    fn eval(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        if let Some(l) = &self.log {
            l.lock().unwrap().push(std::thread::current().id());
        }
        let late = x[0].abs() < 0.9; // after a few steps from x0 = 1
        match self.mode {
            "length" if late => copy_checked(&[1.0, 2.0, 3.0], out, "drift closure"),
            "nan" if late => {
                out[0] = f64::NAN;
                out[1] = 0.0;
                Ok(())
            }
            "err" if late => Err(Error::invalid("user drift failed: no such variable 'k'")),
            "unset" if late => {
                out[0] = -x[0];
                Ok(())
            }
            _ => {
                out[0] = -x[0];
                out[1] = -x[1];
                Ok(())
            }
        }
    }
    fn parallel_safe(&self) -> bool {
        self.log.is_none()
    }
}

fn faulty(mode: &'static str) -> Sde {
    let f = Faulty { mode, log: None };
    Sde::new("faulty", Arc::new(f), Noise::Diagonal(vec![0.01, 0.01])).unwrap()
}

fn run_faulty(mode: &'static str) -> Error {
    let o = SdeRunOpts {
        members: 3,
        duration: 2.0,
        init: SdeInit::Point(vec![1.0, 1.0]),
        ..Default::default()
    };
    faulty(mode).simulate(&o).unwrap_err()
}

#[test]
fn faulty_drifts_give_errors_naming_system_member_and_time() {
    crate::core::progress::set_quiet(true);
    for (mode, needle) in [
        ("length", "returned 3 values but 2 are needed"),
        ("nan", "drift returned NaN in component 0"),
        ("err", "no such variable 'k'"),
        ("unset", "drift returned NaN in component 1"),
    ] {
        let m = run_faulty(mode).to_string();
        assert!(m.contains(needle), "{mode}: {m}");
        assert!(m.contains("system 'faulty', member 0, step"), "{mode}: {m}");
        assert!(m.contains("(t = "), "{mode}: {m}");
    }
}

#[test]
fn blow_up_names_the_fix() {
    crate::core::progress::set_quiet(true);
    struct Cubic;
    impl Drift for Cubic {
        fn dim(&self) -> usize {
            1
        }
        fn eval(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
            out[0] = x[0] * x[0] * x[0];
            Ok(())
        }
    }
    let sde = Sde::new("cubic", Arc::new(Cubic), Noise::Diagonal(vec![0.0])).unwrap();
    let o = SdeRunOpts {
        dt: 0.1,
        init: SdeInit::Point(vec![3.0]),
        ..Default::default()
    };
    let e = sde.simulate(&o).unwrap_err();
    assert!(matches!(e, Error::BlowUp(_)));
    let m = e.to_string();
    assert!(m.contains("reduce dt") && m.contains("member 0"), "{m}");
}

#[test]
fn bad_options_are_errors() {
    crate::core::progress::set_quiet(true);
    let sde = ou3();
    let mut o = opts(2, Method::Em);
    o.dt = -0.1;
    assert!(sde
        .simulate(&o)
        .unwrap_err()
        .to_string()
        .contains("dt = -0.1 must be positive"));
    let mut o = opts(2, Method::Em);
    o.init = SdeInit::Point(vec![1.0]);
    assert!(sde
        .simulate(&o)
        .unwrap_err()
        .to_string()
        .contains("length 1 but D = 3"));
    let mut o = opts(2, Method::Em);
    o.init = SdeInit::Name("stationary".into());
    assert!(sde
        .simulate(&o)
        .unwrap_err()
        .to_string()
        .contains("unknown"));
    let mut o = opts(0, Method::Em);
    o.init = SdeInit::default();
    assert!(sde.simulate(&o).is_err());
    let mut o = opts(2, Method::Em);
    o.duration = 0.01;
    assert!(sde
        .simulate(&o)
        .unwrap_err()
        .to_string()
        .contains("shorter than one frame"));
    // serde: typos are errors, omitted fields take defaults.
    let e = serde_json::from_str::<SdeRunOpts>(r#"{"stpes": 10}"#).unwrap_err();
    assert!(e.to_string().contains("unknown field"));
    let o: SdeRunOpts =
        serde_json::from_str(r#"{"members": 4, "method": "heun", "init": [1.0, 2.0, 3.0]}"#)
            .unwrap();
    assert_eq!((o.members, o.method), (4, Method::Heun));
    assert_eq!(o.init, SdeInit::Point(vec![1.0, 2.0, 3.0]));
    assert!(serde_json::from_str::<SdeRunOpts>(r#"{"method": "rk4"}"#).is_err());
    // Noise of the wrong size.
    let e = Sde::new("x", ou3().drift().clone(), Noise::Diagonal(vec![1.0])).unwrap_err();
    assert!(e
        .to_string()
        .contains("diagonal noise has 1 entries but D = 3"));
}

#[test]
fn closure_backed_drift_runs_on_the_calling_thread() {
    crate::core::progress::set_quiet(true);
    let f = Arc::new(Faulty {
        mode: "ok",
        log: Some(Mutex::new(Vec::new())),
    });
    let sde = Sde::new("seq", f.clone(), Noise::Diagonal(vec![0.3, 0.3])).unwrap();
    assert!(!sde.parallel_safe());
    let o = SdeRunOpts {
        members: 4,
        duration: 1.0,
        ..Default::default()
    };
    // The caller here is a pool worker (install runs the closure on the pool).
    let (me, seq) = in_pool(2, || {
        (std::thread::current().id(), sde.simulate(&o).unwrap())
    });
    let log = f.log.as_ref().unwrap().lock().unwrap();
    assert!(!log.is_empty() && log.iter().all(|t| *t == me));
    // Same numbers as the parallel path.
    let par = faulty("ok").simulate(&SdeRunOpts {
        members: 4,
        duration: 1.0,
        ..Default::default()
    });
    let par = par.unwrap();
    // Noise differs (0.3 vs 0.01), so compare a parallel run of the same noise instead.
    let same = Sde::new(
        "par",
        Arc::new(Faulty {
            mode: "ok",
            log: None,
        }),
        Noise::Diagonal(vec![0.3, 0.3]),
    )
    .unwrap()
    .simulate(&o)
    .unwrap();
    assert_eq!(seq.data, same.data);
    assert_eq!(par.data.shape(), same.data.shape());
}

#[test]
fn heun_is_second_order_on_the_drift() {
    // dx = −x, no noise, x(0) = 1 → x(1) = e^{-1}. EM error ≈ dt e^{-1}/2, Heun ≈ dt² e^{-1}/6.
    crate::core::progress::set_quiet(true);
    let sde = Sde::new(
        "decay",
        Arc::new(crate::systems::linear_ou::LinearDrift::new(&array![[-1.0]]).unwrap()),
        Noise::Diagonal(vec![0.0]),
    )
    .unwrap();
    let err = |method, dt: f64| {
        let o = SdeRunOpts {
            dt,
            duration: 1.0,
            save_every: (1.0 / dt).round() as usize,
            method,
            init: SdeInit::Point(vec![1.0]),
            ..Default::default()
        };
        (sde.simulate(&o).unwrap().data[[0, 1, 0]] - (-1.0f64).exp()).abs()
    };
    let e = (-1.0f64).exp();
    assert!((err(Method::Em, 0.01) / (0.01 * e / 2.0) - 1.0).abs() < 0.02);
    assert!((err(Method::Heun, 0.01) / (1e-4 * e / 6.0) - 1.0).abs() < 0.02);
}
