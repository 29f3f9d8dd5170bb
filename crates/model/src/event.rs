//! The two normalized event kinds: a [`SignIn`] issues a token inside a session; an [`Access`]
//! uses a token against a workload. Every event keeps where it came from ([`SourceRef`]) so a
//! finding can cite it.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::ids::{Guid, SessionId, TokenId};
use crate::time::Timestamp;

/// Where a record was read: the file (with `!member` for archive members, `-` for stdin) and its
/// position there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceRef {
    /// Path as given on the command line, or `archive.zip!member.json`, or `-`.
    pub file: Arc<str>,
    /// Line or element index inside the file.
    pub position: Position,
}

/// A record's position inside its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// 1-based line where the record starts (JSON lines, CSV).
    Line(u64),
    /// 0-based index of the record in a JSON array or envelope.
    Index(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(n) => write!(f, "line {n}"),
            Position::Index(n) => write!(f, "record {n}"),
        }
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Position::Line(n) => write!(f, "{}:{n}", self.file),
            Position::Index(n) => write!(f, "{}#{n}", self.file),
        }
    }
}

impl SourceRef {
    /// Read back the display form (`file:line`, `file#index`): the separator is the last `:`
    /// or `#` followed by digits only, so file names may hold either.
    pub fn parse(text: &str) -> Option<SourceRef> {
        let at = text.rfind([':', '#'])?;
        let n: u64 = text.get(at + 1..)?.parse().ok()?;
        if !text[at + 1..].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let position = if text.as_bytes()[at] == b':' {
            Position::Line(n)
        } else {
            Position::Index(n)
        };
        Some(SourceRef {
            file: Arc::from(&text[..at]),
            position,
        })
    }
}

/// The kind of sign-in row. Entra writes four; UAL `UserLoggedIn` records are a fifth source of
/// issuance evidence when sign-in logs are missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignInKind {
    /// `SigninLogs` / `SignInLogs`: the user was present.
    Interactive,
    /// `AADNonInteractiveUserSignInLogs`: refresh-token or PRT redemption, silent sign-in.
    NonInteractive,
    /// `AADServicePrincipalSignInLogs`: an app with its own credentials.
    ServicePrincipal,
    /// `AADManagedIdentitySignInLogs`.
    ManagedIdentity,
    /// A UAL `UserLoggedIn` (RecordType 15) record standing in for a sign-in row.
    UalLogon,
}

impl SignInKind {
    /// The stable name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SignInKind::Interactive => "interactive",
            SignInKind::NonInteractive => "non-interactive",
            SignInKind::ServicePrincipal => "service-principal",
            SignInKind::ManagedIdentity => "managed-identity",
            SignInKind::UalLogon => "ual-logon",
        }
    }

    /// Read back [`SignInKind::as_str`].
    pub fn parse(text: &str) -> Option<SignInKind> {
        [
            SignInKind::Interactive,
            SignInKind::NonInteractive,
            SignInKind::ServicePrincipal,
            SignInKind::ManagedIdentity,
            SignInKind::UalLogon,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }

    /// True for kinds that act for a user (interactive, non-interactive, UAL logon).
    pub fn is_user(self) -> bool {
        matches!(
            self,
            SignInKind::Interactive | SignInKind::NonInteractive | SignInKind::UalLogon
        )
    }
}

impl fmt::Display for SignInKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The device as the sign-in (or access) record describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Device {
    /// Entra device id; empty ids are `None`.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Operating system as logged.
    pub os: Option<String>,
    /// Browser as logged.
    pub browser: Option<String>,
    /// Entra marks the device managed (Intune / hybrid joined).
    pub is_managed: Option<bool>,
    /// Entra marks the device compliant.
    pub is_compliant: Option<bool>,
    /// `trustType`: `Azure AD joined`, `Hybrid Azure AD joined`, `Azure AD registered`, ...
    pub trust_type: Option<String>,
}

/// One sign-in row: it issued one token (`token_id`) inside one session (`session_id`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignIn {
    /// Where the row was read.
    pub source: SourceRef,
    /// The sign-in's `id` (for UAL logons, the record `Id`); the `uti` of the token it issued
    /// decodes to this GUID.
    pub id: Option<Guid>,
    /// Which of the sign-in logs this row belongs to.
    pub kind: SignInKind,
    /// `createdDateTime` in UTC.
    pub time: Timestamp,
    /// User object id (lower-case GUID text as logged).
    pub user_id: Option<String>,
    /// User principal name.
    pub upn: Option<String>,
    /// Client application id (lower-case).
    pub app_id: Option<String>,
    /// Client application display name.
    pub app_name: Option<String>,
    /// Resource (audience) id.
    pub resource_id: Option<String>,
    /// Resource display name.
    pub resource_name: Option<String>,
    /// Service principal object id (service principal and managed identity sign-ins).
    pub service_principal_id: Option<String>,
    /// Service principal display name.
    pub service_principal_name: Option<String>,
    /// The IP address the sign-in was made from, as logged.
    pub ip: Option<IpAddr>,
    /// `autonomousSystemNumber` logged with the IP.
    pub asn: Option<u32>,
    /// Country or region code from the location detail.
    pub country: Option<String>,
    /// Device detail.
    pub device: Device,
    /// `status.errorCode` / `ResultType`; 0 is success.
    pub error_code: Option<i64>,
    /// `isInteractive` as logged (the kind is authoritative; this is kept for evidence).
    pub is_interactive: Option<bool>,
    /// `incomingTokenType`, normalized to the enum spelling (`primaryRefreshToken`, ...).
    pub incoming_token_type: Option<String>,
    /// `authenticationProtocol` (`oAuth2`, `ropc`, `deviceCode`, ...).
    pub auth_protocol: Option<String>,
    /// `originalTransferMethod` (`deviceCodeFlow`, `authenticationTransfer`).
    pub transfer_method: Option<String>,
    /// `authenticationRequirement` (`singleFactorAuthentication`, `multiFactorAuthentication`).
    pub auth_requirement: Option<String>,
    /// `clientCredentialType` (`none`, `clientSecret`, `certificate`, `clientAssertion`, ...):
    /// anything but none marks a confidential client.
    pub client_credential_type: Option<String>,
    /// `tokenProtectionStatusDetails.signInSessionStatus` (`bound`, `unbound`).
    pub token_protection: Option<String>,
    /// `uniqueTokenIdentifier`.
    pub token_id: Option<TokenId>,
    /// `sessionId`.
    pub session_id: Option<SessionId>,
    /// `originalRequestId`.
    pub original_request_id: Option<Guid>,
    /// `correlationId`: client-supplied, kept for evidence, never used as a key.
    pub correlation_id: Option<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `isThroughGlobalSecureAccess`: the sign-in came through Microsoft's Global Secure
    /// Access edge, so `ip` is the edge's address and `global_secure_access_ip` the client's.
    pub through_global_secure_access: Option<bool>,
    /// `globalSecureAccessIpAddress`: the address the sign-in was initiated from when it came
    /// through Global Secure Access.
    pub global_secure_access_ip: Option<IpAddr>,
    /// `ipAddressFromResourceProvider` (the admin center's "IP address (seen by resource)"):
    /// the address the resource (Exchange, SharePoint) saw; often absent.
    pub resource_ip: Option<IpAddr>,
    /// `sessionLifetimePolicies[].expirationRequirement`, comma-separated in logged order
    /// (`signInFrequencyPeriodicReauthentication`, ...): why the user had to sign in again.
    pub session_lifetime_policies: Option<String>,
    /// `agent.agentType` when it is not `notAgentic`: an AI agent identity signed in
    /// (`agenticApp`, `agenticAppInstance`, `agentIDuser`, ...).
    pub agent_type: Option<String>,
    /// The export does not say whether the sign-in was interactive (the Entra admin center's
    /// CSV): `kind` is the reader's assumption (non-interactive), and the sign-in may have been
    /// a session's interactive root.
    pub kind_assumed: bool,
}

impl SignIn {
    /// An empty sign-in of `kind` at `time`, read from `source`; decoders fill the rest.
    pub fn new(source: SourceRef, kind: SignInKind, time: Timestamp) -> SignIn {
        SignIn {
            source,
            id: None,
            kind,
            time,
            user_id: None,
            upn: None,
            app_id: None,
            app_name: None,
            resource_id: None,
            resource_name: None,
            service_principal_id: None,
            service_principal_name: None,
            ip: None,
            asn: None,
            country: None,
            device: Device::default(),
            error_code: None,
            is_interactive: None,
            incoming_token_type: None,
            auth_protocol: None,
            transfer_method: None,
            auth_requirement: None,
            client_credential_type: None,
            token_protection: None,
            token_id: None,
            session_id: None,
            original_request_id: None,
            correlation_id: None,
            user_agent: None,
            through_global_secure_access: None,
            global_secure_access_ip: None,
            resource_ip: None,
            session_lifetime_policies: None,
            agent_type: None,
            kind_assumed: false,
        }
    }

    /// True when the sign-in succeeded (error code 0 or not logged).
    pub fn succeeded(&self) -> bool {
        self.error_code.unwrap_or(0) == 0
    }

    /// The token this sign-in issued: its logged `uti` when present, otherwise its `id`.
    pub fn issued_token(&self) -> Option<TokenId> {
        self.token_id
            .clone()
            .or_else(|| self.id.map(TokenId::from_guid))
    }
}

/// The log an access record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessSource {
    /// A Microsoft Graph activity log row.
    GraphActivity,
    /// A UAL record from Exchange (RecordType 2, 3, 50, ...).
    ExchangeAudit,
    /// A UAL record from SharePoint (RecordType 4, 6, ...).
    SharePointAudit,
    /// A UAL record from OneDrive (RecordType 7, ...).
    OneDriveAudit,
    /// A UAL record from Microsoft Teams (RecordType 25).
    TeamsAudit,
    /// An Entra audit log record (`directoryAudit`, `AuditLogs`) whose initiator names the
    /// session or token it acted with: a change to the directory made with a token.
    DirectoryAudit,
}

impl AccessSource {
    /// The stable name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessSource::GraphActivity => "graph-activity",
            AccessSource::ExchangeAudit => "exchange-audit",
            AccessSource::SharePointAudit => "sharepoint-audit",
            AccessSource::OneDriveAudit => "onedrive-audit",
            AccessSource::TeamsAudit => "teams-audit",
            AccessSource::DirectoryAudit => "directory-audit",
        }
    }
}

impl fmt::Display for AccessSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The workload an access touched, as far as the record tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// Mail, calendar, contacts (Exchange, Outlook REST, Graph `/messages`, `/mailFolders`, ...).
    Mail,
    /// Files and sites (SharePoint, OneDrive, Graph `/drives`, `/sites`, ...).
    Files,
    /// Teams chats and channels.
    Teams,
    /// Anything else (directory reads, `/me`, ...).
    Other,
}

impl Workload {
    /// True for the workloads AN0959 is about: mail and files.
    pub fn is_mail_or_files(self) -> bool {
        matches!(self, Workload::Mail | Workload::Files)
    }

    /// The stable name used in reports and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Workload::Mail => "mail",
            Workload::Files => "files",
            Workload::Teams => "teams",
            Workload::Other => "other",
        }
    }
}

/// Who the token acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Actor {
    /// A token acting for a signed-in user.
    Delegated,
    /// A service principal with its own credentials, no user.
    AppOnly,
    /// The record does not say.
    Unknown,
}

/// Graph `ClientAuthMethod`: how the client proved itself when getting the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientAuthMethod {
    /// 0: public client, no secret.
    PublicClient,
    /// 1: client secret.
    Secret,
    /// 2: certificate.
    Certificate,
}

impl ClientAuthMethod {
    /// From the logged code (0, 1, 2).
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(ClientAuthMethod::PublicClient),
            1 => Some(ClientAuthMethod::Secret),
            2 => Some(ClientAuthMethod::Certificate),
            _ => None,
        }
    }

    /// True for a confidential client (secret or certificate).
    pub fn is_confidential(self) -> bool {
        !matches!(self, ClientAuthMethod::PublicClient)
    }
}

/// One use of a token against a workload: a Graph activity row or a UAL record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Access {
    /// Where the record was read.
    pub source: SourceRef,
    /// Which log it came from.
    pub log: AccessSource,
    /// UAL `Id` or Graph `RequestId`.
    pub record_id: Option<String>,
    /// When the access happened (UAL `CreationTime`, Graph `TimeGenerated`).
    pub time: Timestamp,
    /// The workload touched.
    pub workload: Workload,
    /// Delegated or app-only.
    pub actor: Actor,
    /// User object id (lower-case), when logged (`UserId` in Graph, `TokenObjectId` /
    /// `UserKey` / `UserObjectId` in UAL).
    pub user_id: Option<String>,
    /// User principal name (UAL `UserId`).
    pub upn: Option<String>,
    /// Service principal object id (app-only Graph rows).
    pub service_principal_id: Option<String>,
    /// Client application id (lower-case).
    pub app_id: Option<String>,
    /// Client application display name.
    pub app_name: Option<String>,
    /// The API or resource app id the token was for (`AppAccessContext.APIId`, Exchange
    /// `AppId`).
    pub resource_id: Option<String>,
    /// Client IP, port stripped.
    pub ip: Option<IpAddr>,
    /// `UserAgent` or `ClientInfoString`.
    pub user_agent: Option<String>,
    /// Graph `ClientAuthMethod`.
    pub client_auth_method: Option<ClientAuthMethod>,
    /// `DeviceId` / `C_DeviceId`: a claim inside the token, so it travels with a stolen token.
    pub device_id: Option<String>,
    /// SharePoint `IsManagedDevice`.
    pub is_managed_device: Option<bool>,
    /// Session id (`SessionId`, `C_Sid`, `AppAccessContext.AADSessionId`).
    pub session_id: Option<SessionId>,
    /// Token id (`SignInActivityId`, `AppAccessContext.UniqueTokenId`).
    pub token_id: Option<TokenId>,
    /// When the token was issued (`TokenIssuedAt`, `C_Iat`, `AppAccessContext.IssuedAtTime`).
    pub token_issued_at: Option<Timestamp>,
    /// UAL `Operation`, or Graph `METHOD` plus the request path.
    pub operation: String,
    /// What was touched: Graph request URI, file URL or name, mailbox owner.
    pub object: Option<String>,
    /// How many operations the record stands for (`OperationCount`, default 1).
    pub count: u64,
    /// MailItemsAccessed `MailAccessType` (`Bind`, `Sync`).
    pub mail_access_type: Option<String>,
    /// Graph `ResponseStatusCode`.
    pub status_code: Option<u16>,
    /// Graph delegated `Scopes`.
    pub scopes: Option<String>,
    /// Graph app `Roles`.
    pub roles: Option<String>,
}

impl Access {
    /// An empty access from `log` at `time`, read from `source`; decoders fill the rest.
    pub fn new(source: SourceRef, log: AccessSource, time: Timestamp, operation: String) -> Access {
        Access {
            source,
            log,
            record_id: None,
            time,
            workload: Workload::Other,
            actor: Actor::Unknown,
            user_id: None,
            upn: None,
            service_principal_id: None,
            app_id: None,
            app_name: None,
            resource_id: None,
            ip: None,
            user_agent: None,
            client_auth_method: None,
            device_id: None,
            is_managed_device: None,
            session_id: None,
            token_id: None,
            token_issued_at: None,
            operation,
            object: None,
            count: 1,
            mail_access_type: None,
            status_code: None,
            scopes: None,
            roles: None,
        }
    }
}
