//! The HTML side: Tera templates built into the binary, page rendering with the base context,
//! flash messages, form errors and error pages.

pub mod client;
pub mod errors;
pub mod flash;
pub mod forms;
pub mod pagination;
pub mod render;
pub mod templates;

pub use render::{Page, render};
