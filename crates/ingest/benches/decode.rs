//! Decode throughput on realistic records, generated here (deterministic, no files):
//! non-interactive sign-ins as Log Analytics JSON lines (PascalCase, nested fields as JSON
//! strings, a dozen conditional-access policies, authentication details; 3-6 KB each) and
//! the same sign-ins as diagnostic-settings records.
//!
//! # Per-core figure
//!
//! Criterion reports wall-clock throughput, which swings with whatever else the machine runs.
//! The figure to quote (issue 2's target is 1 GB/s per core) is bytes per CPU-second of the
//! decoding thread, which a busy machine disturbs far less:
//!
//! ```text
//! DECODE_CPU_PASSES=20 cargo bench -p tokentrail-ingest --bench decode
//! ```
//!
//! With `DECODE_CPU_PASSES` set, criterion does not run: each corpus is decoded that many
//! times and the bench prints bytes decoded divided by the thread's on-CPU time (from
//! `/proc/thread-self/schedstat`, nanoseconds; Linux only), so corpus generation and the
//! checking pass are not counted. To cross-check with an outside tool, run the same command
//! under `perf stat -e task-clock`: its task-clock includes generating the corpora (about a
//! second), so its figure is a little lower.
//!
//! # Instructions per byte
//!
//! Instruction counts do not depend on the machine's load; 1 GB/s per core needs about eight
//! per byte. `DECODE_BENCH_ONLY` picks one corpus, `DECODE_BENCH_MB` shrinks it, and
//! `decode_all` is never inlined so callgrind can count it alone (divide by the bytes
//! printed):
//!
//! ```text
//! DECODE_BENCH_ONLY=log-analytics DECODE_BENCH_MB=2 DECODE_CPU_PASSES=1 \
//!   valgrind --tool=callgrind --toggle-collect='*decode_all*' target/release/deps/decode-<hash>
//! ```

// `json!` of a full Log Analytics row nests deeper than the default limit.
#![recursion_limit = "256"]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use serde_json::{json, Value};
use tokentrail_ingest::{decode, DecodeOptions, Payload};
use tokentrail_model::{Guid, Position, SourceRef};

/// Bytes of JSON lines generated per corpus.
const TARGET_BYTES: usize = 20 << 20;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn guid(&mut self) -> Guid {
        Guid(u128::from(self.next()) << 64 | u128::from(self.next()))
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn policies(rng: &mut Rng) -> Value {
    let names = [
        "Require MFA for everyone",
        "Block Legacy Authentication",
        "Block non-MFA from untrusted locations",
        "Guest terms of use policy",
        "Guest session timeout",
        "Blocked Countries",
        "Require compliant device for admins",
        "Require approved client app on iOS & Android",
        "Sign-in risk policy",
        "User risk policy",
        "Require token protection for Exchange",
        "Session controls for unmanaged devices",
    ];
    Value::Array(
        names
            .iter()
            .map(|name| {
                json!({
                    "id": rng.guid().to_string(),
                    "displayName": name,
                    "enforcedGrantControls": ["Mfa", "RequireCompliantDevice"],
                    "enforcedSessionControls": ["SignInFrequency"],
                    "result": rng.pick(&["success", "notApplied", "reportOnlyNotApplied"]),
                    "conditionsSatisfied": rng.next() % 20,
                    "conditionsNotSatisfied": rng.next() % 20,
                })
            })
            .collect(),
    )
}

fn auth_details(time: &str) -> Value {
    json!([{
        "authenticationStepDateTime": time,
        "authenticationMethod": "Previously satisfied",
        "succeeded": true,
        "authenticationStepResultDetail": "First factor requirement satisfied by claim in the token",
        "authenticationStepRequirement": "Primary authentication",
        "StatusSequence": 0,
        "RequestSequence": 0
    }, {
        "authenticationStepDateTime": time,
        "authenticationMethod": "Previously satisfied",
        "succeeded": true,
        "authenticationStepResultDetail": "MFA requirement satisfied by claim in the token",
        "authenticationStepRequirement": "Primary authentication",
        "StatusSequence": 0,
        "RequestSequence": 0
    }])
}

struct SignInParts {
    id: Guid,
    time: String,
    user: Guid,
    device: Value,
    location: Value,
    status: Value,
    policies: Value,
    auth: Value,
    ip: String,
    app: &'static str,
    session: Guid,
}

fn parts(rng: &mut Rng, n: u64) -> SignInParts {
    let id = rng.guid();
    let time = format!(
        "2024-05-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        1 + n % 28,
        n % 24,
        n % 60,
        (n / 7) % 60,
        rng.next() % 10_000_000
    );
    SignInParts {
        id,
        user: rng.guid(),
        device: json!({
            "deviceId": rng.guid().to_string(),
            "displayName": format!("LAPTOP-{:06X}", rng.next() % 0xFF_FFFF),
            "operatingSystem": "Windows10",
            "browser": "Edge 124.0.0",
            "isCompliant": true,
            "isManaged": true,
            "trustType": "Azure AD joined"
        }),
        location: json!({
            "city": "London",
            "state": "London",
            "countryOrRegion": "GB",
            "geoCoordinates": {"latitude": 51.5, "longitude": -0.12}
        }),
        status: json!({"errorCode": 0, "additionalDetails": "MFA requirement satisfied by claim in the token"}),
        policies: policies(rng),
        auth: auth_details(&time),
        ip: format!("198.51.100.{}", rng.next() % 254 + 1),
        app: rng.pick(&[
            "d3590ed6-52b3-4102-aeff-aad2292ab01c",
            "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
            "00000006-0000-0ff1-ce00-000000000000",
        ]),
        session: rng.guid(),
        time,
    }
}

/// A Log Analytics `AADNonInteractiveUserSignInLogs` row: nested fields as JSON strings.
fn log_analytics_row(rng: &mut Rng, n: u64) -> String {
    let p = parts(rng, n);
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    json!({
        "TenantId": tenant,
        "SourceSystem": "Azure AD",
        "TimeGenerated": p.time,
        "ResourceId": format!("/tenants/{tenant}/providers/Microsoft.aadiam"),
        "OperationName": "Sign-in activity",
        "OperationVersion": "1.0",
        "Category": "NonInteractiveUserSignInLogs",
        "ResultType": "0",
        "ResultSignature": "None",
        "ResultDescription": "",
        "DurationMs": "0",
        "CorrelationId": rng.guid().to_string(),
        "Identity": "Avery Example",
        "Level": "4",
        "Location": "GB",
        "AppDisplayName": "Microsoft Office",
        "AppId": p.app,
        "AuthenticationContextClassReferences": "[]",
        "AuthenticationDetails": p.auth.to_string(),
        "AuthenticationMethodsUsed": "",
        "AuthenticationProcessingDetails": "[{\"key\":\"Legacy TLS (TLS 1.0, 1.1, 3DES)\",\"value\":\"False\"},{\"key\":\"Is CAE Token\",\"value\":\"True\"}]",
        "AuthenticationProtocol": "none",
        "AuthenticationRequirement": "multiFactorAuthentication",
        "AuthenticationRequirementPolicies": "[]",
        "AutonomousSystemNumber": "64500",
        "ClientAppUsed": "Mobile Apps and Desktop clients",
        "ConditionalAccessPolicies": p.policies.to_string(),
        "ConditionalAccessStatus": "success",
        "CreatedDateTime": p.time,
        "CrossTenantAccessType": "none",
        "DeviceDetail": p.device.to_string(),
        "HomeTenantId": tenant,
        "IncomingTokenType": "primaryRefreshToken",
        "IPAddress": p.ip,
        "IsInteractive": false,
        "Id": p.id.to_string(),
        "LocationDetails": p.location.to_string(),
        "MfaDetail": "{}",
        "NetworkLocationDetails": "[]",
        "OriginalRequestId": p.id.to_string(),
        "ProcessingTimeInMilliseconds": "75",
        "ResourceDisplayName": "Office 365 Exchange Online",
        "ResourceIdentity": "00000002-0000-0ff1-ce00-000000000000",
        "ResourceServicePrincipalId": rng.guid().to_string(),
        "ResourceTenantId": tenant,
        "RiskDetail": "none",
        "RiskEventTypes": "[]",
        "RiskEventTypes_V2": "[]",
        "RiskLevelAggregated": "none",
        "RiskLevelDuringSignIn": "none",
        "RiskState": "none",
        "ServicePrincipalId": "",
        "SessionLifetimePolicies": "[]",
        "Status": p.status.to_string(),
        "TokenIssuerName": "",
        "TokenIssuerType": "AzureAD",
        "UniqueTokenIdentifier": p.id.to_uti(),
        "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
        "UserDisplayName": "Avery Example",
        "UserId": p.user.to_string(),
        "UserPrincipalName": "avery@contoso.example",
        "UserType": "Member",
        "SessionId": p.session.to_string(),
        "TokenProtectionStatusDetails": "{\"signInSessionStatus\":\"unbound\",\"signInSessionStatusCode\":1002}",
        "Type": "AADNonInteractiveUserSignInLogs"
    })
    .to_string()
}

/// The same sign-in as a diagnostic-settings record: `properties` holds nested objects.
fn diagnostic_record(rng: &mut Rng, n: u64) -> String {
    let p = parts(rng, n);
    json!({
        "time": p.time,
        "resourceId": "/tenants/72f988bf-86f1-41af-91ab-2d7cd011db47/providers/Microsoft.aadiam",
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": "NonInteractiveUserSignInLogs",
        "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "resultType": "0",
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": p.ip,
        "correlationId": rng.guid().to_string(),
        "identity": "Avery Example",
        "Level": 4,
        "location": "GB",
        "properties": {
            "id": p.id.to_string(),
            "createdDateTime": p.time,
            "userDisplayName": "Avery Example",
            "userPrincipalName": "avery@contoso.example",
            "userId": p.user.to_string(),
            "appId": p.app,
            "appDisplayName": "Microsoft Office",
            "ipAddress": p.ip,
            "status": p.status,
            "clientAppUsed": "Mobile Apps and Desktop clients",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/124.0.0.0",
            "deviceDetail": p.device,
            "location": p.location,
            "appliedConditionalAccessPolicies": p.policies,
            "authenticationDetails": p.auth,
            "isInteractive": false,
            "incomingTokenType": "primaryRefreshToken",
            "authenticationProtocol": "none",
            "authenticationRequirement": "multiFactorAuthentication",
            "resourceDisplayName": "Office 365 Exchange Online",
            "resourceId": "00000002-0000-0ff1-ce00-000000000000",
            "autonomousSystemNumber": 64500,
            "uniqueTokenIdentifier": p.id.to_uti(),
            "sessionId": p.session.to_string(),
            "originalRequestId": p.id.to_string(),
            "tokenIssuerType": "AzureAD",
            "tokenProtectionStatusDetails": {"signInSessionStatus": "unbound", "signInSessionStatusCode": 1002},
            "riskDetail": "none",
            "riskLevelAggregated": "none",
            "riskState": "none"
        }
    })
    .to_string()
}

/// Bytes per corpus: `DECODE_BENCH_MB` megabytes when set (a small corpus keeps a run
/// under callgrind short), else [`TARGET_BYTES`].
fn target_bytes() -> usize {
    std::env::var("DECODE_BENCH_MB")
        .ok()
        .and_then(|mb| mb.parse::<usize>().ok())
        .map_or(TARGET_BYTES, |mb| mb << 20)
}

/// JSON lines of `make` records, about [`target_bytes`] long.
fn corpus(seed: u64, make: fn(&mut Rng, u64) -> String) -> String {
    let mut rng = Rng(seed);
    let target = target_bytes();
    let mut out = String::with_capacity(target + 8192);
    let mut n = 0;
    while out.len() < target {
        out.push_str(&make(&mut rng, n));
        out.push('\n');
        n += 1;
    }
    out
}

/// The decoded lines of a corpus, each with its position, checked to decode without error:
/// a benchmark of errors measures nothing. Also returns a digest of every decoded record
/// (their `Debug` text, hashed with std's fixed-key SipHash), so a change to the decoder can
/// be checked to decode the corpora to exactly the same records.
fn checked_lines<'t>(name: &str, text: &'t str, file: &Arc<str>) -> (Vec<&'t [u8]>, u64) {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    let opts = DecodeOptions::default();
    let mut digest = DefaultHasher::new();
    for (i, line) in lines.iter().enumerate() {
        match decode(Payload::Json(line), source(file, i), &opts) {
            Ok(record) => format!("{record:?}").hash(&mut digest),
            Err(e) => panic!("{name} line {}: {e}", i + 1),
        }
    }
    (lines, digest.finish())
}

fn source(file: &Arc<str>, i: usize) -> SourceRef {
    SourceRef {
        file: file.clone(),
        position: Position::Line(i as u64 + 1),
    }
}

/// Decode every line once. Never inlined, so `valgrind --tool=callgrind
/// --toggle-collect='*decode_all*'` counts the decoding alone.
#[inline(never)]
fn decode_all(lines: &[&[u8]], file: &Arc<str>, opts: &DecodeOptions) {
    for (i, line) in lines.iter().enumerate() {
        let _ = black_box(decode(
            Payload::Json(black_box(line)),
            source(file, i),
            opts,
        ));
    }
}

fn bench_corpus(c: &mut Criterion, name: &str, text: &str) {
    let file: Arc<str> = Arc::from("bench.jsonl");
    let (lines, _) = checked_lines(name, text, &file);
    let opts = DecodeOptions::default();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function(name, |b| b.iter(|| decode_all(&lines, &file, &opts)));
    group.finish();
}

fn decode_benches(c: &mut Criterion) {
    let rows = corpus(1, log_analytics_row);
    let records = corpus(2, diagnostic_record);
    bench_corpus(c, "log-analytics-non-interactive", &rows);
    bench_corpus(c, "diagnostic-settings-non-interactive", &records);
}

/// On-CPU time of the calling thread, in nanoseconds (the first field of Linux's
/// `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .unwrap_or_else(|e| panic!("per-core figure needs Linux schedstat: {e}"));
    stat.split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("unreadable schedstat: {stat:?}"))
}

/// Decode `text` `passes` times and print bytes per CPU-second of this thread.
fn cpu_throughput(name: &str, text: &str, passes: u32) {
    let file: Arc<str> = Arc::from("bench.jsonl");
    let (lines, digest) = checked_lines(name, text, &file);
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let opts = DecodeOptions::default();
    let start = thread_cpu_ns();
    for _ in 0..passes {
        decode_all(&lines, &file, &opts);
    }
    let cpu = (thread_cpu_ns() - start) as f64 / 1e9;
    let total = bytes as f64 * f64::from(passes);
    println!(
        "{name}: {bytes} bytes x {passes} in {cpu:.2} CPU-s: {:.3} GB/s ({:.3} GiB/s) per core \
         (records digest {digest:016x})",
        total / cpu / 1e9,
        total / cpu / f64::from(1u32 << 30),
    );
}

// The macro defines an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::decode_benches);
}

fn main() {
    match std::env::var("DECODE_CPU_PASSES") {
        Ok(passes) => {
            let passes: u32 = passes
                .parse()
                .unwrap_or_else(|_| panic!("DECODE_CPU_PASSES is not a count: {passes:?}"));
            // `DECODE_BENCH_ONLY=log-analytics` (or `diagnostic`) runs one corpus, so a
            // callgrind run counts one input.
            let only = std::env::var("DECODE_BENCH_ONLY").unwrap_or_default();
            if "log-analytics".starts_with(&only) {
                let rows = corpus(1, log_analytics_row);
                cpu_throughput("log-analytics-non-interactive", &rows, passes);
            }
            if "diagnostic".starts_with(&only) {
                let records = corpus(2, diagnostic_record);
                cpu_throughput("diagnostic-settings-non-interactive", &records, passes);
            }
        }
        Err(_) => {
            group::benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
