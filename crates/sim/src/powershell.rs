//! Exports written by Windows PowerShell: the Microsoft Graph PowerShell SDK's sign-in objects
//! saved with `ConvertTo-Json` (`signins=graph-sdk`), and the text encodings PowerShell and
//! .NET write besides UTF-8 (`text=utf-16le-nobom`, `utf-32le`, ...).
//!
//! `Get-MgBetaAuditLogSignIn -All | ConvertTo-Json -Depth 10 | Out-File signins.json` gives
//! one JSON array of the SDK's objects: the typed members of its generated model in
//! PascalCase (`AppId`, `CreatedDateTime`, `IPAddress`, `Status{ErrorCode}`, ...; model
//! classes of microsoftgraph/msgraph-sdk-powershell, `Microsoft.Graph.Beta.PowerShell.Models
//! .MicrosoftGraphSignIn`), and `AdditionalProperties` holding what Graph returned that the
//! model has no member for, keyed as Graph spells it (camelCase). Which properties a given
//! SDK version types differs; here the ones Graph added last (`sessionId`,
//! `originalTransferMethod`, `tokenProtectionStatusDetails`) sit in `AdditionalProperties`.
//! Windows PowerShell 5.1's serializer (.NET `JavaScriptSerializer`) writes a `DateTime` as
//! `"\/Date(ms)\/"`, escapes `<`, `>`, `&` and `'` as `\u003c` ..., puts two blanks after
//! each colon, and indents a nested object's members four columns past where the object
//! starts; lines end in CRLF.

use std::fmt::Write as _;

use tokentrail_model::{SignInKind, Timestamp};

use crate::record::{Actor, SignInRec};
use crate::render::event_type;
use crate::TextEncoding;

/// A value as `ConvertTo-Json` writes it.
enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    /// `"\/Date(ms)\/"`.
    Date(Timestamp),
    Arr(Vec<Value>),
    Obj(Vec<(&'static str, Value)>),
}

fn s(text: impl ToString) -> Value {
    Value::Str(text.to_string())
}

/// A string literal as Windows PowerShell 5.1 escapes it.
fn push_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\'' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Write `v`, which starts at column `at` of its line.
fn write(out: &mut String, v: &Value, at: usize) {
    match v {
        Value::Str(t) => push_str(out, t),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
        Value::Date(t) => {
            let _ = write!(out, "\"\\/Date({})\\/\"", t.micros().div_euclid(1000));
        }
        Value::Arr(items) => {
            if items.is_empty() {
                out.push_str("[\r\n\r\n");
                pad(out, at);
                out.push(']');
                return;
            }
            out.push_str("[\r\n");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\r\n");
                }
                pad(out, at + 4);
                write(out, item, at + 4);
            }
            out.push_str("\r\n");
            pad(out, at);
            out.push(']');
        }
        Value::Obj(members) => {
            out.push_str("{\r\n");
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\r\n");
                }
                pad(out, at + 4);
                let start = out.len();
                push_str(out, k);
                out.push_str(":  ");
                let column = at + 4 + (out.len() - start);
                write(out, item, column);
            }
            out.push_str("\r\n");
            pad(out, at);
            out.push('}');
        }
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// One sign-in as the SDK's object, written as an element of the file's array (at column 4).
pub(crate) fn sign_in_sdk(buf: &mut String, r: &SignInRec<'_>) {
    let n = r.at.net;
    let user = match r.actor {
        Actor::User(u) => Some(u),
        Actor::App(_) => None,
    };
    let (app_id, app_name) = match r.actor {
        Actor::User(_) => (r.app.id, r.app.name),
        Actor::App(sp) => (sp.app.id, sp.app.name),
    };
    let device = match (user, r.device) {
        (None, _) => Value::Obj(vec![
            ("Browser", s("")),
            ("DeviceId", s("")),
            ("DisplayName", s("")),
            ("IsCompliant", Value::Bool(false)),
            ("IsManaged", Value::Bool(false)),
            ("OperatingSystem", s("")),
            ("TrustType", s("")),
        ]),
        (Some(_), d) => Value::Obj(vec![
            ("Browser", s(d.map_or("", |d| d.browser))),
            (
                "DeviceId",
                s(d.and_then(|d| d.id)
                    .map(|g| g.to_string())
                    .unwrap_or_default()),
            ),
            ("DisplayName", s(d.map_or("", |d| d.name.as_str()))),
            (
                "IsCompliant",
                Value::Bool(d.is_some_and(|d| d.id.is_some() && d.compliant)),
            ),
            (
                "IsManaged",
                Value::Bool(d.is_some_and(|d| d.id.is_some() && d.managed)),
            ),
            ("OperatingSystem", s(d.map_or("", |d| d.os))),
            ("TrustType", s(d.and_then(|d| d.trust).unwrap_or_default())),
            ("AdditionalProperties", Value::Obj(Vec::new())),
        ]),
    };
    let status = Value::Obj(vec![
        (
            "AdditionalDetails",
            if r.kind == SignInKind::NonInteractive {
                s("MFA requirement satisfied by claim in the token")
            } else {
                Value::Null
            },
        ),
        ("ErrorCode", Value::Int(0)),
        ("FailureReason", s("Other.")),
        ("AdditionalProperties", Value::Obj(Vec::new())),
    ]);
    let location = Value::Obj(vec![
        ("City", s(n.city)),
        ("CountryOrRegion", s(n.country)),
        (
            "GeoCoordinates",
            Value::Obj(vec![
                ("Altitude", Value::Null),
                ("Latitude", Value::Float(n.lat)),
                ("Longitude", Value::Float(n.lon)),
                ("AdditionalProperties", Value::Obj(Vec::new())),
            ]),
        ),
        ("State", s(n.state)),
        ("AdditionalProperties", Value::Obj(Vec::new())),
    ]);
    let sp = match r.actor {
        Actor::App(sp) => Some(sp),
        Actor::User(_) => None,
    };
    let or_null = |v: Option<String>| v.map_or(Value::Null, Value::Str);
    let members = vec![
        ("AppDisplayName", s(app_name)),
        ("AppId", s(app_id)),
        ("AppliedConditionalAccessPolicies", Value::Arr(Vec::new())),
        ("AuthenticationProtocol", s(r.protocol)),
        ("AuthenticationRequirement", s(r.requirement)),
        ("AutonomousSystemNumber", Value::Int(i64::from(n.asn))),
        ("ClientAppUsed", s(r.client_app_used)),
        ("ClientCredentialType", s(r.credential)),
        ("ConditionalAccessStatus", s("notApplied")),
        ("CorrelationId", s(r.correlation)),
        ("CreatedDateTime", Value::Date(r.time)),
        ("DeviceDetail", device),
        ("HomeTenantId", s(crate::catalog::TENANT_ID)),
        ("IPAddress", s(r.at.ip)),
        ("Id", s(r.id)),
        ("IncomingTokenType", s(r.incoming)),
        (
            "IsInteractive",
            Value::Bool(r.kind == SignInKind::Interactive),
        ),
        ("Location", location),
        ("OriginalRequestId", s(r.id)),
        ("ResourceDisplayName", s(r.resource.name)),
        ("ResourceId", s(r.resource.id)),
        ("ResourceTenantId", s(crate::catalog::TENANT_ID)),
        (
            "ServicePrincipalId",
            s(sp.map(|p| p.object_id.to_string()).unwrap_or_default()),
        ),
        (
            "ServicePrincipalName",
            or_null(sp.map(|p| p.app.name.to_owned())),
        ),
        ("SignInEventTypes", Value::Arr(vec![s(event_type(r.kind))])),
        ("Status", status),
        ("TokenIssuerType", s("AzureAD")),
        ("UniqueTokenIdentifier", s(r.id.to_uti())),
        ("UserAgent", s(r.user_agent)),
        ("UserDisplayName", or_null(user.map(|u| u.name.clone()))),
        ("UserId", or_null(user.map(|u| u.id.to_string()))),
        ("UserPrincipalName", or_null(user.map(|u| u.upn.clone()))),
        ("UserType", s("Member")),
        (
            "AdditionalProperties",
            Value::Obj(vec![
                ("originalTransferMethod", s(r.transfer)),
                (
                    "sessionId",
                    s(r.session.map(|g| g.to_string()).unwrap_or_default()),
                ),
                (
                    "tokenProtectionStatusDetails",
                    Value::Obj(vec![
                        ("signInSessionStatus", s(r.binding)),
                        ("signInSessionStatusCode", Value::Int(0)),
                    ]),
                ),
            ]),
        ),
    ];
    write(buf, &Value::Obj(members), 4);
}

/// How a log file is written in a wide encoding: its byte order mark, and whether a code
/// unit is four bytes (UTF-32) and big-endian. `None` for UTF-8 (written as it is).
pub(crate) struct Wide {
    pub(crate) mark: &'static [u8],
    pub(crate) utf32: bool,
    pub(crate) big_endian: bool,
}

/// The wide encoding of `encoding`. UTF-16 without a mark is what .NET writes with
/// `new UnicodeEncoding(false, false)` (and what is left when a tool strips the mark or
/// cuts a file in parts); UTF-32 with its mark is `Out-File -Encoding UTF32`.
pub(crate) fn wide(encoding: TextEncoding) -> Option<Wide> {
    let (mark, utf32, big_endian): (&'static [u8], bool, bool) = match encoding {
        TextEncoding::Utf8 => return None,
        TextEncoding::Utf16Le => (b"\xff\xfe", false, false),
        TextEncoding::Utf16Be => (b"\xfe\xff", false, true),
        TextEncoding::Utf16LeNoBom => (b"", false, false),
        TextEncoding::Utf16BeNoBom => (b"", false, true),
        TextEncoding::Utf32Le => (b"\xff\xfe\x00\x00", true, false),
        TextEncoding::Utf32Be => (b"\x00\x00\xfe\xff", true, true),
    };
    Some(Wide {
        mark,
        utf32,
        big_endian,
    })
}

impl Wide {
    /// Append `text` in this encoding.
    pub(crate) fn encode(&self, text: &str, out: &mut Vec<u8>) {
        if self.utf32 {
            for c in text.chars() {
                let c = u32::from(c);
                out.extend(if self.big_endian {
                    c.to_be_bytes()
                } else {
                    c.to_le_bytes()
                });
            }
        } else {
            for unit in text.encode_utf16() {
                out.extend(if self.big_endian {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_windows_powershell_writes_them() {
        let mut out = String::new();
        let v = Value::Obj(vec![
            ("Agent", s("a<b>&'c")),
            (
                "CreatedDateTime",
                Value::Date(Timestamp(1_764_583_200_250_999)),
            ),
            ("Empty", Value::Arr(Vec::new())),
            (
                "Status",
                Value::Obj(vec![("ErrorCode", Value::Int(0)), ("X", Value::Null)]),
            ),
            ("Types", Value::Arr(vec![s("interactiveUser")])),
        ]);
        write(&mut out, &v, 4);
        // A member's value starts two blanks past its colon; what it holds is indented four
        // columns past that, its closing bracket at that column.
        let expected = [
            "{",
            "        \"Agent\":  \"a\\u003cb\\u003e\\u0026\\u0027c\",",
            "        \"CreatedDateTime\":  \"\\/Date(1764583200250)\\/\",",
            "        \"Empty\":  [",
            "",
            &format!("{}],", " ".repeat(18)),
            "        \"Status\":  {",
            &format!("{}\"ErrorCode\":  0,", " ".repeat(23)),
            &format!("{}\"X\":  null", " ".repeat(23)),
            &format!("{}}},", " ".repeat(19)),
            "        \"Types\":  [",
            &format!("{}\"interactiveUser\"", " ".repeat(22)),
            &format!("{}]", " ".repeat(18)),
            "    }",
        ]
        .join("\r\n");
        assert_eq!(out, expected);
    }
}
