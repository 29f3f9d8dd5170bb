//! Fixture tests of the engine across rules: input order, windows, the allowlist, the ASN
//! database, coverage and networks. Each rule's own cases (the positive case and every benign
//! explanation) are beside the rule, in `src/rules/ttNNN/tests.rs`. One test binary keeps link
//! time down.

#[path = "../common/mod.rs"]
mod common;

mod allowlist;
mod asn_db;
mod issue12_coverage;
mod issue12_layout;
mod issue12_networks;
mod order;
mod window;
