//! Ctrl-C handling: a process-wide flag set by the signal handler and polled by long native
//! loops (simulators, correlation engine, training). The session survives: the running call
//! returns [`Error::Interrupted`] and the flag is cleared before the next command.
use crate::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

static FLAG: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Installs the SIGINT handler (idempotent). The handler only sets the flag.
pub fn install_handler() {
    INSTALL.call_once(|| {
        // An error here means another handler is installed (e.g. in tests); polling still works.
        let _ = ctrlc::set_handler(|| FLAG.store(true, Ordering::SeqCst));
    });
}

/// True once Ctrl-C was pressed since the last [`clear`].
pub fn requested() -> bool {
    FLAG.load(Ordering::Relaxed)
}

/// Sets the flag (used by tests to simulate Ctrl-C).
pub fn request() {
    FLAG.store(true, Ordering::SeqCst);
}

/// Clears the flag; called before each REPL command / script.
pub fn clear() {
    FLAG.store(false, Ordering::SeqCst);
}

/// Returns `Err(Interrupted)` if Ctrl-C was pressed. `what` names the running computation.
pub fn check(what: &str) -> Result<()> {
    if requested() {
        Err(Error::Interrupted(what.to_string()))
    } else {
        Ok(())
    }
}
