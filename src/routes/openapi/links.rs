//! OpenAPI links: from the answer of each creating `POST` to the operations on what it made.

use utoipa::openapi::{Paths, RefOr};

/// Where what a `POST` creates lives, when not under its own path: an invitation made through
/// the people list.
const CREATED_ELSEWHERE: &[(&str, &str)] =
    &[("/o/{slug}/api/v1/people/", "/o/{slug}/api/v1/invitations/")];

/// OpenAPI links from each creating `POST`'s 201 to the operations on what it made (the
/// paths below the collection with one more parameter: `{id}`, `{key}`), so that a client (and
/// schemathesis' stateful runs) can follow them: the parameter from the answer's body, the
/// slug from the request's path.
pub(super) fn add_links(paths: &mut Paths) {
    let operations: Vec<(String, String, String)> = paths
        .paths
        .iter()
        .flat_map(|(path, item)| {
            [
                ("get", &item.get),
                ("patch", &item.patch),
                ("delete", &item.delete),
                ("post", &item.post),
            ]
            .into_iter()
            .filter_map(|(method, op)| {
                let id = op.as_ref()?.operation_id.clone()?;
                Some((path.clone(), method.to_string(), id))
            })
        })
        .collect();
    let creators: Vec<String> = paths.paths.keys().cloned().collect();
    for collection in creators {
        let Some(post) = paths
            .paths
            .get_mut(&collection)
            .and_then(|item| item.post.as_mut())
        else {
            continue;
        };
        let Some(RefOr::T(created)) = post.responses.responses.get_mut("201") else {
            continue;
        };
        let home = CREATED_ELSEWHERE
            .iter()
            .find(|(from, _)| *from == collection)
            .map_or(collection.as_str(), |(_, to)| to);
        for (path, method, operation_id) in &operations {
            let Some(rest) = path.strip_prefix(home).and_then(|r| r.strip_prefix('{')) else {
                continue;
            };
            let Some((parameter, _)) = rest.split_once('}') else {
                continue;
            };
            let field = if parameter == "key" { "key" } else { "id" };
            let mut link = utoipa::openapi::link::LinkBuilder::new()
                .operation_id(operation_id.as_str())
                .parameter(parameter, format!("$response.body#/{field}"))
                .description(format!("{} {path}", method.to_uppercase()));
            if path.contains("{slug}") {
                link = link.parameter("slug", "$request.path.slug");
            }
            created
                .links
                .insert(operation_id.clone(), RefOr::T(link.build()));
        }
    }
}
