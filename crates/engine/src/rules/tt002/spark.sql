-- TT002 session-replay, as the engine judges it (rules/tt002/mod.rs): a non-interactive
-- sign-in or a delegated access of a session, after its interactive root, from a network
-- outside the session's home, that no excuse of its own explains.

-- Sessions with an interactive root whose home (the networks of its interactive sign-ins) is
-- known; the root is the earliest, and its user is the session's.
DROP VIEW IF EXISTS tt002_rooted;
CACHE TABLE tt002_rooted AS
SELECT r.session, r.root_k, s.us AS root_us, s.user_key, s.user_id, s.upn, s.app_id,
  s.app_name, s.resource
FROM (
  SELECT session, min(k) AS root_k FROM tt_chain WHERE root_kind GROUP BY session
  HAVING count(ip) > 0
) r JOIN tt_sin s ON s.k = r.root_k;

CREATE OR REPLACE TEMPORARY VIEW tt002_home AS
SELECT c.session, c.net_id, c.net_asn, c.certain, c.prefix, c.v4
FROM tt_chain c JOIN tt002_rooted r ON r.session = c.session
WHERE c.root_kind AND c.ip IS NOT NULL;

-- The (device, client) pairs each session used on its home networks (judging.rs: home_devices).
DROP VIEW IF EXISTS tt002_devices;
CACHE TABLE tt002_devices AS
SELECT DISTINCT c.session, c.device_id, c.app_lc
FROM tt_chain c JOIN tt002_home h ON h.session = c.session AND ${relate(c., h.)} = 0
WHERE c.device_id IS NOT NULL AND c.app_lc IS NOT NULL AND c.ip IS NOT NULL;

-- The (client, user agent and country) of each session's device-less interactive sign-ins: a
-- personal device Entra does not know, as it signed in at home (judging.rs: home_unregistered).
DROP VIEW IF EXISTS tt002_unregistered;
CACHE TABLE tt002_unregistered AS
SELECT DISTINCT c.session, c.app_lc, c.agent_country
FROM tt_chain c JOIN tt002_rooted r ON r.session = c.session
WHERE c.root_kind AND c.device_id IS NULL AND NOT c.device_code AND NOT c.ropc
  AND c.app_lc IS NOT NULL AND c.agent_country IS NOT NULL
  AND c.ip IS NOT NULL AND NOT c.hosting AND c.net_asn IS NOT NULL;

-- The records of rooted sessions: their non-interactive sign-ins and the delegated accesses
-- linked to them, with what each record's own excuses need.
DROP VIEW IF EXISTS tt002_records;
CACHE TABLE tt002_records AS
SELECT concat('s', to_json(c.k)) AS rk, c.session, c.us, c.k, CAST(NULL AS struct<us:bigint,log:int,rid:string,f:string,p:int,n:bigint>) AS ak,
  false AS is_access, 1 AS ops, c.ip AS a_ip, c.net_id AS a_net_id, c.net_asn AS a_net_asn,
  c.certain AS a_certain, c.prefix AS a_prefix, c.v4 AS a_v4, c.microsoft AS a_microsoft,
  c.hosting AS a_hosting, c.confidential, c.proves_device, c.device_id, c.app_lc,
  c.agent_country, c.device_code OR c.ropc AS names_client,
  CAST(NULL AS string) AS issuer_device, false AS has_issuer, CAST(NULL AS string) AS issuer_app,
  CAST(NULL AS string) AS issuer_agent, CAST(NULL AS string) AS resource_id,
  CAST(NULL AS string) AS workload, c.app_id AS rec_app, c.service_principal_id AS rec_sp,
  false AS issuer_names_client
FROM tt_chain c JOIN tt002_rooted r ON r.session = c.session
WHERE c.kind = 'non-interactive'
UNION ALL
SELECT concat('a', to_json(a.ak)), a.link_session, a.us, NULL, a.ak, true, greatest(a.count, 1),
  a.ip, a.net_id, a.net_asn, a.certain, a.prefix, a.v4, a.microsoft, a.hosting,
  coalesce(i.confidential_any, false) OR a.confidential_client, false, NULL, NULL,
  NULL, false, i.device_id, i.k IS NOT NULL, i.app_lc, i.agent_country, a.resource_id, a.workload,
  a.app_id, a.service_principal_id, coalesce(i.names_client, false)
FROM tt_linked a JOIN tt002_rooted r ON r.session = a.link_session
LEFT JOIN (SELECT k, device_id, confidential AS confidential_any, lower(app_id) AS app_lc,
  agent_country, device_code OR ropc AS names_client FROM tt_si) i ON i.k = a.issue_k
WHERE a.delegated;

-- Records after the root, from a network that is not Microsoft's, differing from every home
-- network (the least confident difference), not a confidential client's.
DROP VIEW IF EXISTS tt002_moved;
CACHE TABLE tt002_moved AS
SELECT * FROM (
  SELECT x.*, r.user_key, r.root_us,
    CASE WHEN bool_or(${relate(x.a_, h.)} = 0) THEN 0
      ELSE coalesce(min(CASE WHEN ${relate(x.a_, h.)} > 0 THEN ${relate(x.a_, h.)} END), -1) END AS rel
  FROM tt002_records x
  JOIN tt002_rooted r ON r.session = x.session
  JOIN tt002_home h ON h.session = x.session
  WHERE x.a_ip IS NOT NULL AND x.us >= r.root_us AND NOT x.a_microsoft
  GROUP BY ALL
) WHERE rel > 0 AND NOT confidential;

-- Roaming, judged for each record alone: a sign-in proving the session's own device with its
-- usual client; an access whose token was issued to a device such a sign-in of the session
-- proves on the record's network.
CREATE OR REPLACE TEMPORARY VIEW tt002_roamed AS
SELECT m.rk FROM tt002_moved m
JOIN tt002_devices d ON d.session = m.session AND d.device_id = m.device_id AND d.app_lc = m.app_lc
WHERE NOT m.is_access AND NOT m.a_hosting AND m.proves_device
UNION
SELECT m.rk FROM tt002_moved m
JOIN tt_chain j ON j.session = m.session AND j.kind = 'non-interactive' AND j.device_id = m.issuer_device
  AND j.proves_device AND j.ip IS NOT NULL AND ${relate(j., m.a_)} = 0
JOIN tt002_devices d ON d.session = m.session AND d.device_id = j.device_id AND d.app_lc = j.app_lc
WHERE m.is_access AND NOT m.a_hosting
UNION
-- The session's unregistered device roaming (judging.rs: unregistered_roamed): a sign-in that
-- names no device either, with the client, user agent and country of a device-less home
-- sign-in; an access whose token such a sign-in issued, when a sign-in of the session from
-- the record's network is that same client, agent and country.
SELECT m.rk FROM tt002_moved m
JOIN tt002_unregistered u ON u.session = m.session AND u.app_lc = m.app_lc
  AND u.agent_country = m.agent_country
WHERE NOT m.is_access AND NOT m.a_hosting AND m.a_net_asn IS NOT NULL AND m.device_id IS NULL
  AND NOT m.names_client
UNION
SELECT m.rk FROM tt002_moved m
JOIN tt002_unregistered u ON u.session = m.session AND u.app_lc = m.issuer_app
  AND u.agent_country = m.issuer_agent
JOIN tt_chain j ON j.session = m.session AND j.kind = 'non-interactive' AND j.device_id IS NULL
  AND NOT j.device_code AND NOT j.ropc AND j.app_lc = m.issuer_app
  AND j.agent_country = m.issuer_agent AND j.ip IS NOT NULL AND ${relate(j., m.a_)} = 0
WHERE m.is_access AND NOT m.a_hosting AND m.a_net_asn IS NOT NULL AND m.has_issuer
  AND m.issuer_device IS NULL AND NOT m.issuer_names_client;

DROP VIEW IF EXISTS tt002_explained;
CACHE TABLE tt002_explained AS
SELECT rk FROM tt002_roamed
UNION
${user_explained(rk, tt002_moved)};

-- One finding per (session, new network).
CREATE OR REPLACE TEMPORARY VIEW tt002_findings AS
SELECT
  'TT002' AS rule,
  ${finding_id(TT002, concat(g.session, '|', g.net_id))} AS id,
  ${replay_severity(g.rel)} AS severity,
  ${relate_confidence(g.rel)} AS confidence,
  'Session used from a network where it was never established' AS title,
  r.user_id,
  r.upn AS logged_upn,
  g.session AS session_id,
  CAST(NULL AS string) AS token_id,
  r.app_id,
  r.app_name AS logged_app_name,
  ${resource_of(r.resource, g.first_access.resource_id, g.first_access.workload)} AS resource,
  g.src_ip,
  g.net_id AS network,
  g.first_us, g.last_us, g.records, g.operations,
  r.root_k AS issue_k,
  concat('Session ', g.session, ' established interactively by {who} on ', h.homes,
    ' was used from ', g.net_id, ' (', g.sign_ins, ' non-interactive sign-in(s), ', g.accesses,
    ' access(es))', CASE WHEN g.hosting THEN ', a hosting network' ELSE '' END,
    CASE WHEN g.sign_ins > 0 AND NOT g.with_device THEN ', with no device id' ELSE '' END, '.') AS why,
  array(g.session) AS sessions,
  g.scope_apps, g.scope_sps, g.scope_ips
FROM (
  SELECT session, a_net_id AS net_id, min(rel) AS rel, count(*) AS records, sum(ops) AS operations,
    count_if(NOT is_access) AS sign_ins, count_if(is_access) AS accesses,
    bool_or(NOT is_access AND device_id IS NOT NULL) AS with_device,
    bool_or(a_hosting) AS hosting,
    min(us) AS first_us, max(us) AS last_us,
    min_by(a_ip, named_struct('us', us, 'acc', is_access, 'k', k, 'ak', ak)) AS src_ip,
    min_by(IF(is_access, named_struct('resource_id', resource_id, 'workload', workload), NULL),
      IF(is_access, ak, NULL)) AS first_access,
    ${scope(rec_app, rec_sp, a_ip)}
  FROM tt002_moved m LEFT ANTI JOIN tt002_explained x ON x.rk = m.rk
  GROUP BY session, a_net_id
) g
JOIN tt002_rooted r ON r.session = g.session
JOIN (
  SELECT session, array_join(array_sort(collect_set(net_id)), ', ') AS homes FROM tt002_home GROUP BY session
) h ON h.session = g.session;
