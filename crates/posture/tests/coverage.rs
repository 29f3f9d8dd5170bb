//! Coverage: exact completeness and joins on a hand-built fixture, and the rule verdicts on a
//! simulated tenant with one log family removed at a time.

mod common;

use std::cell::RefCell;
use std::path::PathBuf;

use tokentrail_engine::coverage::Family;
use tokentrail_model::{AccessSource, RuleId, SignInKind};
use tokentrail_posture::coverage::{AccessFields, SignInFields};
use tokentrail_posture::{
    render, CoverageBuilder, CoverageOptions, CoverageReport, Share, Verdict,
};

fn share(count: u64, of: u64) -> Share {
    Share { count, of }
}

fn fixture_report() -> CoverageReport {
    let mut b = CoverageBuilder::new(CoverageOptions::default());
    // Accesses first: the join rates must not depend on the order records arrive in.
    for a in common::accesses() {
        b.add_access(&a);
    }
    for s in common::sign_ins() {
        b.add_sign_in(&s);
    }
    b.finish(common::fixture_run())
}

#[test]
fn completeness_and_joins_are_exact_on_the_fixture() {
    let r = fixture_report();
    assert_eq!(
        r.completeness.accesses,
        AccessFields {
            token_id: share(5, 6),
            session_id: share(3, 6),
            ip: share(5, 6),
            app_id: share(5, 6),
            token_issued_at: share(2, 5),
            linkable: share(6, 6),
        }
    );
    // Interactive and non-interactive sign-ins, the duplicate row not counted.
    assert_eq!(
        r.completeness.sign_ins,
        SignInFields {
            session_id: share(4, 4),
            asn: share(2, 4),
            device_id: share(2, 4),
        }
    );
    // Tokens: a1, a2, a3 issued by s1, s2, s3; a4's token by no sign-in. The app-only a6 and
    // the token-less a5 are not considered.
    assert_eq!(r.joins.token_to_sign_in, share(3, 4));
    // Sessions: a1 (own, session 1), a2 (inherited from s2, session 1), a3 (session 2, no
    // root), a5 (session 3, whose interactive sign-in failed).
    assert_eq!(r.joins.session_to_interactive_root, share(2, 4));

    let fam = |f| r.family(f).unwrap();
    let interactive = fam(Family::SignIn(SignInKind::Interactive));
    assert_eq!((interactive.records, interactive.duplicates), (2, 1));
    let graph = fam(Family::Access(AccessSource::GraphActivity));
    assert_eq!((graph.records, graph.duplicates), (3, 1));
    assert_eq!(
        graph.access_fields.unwrap().session_id,
        share(1, 3),
        "only a1 of the Graph rows names its session"
    );
    assert!(!r.present(Family::SignIn(SignInKind::ManagedIdentity)));
    assert!(!r.present(Family::Access(AccessSource::OneDriveAudit)));
    assert!(r.present(Family::Access(AccessSource::SharePointAudit)));
    // 2024-03-04 08:00 to 09:30: first to last interactive sign-in.
    assert_eq!(interactive.span_secs, 90 * 60);
    assert!(!interactive.retention_met);
}

#[test]
fn a_silence_far_below_the_logs_own_rate_is_a_hole() {
    let mut b = CoverageBuilder::new(CoverageOptions {
        retention_target_days: 1,
        ..CoverageOptions::default()
    });
    // Interactive sign-ins every 10 minutes for three days, except one 9-hour stretch on the
    // first: the same hours of the other two days say 54 records belong there.
    let mut n = 0u128;
    for step in 0..(3 * 24 * 6) {
        let mins = step * 10;
        if (600..1140).contains(&mins) {
            continue;
        }
        n += 1;
        let mut s = tokentrail_model::SignIn::new(
            common::sign_ins()[0].source.clone(),
            SignInKind::Interactive,
            common::at(mins),
        );
        s.id = Some(common::guid(n));
        b.add_sign_in(&s);
    }
    let r = b.finish(common::fixture_run());
    let f = r.family(Family::SignIn(SignInKind::Interactive)).unwrap();
    assert_eq!(f.median_interval_secs, Some(600));
    let gap = f.largest_gap.unwrap();
    assert_eq!(
        (gap.from, gap.to, gap.secs),
        (common::at(590), common::at(1140), 550 * 60)
    );
    assert_eq!(f.hole_count, 1);
    let hole = f.holes[0];
    assert_eq!((hole.stretch.start, hole.stretch.end), (gap.from, gap.to));
    assert_eq!(hole.evidence.expected_records, Some(55));
    assert_eq!(hole.evidence.unmatched_tokens, None);
    assert_eq!(f.quiet_count, 0);
    assert_eq!(f.covered.len(), 2);
    assert_eq!(
        f.days_with_records, 4,
        "08:00 on day one to 07:50 on day four"
    );
    assert!(f.retention_met);
    assert_eq!(f.covered_secs, f.span_secs - gap.secs);
}

#[test]
fn quiet_nights_of_a_small_office_are_no_holes() {
    // A weekday of office hours (08:00-18:00, a sign-in every 15 minutes), then the night, then
    // the next day: the night is quiet, not missing (the same hours of the other night are
    // empty too).
    let mut b = CoverageBuilder::new(CoverageOptions::default());
    let mut n = 0u128;
    for day in 0..3 {
        for q in 0..40 {
            n += 1;
            let mut s = tokentrail_model::SignIn::new(
                common::sign_ins()[0].source.clone(),
                SignInKind::Interactive,
                common::at(day * 24 * 60 + q * 15),
            );
            s.id = Some(common::guid(1000 + n));
            b.add_sign_in(&s);
        }
    }
    let r = b.finish(common::fixture_run());
    let f = r.family(Family::SignIn(SignInKind::Interactive)).unwrap();
    assert_eq!(f.hole_count, 0, "{:#?}", f.holes);
    assert_eq!(f.quiet_count, 2);
    assert_eq!(f.covered.len(), 1);
    assert_eq!(f.covered_secs, f.span_secs);
}

/// The verdict per rule, TT001 to TT005.
fn verdicts(r: &CoverageReport) -> Vec<(RuleId, Verdict)> {
    r.rules.iter().map(|v| (v.rule, v.verdict)).collect()
}

/// Coverage of the simulated tenant without the files whose path contains one of `removed`.
fn tenant_without(removed: &[&str]) -> CoverageReport {
    let files: Vec<PathBuf> = common::tenant_files()
        .into_iter()
        .filter(|f| !removed.iter().any(|r| f.to_string_lossy().contains(r)))
        .collect();
    let b = RefCell::new(CoverageBuilder::new(CoverageOptions::default()));
    let run = common::read_tenant(&files, &mut |s| b.borrow_mut().add_sign_in(s), &mut |a| {
        b.borrow_mut().add_access(a)
    });
    b.into_inner().finish(run)
}

/// `coverage` reads without the text that is only displayed (`Fields::Detection`): the report
/// must not change, whichever fields a later change makes coverage read.
#[test]
fn coverage_reads_no_field_that_is_only_displayed() {
    let files = common::tenant_files();
    let report = |fields| {
        let b = RefCell::new(CoverageBuilder::new(CoverageOptions::default()));
        let run = common::read_tenant_fields(
            &files,
            fields,
            &mut |s| b.borrow_mut().add_sign_in(s),
            &mut |a| b.borrow_mut().add_access(a),
        );
        b.into_inner().finish(run)
    };
    let all = report(tokentrail_ingest::Fields::All);
    assert!(all.families.iter().filter(|f| f.present).count() >= 9);
    assert_eq!(report(tokentrail_ingest::Fields::Detection), all);
}

const TT001: RuleId = tokentrail_engine::rules::tt001::ID;
const TT002: RuleId = tokentrail_engine::rules::tt002::ID;
const TT003: RuleId = tokentrail_engine::rules::tt003::ID;
const TT004: RuleId = tokentrail_engine::rules::tt004::ID;
const TT005: RuleId = tokentrail_engine::rules::tt005::ID;
use Verdict::{Blind, Degraded, Supported};

fn missing(r: &CoverageReport) -> Vec<String> {
    r.families
        .iter()
        .filter(|f| !f.present)
        .map(|f| f.family.to_string())
        .collect()
}

#[test]
fn full_tenant_supports_every_rule() {
    let r = tenant_without(&[]);
    assert!(missing(&r).is_empty(), "{:?}", missing(&r));
    assert_eq!(
        verdicts(&r),
        [TT001, TT002, TT003, TT004, TT005].map(|x| (x, Supported))
    );
}

#[test]
fn without_interactive_sign_ins() {
    let r = tenant_without(&["SigninLogs.jsonl"]);
    assert_eq!(missing(&r), ["sign-in:interactive"]);
    assert_eq!(
        verdicts(&r),
        [
            (TT001, Degraded),
            (TT002, Degraded),
            (TT003, Degraded),
            (TT004, Blind),
            (TT005, Degraded)
        ]
    );
}

#[test]
fn without_interactive_sign_ins_and_ual_logons() {
    let r = tenant_without(&["SigninLogs.jsonl", "Audit.AzureActiveDirectory"]);
    assert_eq!(missing(&r), ["sign-in:interactive", "sign-in:ual-logon"]);
    assert_eq!(
        verdicts(&r),
        [
            (TT001, Degraded),
            (TT002, Blind),
            (TT003, Blind),
            (TT004, Blind),
            (TT005, Degraded)
        ]
    );
}

#[test]
fn without_non_interactive_sign_ins() {
    let r = tenant_without(&["AADNonInteractiveUserSignInLogs"]);
    assert_eq!(missing(&r), ["sign-in:non-interactive"]);
    assert_eq!(
        verdicts(&r),
        [
            (TT001, Degraded),
            (TT002, Degraded),
            (TT003, Degraded),
            (TT004, Blind),
            (TT005, Degraded)
        ]
    );
    let tt004 = &r.rules[3];
    assert!(tt004.limitations[0]
        .fix
        .contains("NonInteractiveUserSignInLogs"));
}

#[test]
fn without_service_principal_sign_ins() {
    let r = tenant_without(&["AADServicePrincipalSignInLogs"]);
    assert_eq!(missing(&r), ["sign-in:service-principal"]);
    assert_eq!(
        verdicts(&r),
        [TT001, TT002, TT003, TT004, TT005].map(|x| (x, Supported))
    );
}

#[test]
fn without_managed_identity_sign_ins() {
    let r = tenant_without(&["AADManagedIdentitySignInLogs"]);
    assert_eq!(missing(&r), ["sign-in:managed-identity"]);
    assert_eq!(
        verdicts(&r),
        [TT001, TT002, TT003, TT004, TT005].map(|x| (x, Supported))
    );
}

#[test]
fn without_ual_logons() {
    let r = tenant_without(&["Audit.AzureActiveDirectory"]);
    assert_eq!(missing(&r), ["sign-in:ual-logon"]);
    assert_eq!(
        verdicts(&r),
        [TT001, TT002, TT003, TT004, TT005].map(|x| (x, Supported))
    );
}

#[test]
fn without_graph_activity() {
    let r = tenant_without(&["graph/"]);
    assert_eq!(missing(&r), ["access:graph-activity"]);
    assert_eq!(
        verdicts(&r),
        [
            (TT001, Degraded),
            (TT002, Supported),
            (TT003, Degraded),
            (TT004, Degraded),
            (TT005, Degraded)
        ]
    );
    assert!(r.rules[0].limitations[0].fix.contains("Entra ID P1"));
}

#[test]
fn without_ual_exchange() {
    let r = tenant_without(&["Audit.Exchange"]);
    assert_eq!(missing(&r), ["access:exchange-audit"]);
    assert_eq!(
        verdicts(&r),
        [
            (TT001, Degraded),
            (TT002, Supported),
            (TT003, Degraded),
            (TT004, Degraded),
            (TT005, Degraded)
        ]
    );
    assert!(r.rules[2].limitations[0].fix.contains("Audit (Premium)"));
}

#[test]
fn without_ual_sharepoint_and_onedrive() {
    let r = tenant_without(&["Audit.SharePoint"]);
    assert_eq!(
        missing(&r),
        ["access:sharepoint-audit", "access:onedrive-audit"]
    );
    assert_eq!(
        verdicts(&r),
        [
            (TT001, Degraded),
            (TT002, Supported),
            (TT003, Degraded),
            (TT004, Degraded),
            (TT005, Degraded)
        ]
    );
}

#[test]
fn without_any_access_log() {
    let r = tenant_without(&["graph/", "Audit.Exchange", "Audit.SharePoint"]);
    assert_eq!(
        verdicts(&r),
        [
            (TT001, Blind),
            (TT002, Degraded),
            (TT003, Blind),
            (TT004, Blind),
            (TT005, Blind)
        ]
    );
}

#[test]
fn markdown_report_snapshot() {
    let r = fixture_report();
    let mut out = Vec::new();
    render::coverage_markdown(&mut out, &r).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn json_report_round_trips_the_shares() {
    let r = fixture_report();
    let mut out = Vec::new();
    render::coverage_json(&mut out, &r).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["joins"]["token_to_sign_in"],
        serde_json::json!({"count": 3, "of": 4, "share": 0.75})
    );
    assert_eq!(v["families"][0]["family"], "sign-in:interactive");
    assert_eq!(v["rules"][2]["rule"], "TT003");
    assert_eq!(v["run"]["generated_at"], "2024-03-10T09:30:00Z");
}
