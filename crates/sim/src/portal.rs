//! The Entra admin center's sign-in "Download CSV": what a responder downloads from the
//! sign-in logs blade, one file per tab.
//!
//! Shape, as published by tools that read the real export (bitpusher2k's
//! `ProcessEntraSignInLog.ps1`, 2024, matches its user header exactly; an incident-response
//! toolkit's schema notes, 2026, list the 56-column user header below and the 22-column
//! application header): UTF-8 with a byte-order mark, every cell quoted, display names for
//! columns (`Autonomous system  number` with two spaces, `Application ID ` and `Resource ID `
//! with a trailing space, `Incoming token type` twice), `Date (UTC)` in ISO 8601 with `Z`,
//! `Location` as `City, State, CC`. The application tab has no user, token or session columns
//! and no ASN. The managed identity tab is written as the application tab plus the managed
//! identity columns the user header ends with (an assumption: no public copy of that header was
//! found). Values are the admin center's display text of the Graph `signIn` properties
//! (`Primary Refresh Token`, `Device code flow`, `Multifactor authentication`).
//!
//! The tab is the file name's business only: no column says whether a user sign-in was
//! interactive. What the values do say (a multifactor method the user answered, a refresh
//! token redeemed, a client credential) is written as the admin center writes it, so a reader
//! can tell what can be told.

use tokentrail_model::SignInKind;

use crate::catalog;
use crate::record::{Actor, SignInRec};
use crate::timefmt;

/// The user tabs' header (interactive and non-interactive sign-ins).
const USER_HEADER: [&str; 57] = [
    "Date (UTC)",
    "Request ID",
    "User agent",
    "Correlation ID",
    "User ID",
    "User",
    "Username",
    "User type",
    "Cross tenant access type",
    "Incoming token type",
    "Authentication Protocol",
    "Unique token identifier",
    "Original transfer method",
    "Client credential type",
    "Token Protection - Sign In Session",
    "Token Protection - Sign In Session StatusCode",
    "Application",
    "Application ID ",
    "App owner tenant ID",
    "Resource",
    "Resource ID ",
    "Resource tenant ID",
    "Resource owner tenant ID",
    "Home tenant ID",
    "Home tenant name",
    "IP address",
    "Location",
    "Status",
    "Sign-in error code",
    "Failure reason",
    "Client app",
    "Device ID",
    "Browser",
    "Operating System",
    "Compliant",
    "Managed",
    "Join Type",
    "Multifactor authentication result",
    "Multifactor authentication auth method",
    "Multifactor authentication auth detail",
    "Authentication requirement",
    "Sign-in identifier",
    "Session ID",
    "IP address (seen by resource)",
    "Through Global Secure Access",
    "Global Secure Access IP address",
    "Autonomous system  number",
    "Flagged for review",
    "Token issuer type",
    "Incoming token type",
    "Token issuer name",
    "Latency",
    "Conditional Access",
    "Managed Identity type",
    "Associated Resource Id",
    "Federated Token Id",
    "Federated Token Issuer",
];

/// The application tab's header (service principal sign-ins).
const APP_HEADER: [&str; 22] = [
    "Date (UTC)",
    "Request ID",
    "Correlation ID",
    "Service principal ID",
    "Service principal name",
    "Credential key ID",
    "Credential thumbprint",
    "Application",
    "Application ID ",
    "App owner tenant ID",
    "Resource",
    "Resource ID ",
    "Resource tenant ID",
    "Resource owner tenant ID",
    "Home tenant ID",
    "Home tenant name",
    "IP address",
    "Location",
    "Status",
    "Sign-in error code",
    "Failure reason",
    "Conditional Access",
];

/// The managed identity tab's columns after the application tab's.
const MSI_EXTRA: [&str; 4] = [
    "Managed Identity type",
    "Associated Resource Id",
    "Federated Token Id",
    "Federated Token Issuer",
];

/// The tab (and file name prefix) a sign-in kind is listed under.
pub(crate) fn tab(kind: SignInKind) -> &'static str {
    match kind {
        SignInKind::Interactive | SignInKind::UalLogon => "InteractiveSignIns",
        SignInKind::NonInteractive => "NonInteractiveSignIns",
        SignInKind::ServicePrincipal => "ApplicationSignIns",
        SignInKind::ManagedIdentity => "MSISignIns",
    }
}

/// The header line of a tab's file (byte-order mark and CRLF included).
pub(crate) fn header(kind: SignInKind) -> String {
    let mut line = String::from("\u{feff}");
    let cells: Vec<&str> = match kind {
        SignInKind::ServicePrincipal => APP_HEADER.to_vec(),
        SignInKind::ManagedIdentity => APP_HEADER.iter().chain(&MSI_EXTRA).copied().collect(),
        _ => USER_HEADER.to_vec(),
    };
    push_row(&mut line, &cells);
    line
}

/// One quoted CSV line (CRLF included).
fn push_row(line: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push('"');
        line.push_str(&cell.replace('"', "\"\""));
        line.push('"');
    }
    line.push_str("\r\n");
}

/// The admin center's display text for a Graph enum value the sign-in row holds.
fn display(value: &str) -> &str {
    match value {
        "none" => "None",
        "primaryRefreshToken" => "Primary Refresh Token",
        "refreshToken" => "Refresh Token",
        "deviceCode" => "Device Code",
        "oAuth2" => "OAuth 2.0",
        "deviceCodeFlow" => "Device code flow",
        "clientSecret" => "Client secret",
        "clientAssertion" => "Client assertion",
        "certificate" => "Certificate",
        "managedIdentity" => "Managed identity",
        "federatedIdentityCredential" => "Federated identity credential",
        "bound" => "Bound",
        "unbound" => "Unbound",
        "multiFactorAuthentication" => "Multifactor authentication",
        "singleFactorAuthentication" => "Single-factor authentication",
        other => other,
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

/// One sign-in as a row of its tab's file (CRLF included).
pub(crate) fn row(line: &mut String, r: &SignInRec<'_>) {
    let date = timefmt::iso_z(r.time);
    let id = r.id.to_string();
    let correlation = r.correlation.to_string();
    let uti = r.id.to_uti();
    let tenant = catalog::TENANT_ID.to_string();
    let app_id = r.app.id.to_string();
    let resource_id = r.resource.id.to_string();
    let ip = r.at.ip.to_string();
    let n = r.at.net;
    let location = format!("{}, {}, {}", n.city, n.state, n.country);
    let asn = n.asn.to_string();
    match r.actor {
        Actor::App(sp) => {
            let sp_id = sp.object_id.to_string();
            let key_id = sp.key_id.to_string();
            let mut cells = vec![
                date.as_str(),
                &id,
                &correlation,
                &sp_id,
                sp.app.name,
                &key_id,
                "",
                r.app.name,
                &app_id,
                &tenant,
                r.resource.name,
                &resource_id,
                &tenant,
                &tenant,
                "",
                "",
                &ip,
                &location,
                "Success",
                "0",
                "Other.",
                "Not Applied",
            ];
            if r.kind == SignInKind::ManagedIdentity {
                cells.extend(["System Assigned", "", "", ""]);
            }
            push_row(line, &cells);
        }
        Actor::User(u) => {
            let user_id = u.id.to_string();
            let session = r.session.map(|s| s.to_string()).unwrap_or_default();
            let device = r.device;
            let device_id = device
                .and_then(|d| d.id)
                .map(|g| g.to_string())
                .unwrap_or_default();
            let registered = device.is_some_and(|d| d.id.is_some());
            let (compliant, managed) = match device {
                Some(d) if registered => (yes_no(d.compliant), yes_no(d.managed)),
                _ => ("", ""),
            };
            let interactive = r.kind == SignInKind::Interactive;
            let mfa = r.requirement == "multiFactorAuthentication";
            let (mfa_result, mfa_method) = match (interactive, mfa) {
                (true, true) => ("MFA successfully completed", "Mobile app notification"),
                (false, true) => ("MFA requirement satisfied by claim in the token", ""),
                _ => ("", ""),
            };
            let cells = [
                date.as_str(),
                &id,
                r.user_agent,
                &correlation,
                &user_id,
                &u.name,
                &u.upn,
                "Member",
                "None",
                display(r.incoming),
                display(r.protocol),
                &uti,
                display(r.transfer),
                display(r.credential),
                display(r.binding),
                "0",
                r.app.name,
                &app_id,
                "",
                r.resource.name,
                &resource_id,
                &tenant,
                "",
                &tenant,
                "",
                &ip,
                &location,
                "Success",
                "0",
                "Other.",
                r.client_app_used,
                &device_id,
                device.map_or("", |d| d.browser),
                device.map_or("", |d| d.os),
                compliant,
                managed,
                device.and_then(|d| d.trust).unwrap_or(""),
                mfa_result,
                mfa_method,
                "",
                display(r.requirement),
                if interactive { &u.upn } else { "" },
                &session,
                "",
                "No",
                "",
                &asn,
                "No",
                "Azure AD",
                display(r.incoming),
                "",
                "110",
                "Not Applied",
                "",
                "",
                "",
                "",
            ];
            push_row(line, &cells);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_written_as_the_admin_center_names_them() {
        let h = header(SignInKind::NonInteractive);
        assert!(h.starts_with("\u{feff}\"Date (UTC)\",\"Request ID\","));
        assert!(h.contains("\"Autonomous system  number\""));
        assert!(h.contains("\"Application ID \""));
        assert_eq!(h.matches("\"Incoming token type\"").count(), 2);
        assert!(h.ends_with("\"Federated Token Issuer\"\r\n"));
        assert!(header(SignInKind::ServicePrincipal).contains("\"Credential key ID\""));
        assert!(header(SignInKind::ManagedIdentity).ends_with("\"Federated Token Issuer\"\r\n"));
    }
}
