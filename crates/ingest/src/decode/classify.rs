//! What a record is when it is neither a sign-in nor an access: which of the objects that
//! incident-response collectors save beside the logs (Graph security alerts and incidents,
//! devices, Conditional Access policies, named locations, risk detections, users, groups,
//! applications) or a simulated tenant's own files, told from the fields it has.
//!
//! Field names are Microsoft Graph's (`microsoft-graph-docs-contrib`,
//! `api-reference/v1.0/resources/*.md`) as Graph writes them, and as the Graph PowerShell SDK and
//! Microsoft-Extractor-Suite write them (PascalCase, the same names); keys match in any case.

use super::collect::{MarkerSlots, Texts, Val};
use crate::Disposition;

/// The marker fields of one record, or of a CSV file's header.
pub(crate) type Markers = MarkerSlots<'static>;

impl MarkerSlots<'static> {
    /// The markers a CSV header names (columns as lower-cased field names).
    pub(crate) fn of_columns<'c>(columns: impl Iterator<Item = &'c [u8]>) -> Markers {
        let mut m = MarkerSlots::default();
        for column in columns {
            m.set_val(column, "1");
        }
        m
    }
}

/// [`classify`] by the markers of one JSON object's top level (a record that does not read is
/// a record nobody can classify either: it is `unknown`).
pub(crate) fn classify_json(text: &str) -> (Disposition, String) {
    let texts = Texts::default();
    classify(&MarkerSlots::document(text, &texts).unwrap_or_default())
}

/// Why the record is not used and what it is.
pub(crate) fn classify(m: &MarkerSlots<'_>) -> (Disposition, String) {
    let relevant = |kind: &str| (Disposition::NotRelevant, kind.to_owned());
    if let Some(kind) = m.odata_type.as_ref().and_then(Val::str).map(odata_kind) {
        return (Disposition::NotRelevant, kind);
    }
    let has = |v: &Option<Val<'_>>| v.is_some();
    if has(&m.ecs) {
        return (
            Disposition::NotSupported,
            super::elastic::WITHOUT_ORIGINAL.to_owned(),
        );
    }
    if has(&m.expected_rules) && has(&m.token_ids) {
        return relevant("simulator-labels");
    }
    if has(&m.labels_by_kind) || (has(&m.families) && has(&m.seed)) {
        return relevant("simulator-summary");
    }
    if has(&m.risk_event_type) {
        return relevant("risk-detection");
    }
    if has(&m.risk_last_updated) || (has(&m.risk_level) && has(&m.risk_state) && has(&m.upn)) {
        return relevant("risky-user");
    }
    // An alert links to its incident too; only an incident has no alert link.
    if !has(&m.alert_web_url) && (has(&m.incident_web_url) || has(&m.alerts) && has(&m.severity)) {
        return relevant("security-incident");
    }
    let alert_fields = [
        &m.detection_source,
        &m.alert_web_url,
        &m.service_source,
        &m.vendor_information,
        &m.user_states,
        &m.evidence,
    ];
    if has(&m.title) && has(&m.severity) || has(&m.severity) && alert_fields.iter().any(|v| has(v))
    {
        return relevant("security-alert");
    }
    if has(&m.conditions) && (has(&m.grant_controls) || has(&m.session_controls))
        || has(&m.grant_controls) && has(&m.include_users)
    {
        return relevant("conditional-access-policy");
    }
    if has(&m.ip_ranges) || has(&m.countries) {
        return relevant("named-location");
    }
    let device_fields = [
        &m.trust_type,
        &m.last_sign_in,
        &m.registered,
        &m.device_ownership,
        &m.is_compliant,
        &m.device_id,
    ];
    if has(&m.operating_system) && device_fields.iter().any(|v| has(v)) {
        return relevant("device");
    }
    if has(&m.provisioning) {
        return relevant("provisioning-log");
    }
    if has(&m.sign_in_audience) || has(&m.service_principal_type) {
        return relevant("application");
    }
    if has(&m.group_types) || has(&m.security_enabled) {
        return relevant("group");
    }
    if has(&m.upn) && (has(&m.account_enabled) || has(&m.job_title)) {
        return relevant("user");
    }
    (Disposition::NotUnderstood, "unknown".to_owned())
}

/// The kind a Graph `@odata.type` names: `#microsoft.graph.security.alert` is a
/// `security-alert`, `#microsoft.graph.ipNamedLocation` a `named-location`; types not listed
/// keep their name (`graph:educationClass`).
fn odata_kind(odata_type: &str) -> String {
    let name = odata_type
        .trim_start_matches('#')
        .trim_start_matches("microsoft.graph.");
    let kind = match name.to_ascii_lowercase().as_str() {
        "security.alert" | "alert" => "security-alert",
        "security.incident" | "incident" => "security-incident",
        "device" | "manageddevice" => "device",
        "conditionalaccesspolicy" => "conditional-access-policy",
        "ipnamedlocation" | "countrynamedlocation" | "namedlocation" => "named-location",
        "riskdetection" | "serviceprincipalriskdetection" => "risk-detection",
        "riskyuser" | "riskyserviceprincipal" => "risky-user",
        "user" => "user",
        "group" => "group",
        "application" | "serviceprincipal" => "application",
        "directoryaudit" => "directory-audit",
        "signin" => "sign-in-without-sign-in-fields",
        // The older `identityRiskEvent` types: `unfamiliarLocationRiskEvent`, ...
        n if n.ends_with("riskevent") => "risk-detection",
        _ => return format!("graph:{name}"),
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(json: &str) -> (Disposition, String) {
        classify_json(json)
    }

    #[test]
    fn graph_objects_saved_beside_the_logs_are_named() {
        let cases = [
            (
                r#"{"id":"a1","createdDateTime":"2025-01-02T03:04:05Z","title":"Suspicious inbox rule","severity":"medium","detectionSource":"microsoftDefenderForOffice365"}"#,
                "security-alert",
            ),
            (
                r#"{"id":"7","createdDateTime":"2025-01-02T03:04:05Z","displayName":"Multi-stage incident","severity":"high","incidentWebUrl":"https://security.microsoft.com/incidents/7"}"#,
                "security-incident",
            ),
            (
                r#"{"id":"d","deviceId":"d1","displayName":"LAPTOP-1","operatingSystem":"Windows","trustType":"AzureAd","createdDateTime":"2024-05-06T07:08:09Z"}"#,
                "device",
            ),
            (
                r#"{"id":"p","displayName":"Require MFA","createdDateTime":"2024-01-01T00:00:00Z","state":"enabled","conditions":{},"grantControls":{}}"#,
                "conditional-access-policy",
            ),
            (
                r##"{"@odata.type":"#microsoft.graph.ipNamedLocation","id":"n","displayName":"HQ","createdDateTime":"2024-01-01T00:00:00Z","ipRanges":[]}"##,
                "named-location",
            ),
            (
                r#"{"id":"r","riskEventType":"unfamiliarFeatures","activityDateTime":"2025-01-01T00:00:00Z","userId":"u"}"#,
                "risk-detection",
            ),
            (
                r#"{"id":"atk-0001","kind":"session-replay","expected_rules":["TT002"],"token_ids":[]}"#,
                "simulator-labels",
            ),
        ];
        for (json, want) in cases {
            assert_eq!(
                kind(json),
                (Disposition::NotRelevant, want.to_owned()),
                "{json}"
            );
        }
        assert_eq!(
            kind(r#"{"hello":"world"}"#),
            (Disposition::NotUnderstood, "unknown".to_owned())
        );
    }
}
