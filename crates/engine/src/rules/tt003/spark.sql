-- TT003 no-interactive-context, as the engine judges it (rules/tt003/mod.rs): delegated mail or
-- file access whose token descends from no interactive sign-in, inside the coverage of the
-- interactive sign-in logs.

-- What each session's sign-ins say: an interactive one, its non-interactive ones (the first,
-- whether any left its kind unstated, whether all prove a device off hosting networks).
DROP VIEW IF EXISTS tt003_sessions;
CACHE TABLE tt003_sessions AS
SELECT session,
  bool_or(root_kind) AS interactive,
  count_if(kind = 'non-interactive') AS non_interactive,
  min(IF(kind = 'non-interactive', k, NULL)) AS first_ni_k,
  bool_or(kind = 'non-interactive' AND kind_assumed) AS ni_assumed,
  bool_and(IF(kind = 'non-interactive', proves_device AND NOT coalesce(hosting, false), NULL)) AS ni_proven
FROM tt_chain GROUP BY session;

-- Accesses with no interactive root in sight, and the span the root would have to be in.
DROP VIEW IF EXISTS tt003_candidates;
CACHE TABLE tt003_candidates AS
SELECT a.*, i.k AS i_k, coalesce(s.non_interactive, 0) > 0 OR a.issue_k IS NOT NULL AS session_logged,
  s.first_ni_k,
  least(coalesce(ss.us, a.us), a.us, a.alive_us) - ${root_lookback_us} AS from_us,
  least(coalesce(ss.us, a.us), a.us, a.alive_us) AS to_us
FROM tt_linked a
LEFT JOIN tt_sin i ON i.k = a.issue_k
LEFT JOIN tt003_sessions s ON s.session = a.link_session
LEFT JOIN tt_session_start ss ON ss.session = a.link_session
LEFT JOIN tt_apps p ON p.app = a.app_lc
WHERE a.delegated AND a.workload IN ('mail', 'files')
  AND (a.token IS NOT NULL OR a.link_session IS NOT NULL)
  AND NOT coalesce(i.root_kind, false)
  AND NOT coalesce(s.interactive, false)
  AND NOT (a.link_session IS NULL AND a.issue_k IS NOT NULL)
  AND NOT coalesce(s.ni_assumed, false) AND NOT coalesce(i.kind_assumed, false)
  AND NOT (NOT (coalesce(s.non_interactive, 0) > 0 OR a.issue_k IS NOT NULL) AND coalesce(p.first_party, false))
  AND NOT (coalesce(s.non_interactive, 0) > 0 AND coalesce(s.ni_proven, false))
  AND a.user_key IS NOT NULL;

-- Inside the coverage of the interactive sign-in log or of the UAL logons (Context::
-- interactive_covered): covered by either, else across a quiet stretch of either.
DROP VIEW IF EXISTS tt003_covered;
CACHE TABLE tt003_covered AS
SELECT ak, max(state) AS state FROM (
  ${covered(interactive, tt003_candidates)}
  UNION ALL
  ${covered(ual-logon, tt003_candidates)}
) GROUP BY ak HAVING max(state) > 0;

-- One finding per (user, client, network).
CREATE OR REPLACE TEMPORARY VIEW tt003_findings AS
SELECT
  'TT003' AS rule,
  ${finding_id(TT003, concat(g.user_key, '|', g.app, '|', coalesce(g.net_id, 'an unknown network')))} AS id,
  'medium' AS severity,
  CASE WHEN g.session_logged AND NOT g.all_quiet THEN 'high'
    WHEN g.session_logged OR NOT g.all_quiet THEN 'medium' ELSE 'low' END AS confidence,
  'Mail or file access with no interactive sign-in behind it' AS title,
  coalesce(g.f.user_id, IF(instr(g.user_key, '@') > 0, NULL, g.user_key)) AS user_id,
  g.f.upn AS logged_upn,
  g.session_id,
  g.f.token AS token_id,
  nullif(g.app, '') AS app_id,
  g.f.app_name AS logged_app_name,
  ${resource_of(NULL, g.f.resource_id, g.f.workload)} AS resource,
  g.src_ip,
  g.net_id AS network,
  g.first_us, g.last_us, g.records, g.operations,
  g.issue_k,
  concat('{who} accessed ', g.workloads, ' with client ', coalesce(nullif(g.app, ''), '(unknown)'),
    ' from ', coalesce(g.net_id, 'an unknown network'), ' (', g.records, ' record(s)) in ',
    CASE WHEN size(g.sessions) = 0 THEN 'a token with no sign-in and no session'
      ELSE concat('session(s) ', array_join(g.sessions, ', '), ' with no interactive sign-in') END,
    ' although the interactive sign-in logs cover the ', ${root_lookback_us} DIV 3600000000, ' h before.') AS why,
  g.sessions,
  g.scope_apps, g.scope_sps, g.scope_ips
FROM (
  SELECT c.user_key, coalesce(c.app_lc, '') AS app, c.net_id,
    count(*) AS records, sum(greatest(c.count, 1)) AS operations,
    min(c.us) AS first_us, max(c.us) AS last_us,
    bool_or(c.session_logged) AS session_logged,
    bool_and(v.state = 1) AS all_quiet,
    min_by(named_struct('user_id', c.user_id, 'upn', c.upn, 'token', c.token, 'app_name', c.app_name,
      'resource_id', c.resource_id, 'workload', c.workload), c.ak) AS f,
    min_by(c.ip, IF(c.ip IS NULL, NULL, c.ak)) AS src_ip,
    array_sort(collect_set(c.link_session)) AS sessions,
    min(c.link_session) AS session_id,
    array_join(array_sort(collect_set(c.workload)), ' and ') AS workloads,
    least(min(c.first_ni_k), min(c.i_k)) AS issue_k,
    ${scope(c.app_id, c.service_principal_id, c.ip)}
  FROM tt003_candidates c JOIN tt003_covered v ON v.ak = c.ak
  GROUP BY c.user_key, coalesce(c.app_lc, ''), c.net_id
) g;
