//! Form and JSON input: validator errors turned into field -> messages, for the form page
//! (status 200, like Django) or a 422 JSON answer.

use validator::{ValidationErrors, ValidationErrorsKind};

use crate::error::{AppError, FieldErrors};

/// Field -> messages from a validator result.
pub fn field_errors(errors: &ValidationErrors) -> FieldErrors {
    let mut fields = FieldErrors::new();
    for (field, kind) in errors.errors() {
        if let ValidationErrorsKind::Field(list) = kind {
            let messages = list
                .iter()
                .map(|e| match &e.message {
                    Some(message) => message.to_string(),
                    None => format!("is not valid ({})", e.code),
                })
                .collect();
            fields.insert(field.to_string(), messages);
        }
    }
    fields
}

/// Adds one message to a field.
pub fn add(fields: &mut FieldErrors, field: &str, message: impl Into<String>) {
    fields
        .entry(field.to_string())
        .or_default()
        .push(message.into());
}

/// A 422 for the API from field errors.
pub fn invalid(fields: FieldErrors) -> AppError {
    let message = fields
        .iter()
        .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
        .collect::<Vec<_>>()
        .join("; ");
    AppError::Invalid { message, fields }
}
