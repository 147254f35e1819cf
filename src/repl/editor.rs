//! The terminal side of the REPL (rustyline): prompt, multi-line input decided by Rhai's parser,
//! tab completion, persistent history, Ctrl-C / Ctrl-D. All evaluation is in [`Session`].
use super::session::Session;
use crate::engine::EngineConfig;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{CompletionType, Config, Context, Editor, Helper};
use std::path::PathBuf;

/// rustyline helper owning the session, so completion and validation see its current state.
pub struct ReplHelper {
    /// The evaluation state.
    pub session: Session,
}

impl Completer for ReplHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == ':')
            .last()
            .map_or(pos, |(i, _)| i);
        let prefix = &before[start..];
        if prefix.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let pairs = self
            .session
            .completions(prefix)
            .into_iter()
            .map(|s| Pair {
                replacement: if self.session.is_function_name(&s) {
                    format!("{s}(")
                } else {
                    s.clone()
                },
                display: s,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        if self.session.is_incomplete(ctx.input()) {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

impl Helper for ReplHelper {}

/// `$FDTLAB_HISTORY` (empty = no history) or `~/.fdtlab_history`.
pub fn history_path() -> Option<PathBuf> {
    match std::env::var_os("FDTLAB_HISTORY") {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".fdtlab_history")),
    }
}

/// Runs the interactive loop until Ctrl-D or `exit()`; returns the process exit code.
pub fn run(cfg: &EngineConfig) -> i32 {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .build();
    let mut rl: Editor<ReplHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("fdtlab: cannot start the line editor: {e}");
            return 1;
        }
    };
    rl.set_helper(Some(ReplHelper {
        session: Session::new(cfg),
    }));
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = rl.load_history(h); // a missing file is fine
    }
    println!(
        "fdtlab {} — help() lists functions, help(\"name\") explains one; Tab completes, Ctrl-D quits.",
        env!("CARGO_PKG_VERSION")
    );
    loop {
        match rl.readline("fdtlab> ") {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                if let Some(h) = &hist {
                    if let Err(e) = rl.save_history(h) {
                        eprintln!("warning: cannot save history to {}: {e}", h.display());
                    }
                }
                let Some(helper) = rl.helper_mut() else {
                    return 1;
                };
                match helper.session.eval_line(&line) {
                    Ok(Some(text)) => println!("{text}"),
                    Ok(None) => {}
                    Err(e) => eprintln!("error: {e}"),
                }
                if let Some(code) = helper.session.exit_code() {
                    return code;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return 0,
            Err(e) => {
                eprintln!("fdtlab: {e}");
                return 1;
            }
        }
    }
}
