//! Fixture tests of the engine: per rule the positive case and every benign explanation, input
//! order, the allowlist and the ASN database. One test binary keeps link time down.

#[path = "../common/mod.rs"]
mod common;

/// Snapshot `value` as JSON under `crates/engine/tests/snapshots/<name>.snap`.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_json_snapshot!($name, $value);
        })
    };
}

mod allowlist;
mod asn_db;
mod issue12_coverage;
mod issue12_layout;
mod issue12_networks;
mod order;
mod tt001;
mod tt002;
mod tt003;
mod tt004;
mod tt005;
mod window;
