//! Named points where a debug build stops dead, as `kill -9` would, when `ORGSFAULT` names
//! them: how the tests prove that a process killed between two steps loses or repeats nothing.
//! Release builds compile them away.

/// Aborts the process here when this is a debug build and `ORGSFAULT` is `name`.
pub fn point(name: &str) {
    if cfg!(debug_assertions) && std::env::var("ORGSFAULT").is_ok_and(|fault| fault == name) {
        std::process::abort();
    }
}
