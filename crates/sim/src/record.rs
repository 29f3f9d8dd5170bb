//! The records the generator produces, before they are written in an export's shape. One
//! struct per family holds everything any of that family's shapes needs.

use std::net::IpAddr;

use tokentrail_model::{AccessSource, Guid, SignInKind, Timestamp};

use crate::catalog::App;
use crate::tenant::{Device, Endpoint, ServicePrincipal, User};

/// Who signed in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Actor<'t> {
    /// A user (interactive or non-interactive sign-in).
    User(&'t User),
    /// A service principal or managed identity.
    App(&'t ServicePrincipal),
}

/// One sign-in row.
#[derive(Clone, Debug)]
pub(crate) struct SignInRec<'t> {
    pub(crate) kind: SignInKind,
    pub(crate) id: Guid,
    pub(crate) time: Timestamp,
    pub(crate) actor: Actor<'t>,
    pub(crate) app: App,
    pub(crate) resource: App,
    pub(crate) at: Endpoint,
    pub(crate) device: Option<&'t Device>,
    /// `incomingTokenType`.
    pub(crate) incoming: &'static str,
    /// `authenticationProtocol`.
    pub(crate) protocol: &'static str,
    /// `originalTransferMethod`.
    pub(crate) transfer: &'static str,
    /// `authenticationRequirement`.
    pub(crate) requirement: &'static str,
    /// `clientCredentialType`.
    pub(crate) credential: &'static str,
    /// `tokenProtectionStatusDetails.signInSessionStatus`.
    pub(crate) binding: &'static str,
    pub(crate) session: Option<Guid>,
    pub(crate) correlation: Guid,
    pub(crate) user_agent: &'static str,
    pub(crate) client_app_used: &'static str,
    /// Written twice (the same `Id` on two rows), as Entra sometimes does.
    pub(crate) duplicate: bool,
}

impl SignInRec<'_> {
    /// The log the row belongs to (interactive, non-interactive, ...).
    pub(crate) fn kind_name(&self) -> &'static str {
        self.kind.as_str()
    }
}

/// The token an access presents.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokenUse {
    /// The id of the sign-in that issued the token (the `uti` decodes to it).
    pub(crate) token: Guid,
    pub(crate) session: Option<Guid>,
    pub(crate) issued_at: Timestamp,
}

/// One Microsoft Graph activity log row.
#[derive(Clone, Debug)]
pub(crate) struct GraphRec<'t> {
    pub(crate) time: Timestamp,
    pub(crate) request_id: Guid,
    pub(crate) method: &'static str,
    pub(crate) uri: String,
    pub(crate) status: u16,
    pub(crate) app: App,
    pub(crate) user: Option<&'t User>,
    pub(crate) principal: Option<&'t ServicePrincipal>,
    pub(crate) ip: IpAddr,
    pub(crate) user_agent: &'static str,
    pub(crate) auth_method: u8,
    pub(crate) scopes: &'static str,
    pub(crate) roles: &'static str,
    pub(crate) token: TokenUse,
    pub(crate) device: Option<Guid>,
    pub(crate) response_bytes: u32,
    pub(crate) duration_ms: u32,
}

/// What a UAL record says happened.
#[derive(Clone, Debug)]
pub(crate) enum UalOp<'t> {
    /// Exchange `MailItemsAccessed` (RecordType 50).
    MailItemsAccessed {
        access: &'static str,
        count: u32,
        client_info: &'static str,
        folder: &'static str,
    },
    /// Another Exchange item operation (`Send` RecordType 2, `MoveToDeletedItems` 3).
    ExchangeItem {
        operation: &'static str,
        record_type: u8,
        client_info: &'static str,
        subject: String,
    },
    /// A SharePoint or OneDrive file operation (RecordType 6).
    File {
        operation: &'static str,
        onedrive: bool,
        file: String,
        managed: Option<bool>,
    },
    /// An Entra STS logon (RecordType 15), standing in for an interactive sign-in.
    UserLoggedIn {
        device: Option<&'t Device>,
        session: Guid,
        user_agent: &'static str,
    },
}

/// One Unified Audit Log record.
#[derive(Clone, Debug)]
pub(crate) struct UalRec<'t> {
    pub(crate) id: Guid,
    pub(crate) time: Timestamp,
    pub(crate) user: &'t User,
    pub(crate) ip: IpAddr,
    /// Some clients log `ip:port`.
    pub(crate) port: Option<u16>,
    pub(crate) op: UalOp<'t>,
    pub(crate) app: App,
    pub(crate) resource: App,
    /// `AppAccessContext`; absent on aggregated background records.
    pub(crate) token: Option<TokenUse>,
    pub(crate) device: Option<Guid>,
    pub(crate) user_agent: &'static str,
}

impl UalRec<'_> {
    /// The normalized kind the record is counted as.
    pub(crate) fn kind_name(&self) -> &'static str {
        match &self.op {
            UalOp::MailItemsAccessed { .. } | UalOp::ExchangeItem { .. } => {
                AccessSource::ExchangeAudit.as_str()
            }
            UalOp::File { onedrive: true, .. } => AccessSource::OneDriveAudit.as_str(),
            UalOp::File {
                onedrive: false, ..
            } => AccessSource::SharePointAudit.as_str(),
            UalOp::UserLoggedIn { .. } => SignInKind::UalLogon.as_str(),
        }
    }
}

/// Everything generated for a group of users on one day, written together.
#[derive(Default, Debug)]
pub(crate) struct Batch<'t> {
    pub(crate) sign_ins: Vec<SignInRec<'t>>,
    pub(crate) graph: Vec<GraphRec<'t>>,
    pub(crate) ual: Vec<UalRec<'t>>,
    /// Records delivered late: written after the rest of the batch, out of time order.
    pub(crate) late_graph: Vec<GraphRec<'t>>,
    pub(crate) late_ual: Vec<UalRec<'t>>,
}

impl Batch<'_> {
    /// Put each family in time order (stable, so ties keep generation order); late records
    /// stay behind.
    pub(crate) fn order(&mut self) {
        self.sign_ins.sort_by_key(|r| r.time);
        self.graph.sort_by_key(|r| r.time);
        self.ual.sort_by_key(|r| r.time);
    }

    pub(crate) fn clear(&mut self) {
        self.sign_ins.clear();
        self.graph.clear();
        self.ual.clear();
        self.late_graph.clear();
        self.late_ual.clear();
    }
}
