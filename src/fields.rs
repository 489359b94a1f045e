//! Errors about one input field: the field is data, and the message (the error's `Display`)
//! reads without it, so nothing has to cut a field's name out of a text. Below every domain
//! module, which implement it; `crate::error` turns such an error into a 422 naming the field.

/// A domain error that may be about one input field.
pub trait FieldError: std::error::Error {
    /// The input field the error is about, if any.
    fn field(&self) -> Option<&'static str>;

    /// `field: message`, or the message alone: for the command line and logs.
    fn described(&self) -> String {
        match self.field() {
            Some(field) => format!("{field}: {self}"),
            None => self.to_string(),
        }
    }
}
