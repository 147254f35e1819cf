//! `fdtlab` command line (hand-written parsing; the grammar is tiny):
//! `fdtlab` → REPL, `fdtlab run FILE.rhai [--quick] [--out DIR] [--memory-budget SIZE]`,
//! `fdtlab bench`, `fdtlab --help`, `fdtlab --version`.
use fdtlab::engine::error::{exit_code, format_error, format_parse_error, is_interrupt};
use fdtlab::engine::{new_engine, EngineConfig};
use rhai::Scope;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// mimalloc: measurably faster for the many small tensors of score-model training (STACK.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
fdtlab — linear response of stochastic systems via the fluctuation–dissipation theorem

Usage:
  fdtlab [repl] [--quick] [--out DIR] [--memory-budget SIZE]
                                          interactive session (out dir default: out/repl)
  fdtlab run FILE.rhai [--quick] [--out DIR] [--memory-budget SIZE]
                                          run a script; errors print FILE:line:col: message
  fdtlab bench [--quick] [--numpy]        speed figures, one `name: value unit` line each;
                                          --numpy also runs the NumPy references in
                                          ../shared/bench (or $FDTLAB_BENCH_DIR) and prints ratios
  fdtlab --help | --version

Options:
  --quick      small problem sizes (scripts read it with is_quick())
  --out DIR    folder for out_path(name) (default for run: out/<script name>)
  --memory-budget SIZE
               the most memory one request may allocate, e.g. 40GiB, \"512 MiB\", 2e9
               (default: $FDTLAB_MEMORY_BUDGET, else 75 % of the memory available at start;
               scripts read and change it with memory_budget() and set_memory_budget)

In the REPL or a script, help() lists the functions and help(\"name\") explains one.";

/// Parsed command line.
#[derive(Debug, PartialEq)]
enum Command {
    Repl {
        quick: bool,
        out: Option<PathBuf>,
        /// `--memory-budget` in bytes.
        budget: Option<u64>,
    },
    Run {
        file: PathBuf,
        quick: bool,
        out: Option<PathBuf>,
        /// `--memory-budget` in bytes.
        budget: Option<u64>,
    },
    Bench {
        quick: bool,
        numpy: bool,
    },
    Help,
    Version,
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut rest: Vec<&str> = args.iter().map(String::as_str).collect();
    if rest.iter().any(|a| *a == "--help" || *a == "-h") {
        return Ok(Command::Help);
    }
    if rest.iter().any(|a| *a == "--version" || *a == "-V") {
        return Ok(Command::Version);
    }
    let mut quick = false;
    let mut numpy = false;
    let mut out = None;
    let mut budget = None;
    let mut positional = Vec::new();
    let parse_budget = |v: &str| -> Result<u64, String> {
        fdtlab::budget::parse_size(v)
            .map_err(|e| format!("--memory-budget: {e}"))
            .and_then(|b| {
                if b < fdtlab::budget::MIN_BYTES {
                    Err(format!(
                        "--memory-budget {v}: pass at least 1 KiB, e.g. 8GiB"
                    ))
                } else {
                    Ok(b)
                }
            })
    };
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            "--quick" => quick = true,
            "--numpy" => numpy = true,
            "--out" => {
                let dir = rest
                    .get(i + 1)
                    .ok_or("--out needs a folder, e.g. --out out/test")?;
                out = Some(PathBuf::from(dir));
                i += 1;
            }
            a if a.starts_with("--out=") => out = Some(PathBuf::from(&a[6..])),
            "--memory-budget" => {
                let v = rest
                    .get(i + 1)
                    .ok_or("--memory-budget needs a size, e.g. --memory-budget 8GiB")?;
                budget = Some(parse_budget(v)?);
                i += 1;
            }
            a if a.starts_with("--memory-budget=") => {
                budget = Some(parse_budget(&a["--memory-budget=".len()..])?)
            }
            a if a.starts_with('-') => return Err(format!("unknown option '{a}'")),
            a => positional.push(a),
        }
        i += 1;
    }
    rest.clear();
    match positional.as_slice() {
        [] | ["repl"] => Ok(Command::Repl { quick, out, budget }),
        ["run", file] => Ok(Command::Run {
            file: PathBuf::from(file),
            quick,
            out,
            budget,
        }),
        ["run"] => Err("run needs a script: fdtlab run FILE.rhai".into()),
        ["bench"] if budget.is_some() => {
            Err("--memory-budget applies to run and the REPL, not to bench".into())
        }
        ["bench"] => Ok(Command::Bench { quick, numpy }),
        [cmd, ..] => Err(format!("unknown command or extra argument '{cmd}'")),
    }
}

/// Runs a script file; returns the exit code (0 ok, 1 error, 130 interrupted).
fn run_script(file: &Path, quick: bool, out: Option<PathBuf>) -> i32 {
    let name = file.display().to_string();
    let src = match std::fs::read_to_string(file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fdtlab: cannot read {name}: {e}");
            return 1;
        }
    };
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script".into());
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let cfg = EngineConfig {
        quick,
        out_dir: out.unwrap_or_else(|| PathBuf::from("out").join(stem)),
        script_dir: Some(dir),
    };
    let engine = new_engine(&cfg);
    let mut ast = match engine.compile(&src) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{}", format_parse_error(&e, Some(&name)));
            return 1;
        }
    };
    ast.set_source(name.clone());
    fdtlab::core::interrupt::clear();
    match engine.run_ast_with_scope(&mut Scope::new(), &ast) {
        Ok(()) => 0,
        Err(e) => {
            if let Some(code) = exit_code(&e) {
                return code;
            }
            eprintln!("{}", format_error(&e, Some(&name)));
            if is_interrupt(&e) {
                130
            } else {
                1
            }
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fdtlab: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // The memory budget: --memory-budget wins over FDTLAB_MEMORY_BUDGET; a variable that is
    // not a size is reported now rather than at the first large request.
    if let Command::Repl {
        budget: Some(b), ..
    }
    | Command::Run {
        budget: Some(b), ..
    } = &cmd
    {
        if let Err(e) = fdtlab::budget::set(*b) {
            eprintln!("fdtlab: --memory-budget: {e}");
            return ExitCode::from(2);
        }
    }
    if let Err(e) = fdtlab::budget::current() {
        eprintln!("fdtlab: {e}");
        return ExitCode::from(2);
    }
    fdtlab::core::interrupt::install_handler();
    // candle re-reads /proc/cpuinfo on every matmul unless the thread count is fixed.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    let code = match cmd {
        Command::Help => {
            println!("{USAGE}");
            0
        }
        Command::Version => {
            println!("fdtlab {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Command::Bench { quick, numpy } => match fdtlab::bench::run(quick, numpy) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("fdtlab bench: {e}");
                1
            }
        },
        Command::Run {
            file, quick, out, ..
        } => run_script(&file, quick, out),
        Command::Repl { quick, out, .. } => {
            let cfg = EngineConfig {
                quick,
                out_dir: out.unwrap_or_else(|| PathBuf::from("out/repl")),
                script_dir: None,
            };
            fdtlab::repl::editor::run(&cfg)
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<Command, String> {
        parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_commands() {
        assert_eq!(
            p(&[]).unwrap(),
            Command::Repl {
                quick: false,
                out: None,
                budget: None
            }
        );
        assert_eq!(
            p(&["run", "a.rhai", "--quick", "--out", "o"]).unwrap(),
            Command::Run {
                file: "a.rhai".into(),
                quick: true,
                out: Some("o".into()),
                budget: None
            }
        );
        assert_eq!(
            p(&["bench"]).unwrap(),
            Command::Bench {
                quick: false,
                numpy: false
            }
        );
        assert_eq!(p(&["--version"]).unwrap(), Command::Version);
        assert!(p(&["run"]).is_err());
        assert!(p(&["--frob"]).is_err());
    }

    #[test]
    fn parses_the_memory_budget() {
        assert_eq!(
            p(&["run", "a.rhai", "--memory-budget", "40GiB"]).unwrap(),
            Command::Run {
                file: "a.rhai".into(),
                quick: false,
                out: None,
                budget: Some(40 << 30)
            }
        );
        assert_eq!(
            p(&["--memory-budget=512 MiB"]).unwrap(),
            Command::Repl {
                quick: false,
                out: None,
                budget: Some(512 << 20)
            }
        );
        assert_eq!(
            p(&["repl", "--memory-budget", "1.5 GB"]).unwrap(),
            Command::Repl {
                quick: false,
                out: None,
                budget: Some(1_500_000_000)
            }
        );
        let e = p(&["run", "a.rhai", "--memory-budget", "lots"]).unwrap_err();
        assert!(
            e.contains("--memory-budget") && e.contains("\"lots\" is not a size"),
            "{e}"
        );
        assert!(p(&["run", "a.rhai", "--memory-budget"]).is_err());
        assert!(p(&["run", "a.rhai", "--memory-budget", "10"]).is_err());
        assert!(p(&["bench", "--memory-budget", "8GiB"]).is_err());
    }
}
