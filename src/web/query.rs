//! `Query<T>`: the query string of a route, read so that a value of the wrong type is a 422
//! naming its parameter (`{"error": {"fields": {"page": ["invalid digit found in string"]}}}`),
//! where actix's own `web::Query` answered 400 with "Query deserialize error: ...".

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A route's query parameters.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Reads `query` as `T`; a bad value is a 422 about its parameter (`query` when none is known).
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let field = match path.as_str() {
            "." | "" => "query",
            path => path,
        };
        AppError::field(field, error.into_inner().to_string())
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(Query))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "only deserialized")]
    struct Params {
        page: Option<u64>,
        q: Option<String>,
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        let error = super::parse::<Params>("q=x&page=abc").unwrap_err();
        let fields = error.into_fields().unwrap();
        assert!(fields.contains_key("page"), "{fields:?}");
        assert!(super::parse::<Params>("page=2&q=%25").is_ok());
        assert!(super::parse::<Params>("").is_ok());
    }
}
