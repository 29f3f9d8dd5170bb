-- TT004 orphan-token, as the engine judges it (rules/tt004/mod.rs): a delegated access whose
-- token id (a GUID) appears in no sign-in, while the interactive and non-interactive sign-in
-- logs both cover the token's issue time (logged, else the token's longest life before the
-- access). First-party clients are left out unless the thresholds count them.

DROP VIEW IF EXISTS tt004_candidates;
CACHE TABLE tt004_candidates AS
SELECT a.*, a.token_issued_at IS NOT NULL AS exact,
  coalesce(unix_micros(a.token_issued_at), a.us - ${token_lifetime_us}) AS from_us,
  coalesce(unix_micros(a.token_issued_at), a.us) AS to_us
FROM tt_linked a
LEFT JOIN tt_apps p ON p.app = a.app_lc
WHERE a.delegated AND a.token IS NOT NULL AND a.issue_k IS NULL AND ${guid(a.token)}
  AND (${orphan_first_party} OR NOT coalesce(p.first_party, false))
  AND a.user_key IS NOT NULL;

-- Covered by both logs; quiet when either answer leaned on a quiet stretch.
DROP VIEW IF EXISTS tt004_covered;
CACHE TABLE tt004_covered AS
SELECT ak, min(state) = 1 OR count_if(state = 1) > 0 AS quiet FROM (
  ${covered(interactive, tt004_candidates)}
  UNION ALL
  ${covered(non-interactive, tt004_candidates)}
) GROUP BY ak HAVING min(state) > 0;

-- One finding per (user, client, token).
CREATE OR REPLACE TEMPORARY VIEW tt004_findings AS
SELECT
  'TT004' AS rule,
  ${finding_id(TT004, concat(g.user_key, '|', g.app, '|', g.token))} AS id,
  'low' AS severity,
  CASE WHEN g.exact AND NOT g.all_quiet THEN 'medium' ELSE 'low' END AS confidence,
  'Token with no sign-in that issued it' AS title,
  coalesce(g.f.user_id, IF(instr(g.user_key, '@') > 0, NULL, g.user_key)) AS user_id,
  g.f.upn AS logged_upn,
  g.f.session AS session_id,
  g.token AS token_id,
  nullif(g.app, '') AS app_id,
  g.f.app_name AS logged_app_name,
  ${resource_of(NULL, g.f.resource_id, g.f.workload)} AS resource,
  g.src_ip,
  g.f.net_id AS network,
  g.first_us, g.last_us, g.records, g.operations,
  CAST(NULL AS struct<us:bigint,id:string,f:string,p:int,n:bigint>) AS issue_k,
  concat('Token ', g.token, ' used by client ', coalesce(nullif(g.app, ''), '(unknown)'),
    ' for {who} (', g.records, ' record(s)) appears in no sign-in although the interactive and non-interactive sign-in logs cover ',
    coalesce(${rfc3339(g.f.token_issued_at)}, 'its issue time'), '.') AS why,
  CASE WHEN g.f.session IS NULL THEN array() ELSE array(g.f.session) END AS sessions,
  g.scope_apps, g.scope_sps, g.scope_ips
FROM (
  SELECT c.user_key, coalesce(c.app_lc, '') AS app, c.token,
    count(*) AS records, sum(greatest(c.count, 1)) AS operations,
    min(c.us) AS first_us, max(c.us) AS last_us,
    bool_and(c.exact) AS exact,
    bool_and(v.quiet) AS all_quiet,
    min_by(named_struct('user_id', c.user_id, 'upn', c.upn, 'session', c.session, 'app_name', c.app_name,
      'resource_id', c.resource_id, 'workload', c.workload, 'net_id', c.net_id,
      'token_issued_at', c.token_issued_at), c.ak) AS f,
    min_by(c.ip, IF(c.ip IS NULL, NULL, c.ak)) AS src_ip,
    ${scope(c.app_id, c.service_principal_id, c.ip)}
  FROM tt004_candidates c JOIN tt004_covered v ON v.ak = c.ak
  GROUP BY c.user_key, coalesce(c.app_lc, ''), c.token
) g;
