-- Every rule's findings (each rule's view has the same columns, in the same order).
DROP VIEW IF EXISTS tt_rule_findings;
CACHE TABLE tt_rule_findings AS
${union};

${raise}CREATE OR REPLACE TEMPORARY VIEW tt_raised AS
SELECT * FROM ${raised};

-- The rules' names.
CREATE OR REPLACE TEMPORARY VIEW tt_rules AS
SELECT * FROM VALUES ${rules} AS t(rule, rule_name);

-- The findings, with the columns of `tokentrail detect --format csv`, in its order: severity,
-- first seen, id.
SELECT
  f.id,
  f.rule,
  r.rule_name,
  f.severity,
  f.confidence,
  'new' AS status,
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
  CAST(NULL AS string) AS suppression_entry,
  CAST(NULL AS string) AS suppression_reason,
  f.why
FROM (
  SELECT f.rule, f.id, f.severity, f.confidence, f.title, f.user_id, f.session_id, f.token_id,
    f.app_id, f.resource, f.src_ip, f.network, f.first_us, f.last_us, f.records, f.operations,
    f.issue_k, f.upn, f.app_name,
    replace(replace(f.why, '{who}', coalesce(f.upn, f.user_id, 'an unknown user')),
      '{app_name}', coalesce(concat(' (', f.app_name, ')'), '')) AS why
  FROM (
    SELECT f.*,
      coalesce(nullif(trim(f.logged_upn), ''), u.upn) AS upn,
      coalesce(f.logged_app_name, a.name) AS app_name
    FROM tt_raised f
    LEFT JOIN tt_id_upn u ON u.user_key = ${key(f.user_id)}
    LEFT JOIN tt_apps a ON a.app = lower(f.app_id) AND a.name <> ''
  ) f
) f
JOIN tt_rules r ON r.rule = f.rule
LEFT JOIN tt_sin i ON i.k = f.issue_k
ORDER BY CASE f.severity WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 ELSE 1 END DESC,
  f.first_us, f.id
