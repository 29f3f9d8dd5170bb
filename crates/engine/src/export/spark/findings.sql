-- Every rule's findings (each rule's view has the same columns, in the same order).
DROP VIEW IF EXISTS tt_rule_findings;
CACHE TABLE tt_rule_findings AS
${union};

${raise}CREATE OR REPLACE TEMPORARY VIEW tt_raised AS
SELECT * FROM ${raised};

-- The rules' names.
CREATE OR REPLACE TEMPORARY VIEW tt_rules AS
SELECT * FROM VALUES ${rules} AS t(rule, rule_name);

-- The findings with their user's UPN and their client's name.
CREATE OR REPLACE TEMPORARY VIEW tt_named AS
SELECT f.*,
  replace(replace(f.why_template, '{who}', coalesce(f.upn, f.user_id, 'an unknown user')),
    '{app_name}', coalesce(concat(' (', f.app_name, ')'), '')) AS why
FROM (
  SELECT f.rule, f.id, f.severity, f.confidence, f.title, f.user_id, f.session_id, f.token_id,
    f.app_id, f.resource, f.src_ip, f.network, f.first_us, f.last_us, f.records, f.operations,
    f.issue_k, f.why AS why_template, f.scope_apps, f.scope_sps, f.scope_ips,
    coalesce(nullif(trim(f.logged_upn), ''), u.upn) AS upn,
    coalesce(f.logged_app_name, a.name) AS app_name
  FROM tt_raised f
  LEFT JOIN tt_id_upn u ON u.user_key = ${key(f.user_id)}
  LEFT JOIN tt_apps a ON a.app = lower(f.app_id) AND a.name <> ''
) f;

-- The allowlist given to `tokentrail export --allowlist` (allowlist.rs), its entries in the
-- file's order; one that has expired when the script runs matches nothing. Texts are written
-- as hex-encoded UTF-8, so nothing an entry says can change the script. Ids, clients and users
-- are in ASCII lower case; a network is its first and last 128-bit address (IPv4 mapped).
CREATE OR REPLACE TEMPORARY VIEW tt_allowlist AS
SELECT * FROM VALUES ${allowlist}
  AS t(pos, entry_id, reason, rules, app, sp, who, lo, hi, asn, expires_us)
WHERE pos > 0 AND unix_micros(current_timestamp()) < expires_us;

-- Each finding's addresses, as 128-bit hex, with their network's ASN.
CREATE OR REPLACE TEMPORARY VIEW tt_finding_nets AS
SELECT e.id, collect_list(named_struct('hex', d.hex, 'asn', n.asn)) AS nets
FROM (SELECT f.id, x.ip FROM tt_named f LATERAL VIEW explode(f.scope_ips) x AS ip) e
JOIN tt_addr d ON d.ip = e.ip
JOIN tt_net n ON n.ip = e.ip
GROUP BY e.id;

-- The first entry in force that matches each finding (Entry::matches): its rules name the
-- finding's; its client, service principal, network and ASN hold for every record of the
-- finding (and the finding has at least one); its user is the finding's object id or UPN.
CREATE OR REPLACE TEMPORARY VIEW tt_suppressed AS
SELECT f.id, min_by(named_struct('entry', e.entry_id, 'reason', e.reason), e.pos) AS matched
FROM (
  SELECT f.id, f.rule, ${lower_ascii(f.user_id)} AS user_lc, ${lower_ascii(f.upn)} AS upn_lc,
    array_distinct(concat(f.scope_apps,
      filter(array(${lower_ascii(f.app_id)}), x -> x IS NOT NULL))) AS apps,
    f.scope_sps AS sps, coalesce(n.nets, array()) AS nets
  FROM tt_named f LEFT JOIN tt_finding_nets n ON n.id = f.id
) f
CROSS JOIN tt_allowlist e
WHERE (e.rules IS NULL OR array_contains(e.rules, f.rule))
  AND (e.app IS NULL OR (size(f.apps) > 0 AND forall(f.apps, x -> x = e.app)))
  AND (e.sp IS NULL OR (size(f.sps) > 0 AND forall(f.sps, x -> x = e.sp)))
  AND (e.who IS NULL OR coalesce(f.user_lc = e.who, false) OR coalesce(f.upn_lc = e.who, false))
  AND (e.lo IS NULL OR (size(f.nets) > 0 AND forall(f.nets, x -> x.hex BETWEEN e.lo AND e.hi)))
  AND (e.asn IS NULL OR (size(f.nets) > 0
    AND coalesce(forall(f.nets, x -> x.asn IS NOT NULL AND x.asn = e.asn), false)))
GROUP BY f.id;

-- The findings, with the columns of `tokentrail detect --format csv --show-suppressed`, in its
-- order: the findings in force, then the suppressed ones, each by severity, first seen, id.
SELECT
  f.id,
  f.rule,
  r.rule_name,
  f.severity,
  f.confidence,
  CASE WHEN x.id IS NULL THEN 'new' ELSE 'suppressed' END AS status,
  f.title,
  f.user_id,
  f.upn,
  f.session_id,
  f.token_id,
  f.app_id,
  f.app_name,
  f.resource,
  f.src_ip,
  f.network,
  CASE WHEN f.network IS NULL THEN NULL WHEN f.network LIKE 'AS%' THEN 'false' ELSE 'true' END AS network_approximate,
  timestamp_micros(f.first_us) AS first_seen,
  timestamp_micros(f.last_us) AS last_seen,
  f.records,
  f.operations,
  i.sid AS issue_sign_in_id,
  i.kind AS issue_kind,
  i.time AS issue_time,
  i.ip AS issue_ip,
  i.net_id AS issue_network,
  x.matched.entry AS suppression_entry,
  x.matched.reason AS suppression_reason,
  f.why
FROM tt_named f
JOIN tt_rules r ON r.rule = f.rule
LEFT JOIN tt_sin i ON i.k = f.issue_k
LEFT JOIN tt_suppressed x ON x.id = f.id
ORDER BY x.id IS NOT NULL,
  CASE f.severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 ELSE 1 END DESC,
  f.first_us, f.id
