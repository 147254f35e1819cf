//! The interactive session.
