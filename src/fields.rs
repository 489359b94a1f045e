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

/// Messages per input field: what a form shows beside its fields and a 422 names.
pub type FieldErrors = std::collections::BTreeMap<String, Vec<String>>;

/// `field: messages; ...`: every field's messages in one line, for a 422's message and logs.
pub fn summary(fields: &FieldErrors) -> String {
    fields
        .iter()
        .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
        .collect::<Vec<_>>()
        .join("; ")
}
