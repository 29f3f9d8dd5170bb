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
pub mod time;

pub use event::{
    Access, AccessSource, Actor, ClientAuthMethod, Device, Position, SignIn, SignInKind, SourceRef,
    Workload,
};
pub use finding::{
    short_finding_id, AccessEvidence, Confidence, Finding, IssueEvidence, NetworkId, RuleId,
    Severity, SourceRecord, Suppression, Technique, SHORT_ID_CHARS,
};
pub use ids::{Guid, Ident, SessionId, TokenId};
pub use ip::parse_client_ip;
pub use label::{AttackKind, Label};
pub use operation::operation_template;
pub use time::Timestamp;
