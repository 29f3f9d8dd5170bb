//! The rules as one Spark SQL script over the normalized tables (`tokentrail export --target
//! spark-sql`): the shared views (`spark/prelude.sql`), each rule's views
//! (`rules/ttNNN/spark.sql`, ending in a `ttNNN_findings` view with the columns every rule's
//! findings view has), and the findings (`spark/findings.sql`): a `SELECT` with the columns of
//! `detect --format csv`, the finding id first, the same ids `detect` gives.

use crate::catalog::Catalog;
use crate::export::{hex128, quoted, ExportError, Template};
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
    /// The rules' thresholds (the defaults are `detect`'s).
    pub thresholds: Thresholds,
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
        .value("rules", rules_table());
    out.push('\n');
    out.push_str(&t.fill("Spark SQL findings", FINDINGS)?);
    Ok(out)
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
  f.sessions
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

    #[test]
    fn the_script_fills_every_name_and_ends_with_the_findings_query() {
        let sql = spark_sql(&SparkOptions {
            normalized: "/lake/tenant/".into(),
            thresholds: Thresholds::default(),
        })
        .unwrap();
        assert!(!sql.contains("${"), "unfilled name");
        assert!(sql.contains("OPTIONS (path '/lake/tenant/sign_ins')"));
        for rule in RULES {
            let view = format!("{}_findings", rule.id.code().to_ascii_lowercase());
            assert!(sql.contains(&format!("TEMPORARY VIEW {view} AS")), "{view}");
        }
        let last = sql.trim_end().rsplit(';').next().unwrap_or_default();
        assert!(last.trim_start().lines().any(|l| l.starts_with("SELECT")));
        assert!(last.contains("f.id,\n  f.rule,"));
    }
}
