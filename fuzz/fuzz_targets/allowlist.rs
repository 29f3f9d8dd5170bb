//! The allowlist parser on any text: it never panics, every error names a line of the text,
//! and what it accepts obeys the catch-all rules (some match key, an expiry at most a year
//! after the run).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokentrail_engine::allowlist::{self, MAX_EXPIRY_DAYS};
use tokentrail_model::Timestamp;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap_or_default();
    match allowlist::parse(text, now) {
        Ok(list) => {
            for e in &list.entries {
                let m = &e.matcher;
                assert!(
                    m.app_id.is_some()
                        || m.service_principal_id.is_some()
                        || m.user.is_some()
                        || m.network.is_some()
                        || m.asn.is_some(),
                    "{e:?}"
                );
                assert!(
                    e.expires_at <= now.plus_secs((MAX_EXPIRY_DAYS + 1) * 86_400),
                    "{e:?}"
                );
                for v in [&m.app_id, &m.service_principal_id, &m.user]
                    .into_iter()
                    .flatten()
                {
                    assert!(!v.contains(['*', '?']), "{e:?}");
                }
            }
        }
        Err(errors) => {
            let lines = allowlist::yaml_lines(text).len().max(1);
            for e in &errors {
                assert!(e.line >= 1 && e.line <= lines + 1, "{e:?} in {lines} lines");
            }
        }
    }
});
