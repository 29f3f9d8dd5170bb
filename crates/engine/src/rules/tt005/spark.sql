-- TT005 unapproved-client, as the engine judges it (rules/tt005/mod.rs): delegated mail or file
-- access by a client the tenant does not use, or with a token from a risky flow (device code,
-- ROPC), or by a client token-theft tooling impersonates from an unmanaged device.

-- The users the tenant has (correlate.rs: Context::build): those of successful user sign-ins
-- and of delegated accesses.
CREATE OR REPLACE TEMPORARY VIEW tt005_client_use AS
SELECT ${key(app_id)} AS app, user_key, us FROM tt_si_user
WHERE succeeded AND user_kind AND user_key IS NOT NULL
UNION ALL
SELECT ${key(a.app_id)}, coalesce(${key(a.user_id)}, u.user_key, ${key(a.upn)}), a.us
FROM tt_acc_rows a LEFT JOIN tt_upn_to_id u ON u.upn_key = ${key(a.upn)}
WHERE a.delegated AND (a.user_id IS NOT NULL OR a.upn IS NOT NULL);

-- The clients the tenant uses (in_inventory): seen with enough users, or in steady use since
-- the sign-in logs begin.
DROP VIEW IF EXISTS tt005_inventory;
CACHE TABLE tt005_inventory AS
SELECT i.app FROM (
  SELECT app, count(DISTINCT user_key) AS users, count(DISTINCT floor(us / 86400000000)) AS days,
    min(us) AS first_us
  FROM tt005_client_use WHERE app IS NOT NULL AND user_key IS NOT NULL GROUP BY app
) i CROSS JOIN (
  SELECT greatest(${inventory_min_users}, CAST(ceil(${inventory_min_user_share} * count(DISTINCT user_key)) AS bigint)) AS min_users
  FROM tt005_client_use WHERE user_key IS NOT NULL
) n CROSS JOIN (
  SELECT min(us) AS start_us, floor(max(us) / 86400000000) - floor(min(us) / 86400000000) + 1 AS span_days
  FROM tt_si_user WHERE user_kind
) s
WHERE i.users >= n.min_users
  OR (s.start_us IS NOT NULL AND i.first_us <= s.start_us + ${inventory_established_us}
      AND i.days >= greatest(least(${inventory_min_days}, s.span_days), 2));

-- Whether the tenant is small (a client seen with few users says less there).
CREATE OR REPLACE TEMPORARY VIEW tt005_small AS
SELECT count(DISTINCT user_key) < ${inventory_min_users} * 10 AS small
FROM tt005_client_use WHERE user_key IS NOT NULL;

-- The risky flows each session's sign-ins show, and the first sign-in showing one
-- (interactive ones first); the session's first interactive sign-in.
DROP VIEW IF EXISTS tt005_sessions;
CACHE TABLE tt005_sessions AS
SELECT session,
  bool_or(device_code) AS device_code, bool_or(ropc) AS ropc,
  min_by(k, IF(device_code OR ropc, named_struct('ni', NOT root_kind, 'k', k), NULL)) AS flow_k,
  min(IF(root_kind, k, NULL)) AS root_k
FROM tt_chain GROUP BY session;

DROP VIEW IF EXISTS tt005_judged;
CACHE TABLE tt005_judged AS
SELECT * FROM (
  SELECT a.*,
    coalesce(i.device_code, false) OR coalesce(s.device_code, false) AS device_code,
    coalesce(i.ropc, false) OR coalesce(s.ropc, false) AS ropc,
    coalesce(p.tooling, false) AND CASE WHEN d.k IS NOT NULL THEN NOT d.managed
      ELSE coalesce(a.is_managed_device = false, false) END AS tooling_unmanaged,
    NOT coalesce(p.tooling, false) AND NOT coalesce(p.first_party, false) AND v.app IS NULL AS not_in_inventory,
    IF(i.device_code OR i.ropc, i.k, NULL) AS issue_flow_k, s.flow_k, d.k AS device_k
  FROM tt_linked a
  LEFT JOIN tt_si i ON i.k = a.issue_k
  LEFT JOIN tt005_sessions s ON s.session = a.link_session
  LEFT JOIN tt_si d ON d.k = coalesce(a.issue_k, s.root_k)
  LEFT JOIN tt_apps p ON p.app = a.app_lc
  LEFT JOIN tt005_inventory v ON v.app = a.app_lc
  WHERE a.delegated AND a.workload IN ('mail', 'files') AND a.app_lc IS NOT NULL
) WHERE (device_code OR ropc OR tooling_unmanaged OR not_in_inventory) AND user_key IS NOT NULL;

-- The sign-in that shows why: the issuing one when it shows the flow, else the session's
-- first showing one, else the one showing the unmanaged device, else the issuing one.
CREATE OR REPLACE TEMPORARY VIEW tt005_shown AS
SELECT *, coalesce(issue_flow_k, flow_k, IF(tooling_unmanaged, device_k, NULL),
  IF(not_in_inventory, issue_k, NULL)) AS shown_k
FROM tt005_judged;

-- One finding per (user, client).
CREATE OR REPLACE TEMPORARY VIEW tt005_findings AS
SELECT
  'TT005' AS rule,
  ${finding_id(TT005, concat(g.user_key, '|', g.app))} AS id,
  CASE WHEN g.flow THEN 'high' ELSE 'medium' END AS severity,
  CASE WHEN g.flow THEN 'high' WHEN g.not_in_inventory AND t.small THEN 'low' ELSE 'medium' END AS confidence,
  CASE WHEN g.flow THEN 'Mail or file access with a token from a risky sign-in flow'
    ELSE 'Mail or file access by an unapproved client' END AS title,
  coalesce(g.f.user_id, IF(instr(g.user_key, '@') > 0, NULL, g.user_key)) AS user_id,
  g.f.upn AS logged_upn,
  g.f.session AS session_id,
  g.f.token AS token_id,
  g.app AS app_id,
  g.f.app_name AS logged_app_name,
  ${resource_of(NULL, g.f.resource_id, g.f.workload)} AS resource,
  g.src_ip,
  g.f.net_id AS network,
  g.first_us, g.last_us, g.records, g.operations,
  g.issue_k,
  concat('{who} read mail or files with client ', g.app, '{app_name} (', g.records, ' record(s)): ',
    concat_ws('; ',
      IF(g.device_code, 'token obtained through the device code flow', NULL),
      IF(g.ropc, 'token obtained with the resource-owner password flow', NULL),
      IF(g.tooling_unmanaged, 'a client token-theft tooling impersonates, from an unmanaged device', NULL),
      IF(g.not_in_inventory, 'a client the tenant does not use', NULL)), '.') AS why,
  g.sessions,
  g.scope_apps, g.scope_sps, g.scope_ips
FROM (
  SELECT user_key, app_lc AS app,
    count(*) AS records, sum(greatest(count, 1)) AS operations,
    min(us) AS first_us, max(us) AS last_us,
    bool_or(device_code) AS device_code, bool_or(ropc) AS ropc,
    bool_or(device_code OR ropc) AS flow,
    bool_or(tooling_unmanaged) AS tooling_unmanaged, bool_or(not_in_inventory) AS not_in_inventory,
    min_by(named_struct('user_id', user_id, 'upn', upn, 'session', link_session, 'token', token,
      'app_name', app_name, 'resource_id', resource_id, 'workload', workload, 'net_id', net_id), ak) AS f,
    min_by(ip, IF(ip IS NULL, NULL, ak)) AS src_ip,
    array_sort(collect_set(link_session)) AS sessions,
    min(shown_k) AS issue_k,
    ${scope(app_id, service_principal_id, ip)}
  FROM tt005_shown GROUP BY user_key, app_lc
) g CROSS JOIN tt005_small t;
