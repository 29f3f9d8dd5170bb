//! Token ids follow the real encoding: 22 characters of base64url that decode (as a
//! little-endian GUID) to the `Id` of the sign-in that issued the token.

mod common;

use std::collections::BTreeSet;

use tokentrail_model::{Guid, TokenId};

fn is_base64url(s: &str) -> bool {
    s.len() == 22
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[test]
fn unique_token_identifier_decodes_to_the_sign_in_id() {
    let (dir, _) = common::run(8, 1, 11, "");
    let mut rows = 0;
    let mut sign_in_ids = BTreeSet::new();
    for table in [
        "SigninLogs",
        "AADNonInteractiveUserSignInLogs",
        "AADServicePrincipalSignInLogs",
        "AADManagedIdentitySignInLogs",
    ] {
        let text = std::fs::read_to_string(dir.path().join(format!("signins/la/{table}.jsonl")))
            .expect("table file");
        for line in text.lines() {
            let row: serde_json::Value = serde_json::from_str(line).expect("row");
            let id = Guid::parse(row["Id"].as_str().expect("Id")).expect("Id is a GUID");
            let uti = row["UniqueTokenIdentifier"].as_str().expect("uti");
            assert!(is_base64url(uti), "{uti}");
            assert_eq!(TokenId::parse(uti), Some(TokenId::from_guid(id)));
            assert_eq!(row["Type"], table);
            sign_in_ids.insert(id);
            rows += 1;
        }
    }
    assert!(rows > 100, "only {rows} sign-in rows");

    // Graph activity rows carry the same encoding, and most name a logged sign-in (the rest
    // are first-party activity with no sign-in row and the orphan-token attack).
    let text =
        std::fs::read_to_string(dir.path().join("graph/la/MicrosoftGraphActivityLogs.jsonl"))
            .expect("graph file");
    let (mut linked, mut total) = (0, 0);
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("row");
        let uti = row["SignInActivityId"].as_str().expect("SignInActivityId");
        assert!(is_base64url(uti), "{uti}");
        let token = TokenId::parse(uti)
            .and_then(|t| t.0.guid())
            .expect("decodes");
        total += 1;
        if sign_in_ids.contains(&token) {
            linked += 1;
        }
    }
    assert!(
        total > 50 && linked * 10 > total * 8,
        "{linked} of {total} linked"
    );
}
