//! Operations read as kinds of request: the ids inside a request path become `{id}`.
//!
//! A Graph activity row's operation is its method and path (`GET /v1.0/users/<id>/messages`),
//! so a tenant's mail sync shows one operation per user. Listed for people (`inspect`), they
//! are one kind of request: [`operation_template`] replaces each path segment (or key inside
//! parentheses, `users('adele@contoso.example')`) that is an id with `{id}`. Ids are GUIDs,
//! user principal names (a segment holding `@`, also percent-encoded), numbers of five digits
//! or more, and long opaque keys (32 characters or more of base64 or hex with at least four
//! digits: Outlook message ids, drive item ids), also as parts of a composite key
//! (`contoso.sharepoint.com,<GUID>,<GUID>`). Words, version segments (`v1.0`), function
//! names (`getOffice365ActiveUserDetail`) and path-addressed items (`root:/Finance:`) stay.

use std::borrow::Cow;

use crate::ids::Guid;

/// What an id becomes.
pub const ID: &str = "{id}";

/// `operation` with every id in its path replaced by `{id}`; unchanged (borrowed) when it has
/// none. Operations without a `/` (UAL operation names) are never changed.
pub fn operation_template(operation: &str) -> Cow<'_, str> {
    if !operation.contains('/') {
        return Cow::Borrowed(operation);
    }
    let segments: Vec<Cow<'_, str>> = operation.split('/').map(segment_template).collect();
    if segments
        .iter()
        .zip(operation.split('/'))
        .all(|(t, s)| t == s)
    {
        return Cow::Borrowed(operation);
    }
    Cow::Owned(segments.join("/"))
}

fn segment_template(segment: &str) -> Cow<'_, str> {
    if is_id(segment) {
        return Cow::Borrowed(ID);
    }
    // A key segment, `users('adele@contoso.example')`, `items(id='...')`, or a composite id
    // without parentheses, `contoso.sharepoint.com,<site GUID>,<web GUID>`.
    let (name, inner) = match segment.strip_suffix(')').and_then(|s| s.split_once('(')) {
        Some((name, inner)) => (Some(name), inner),
        None if segment.contains(',') => (None, segment),
        None => return Cow::Borrowed(segment),
    };
    let mut changed = false;
    let keys: Vec<String> = inner
        .split(',')
        .map(|item| {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (Some(k), v),
                None => (None, item),
            };
            let bare = value.trim().trim_matches(['\'', '"']);
            if is_id(bare) {
                changed = true;
                key.map_or_else(|| ID.to_string(), |k| format!("{k}={ID}"))
            } else {
                item.to_string()
            }
        })
        .collect();
    if !changed {
        return Cow::Borrowed(segment);
    }
    match name {
        Some(name) => Cow::Owned(format!("{name}({})", keys.join(","))),
        None => Cow::Owned(keys.join(",")),
    }
}

/// True for a path segment (or key) that names one object rather than a kind of object.
fn is_id(text: &str) -> bool {
    let text = text.trim();
    // Keys and lists are looked into by the caller.
    if text.is_empty() || text.contains(['(', ')', '\'', '"', ',']) {
        return false;
    }
    if Guid::parse(text).is_some() {
        return true;
    }
    if text.len() > 2 && (text.contains('@') || text.to_ascii_lowercase().contains("%40")) {
        return true;
    }
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    if digits == text.len() {
        return digits >= 5;
    }
    text.len() >= 32
        && digits >= 4
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'+' | b'!'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_paths_become_id() {
        for (operation, template) in [
            (
                "GET /v1.0/users/01f63ff0-b2b5-44df-a663-5ae04c4f78c7/messages/delta",
                "GET /v1.0/users/{id}/messages/delta",
            ),
            (
                "GET /v1.0/users/{01F63FF0-B2B5-44DF-A663-5AE04C4F78C7}/messages",
                "GET /v1.0/users/{id}/messages",
            ),
            (
                "GET /v1.0/users/adele@contoso.example/mailFolders/inbox/messages",
                "GET /v1.0/users/{id}/mailFolders/inbox/messages",
            ),
            (
                "GET /v1.0/users/adele%40contoso.example/events",
                "GET /v1.0/users/{id}/events",
            ),
            (
                "GET /v1.0/users('adele@contoso.example')/messages",
                "GET /v1.0/users({id})/messages",
            ),
            (
                "GET /beta/sites/contoso.sharepoint.com,2c1c1a3f-6b5e-4b6c-9a3e-0f7f5d7c1a2b,8e1d6c38-1a2b-4c3d-9e8f-7a6b5c4d3e2f/drive",
                "GET /beta/sites/contoso.sharepoint.com,{id},{id}/drive",
            ),
            (
                "GET /v1.0/drives/b!X9aZ1/items/01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K/content",
                "GET /v1.0/drives/b!X9aZ1/items/{id}/content",
            ),
            (
                "GET /v1.0/me/messages/AAMkAGI2THVSAAA=AAMkADA1MTQ0ZjE3LTg2AAA=",
                "GET /v1.0/me/messages/{id}",
            ),
            (
                "GET /v1.0/groups/123456/members",
                "GET /v1.0/groups/{id}/members",
            ),
            (
                "PATCH /v1.0/me/drive/items(id='01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K')",
                "PATCH /v1.0/me/drive/items(id={id})",
            ),
        ] {
            assert_eq!(operation_template(operation), template, "{operation}");
        }
    }

    #[test]
    fn words_versions_and_functions_stay() {
        for operation in [
            "MailItemsAccessed",
            "GET /v1.0/me/chats",
            "GET /v1.0/sites/root/drive/root:/Finance:/children",
            "GET /beta/reports/getOffice365ActiveUserDetail(period='D7')",
            "GET /v1.0/reports/2024",
            "POST /v1.0/users/{id}/sendMail",
            "GET /",
            "",
        ] {
            assert!(
                matches!(operation_template(operation), Cow::Borrowed(o) if o == operation),
                "{operation}"
            );
        }
    }

    proptest::proptest! {
        /// Any text: no panic, and a template is its own template.
        #[test]
        fn templates_are_stable(operation in "[A-Z]{0,5} (/[a-zA-Z0-9@%'(),=._{}!+-]{0,40}){0,5}") {
            let once = operation_template(&operation).into_owned();
            proptest::prop_assert_eq!(operation_template(&once).into_owned(), once);
        }
    }
}
