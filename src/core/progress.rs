//! Progress bars (indicatif) for long native work. Bars draw on stderr only when it is a
//! terminal and are hidden when [`set_quiet`] was called (tests).
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Hide all progress bars from now on.
pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::SeqCst);
}

/// A progress bar over `total` units of work; thread-safe (clone it into rayon closures).
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// `unit` is shown after the rate, e.g. "member-steps".
    pub fn new(total: u64, what: &str, unit: &str) -> Self {
        let bar = if QUIET.load(Ordering::SeqCst) {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let tmpl = format!(
                "{{msg}} [{{bar:30}}] {{percent:>3}}% {{human_pos}}/{{human_len}} {unit} ({{rate}}, ETA {{eta}})"
            );
            b.set_style(
                ProgressStyle::with_template(&tmpl)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .with_key(
                        "rate",
                        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0}/s", s.per_sec());
                        },
                    )
                    .progress_chars("=> "),
            );
            b
        };
        bar.set_message(what.to_string());
        Progress { bar }
    }
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }
    pub fn set_message(&self, msg: String) {
        self.bar.set_message(msg);
    }
    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
