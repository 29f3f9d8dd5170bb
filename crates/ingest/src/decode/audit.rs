//! Entra audit log records (Graph `directoryAudit`, Log Analytics `AuditLogs`, diagnostic
//! settings `AuditLogs`).
//!
//! A directory change made with a token names the token's linkable identifiers in
//! `initiatedBy.linkableIdentifiers` (`sessionId`, `deviceId`,
//! `tokenDetails.uniqueTokenIdentifier`, `tokenDetails.issuedAtDateTime`; Graph beta
//! `auditActivityInitiator`, `linkableIdentifiers` and `tokenDetails` resources, and entra-docs
//! `how-to-authentication-track-linkable-identifiers.md`). Such a record is an [`Access`] like
//! a Graph call: an MFA method added, a consent granted or an app registered with a stolen token
//! is evidence of that token's use. A record without them cannot be tied to a token and is
//! counted as a directory change, not used.

use tokentrail_model::{
    parse_client_ip, Access, AccessSource, Actor, SessionId, SourceRef, Timestamp, TokenId,
    Workload,
};

use super::collect::{InitiatedBySlots, Rec};
use super::{id_text, lenient_time, lower, other, owned, owned_id, record_time, text};
use crate::{DecodeError, Decoded, DecodedRecord, Disposition, Shape};

/// Decode an audit record: `main` holds its fields (the row, or `properties`); `env` is the
/// diagnostic-settings envelope when there is one.
pub(super) fn decode(
    main: &Rec<'_>,
    env: Option<&Rec<'_>>,
    source: SourceRef,
) -> Result<DecodedRecord, DecodeError> {
    let by = main
        .initiated_by
        .as_deref()
        .unwrap_or(&InitiatedBySlots::EMPTY);
    let linked = by.linkable.as_ref();
    let details = linked.and_then(|l| l.token_details.as_ref());
    let session = linked
        .and_then(|l| id_text(&l.session_id))
        .and_then(SessionId::parse);
    let token = details
        .and_then(|d| id_text(&d.token_id))
        .and_then(TokenId::parse);
    let operation = text(&main.activity_display_name)
        .or_else(|| text(&main.operation_name))
        .or_else(|| env.and_then(|e| text(&e.operation_name)));
    if session.is_none() && token.is_none() {
        let mut record = other(main, Disposition::NotRelevant, "directory-audit", &None)?;
        if let Decoded::Other(o) = &mut record.event {
            o.operation = operation.map(str::to_owned);
            if o.time.is_none() {
                o.time = env.and_then(|e| text(&e.time)).and_then(Timestamp::parse);
            }
        }
        return Ok(record);
    }
    let empty = None;
    let time = record_time(&[
        ("activityDateTime", &main.activity_date_time),
        ("TimeGenerated", &main.time_generated),
        ("time", env.map_or(&empty, |e| &e.time)),
    ])?;
    let operation = operation.ok_or(DecodeError::Missing("activityDisplayName"))?;
    let mut a = Access::new(
        source,
        AccessSource::DirectoryAudit,
        time,
        operation.to_owned(),
    );
    a.record_id = owned_id(&main.id);
    a.workload = Workload::Other;
    let user = by.user.as_ref();
    let app = by.app.as_ref();
    a.user_id = user.and_then(|u| lower(&u.id));
    a.upn = user.and_then(|u| owned_id(&u.upn));
    a.app_id = app.and_then(|p| lower(&p.app_id));
    a.app_name = app.and_then(|p| owned(&p.display_name));
    a.service_principal_id = app.and_then(|p| lower(&p.sp_id));
    a.actor = if a.user_id.is_some() || a.upn.is_some() {
        Actor::Delegated
    } else if a.service_principal_id.is_some() || a.app_id.is_some() {
        Actor::AppOnly
    } else {
        Actor::Unknown
    };
    a.ip = user
        .and_then(|u| text(&u.ip))
        .or_else(|| app.and_then(|p| text(&p.ip)))
        .or_else(|| env.and_then(|e| text(&e.caller_ip)))
        .and_then(parse_client_ip);
    a.session_id = session;
    a.token_id = token;
    a.token_issued_at = details.and_then(|d| lenient_time(&d.issued_at));
    a.device_id = linked.and_then(|l| owned_id(&l.device_id));
    a.object = main.ext().target_resources.and_then(first_target);
    Ok(DecodedRecord::new(
        Shape::DirectoryAudit,
        Decoded::Access(Box::new(a)),
    ))
}

/// The first target resource's `id` (or `displayName`) in `targetResources`: an array, or
/// (Log Analytics) the array as JSON text in a string.
fn first_target(targets: &str) -> Option<String> {
    let unquoted;
    let targets = if targets.starts_with('"') {
        unquoted = serde_json::from_str::<String>(targets).ok()?;
        unquoted.as_str()
    } else {
        targets
    };
    let mut first = None;
    let texts = super::collect::Texts::default();
    let _ = super::collect::each_element(targets, &mut |element| {
        if first.is_none() {
            first = super::collect::IdentitySlots::document(element, &texts)
                .ok()
                .and_then(|t| owned(&t.id).or_else(|| owned(&t.display_name)));
        }
    });
    first
}
