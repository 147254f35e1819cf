//! The interactive session: [`session::Session`] (testable, no terminal) and
//! [`editor`] (rustyline glue).
pub mod editor;
pub mod session;

pub use session::Session;
