//! The crate's error type. Every variant says what went wrong and, where possible, how to fix it.
//! The engine turns these into catchable Rhai runtime errors carrying the script position.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad argument or option value: the message names it and the fix.
    #[error("{0}")]
    Invalid(String),
    /// Arrays whose shapes do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// Ctrl-C was pressed while a long computation ran.
    #[error("interrupted (Ctrl-C) during {0}; nothing was written")]
    Interrupted(String),
    /// NaN or a blow-up during a simulation or training.
    #[error("numerical blow-up: {0}")]
    BlowUp(String),
    /// A request that would allocate more than the memory budget ([`crate::budget`]): the
    /// message says what was asked, the budget and how to raise it.
    #[error("{0}")]
    OverBudget(String),
    /// A file could not be read or written.
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }
    pub fn shape(msg: impl Into<String>) -> Self {
        Error::Shape(msg.into())
    }
    pub fn io(path: impl AsRef<std::path::Path>, err: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            msg: err.to_string(),
        }
    }
}
