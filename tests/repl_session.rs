//! The REPL session without a terminal.
use fdtlab::engine::EngineConfig;
use fdtlab::repl::Session;

fn session(name: &str) -> Session {
    let out = std::env::temp_dir().join(format!("fdtlab-sess-{}-{name}", std::process::id()));
    Session::new(&EngineConfig {
        quick: true,
        out_dir: out,
        script_dir: None,
    })
}

#[test]
fn functions_and_variables_persist_between_lines() {
    let mut s = session("persist");
    assert_eq!(s.eval_line("fn sq(x) { x * x }").unwrap(), None);
    assert_eq!(s.eval_line("let a = 3;").unwrap(), None);
    assert_eq!(s.eval_line("sq(a)").unwrap().as_deref(), Some("9"));
    // Statements are not re-run: a print on an earlier line must not repeat.
    assert_eq!(s.eval_line("a += 1; a").unwrap().as_deref(), Some("4"));
    assert_eq!(s.eval_line("a").unwrap().as_deref(), Some("4"));
    // Redefining a function replaces it.
    s.eval_line("fn sq(x) { x * x * x }").unwrap();
    assert_eq!(s.eval_line("sq(2)").unwrap().as_deref(), Some("8"));
}

#[test]
fn multi_line_function_definition() {
    let mut s = session("multiline");
    let src = "fn add(a, b) {\n    a + b\n}";
    assert!(!s.is_incomplete(src));
    s.eval_line(src).unwrap();
    assert_eq!(s.eval_line("add(1, 2)").unwrap().as_deref(), Some("3"));
}

#[test]
fn errors_do_not_lose_the_session() {
    let mut s = session("errors");
    s.eval_line("let keep = 41; fn f() { 1 }").unwrap();
    let e = s.eval_line("let y = undefined_var + 1;").unwrap_err();
    assert!(e.starts_with("1:9:"), "{e}");
    assert!(e.contains("undefined_var"), "{e}");
    let e = s.eval_line("let z = ;").unwrap_err();
    assert!(e.starts_with("1:"), "parse errors carry a position: {e}");
    let e = s.eval_line("zeros([2]) + zeros([3])").unwrap_err();
    assert!(e.contains("[2] + [3]"), "{e}");
    assert_eq!(s.eval_line("keep + f()").unwrap().as_deref(), Some("42"));
}

#[test]
fn functions_defined_on_a_failing_line_are_kept() {
    let mut s = session("failing_fn");
    assert!(s.eval_line("fn g() { 5 } throw \"boom\";").is_err());
    assert_eq!(s.eval_line("g()").unwrap().as_deref(), Some("5"));
}

#[test]
fn incomplete_input_is_decided_by_the_parser() {
    let s = session("incomplete");
    assert!(s.is_incomplete("fn f() {"));
    assert!(s.is_incomplete("fn f() {\n  let x = 1;"));
    assert!(s.is_incomplete("let a = [1, 2,"));
    assert!(s.is_incomplete("print(1 +"));
    assert!(s.is_incomplete("if true {"));
    assert!(s.is_incomplete("let m = #{a: 1,"));
    assert!(s.is_incomplete("let s = `multi\nline"));
    // Complete, even though there are braces inside strings.
    assert!(!s.is_incomplete("let s = \"{\";"));
    assert!(!s.is_incomplete("let s = \"}}{\"; print(s)"));
    assert!(!s.is_incomplete("fn f() { 1 }"));
    // A real error (not an unfinished input) is complete: eval reports it.
    assert!(!s.is_incomplete("let = 5;"));
    assert!(!s.is_incomplete("1 +* 2"));
    assert!(!s.is_incomplete("let s = \"abc"));
    assert!(!s.is_incomplete(""));
}

#[test]
fn values_are_echoed_readably() {
    let mut s = session("echo");
    assert_eq!(s.eval_line("1.5").unwrap().as_deref(), Some("1.5"));
    assert_eq!(s.eval_line("\"hi\"").unwrap().as_deref(), Some("\"hi\""));
    assert_eq!(s.eval_line("[1, 2]").unwrap().as_deref(), Some("[1, 2]"));
    assert_eq!(s.eval_line("print(1)").unwrap(), None);
    assert_eq!(s.eval_line("let x = 1;").unwrap(), None);
    assert_eq!(
        s.eval_line("nd([1, 2])").unwrap().as_deref(),
        Some("ndarray [2]: [1, 2]")
    );
    assert_eq!(
        s.eval_line("[nd([1])]").unwrap().as_deref(),
        Some("[ndarray [1]: [1]]")
    );
    // Multi-line strings (tables) are shown as they are.
    assert_eq!(s.eval_line("\"a\\nb\"").unwrap().as_deref(), Some("a\nb"));
}

#[test]
fn imports_persist() {
    let mut s = session("imports");
    s.eval_line("import \"util\" as u;").unwrap();
    assert_eq!(
        s.eval_line("u::fmt(2.0, 1)").unwrap().as_deref(),
        Some("\"2.0\"")
    );
    assert!(s.completions("u::f").contains(&"u::fmt".to_string()));
}

#[test]
fn completion_candidates() {
    let mut s = session("complete");
    s.eval_line("let my_variable = 1; fn my_function() { 2 }")
        .unwrap();
    let c = s.completions("my_");
    assert!(c.contains(&"my_variable".to_string()), "{c:?}");
    assert!(c.contains(&"my_function".to_string()), "{c:?}");
    let c = s.completions("lins");
    assert_eq!(c, vec!["linspace".to_string()]);
    assert!(s.completions("sha").contains(&"shape".to_string()));
    assert!(s.completions("whi").contains(&"while".to_string()));
    assert!(s.completions("pri").contains(&"print".to_string()));
    // Completion adds "(" to functions only.
    assert!(s.is_function_name("linspace") && s.is_function_name("my_function"));
    assert!(!s.is_function_name("shape") && !s.is_function_name("my_variable"));
    assert!(!s.is_function_name("len"), "len is also a property");
}

#[test]
fn exit_is_reported() {
    let mut s = session("exit");
    assert_eq!(s.eval_line("exit(3)").unwrap(), None);
    assert_eq!(s.exit_code(), Some(3));
}
