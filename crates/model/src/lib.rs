//! The normalized vocabulary of tokentrail: sign-ins, accesses, the ids that link them
//! (token `uti`, session `sid`), times, network addresses and the [`Finding`] every rule emits.
//!
//! This crate does no I/O. Decoders in `tokentrail-ingest` produce these types; the engine
//! consumes them; renderers in `tokentrail-report` turn [`Finding`]s into output.

pub mod escape;
pub mod event;
pub mod finding;
pub mod ids;
pub mod ip;
pub mod label;
pub mod operation;
pub mod rule;
pub mod text;
pub mod time;
pub mod unstated_kind;

pub use event::{
    Access, AccessSource, Actor, ClientAuthMethod, Device, Position, SignIn, SignInKind, SourceRef,
    Workload,
};
pub use finding::{
    finding_hash, short_finding_id, AccessEvidence, Confidence, Finding, IssueEvidence, NetworkId,
    Severity, SourceRecord, Suppression, SHORT_ID_CHARS,
};
pub use ids::{Guid, Ident, SessionId, TokenId};
pub use ip::parse_client_ip;
pub use label::{AttackKind, Label};
pub use operation::operation_template;
pub use rule::{Grouping, RuleId, RuleMeta, Technique, T1550_001};
pub use time::Timestamp;
