//! The rules as one Spark SQL script over the normalized tables (`tokentrail export --target
//! spark-sql`): the shared views (`spark/prelude.sql`), each rule's views
//! (`rules/ttNNN/spark.sql`, ending in a `ttNNN_findings` view with the columns every rule's
//! findings view has), and the findings (`spark/findings.sql`): a `SELECT` with the columns of
//! `detect --format csv`, the finding id first, the same ids `detect` gives.
//!
//! The templates mark the large intermediate tables `CACHE TABLE name AS query;`; the script
//! writes each of them to the work folder as Parquet and reads it back instead (see
//! [`SparkOptions::work`]), so the SQL files stay runnable by hand with caching.

use crate::allowlist::Allowlist;
use crate::catalog::Catalog;
use crate::export::{hex128, hex_bytes, quoted, ExportError, Template};
use crate::rules::RULES;
use crate::Thresholds;

const PRELUDE: &str = include_str!("spark/prelude.sql");
const FINDINGS: &str = include_str!("spark/findings.sql");

/// What the script is built for.
#[derive(Clone, Debug)]
pub struct SparkOptions {
    /// The folder `tokentrail normalize` wrote (`sign_ins/` and `accesses/` under it), as the
    /// cluster sees it (`dbfs:/...`, `abfss://...`, a local path).
    pub normalized: String,
    /// A folder the script may write its intermediate tables to, as the cluster sees it
    /// (default: `_tokentrail_work` under `normalized`, a name Spark's partition discovery
    /// skips). Each is written once as Parquet and read back, which cuts the lineage: a view
    /// over a chain of cached views makes Spark print and re-plan the whole chain at every
    /// step, which grows with each level.
    pub work: Option<String>,
    /// The rules' thresholds (the defaults are `detect`'s).
    pub thresholds: Thresholds,
    /// The allowlist: findings its entries match are returned marked suppressed, with the
    /// entry and its reason, as `detect --show-suppressed` lists them.
    pub allowlist: Option<Allowlist>,
}

/// The whole script: statements separated by `;`, the last one the findings query.
pub fn spark_sql(options: &SparkOptions) -> Result<String, ExportError> {
    let mut t = template(options);
    let mut out = String::new();
    out.push_str(&t.fill("Spark SQL prelude", PRELUDE)?);
    for rule in RULES {
        out.push('\n');
        out.push_str(&t.fill(&format!("{} Spark SQL", rule.id), rule.spark_sql)?);
    }
    let (raise_views, raised) = raise();
    t.value("union", union())
        .value("raise", raise_views)
        .value("raised", raised)
        .value("rules", rules_table())
        .value("allowlist", allowlist_rows(options.allowlist.as_ref()));
    out.push('\n');
    out.push_str(&t.fill("Spark SQL findings", FINDINGS)?);
    let work = match &options.work {
        Some(w) => w.trim_end_matches('/').to_string(),
        None => format!(
            "{}/_tokentrail_work",
            options.normalized.trim_end_matches('/')
        ),
    };
    Ok(materialized(&out, &work))
}

/// The script with every `CACHE TABLE name AS query;` written to `work/name` as Parquet and
/// read back as the temporary view `name`.
fn materialized(script: &str, work: &str) -> String {
    let mut out = String::with_capacity(script.len());
    let mut rest = script;
    while let Some(at) = rest.find("CACHE TABLE ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "CACHE TABLE ".len()..];
        let name_end = after.find(" AS\n").unwrap_or(after.len());
        let name = &after[..name_end];
        let body_start = (name_end + " AS\n".len()).min(after.len());
        let end = after[body_start..]
            .find(";\n")
            .map_or(after.len(), |e| body_start + e);
        let path = quoted(&format!("{work}/{name}"));
        out.push_str(&format!(
            "INSERT OVERWRITE DIRECTORY {path} USING parquet\n{};\nCREATE OR REPLACE TEMPORARY VIEW {name} USING parquet OPTIONS (path {path})",
            &after[body_start..end]
        ));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn union() -> String {
    RULES
        .iter()
        .map(|r| {
            format!(
                "SELECT * FROM {}_findings",
                r.id.code().to_ascii_lowercase()
            )
        })
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n")
}

/// One view per raising rule, each over the one before, as the engine raises in registry
/// order; and the name of the last (the raised findings).
fn raise() -> (String, String) {
    let mut from = "tt_rule_findings".to_string();
    let mut views = String::new();
    for (i, rule) in RULES.iter().enumerate() {
        let Some(raise) = rule.raises else {
            continue;
        };
        let raised: Vec<String> = raise.rules.iter().map(|r| quoted(r.code())).collect();
        let view = format!("tt_raised_by_{}", rule.id.code().to_ascii_lowercase());
        let _ = i;
        views.push_str(&format!(
            "-- {code} raises {list} on the sessions its findings cover.
CREATE OR REPLACE TEMPORARY VIEW {view} AS
SELECT f.rule, f.id,
  CASE WHEN x.raised_by IS NULL THEN f.severity ELSE CASE f.severity
    WHEN 'informational' THEN 'low' WHEN 'low' THEN 'medium' WHEN 'medium' THEN 'high'
    ELSE 'critical' END END AS severity,
  f.confidence, f.title, f.user_id, f.logged_upn, f.session_id, f.token_id, f.app_id,
  f.logged_app_name, f.resource, f.src_ip, f.network, f.first_us, f.last_us, f.records,
  f.operations, f.issue_k,
  CASE WHEN x.raised_by IS NULL THEN f.why ELSE concat(regexp_replace(f.why, '\\\\.+$', ''),
    ' (severity raised: ', {because}, ', see ', x.raised_by, ')') END AS why,
  f.sessions, f.scope_apps, f.scope_sps, f.scope_ips
FROM {from} f
LEFT JOIN (
  SELECT f.id, min(t.id) AS raised_by
  FROM {from} f JOIN {from} t ON t.rule = {code_q} AND f.rule IN ({raised})
    AND arrays_overlap(f.sessions, t.sessions)
  GROUP BY f.id
) x ON x.id = f.id;

",
            code = rule.id.code(),
            list = raise
                .rules
                .iter()
                .map(|r| r.code())
                .collect::<Vec<_>>()
                .join(" and "),
            because = quoted(raise.because),
            code_q = quoted(rule.id.code()),
            raised = raised.join(", "),
        ));
        from = view;
    }
    (views, from)
}

/// The allowlist's entries as the rows of `tt_allowlist` (spark/findings.sql), after a typed
/// row at position 0 that the view leaves out (it gives every column its type, and the view
/// a row to leave out when there are no entries).
fn allowlist_rows(allowlist: Option<&Allowlist>) -> String {
    let text = |t: Option<&str>| match t {
        // Hex, not a quoted literal: an entry's text never reaches the script as SQL (nor as
        // the `CACHE TABLE` or `;` the script is cut at).
        Some(t) => format!("decode(unhex('{}'), 'UTF-8')", hex_bytes(t.as_bytes())),
        None => "CAST(NULL AS string)".to_string(),
    };
    let lower = |t: &Option<String>| t.as_deref().map(str::to_ascii_lowercase);
    let mut rows = vec![format!(
        "(0, {s}, {s}, CAST(NULL AS array<string>), {s}, {s}, {s}, {s}, {s}, CAST(NULL AS bigint), CAST(NULL AS bigint))",
        s = text(None)
    )];
    for (pos, e) in allowlist.iter().flat_map(|a| a.entries.iter()).enumerate() {
        let m = &e.matcher;
        let rules = match &e.rules {
            Some(rules) => format!(
                "array({})",
                rules
                    .iter()
                    .map(|r| quoted(r.code()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "CAST(NULL AS array<string>)".to_string(),
        };
        let (lo, hi) = match m.network.map(|n| n.interval()) {
            Some((lo, hi)) => (format!("'{}'", hex128(lo)), format!("'{}'", hex128(hi))),
            None => (text(None), text(None)),
        };
        let asn = m.asn.map_or("CAST(NULL AS bigint)".to_string(), |a| {
            format!("CAST({a} AS bigint)")
        });
        rows.push(format!(
            "({}, {}, {}, {rules}, {}, {}, {}, {lo}, {hi}, {asn}, CAST({} AS bigint))",
            pos + 1,
            text(Some(&e.id)),
            text(Some(&e.reason)),
            text(lower(&m.app_id).as_deref()),
            text(lower(&m.service_principal_id).as_deref()),
            text(lower(&m.user).as_deref()),
            e.expires_at.micros(),
        ));
    }
    rows.join(",\n  ")
}

fn rules_table() -> String {
    RULES
        .iter()
        .map(|r| format!("({}, {})", quoted(r.id.code()), quoted(r.id.name())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The values and expressions the Spark SQL templates name.
fn template(options: &SparkOptions) -> Template {
    let catalog = Catalog::builtin();
    let th = &options.thresholds;
    let mut t = Template::new();
    let ranges: Vec<String> = catalog
        .microsoft
        .intervals()
        .iter()
        .map(|(lo, hi)| format!("('{}', '{}')", hex128(*lo), hex128(*hi)))
        .collect();
    let mut hosting: Vec<u32> = catalog.hosting.iter().copied().collect();
    hosting.push(crate::catalog::MICROSOFT_ASN);
    hosting.sort_unstable();
    hosting.dedup();
    let apps: Vec<String> = catalog
        .first_party
        .iter()
        .map(|(id, name)| {
            format!(
                "({}, {}, true, {})",
                quoted(id),
                quoted(name),
                catalog.tooling.contains_key(id)
            )
        })
        .collect();
    t.value("normalized", options.normalized.trim_end_matches('/'))
        .value("microsoft_ranges", ranges.join(", "))
        .value(
            "hosting_asns",
            hosting
                .iter()
                .map(|a| format!("({a})"))
                .collect::<Vec<_>>()
                .join(", "),
        )
        .value("apps", apps.join(",\n  "))
        .value("issue_skew_us", th.issue_skew_secs * 1_000_000)
        .value("travel_window_us", th.travel_window_secs * 1_000_000)
        .value("root_lookback_us", th.root_lookback_secs * 1_000_000)
        .value("token_lifetime_us", th.token_lifetime_secs * 1_000_000)
        .value("coverage_gap_secs", th.coverage_gap_secs)
        .value(
            "expected_records_in_hole",
            crate::coverage::EXPECTED_RECORDS_IN_HOLE,
        )
        .value("max_quiet_secs", crate::coverage::MAX_QUIET_SECS)
        .value("hole_min_users", crate::coverage::HOLE_MIN_USERS)
        .value(
            "tenant_network_users",
            crate::correlate::TENANT_NETWORK_USERS,
        )
        .value("orphan_first_party", th.orphan_first_party)
        .value("inventory_min_users", th.inventory_min_users)
        .value("inventory_min_user_share", th.inventory_min_user_share)
        .value(
            "inventory_established_us",
            th.inventory_established_secs * 1_000_000,
        )
        .value("inventory_min_days", th.inventory_min_days)
        .expression("key", 1, |a| Some(format!("nullif(lower(trim({})), '')", a[0])))
        // str::to_ascii_lowercase: the allowlist compares ids and names ignoring ASCII case
        // only (`lower` would fold every letter).
        .expression("lower_ascii", 1, |a| {
            Some(format!(
                "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')",
                a[0]
            ))
        })
        // evidence.rs: Gathered's clients, service principals and addresses of a finding's
        // records (client and service principal in lower case), what the allowlist matches
        // (rules/judging.rs: Draft::build).
        .expression("scope", 3, |a| {
            Some(format!(
                "collect_set(${{lower_ascii({})}}) AS scope_apps, collect_set(${{lower_ascii({})}}) AS scope_sps,
    collect_set({}) AS scope_ips",
                a[0], a[1], a[2]
            ))
        })
        .expression("guid", 1, |a| {
            Some(format!(
                "coalesce({} rlike '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$', false)",
                a[0]
            ))
        })
        // Guid::is_placeholder: fewer than four distinct hex digits.
        .expression("guid_placeholder", 1, |a| {
            Some(format!(
                "coalesce(size(array_distinct(filter(split(replace({0}, '-', ''), ''), c -> c <> ''))) < 4, false)",
                a[0]
            ))
        })
        // ids::is_placeholder_text: placeholder words, a placeholder GUID, one character
        // repeated, or punctuation only.
        .expression("text_placeholder", 1, |a| {
            Some(format!(
                "coalesce(lower(trim({0})) rlike 'anonymi|redact|placeholder|masked|removed|hidden|sanitiz|sanitis'
      OR (regexp_replace(lower(trim({0})), '[{{}} ]', '') rlike '^[0-9a-f]{{8}}-?[0-9a-f]{{4}}-?[0-9a-f]{{4}}-?[0-9a-f]{{4}}-?[0-9a-f]{{12}}$'
          AND ${{guid_placeholder(regexp_replace(lower(trim({0})), '[{{}} ]', ''))}})
      OR size(array_distinct(filter(split(regexp_replace(lower(trim({0})), '[^a-z0-9]', ''), ''), c -> c <> ''))) < 2, false)",
                a[0]
            ))
        })
        // Ident::is_placeholder of a token or session id: a GUID's, else the text's.
        .expression("id_placeholder", 1, |a| {
            Some(format!(
                "(CASE WHEN {0} IS NULL THEN false WHEN ${{guid({0})}} THEN ${{guid_placeholder({0})}} ELSE ${{text_placeholder({0})}} END)",
                a[0]
            ))
        })
        // network.rs: relate(), as a code: 0 the same network, 3/2/1 different with high,
        // medium or low confidence, -1 cannot tell. Arguments are column prefixes of two
        // networks (`net_asn`, `certain`, `prefix`, `v4`).
        .expression("relate", 2, |a| {
            Some(format!(
                "(CASE WHEN {0}net_asn IS NOT NULL AND {1}net_asn IS NOT NULL THEN
      CASE WHEN {0}net_asn = {1}net_asn THEN 0 WHEN {0}certain AND {1}certain THEN 3 ELSE 2 END
    WHEN {0}prefix = {1}prefix THEN 0 WHEN {0}v4 <> {1}v4 THEN -1 ELSE 1 END)",
                a[0], a[1]
            ))
        })
        // rules/judging.rs: resource_of(): the issuing sign-in's resource, else the access's
        // API (well-known ids named), else its workload.
        .expression("resource_of", 3, |a| {
            Some(format!(
                "coalesce({0}, CASE lower({1})
      WHEN '00000002-0000-0ff1-ce00-000000000000' THEN 'Office 365 Exchange Online'
      WHEN '00000003-0000-0ff1-ce00-000000000000' THEN 'Office 365 SharePoint Online'
      WHEN '00000003-0000-0000-c000-000000000000' THEN 'Microsoft Graph' ELSE {1} END, {2})",
                a[0], a[1], a[2]
            ))
        })
        // correlate.rs: Context::established and Context::travel_sign_in, for the records of
        // view {1} (keyed by column {0}; columns user_key, us, session and the record's network
        // as a_net_asn, a_certain, a_prefix, a_v4, a_hosting): the keys of the records a
        // network established for the user, the tenant's own network, or travel explains.
        // Every join is on equal keys (user and network), so a busy user's records meet only
        // the sign-ins on their own network: `relate` is 0 for the same ASN, or for the same
        // prefix when either ASN is unknown.
        .expression("user_explained", 2, |a| {
            Some(format!(
                "SELECT m.{0} FROM (
  SELECT x.*, k.key FROM {1} x
  LATERAL VIEW explode(CASE WHEN x.a_net_asn IS NOT NULL
    THEN array(concat('asn:', x.a_net_asn), concat('bare:', x.a_prefix))
    ELSE array(concat('prefix:', x.a_prefix)) END) k AS key
  WHERE NOT x.a_hosting AND x.user_key IS NOT NULL
) m
JOIN tt_established e ON e.user_key = m.user_key AND e.key = m.key AND e.us < m.us
  AND (e.session IS NULL OR m.session IS NULL OR e.session <> m.session)
UNION
SELECT m.{0} FROM {1} m
JOIN tt_tenant_networks n ON n.prefix = m.a_prefix AND n.us < m.us
WHERE NOT m.a_hosting AND m.user_key IS NOT NULL
UNION
SELECT m.{0} FROM {1} m
JOIN tt_user_interactive u ON u.user_key = m.user_key AND u.net_asn = m.a_net_asn
  AND u.us BETWEEN m.us - ${{travel_window_us}} AND m.us + ${{travel_window_us}}
WHERE NOT m.a_hosting
UNION
SELECT m.{0} FROM {1} m
JOIN tt_user_interactive u ON u.user_key = m.user_key AND u.prefix = m.a_prefix
  AND (u.net_asn IS NULL OR m.a_net_asn IS NULL)
  AND u.us BETWEEN m.us - ${{travel_window_us}} AND m.us + ${{travel_window_us}}
WHERE NOT m.a_hosting",
                a[0], a[1]
            ))
        })
        // coverage.rs: Coverage::covered for one sign-in log (kind {0}), for the rows of view
        // {1} (columns ak, from_us, to_us): per row, 0 not covered (outside the window, the log
        // absent, a hole), 1 covered across a quiet stretch, 2 covered.
        .expression("covered", 2, |a| {
            Some(format!(
                "SELECT c.ak,
  CASE WHEN f.kind IS NULL OR c.from_us < w.start_us OR c.to_us > w.end_us OR coalesce(bool_or(s.hole), false) THEN 0
    WHEN count(s.kind) > 0 THEN 1 ELSE 2 END AS state
FROM {1} c CROSS JOIN tt_window w
LEFT JOIN tt_family_stats f ON f.kind = '{0}'
LEFT JOIN tt_silence_judged s ON s.kind = '{0}' AND (s.hole OR s.long_silence)
  AND s.start_us < c.to_us AND c.from_us < s.end_us
GROUP BY c.ak, c.from_us, c.to_us, w.start_us, w.end_us, f.kind",
                a[0], a[1]
            ))
        })
        // evidence.rs: finding_id(): the rule code, '-', and the first 16 hex digits of the
        // SHA-256 of 'CODE:' and the group key.
        .expression("finding_id", 2, |a| {
            Some(format!(
                "concat('{0}-', substr(sha2(concat('{0}:', {1}), 256), 1, 16))",
                a[0], a[1]
            ))
        })
        // judging.rs: severity_for() and the confidence of a network comparison (a `relate`
        // code: 3 high, 2 medium, 1 low), for a rule of high severity.
        .expression("replay_severity", 1, |a| {
            Some(format!("CASE WHEN {} = 1 THEN 'medium' ELSE 'high' END", a[0]))
        })
        .expression("relate_confidence", 1, |a| {
            Some(format!(
                "CASE {} WHEN 3 THEN 'high' WHEN 2 THEN 'medium' ELSE 'low' END",
                a[0]
            ))
        })
        // A time as tokentrail writes it: RFC 3339 UTC, a fraction only when not zero.
        .expression("rfc3339", 1, |a| {
            Some(format!(
                "concat(date_format({0}, \"yyyy-MM-dd'T'HH:mm:ss\"), CASE WHEN unix_micros({0}) % 1000000 = 0 THEN ''
      ELSE concat('.', regexp_replace(lpad(CAST(unix_micros({0}) % 1000000 AS string), 6, '0'), '0+$', '')) END, 'Z')",
                a[0]
            ))
        });
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokentrail_model::Timestamp;

    #[test]
    fn the_script_fills_every_name_and_ends_with_the_findings_query() {
        let sql = spark_sql(&SparkOptions {
            normalized: "/lake/tenant/".into(),
            work: None,
            thresholds: Thresholds::default(),
            allowlist: None,
        })
        .unwrap();
        assert!(!sql.contains("${"), "unfilled name");
        assert!(
            !sql.contains("CACHE TABLE"),
            "every cached view is written out"
        );
        assert!(sql.contains(
            "INSERT OVERWRITE DIRECTORY '/lake/tenant/_tokentrail_work/tt_si' USING parquet\nSELECT"
        ));
        assert!(sql.contains("CREATE OR REPLACE TEMPORARY VIEW tt_si USING parquet OPTIONS (path '/lake/tenant/_tokentrail_work/tt_si');"));
        assert!(sql.contains("OPTIONS (path '/lake/tenant/sign_ins')"));
        for rule in RULES {
            let view = format!("{}_findings", rule.id.code().to_ascii_lowercase());
            assert!(sql.contains(&format!("TEMPORARY VIEW {view} AS")), "{view}");
        }
        let last = sql.trim_end().rsplit(';').next().unwrap_or_default();
        assert!(last.trim_start().lines().any(|l| l.starts_with("SELECT")));
        assert!(last.contains("f.id,\n  f.rule,"));
    }

    #[test]
    fn allowlist_entries_become_rows_whose_text_cannot_change_the_script() {
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let yaml = "version: 1
entries:
  - id: a'; DROP VIEW tt_si; --
    reason: \"CACHE TABLE x AS\\nSELECT 1; ${normalized}\"
    owner: soc@contoso.example
    expires: 2027-01-31
    rules: [TT005, TT001]
    match:
      user: Alice@Contoso.Example
      network: 203.0.113.77/24
  - id: plain
    reason: backup
    owner: soc@contoso.example
    expires: 2027-01-31
    match:
      app_id: 00000000-0000-0000-0000-00000000ABCD
      asn: 16509
";
        let allowlist = crate::allowlist::parse(yaml, now).unwrap();
        let rows = allowlist_rows(Some(&allowlist));
        let hex = |t: &str| format!("decode(unhex('{}'), 'UTF-8')", hex_bytes(t.as_bytes()));
        let null = "CAST(NULL AS string)";
        let expires = Timestamp::parse("2027-02-01T00:00:00Z").unwrap().micros();
        assert_eq!(
            rows,
            [
                format!("(0, {null}, {null}, CAST(NULL AS array<string>), {null}, {null}, {null}, {null}, {null}, CAST(NULL AS bigint), CAST(NULL AS bigint))"),
                format!(
                    "(1, {}, {}, array('TT001', 'TT005'), {null}, {null}, {}, '00000000000000000000ffffcb007100', '00000000000000000000ffffcb0071ff', CAST(NULL AS bigint), CAST({expires} AS bigint))",
                    hex("a'; DROP VIEW tt_si; --"),
                    hex("CACHE TABLE x AS\nSELECT 1; ${normalized}"),
                    hex("alice@contoso.example"),
                ),
                format!(
                    "(2, {}, {}, CAST(NULL AS array<string>), {}, {null}, {null}, {null}, {null}, CAST(16509 AS bigint), CAST({expires} AS bigint))",
                    hex("plain"),
                    hex("backup"),
                    hex("00000000-0000-0000-0000-00000000abcd"),
                ),
            ]
            .join(",\n  ")
        );
        let sql = spark_sql(&SparkOptions {
            normalized: "/lake".into(),
            work: None,
            thresholds: Thresholds::default(),
            allowlist: Some(allowlist),
        })
        .unwrap();
        // The entries' text is in the script only as hex: one CACHE TABLE fewer would have
        // been cut out of it, and a quote or `;` would have ended a statement.
        assert!(!sql.contains("DROP VIEW tt_si;"));
        assert!(!sql.contains("CACHE TABLE"));
        assert!(sql.contains(&rows));
    }
}
