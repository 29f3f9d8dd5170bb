//! The rules as KQL over the tables as Sentinel and Log Analytics name them (`tokentrail export
//! --target kql`): one query per rule, each the shared part (`kql/prelude.kql`), the rule's own
//! form (`rules/ttNNN/query.kql`, ending in a `tt_rule_findings` table) and the findings
//! (`kql/findings.kql`: detect's finding id, the allowlist watchlist applied). Written as bare
//! self-contained queries, or as Sentinel scheduled analytic rules (YAML) calling the shared
//! part as workspace functions (Sentinel's 10,000-character query limit), with the allowlist as
//! a watchlist CSV the queries read through `_GetWatchlist`. See docs/kql.md.
//!
//! A rule's form opens with `// queryFrequency:`, `// queryPeriod:` and `// Cannot:` lines:
//! how often Sentinel runs it, over how much data, and what it cannot do that the engine does
//! (each written into the rule's description and listed in docs/kql.md).

use tokentrail_model::{RuleId, Severity, Timestamp};

use crate::allowlist::Allowlist;
use crate::catalog::{Catalog, MICROSOFT_ASN};
use crate::export::{hex_bytes, ExportError, Template};
use crate::rules::RULES;
use crate::Thresholds;

const PRELUDE: &str = include_str!("kql/prelude.kql");
const FINDINGS: &str = include_str!("kql/findings.kql");
const MICROSOFT_RANGES: &str = include_str!("../data/microsoft_ranges.txt");

/// The alias of the Sentinel watchlist the queries read the allowlist from.
pub const WATCHLIST_ALIAS: &str = "tokentrail_allowlist";

/// The file name of the watchlist CSV.
pub const WATCHLIST_FILE: &str = "tokentrail_allowlist.csv";

/// The watchlist's columns; `EntryId` is its search key.
pub const WATCHLIST_COLUMNS: &[&str] = &[
    "EntryId",
    "Rules",
    "AppId",
    "ServicePrincipalId",
    "User",
    "Network",
    "Asn",
    "Expires",
    "Reason",
    "Owner",
];

/// What the queries are built for.
#[derive(Debug)]
pub struct KqlOptions {
    /// The rules' thresholds.
    pub thresholds: Thresholds,
    /// The allowlist, written as a watchlist.
    pub allowlist: Option<Allowlist>,
    /// When expiry is judged.
    pub now: Timestamp,
}

/// One rule's KQL and what its Sentinel form says about it.
#[derive(Debug, Clone)]
pub struct RuleQuery {
    /// The rule.
    pub rule: RuleId,
    /// The whole query, self-contained (the bare form).
    pub query: String,
    /// The query Sentinel runs: the rule's own part and the findings, calling the shared part
    /// as workspace functions ([`shared_functions`]) to stay within Sentinel's 10,000
    /// characters.
    pub sentinel_query: String,
    /// How often Sentinel runs it (`1h`).
    pub frequency: String,
    /// How far back each run reads (`2d`).
    pub period: String,
    /// What this form cannot do that the engine does.
    pub cannot: Vec<String>,
}

/// Every rule's query, in code order.
pub fn rule_queries(o: &KqlOptions) -> Result<Vec<RuleQuery>, ExportError> {
    let mut out = Vec::new();
    let shared: Vec<String> = shared_functions(o)?.into_iter().map(|f| f.name).collect();
    for rule in RULES {
        let form = format!("{} KQL", rule.id);
        let mut t = template(&o.thresholds);
        t.value("rule_name", rule.id.name());
        let own = t.fill(&form, rule.kql)?;
        let findings = t.fill(&form, FINDINGS)?;
        let query = format!("{}{own}{findings}", t.fill(&form, PRELUDE)?);
        // The findings part, the same in every rule, goes without its comments (the bare
        // form keeps them): Sentinel's 10,000 characters are spent on the rule's own logic.
        let sentinel_query = format!(
            "// Calls the workspace functions of {FUNCTIONS_FILE} (tt_...()), deployed first.\n{}",
            call_shared(&format!("{own}{}", without_comments(&findings)), &shared)
        );
        let header = |key: &str| -> Vec<String> {
            rule.kql
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("// {key}:")))
                .map(|v| v.trim().to_string())
                .collect()
        };
        let one = |key: &str| {
            header(key)
                .into_iter()
                .next()
                .ok_or_else(|| ExportError::Template {
                    form: form.clone(),
                    message: format!("no `// {key}:` line"),
                })
        };
        out.push(RuleQuery {
            rule: rule.id,
            frequency: one("queryFrequency")?,
            period: one("queryPeriod")?,
            cannot: header("Cannot"),
            query,
            sentinel_query,
        });
    }
    Ok(out)
}

/// Sentinel analytic rules, one YAML file per rule, and the watchlist.
pub fn sentinel_rules(o: &KqlOptions) -> Result<Vec<(String, String)>, ExportError> {
    let mut files: Vec<(String, String)> = rule_queries(o)?
        .iter()
        .map(|q| (format!("{}.yaml", q.rule.code()), sentinel_yaml(q)))
        .collect();
    files.push((FUNCTIONS_FILE.to_string(), functions_template(o)?));
    files.push((WATCHLIST_FILE.to_string(), watchlist_csv(o)));
    Ok(files)
}

/// The file of the workspace functions the Sentinel rules call (an ARM template).
pub const FUNCTIONS_FILE: &str = "tokentrail_functions.json";

/// One workspace function: a table or list of the shared part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFunction {
    /// Its name (`tt_linked`); called as `tt_linked()`.
    pub name: String,
    /// Its body, calling the other shared functions it reads.
    pub body: String,
    /// What it holds (the comment above it in the shared part).
    pub doc: String,
}

/// The shared part as workspace functions: each `let` of `kql/prelude.kql` becomes a function
/// of the same name whose body calls the functions it reads. Sentinel limits a rule's query to
/// 10,000 characters; the shared part alone is longer, and Microsoft's answer is functions.
pub fn shared_functions(o: &KqlOptions) -> Result<Vec<SharedFunction>, ExportError> {
    let prelude = template(&o.thresholds).fill("KQL shared part", PRELUDE)?;
    let mut lets: Vec<(String, String, String)> = Vec::new();
    let mut doc = Vec::new();
    let mut statement = String::new();
    for line in prelude.lines() {
        if statement.is_empty() {
            if line.trim().is_empty() {
                doc.clear();
                continue;
            }
            if let Some(c) = line.trim_start().strip_prefix("//") {
                doc.push(c.trim().to_string());
                continue;
            }
        }
        statement.push_str(line);
        statement.push('\n');
        if line.trim_end().ends_with(';') {
            let text = statement.trim().trim_end_matches(';').to_string();
            statement.clear();
            let Some((name, body)) = text.strip_prefix("let ").and_then(|t| t.split_once(" = "))
            else {
                return Err(ExportError::Template {
                    form: "KQL shared part".into(),
                    message: format!("not a let statement: {}", head_of(&text)),
                });
            };
            lets.push((name.trim().to_string(), body.to_string(), doc.join(" ")));
            doc.clear();
        }
    }
    let names: Vec<String> = lets.iter().map(|(n, _, _)| n.clone()).collect();
    Ok(lets
        .into_iter()
        .map(|(name, body, doc)| SharedFunction {
            body: call_shared(&body, &names),
            name,
            doc,
        })
        .collect())
}

/// `text` without its whole-line `//` comments.
fn without_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn head_of(text: &str) -> &str {
    text.get(..text.len().min(60)).unwrap_or(text)
}

/// `text` with every name in `names` (a whole identifier) called: `tt_linked` -> `tt_linked()`.
fn call_shared(text: &str, names: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(word);
        if names.iter().any(|n| n == word) {
            out.push_str("()");
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// An ARM template deploying the shared functions to a Log Analytics workspace (saved
/// searches with a function alias), for the Sentinel rules to call.
pub fn functions_template(o: &KqlOptions) -> Result<String, ExportError> {
    let resources: Vec<serde_json::Value> = shared_functions(o)?
        .into_iter()
        .map(|f| {
            serde_json::json!({
                "type": "Microsoft.OperationalInsights/workspaces/savedSearches",
                "apiVersion": "2020-08-01",
                "name": format!("[concat(parameters('workspace'), '/tokentrail-{}')]", f.name),
                "properties": {
                    "category": "tokentrail",
                    "displayName": format!("tokentrail {}", f.name),
                    "functionAlias": f.name,
                    "query": f.body,
                    "version": 2,
                    "tags": [{ "name": "description", "value": f.doc }]
                }
            })
        })
        .collect();
    let template = serde_json::json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "metadata": {
            "description": "tokentrail: the shared part of the rules' KQL as Log Analytics functions (tt_...()), called by the Sentinel analytic rules TT001-TT005. Deploy to the Sentinel workspace before the rules."
        },
        "parameters": {
            "workspace": { "type": "string", "metadata": { "description": "The Log Analytics workspace of Microsoft Sentinel." } }
        },
        "resources": resources
    });
    Ok(serde_json::to_string_pretty(&template).unwrap_or_default() + "\n")
}

/// The bare queries, one `.kql` file per rule, and the watchlist they read.
pub fn bare_queries(o: &KqlOptions) -> Result<Vec<(String, String)>, ExportError> {
    let mut files: Vec<(String, String)> = rule_queries(o)?
        .into_iter()
        .map(|q| (format!("{}.kql", q.rule.code()), q.query))
        .collect();
    files.push((WATCHLIST_FILE.to_string(), watchlist_csv(o)));
    Ok(files)
}

/// The allowlist's unexpired entries as a watchlist CSV (header only without an allowlist).
pub fn watchlist_csv(o: &KqlOptions) -> String {
    let mut out = WATCHLIST_COLUMNS.join(",");
    out.push('\n');
    for e in o
        .allowlist
        .iter()
        .flat_map(|a| a.entries.iter())
        .filter(|e| !e.is_expired(o.now))
    {
        let rules = e
            .rules
            .as_ref()
            .map(|r| r.iter().map(|x| x.code()).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        let m = &e.matcher;
        let row = [
            e.id.clone(),
            rules,
            m.app_id.clone().unwrap_or_default(),
            m.service_principal_id.clone().unwrap_or_default(),
            m.user.clone().unwrap_or_default(),
            m.network.map(|c| c.to_string()).unwrap_or_default(),
            m.asn.map(|a| a.to_string()).unwrap_or_default(),
            e.expires.clone(),
            e.reason.clone(),
            e.owner.clone(),
        ];
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

fn csv_cell(text: &str) -> String {
    // A leading formula character is neutralized: Sentinel's watchlist upload and the
    // spreadsheets analysts open the file in both evaluate it.
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// A stable GUID for a rule's Sentinel template: the same rule keeps its id across exports,
/// so re-importing updates it instead of adding a copy.
fn rule_guid(rule: RuleId) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("tokentrail:{}", rule.code()).as_bytes());
    let h = hex_bytes(d.get(..16).unwrap_or(&d));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Informational => "Informational",
    }
}

/// YAML's literal block: every line indented.
fn block(text: &str, indent: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{indent}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A YAML double-quoted scalar.
fn yaml_str(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn sentinel_yaml(q: &RuleQuery) -> String {
    let m = q.rule.meta();
    let mut description = format!(
        "{} ({} {}, tokentrail). Finding ids are detect's: the same token, session or client \
         gives the same FindingId in every run, and incidents are grouped by it.\n",
        m.summary, m.code, m.name
    );
    if !q.cannot.is_empty() {
        description.push_str("\nWhat this KQL form cannot do that the tokentrail engine does:\n");
        for c in &q.cannot {
            description.push_str(&format!("- {c}\n"));
        }
    }
    let techniques: Vec<String> = m
        .techniques
        .iter()
        .map(|t| format!("  - {}", t.uid))
        .collect();
    format!(
        "# tokentrail {code} {name}: Microsoft Sentinel scheduled analytic rule.
# Written by `tokentrail export --target kql`. Deploy first: the workspace functions the
# query calls ({functions}, an ARM template), and the allowlist watchlist
# '{alias}' ({file}: upload it with that alias and EntryId as search key).
id: {id}
name: {title}
kind: Scheduled
version: 1.0.0
description: |
{description}
severity: {severity}
status: Available
requiredDataConnectors:
  - connectorId: AzureActiveDirectory
    dataTypes:
      - SigninLogs
      - AADNonInteractiveUserSignInLogs
      - MicrosoftGraphActivityLogs
  - connectorId: MicrosoftThreatProtection
    dataTypes:
      - CloudAppEvents
queryFrequency: {frequency}
queryPeriod: {period}
triggerOperator: gt
triggerThreshold: 0
tactics:
  - DefenseEvasion
  - LateralMovement
relevantTechniques:
{techniques}
query: |
{query}
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: AadUserId
        columnName: UserId
  - entityType: IP
    fieldMappings:
      - identifier: Address
        columnName: IPAddress
  - entityType: CloudApplication
    fieldMappings:
      - identifier: Name
        columnName: AppId
customDetails:
  FindingId: FindingId
  Network: Network
  SessionId: SessionId
  TokenId: TokenId
  Records: Records
alertDetailsOverride:
  alertDisplayNameFormat: {display}
  alertDescriptionFormat: \"{{{{Why}}}}\"
  alertSeverityColumnName: AlertSeverity
eventGroupingSettings:
  aggregationKind: AlertPerResult
incidentConfiguration:
  createIncident: true
  groupingConfiguration:
    enabled: true
    reopenClosedIncident: false
    lookbackDuration: {period}
    matchingMethod: Selected
    groupByCustomDetails:
      - FindingId
",
        code = m.code,
        name = m.name,
        alias = WATCHLIST_ALIAS,
        file = WATCHLIST_FILE,
        functions = FUNCTIONS_FILE,
        id = rule_guid(q.rule),
        title = yaml_str(&format!("tokentrail {} {}", m.code, m.name)),
        description = block(&description, "  "),
        severity = severity_name(m.severity),
        frequency = q.frequency,
        period = q.period,
        techniques = techniques.join("\n"),
        query = block(&q.sentinel_query, "  "),
        display = yaml_str(&format!("{} {}: {{{{FindingId}}}}", m.code, m.name)),
    )
}

/// KQL's `dynamic([...])` body of strings.
fn string_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = items.into_iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The values and expressions the KQL templates name.
fn template(th: &Thresholds) -> Template {
    let catalog = Catalog::builtin();
    let ranges: Vec<&str> = MICROSOFT_RANGES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let v4 = ranges.iter().copied().filter(|r| !r.contains(':'));
    let v6 = ranges.iter().copied().filter(|r| r.contains(':'));
    let mut hosting: Vec<u32> = catalog.hosting.iter().copied().collect();
    hosting.push(MICROSOFT_ASN);
    hosting.sort_unstable();
    hosting.dedup();
    let hosting: Vec<String> = hosting.iter().map(u32::to_string).collect();
    let mut t = Template::new();
    t.value("microsoft_v4", string_list(v4))
        .value("microsoft_v6", string_list(v6))
        .value("hosting_asns", format!("[{}]", hosting.join(", ")))
        .value(
            "first_party",
            string_list(catalog.first_party.keys().map(String::as_str)),
        )
        .value(
            "tooling",
            string_list(catalog.tooling.keys().map(String::as_str)),
        )
        .value("watchlist", WATCHLIST_ALIAS)
        .value("issue_skew", format!("{}s", th.issue_skew_secs))
        .value("travel_window", format!("{}s", th.travel_window_secs))
        .value("root_lookback", format!("{}s", th.root_lookback_secs))
        .value("token_lifetime", format!("{}s", th.token_lifetime_secs))
        .value("inventory_min_users", th.inventory_min_users)
        .value("inventory_min_user_share", th.inventory_min_user_share)
        .value(
            "inventory_established",
            format!("{}s", th.inventory_established_secs),
        )
        .value("inventory_min_days", th.inventory_min_days)
        .value("orphan_first_party", th.orphan_first_party)
        // Lower case as the engine lowers ids, names and flags (str::to_ascii_lowercase,
        // eq_ignore_ascii_case): ASCII letters only. KQL's tolower and =~ fold other letters
        // too (Ö, the Kelvin sign), so on a hostile or odd log the engine and the query would
        // disagree on which records are one user. Entra restricts UPNs to ASCII, where both
        // fold alike; the engine's way is the one a query can copy exactly.
        .expression("ascii_lower", 1, |a| {
            Some(format!(
                "translate('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz', {})",
                a[0]
            ))
        })
        // A token id as the engine normalizes it (ids.rs), as a `Token` column: the
        // 22-character base64url `uti` read as a GUID in Microsoft byte order, the legacy
        // base64 of GUID text decoded, GUID text lower-cased, anything else as logged.
        .expression("token", 1, |a| {
            Some(format!(
                "| extend TokenUti = iff(strlen({0}) == 22, strcat(replace_string(replace_string({0}, '-', '+'), '_', '/'), '=='), '')
    | extend TokenGuid = iff(isempty(TokenUti), '', tostring(base64_decode_toguid(TokenUti)))
    | extend Token = case(isnotempty(TokenGuid), TokenGuid,
        strlen({0}) == 48, ${{ascii_lower(base64_decode_tostring({0}))}},
        {0} matches regex @'^[0-9A-Fa-f]{{8}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{12}}$', ${{ascii_lower({0})}},
        {0})",
                a[0]
            ))
        })
        // A client address as the engine reads it (ip.rs): brackets, a port after an IPv4
        // address, an IPv6 zone and the IPv4-mapped prefix removed; lower case.
        .expression("client_ip", 1, |a| {
            Some(format!(
                "| extend {0} = case({0} startswith '[', extract(@'^\\[([^\\]]+)\\]', 1, {0}),
        {0} matches regex @'^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+:[0-9]+$', extract(@'^([^:]+):', 1, {0}),
        {0})
    | extend {0} = replace_regex(replace_regex({0}, @'%.*$', ''), @'^::ffff:([0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+)$', @'\\1')
    | extend {0} = ${{ascii_lower({0})}}",
                a[0]
            ))
        })
        // A record's service principal and its UPN as logged (trimmed), lower case: what
        // allowlist entries name (allowlist.rs compares them ignoring case).
        .expression("principal", 2, |a| {
            Some(format!(
                "ServicePrincipal = ${{ascii_lower({0})}}, Upn = ${{ascii_lower(trim(@'\\s+', {1}))}}",
                a[0], a[1]
            ))
        })
        // evidence.rs: the clients, service principals, addresses and networks of a finding's
        // records (Gathered), which an allowlist entry must hold for every one
        // (rules/judging.rs: Draft::build; allowlist.rs: Entry::matches).
        .value(
            "scope",
            "ScopeApps = make_set(App), ScopeSps = make_set(ServicePrincipal), ScopeIps = make_set(IP),
        ScopeNets = make_set(Network)",
        )
        // The user a record acts for: object id, else UPN, lower case.
        .expression("user", 2, |a| {
            Some(format!(
                "iff(isnotempty({0}), ${{ascii_lower({0})}}, ${{ascii_lower({1})}})",
                a[0], a[1]
            ))
        })
        // Group `i` of an IPv6 address's head (the groups before `::`), without leading zeros.
        .expression("hextet", 2, |a| {
            Some(format!(
                "replace_regex(iff(isempty(tostring({0}[{1}])), '0', tostring({0}[{1}])), @'^0+([0-9a-f])', @'\\1')",
                a[0], a[1]
            ))
        })
        // The lower of two confidences, as 0 (low), 1 (medium), 2 (high).
        .expression("confidence_rank", 2, |a| {
            Some(format!(
                "min_of(case({0} == 'low', 0, {0} == 'medium', 1, 2), case({1} == 'low', 0, {1} == 'medium', 1, 2))",
                a[0], a[1]
            ))
        })
        // The records of table `T` (with User, Network, Prefix, Session, Hosting,
        // TimeGenerated, RecordKey) explained for the user: a network established for the
        // user in another session before the record, a network of the tenant, or an
        // interactive sign-in of the user there within the travel window. Hosting networks
        // never are.
        .expression("explained_for_user", 1, |a| {
            Some(format!(
                "({0}
    | where not(Hosting)
    | join kind=inner (tt_established | project User, Network, EstSession = Session, Since) on User, Network
    | where Since < TimeGenerated and (isempty(EstSession) or EstSession != Session)
    | project RecordKey),
    ({0}
    | where not(Hosting) and not(Microsoft)
    | join kind=inner (tt_tenant_prefixes | project Prefix, TenantSince = Since) on Prefix
    | where TenantSince < TimeGenerated
    | project RecordKey),
    ({0}
    | where not(Hosting)
    | join kind=inner tt_user_roots on User, Network
    | where RootTime >= TimeGenerated - ${{travel_window}} and RootTime <= TimeGenerated + ${{travel_window}}
    | project RecordKey)",
                a[0]
            ))
        });
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> KqlOptions {
        KqlOptions {
            thresholds: Thresholds::default(),
            allowlist: None,
            now: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
        }
    }

    #[test]
    fn every_rule_has_a_query_with_its_schedule_and_limits() {
        let queries = rule_queries(&options()).unwrap();
        assert_eq!(queries.len(), RULES.len());
        for q in &queries {
            assert!(!q.cannot.is_empty(), "{}: no `// Cannot:` line", q.rule);
            assert!(!q.query.contains("${"), "{}: unfilled template", q.rule);
            assert!(
                q.query.contains(&format!("'{}'", WATCHLIST_ALIAS)),
                "{}",
                q.rule
            );
        }
    }

    #[test]
    fn sentinel_files_are_one_yaml_per_rule_and_the_watchlist() {
        let files = sentinel_rules(&options()).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "TT001.yaml",
                "TT002.yaml",
                "TT003.yaml",
                "TT004.yaml",
                "TT005.yaml",
                FUNCTIONS_FILE,
                WATCHLIST_FILE
            ]
        );
        let (_, tt001) = &files[0];
        assert!(tt001.contains("queryFrequency: 1h\n"), "{tt001}");
        assert!(tt001.contains(&format!("id: {}\n", rule_guid(crate::rules::tt001::ID))));
        assert_eq!(files[6].1, format!("{}\n", WATCHLIST_COLUMNS.join(",")));
        let arm: serde_json::Value = serde_json::from_str(&files[5].1).unwrap();
        let functions = shared_functions(&options()).unwrap();
        assert_eq!(arm["resources"].as_array().unwrap().len(), functions.len());
    }

    /// docs/kql.md lists every rule's limits as the rule declares them: the page cannot drift
    /// from what the Sentinel rules' descriptions say.
    #[test]
    fn the_kql_page_lists_each_rules_limits_and_schedule() {
        let page = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/kql.md"),
        )
        .unwrap();
        for q in rule_queries(&options()).unwrap() {
            let m = q.rule.meta();
            let period = q.period.replace('d', " days");
            let every = match q.frequency.as_str() {
                "1h" => "every hour".to_string(),
                "1d" => "every day".to_string(),
                other => format!("every {other}"),
            };
            let heading = format!("### {} {} ({every} over {period})", m.code, m.name);
            let section = page
                .split(&heading)
                .nth(1)
                .unwrap_or_else(|| panic!("docs/kql.md: no heading {heading:?}"));
            let section = section.split("\n#").next().unwrap_or("");
            for c in &q.cannot {
                assert!(section.contains(&format!("- {c}\n")), "{}: {c}", m.code);
            }
        }
    }

    /// The engine ignores ASCII case only; these would fold other letters too (`Ö`, the
    /// Kelvin sign), in every rule's query and in the shared functions.
    #[test]
    fn the_queries_fold_ascii_case_only() {
        let queries = rule_queries(&options()).unwrap();
        let functions = shared_functions(&options()).unwrap();
        let texts = queries
            .iter()
            .flat_map(|q| [&q.query, &q.sentinel_query])
            .chain(functions.iter().map(|f| &f.body));
        let mut checked = 0;
        for text in texts {
            for folding in ["tolower(", "toupper(", "=~", "!~", "in~", "(?i)"] {
                assert!(!text.contains(folding), "{folding} in {text}");
            }
            checked += 1;
        }
        assert_eq!(checked, 2 * RULES.len() + functions.len());
        let lowered = "translate('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz', ";
        let allowlist = functions.iter().find(|f| f.name == "tt_allowlist").unwrap();
        assert!(
            allowlist
                .body
                .contains(&format!("AllowUser = {lowered}tostring(User))")),
            "{}",
            allowlist.body
        );
    }

    /// Sentinel refuses a rule whose query is longer than 10,000 characters.
    #[test]
    fn sentinel_queries_fit_in_ten_thousand_characters_and_call_the_shared_functions() {
        let functions = shared_functions(&options()).unwrap();
        let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
        assert!(names.contains(&"tt_linked") && names.contains(&"tt_microsoft_v4"));
        for q in rule_queries(&options()).unwrap() {
            let n = q.sentinel_query.chars().count();
            assert!(n <= 10_000, "{}: {n} characters", q.rule);
            assert!(q.sentinel_query.contains("tt_linked()"), "{}", q.rule);
            assert!(!q.sentinel_query.contains("let tt_linked"), "{}", q.rule);
        }
        let linked = functions.iter().find(|f| f.name == "tt_linked").unwrap();
        assert!(linked.body.contains("tt_accesses()\n"), "{}", linked.body);
        assert!(!linked.body.contains("tt_accesses()()"));
    }

    /// Each rule file is YAML a Sentinel import reads: its query is the rule's Sentinel query,
    /// its description the rule's limits.
    #[test]
    fn sentinel_rules_are_yaml_with_the_query_schedule_and_entities() {
        let queries = rule_queries(&options()).unwrap();
        for q in &queries {
            let text = sentinel_yaml(q);
            let y: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            let field = |k: &str| y[k].as_str().unwrap_or_else(|| panic!("{}: {k}", q.rule));
            assert_eq!(field("kind"), "Scheduled");
            assert_eq!(field("id"), rule_guid(q.rule));
            assert_eq!(field("queryFrequency"), q.frequency);
            assert_eq!(field("queryPeriod"), q.period);
            assert_eq!(field("query").trim_end(), q.sentinel_query.trim_end());
            assert_eq!(field("severity"), severity_name(q.rule.meta().severity));
            for c in &q.cannot {
                assert!(field("description").contains(c.as_str()), "{}: {c}", q.rule);
            }
            let entities: Vec<&str> = y["entityMappings"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|e| e["entityType"].as_str().unwrap())
                .collect();
            assert_eq!(entities, ["Account", "IP", "CloudApplication"]);
            assert_eq!(
                y["relevantTechniques"][1].as_str(),
                Some("T1550.001"),
                "{}",
                q.rule
            );
        }
    }

    #[test]
    fn shared_names_are_called_as_whole_identifiers_only() {
        let names = vec!["tt_sign_ins".to_string()];
        assert_eq!(
            call_shared("tt_sign_ins | join tt_sign_ins_x on tt_sign_ins", &names),
            "tt_sign_ins() | join tt_sign_ins_x on tt_sign_ins()"
        );
    }

    /// An entry naming only a service principal keeps it in its own column: with the column
    /// missing, the row's other match cells are empty and the watchlist would match every
    /// finding of the entry's rules.
    #[test]
    fn the_watchlist_carries_every_match_key() {
        let now = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let yaml = "version: 1
entries:
  - id: backup-sp
    reason: backup job
    owner: soc@contoso.example
    expires: 2026-06-30
    rules: [TT003]
    match: { service_principal_id: 5E5E5E5E-0000-0000-0000-00000000ABCD }
  - id: office
    reason: office egress
    owner: soc@contoso.example
    expires: 2026-06-30
    match: { app_id: App-1, user: Alice@Contoso.Example, network: 203.0.113.0/24, asn: 64500 }
";
        let o = KqlOptions {
            allowlist: Some(crate::allowlist::parse(yaml, now).unwrap()),
            ..options()
        };
        assert_eq!(
            watchlist_csv(&o),
            format!(
                "{}\nbackup-sp,TT003,,5e5e5e5e-0000-0000-0000-00000000abcd,,,,2026-06-30,backup job,soc@contoso.example\n\
                 office,,app-1,,alice@contoso.example,203.0.113.0/24,64500,2026-06-30,office egress,soc@contoso.example\n",
                WATCHLIST_COLUMNS.join(",")
            )
        );
    }

    /// The Sentinel query is the rule's own part and the findings part without its comments.
    #[test]
    fn sentinel_queries_leave_out_the_findings_comments_only() {
        for q in rule_queries(&options()).unwrap() {
            assert!(q.query.contains("// As allowlist.rs matches"), "{}", q.rule);
            assert!(!q.sentinel_query.contains("// As allowlist.rs matches"));
            assert!(q
                .sentinel_query
                .contains("| mv-expand ScopeApp = ScopeApps"));
            let head = format!("\n// {} {}", q.rule.code(), q.rule.name());
            assert!(
                q.sentinel_query.contains(&head),
                "{}: rule comments kept",
                q.rule
            );
        }
    }

    #[test]
    fn watchlist_cells_are_quoted_and_formulas_neutralized() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_cell("=cmd()"), "'=cmd()");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
