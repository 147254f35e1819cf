//! Warnings: the channel for results that are computed but would mislead if nothing were said
//! (reused start states under a standard error that assumes independence, error bars from too
//! few batches, a training run that diverged, ...). An error stops a computation; a warning
//! lets it finish and says what is wrong with the result and what to change.
//!
//! [`warn`] prints `warning: {msg}` to stderr at once (the REPL, `fdtlab run` and notebooks all
//! show it) and records it. The record is one bounded, process-wide list with a sequence
//! number per warning; [`take_warnings`] returns the warnings the *calling thread* has not yet
//! taken. So a warning raised on a rayon worker is seen by whoever asks next, and tests running
//! in parallel threads each still see every warning (each must match its own by content, since
//! it also sees the others'). The script function `warnings()` is this call.
//!
//! Ground layer: imports nothing from the rest of the crate.
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Warnings kept for [`take_warnings`]; older ones are dropped (they were printed anyway).
pub const KEEP: usize = 256;

struct Log {
    /// Sequence number of the next warning.
    next: u64,
    /// The last [`KEEP`] warnings with their sequence numbers, oldest first.
    kept: VecDeque<(u64, String)>,
}

static LOG: Mutex<Log> = Mutex::new(Log {
    next: 0,
    kept: VecDeque::new(),
});

thread_local! {
    /// Sequence number of the first warning this thread has not taken yet.
    static SEEN: Cell<u64> = const { Cell::new(0) };
}

fn log() -> std::sync::MutexGuard<'static, Log> {
    // A panic while holding the lock cannot leave the log inconsistent (push/pop only).
    LOG.lock().unwrap_or_else(|e| e.into_inner())
}

/// Prints `warning: {msg}` to stderr and records it for [`take_warnings`].
pub fn warn(msg: impl Into<String>) {
    let msg = msg.into();
    eprintln!("warning: {msg}");
    let mut l = log();
    let seq = l.next;
    l.next += 1;
    if l.kept.len() == KEEP {
        l.kept.pop_front();
    }
    l.kept.push_back((seq, msg));
}

/// The warnings recorded since this thread's previous call (at most [`KEEP`], oldest first).
pub fn take_warnings() -> Vec<String> {
    let l = log();
    let from = SEEN.with(|s| s.replace(l.next));
    l.kept
        .iter()
        .filter(|(seq, _)| *seq >= from)
        .map(|(_, m)| m.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_thread_sees_new_warnings_once() {
        let _ = take_warnings();
        warn("warn.rs test: first");
        let got = take_warnings();
        assert!(got.iter().any(|m| m == "warn.rs test: first"), "{got:?}");
        assert!(!take_warnings().iter().any(|m| m == "warn.rs test: first"));
        // A warning raised on another thread is seen here, and that thread sees it too.
        std::thread::spawn(|| {
            warn("warn.rs test: from a worker");
            assert!(take_warnings()
                .iter()
                .any(|m| m == "warn.rs test: from a worker"));
        })
        .join()
        .unwrap();
        assert!(take_warnings()
            .iter()
            .any(|m| m == "warn.rs test: from a worker"));
    }
}
