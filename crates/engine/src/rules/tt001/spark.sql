-- TT001 token-replay, as the engine judges it (rules/tt001/mod.rs): a delegated access whose
-- token's issuing sign-in was on another network, after the issue, with no benign explanation.

-- Accesses with their issuing sign-in: both addresses known, not before the issue (clock skew
-- allowed), neither side Microsoft's published ranges.
CREATE OR REPLACE TEMPORARY VIEW tt001_base AS
SELECT a.ak, a.us, a.time, a.token, a.link_session AS session,
  coalesce(a.user_key, s.user_key) AS user_key,
  a.ip AS a_ip, a.net_id AS a_net_id, a.net_asn AS a_net_asn, a.certain AS a_certain,
  a.prefix AS a_prefix, a.v4 AS a_v4, a.hosting AS a_hosting,
  a.confidential_client, a.count, a.user_id AS a_user_id, a.upn AS a_upn, a.app_id AS a_app_id,
  a.service_principal_id AS a_sp,
  a.app_name AS a_app_name, a.resource_id AS a_resource_id, a.workload,
  s.k AS i_k, s.kind AS i_kind, s.confidential AS i_confidential, s.device_id AS i_device_id,
  s.app_lc AS i_app_lc, s.agent_country AS i_agent, s.device_code OR s.ropc AS i_names_client,
  s.net_asn AS i_net_asn, s.certain AS i_certain, s.prefix AS i_prefix, s.v4 AS i_v4,
  ${relate(s., a.)} AS direct
FROM tt_linked a JOIN tt_sin s ON s.k = a.issue_k
WHERE a.delegated AND a.token IS NOT NULL AND s.ip IS NOT NULL AND a.ip IS NOT NULL
  AND a.us >= s.us - ${issue_skew_us} AND NOT a.microsoft AND NOT s.microsoft;

-- An address of one family without ASN against an issuing address of the other: compared with
-- the session's sign-in addresses of its own family on the issuing network (dual stack).
CREATE OR REPLACE TEMPORARY VIEW tt001_twins AS
SELECT b.session, b.i_k, b.a_ip,
  CASE WHEN bool_or(${relate(c., b.a_)} = 0) THEN 0
    ELSE coalesce(min(CASE WHEN ${relate(c., b.a_)} > 0 THEN ${relate(c., b.a_)} END), -1) END AS rel
FROM (SELECT DISTINCT session, i_k, i_net_asn, i_certain, i_prefix, i_v4,
        a_ip, a_net_asn, a_certain, a_prefix, a_v4
      FROM tt001_base WHERE direct = -1 AND session IS NOT NULL) b
JOIN tt_chain c ON c.session = b.session AND c.ip IS NOT NULL AND c.v4 = b.a_v4
  AND ${relate(c., b.i_)} = 0
GROUP BY b.session, b.i_k, b.a_ip;

-- On different networks, not a confidential client's.
DROP VIEW IF EXISTS tt001_moved;
CACHE TABLE tt001_moved AS
SELECT * FROM (
  SELECT b.*, CASE WHEN b.direct = -1 THEN coalesce(t.rel, -1) ELSE b.direct END AS rel
  FROM tt001_base b
  LEFT JOIN tt001_twins t ON b.direct = -1 AND t.session = b.session AND t.i_k = b.i_k AND t.a_ip = b.a_ip
) WHERE rel > 0 AND NOT ((i_kind = 'non-interactive' AND i_confidential) OR confidential_client);

-- Was the session established on the access network: an interactive sign-in of the session
-- there, or a sign-in there proving the device the token was issued to, with the client that
-- device used on a home network of the session (its interactive networks and the issuing one).
CREATE OR REPLACE TEMPORARY VIEW tt001_q AS
SELECT DISTINCT session, i_k, i_device_id, i_app_lc, i_agent, i_names_client, i_net_asn, i_certain, i_prefix,
  i_v4, a_ip, a_net_asn, a_certain, a_prefix, a_v4
FROM tt001_moved WHERE session IS NOT NULL AND NOT a_hosting;

DROP VIEW IF EXISTS tt001_session_established;
CACHE TABLE tt001_session_established AS
SELECT DISTINCT q.session, q.i_k, q.a_ip
FROM tt001_q q
JOIN tt_chain c ON c.session = q.session AND c.root_kind AND c.ip IS NOT NULL
WHERE ${relate(c., q.a_)} = 0
UNION
SELECT DISTINCT q.session, q.i_k, q.a_ip
FROM tt001_q q
JOIN tt_chain j ON j.session = q.session AND j.kind = 'non-interactive'
  AND j.device_id = q.i_device_id AND j.proves_device AND j.ip IS NOT NULL AND j.app_lc IS NOT NULL
JOIN tt_chain c ON c.session = q.session AND c.device_id = j.device_id AND c.app_lc = j.app_lc
  AND c.ip IS NOT NULL
LEFT JOIN tt_chain h ON h.session = q.session AND h.root_kind AND h.ip IS NOT NULL
  AND ${relate(c., h.)} = 0
WHERE ${relate(j., q.a_)} = 0 AND (${relate(c., q.i_)} = 0 OR h.session IS NOT NULL)
UNION
-- Or the token was issued to the session's unregistered device (no device id, not a device-code
-- or ROPC sign-in; the client, user agent and country of a device-less interactive sign-in of
-- the session), and a sign-in there is that same device (judging.rs: token_unregistered_roamed).
SELECT DISTINCT q.session, q.i_k, q.a_ip
FROM tt001_q q
JOIN tt_chain u ON u.session = q.session AND u.root_kind AND u.device_id IS NULL
  AND NOT u.device_code AND NOT u.ropc AND u.app_lc = q.i_app_lc AND u.agent_country = q.i_agent
  AND u.ip IS NOT NULL AND NOT u.hosting AND u.net_asn IS NOT NULL
JOIN tt_chain j ON j.session = q.session AND j.kind = 'non-interactive' AND j.device_id IS NULL
  AND NOT j.device_code AND NOT j.ropc AND j.app_lc = q.i_app_lc AND j.agent_country = q.i_agent
  AND j.ip IS NOT NULL
WHERE q.i_device_id IS NULL AND NOT q.i_names_client AND q.a_net_asn IS NOT NULL
  AND ${relate(j., q.a_)} = 0;

-- The benign explanations that need the access's time: a network established for the user
-- (a device-proven sign-in there in another session before, or the tenant's own network),
-- travel (an interactive sign-in of the user from there within the travel window).
DROP VIEW IF EXISTS tt001_explained;
CACHE TABLE tt001_explained AS
SELECT m.ak FROM tt001_moved m
JOIN tt001_session_established e ON e.session = m.session AND e.i_k = m.i_k AND e.a_ip = m.a_ip
UNION
${user_explained(ak, tt001_moved)};

-- One finding per (token, access network).
CREATE OR REPLACE TEMPORARY VIEW tt001_findings AS
SELECT
  'TT001' AS rule,
  ${finding_id(TT001, concat(g.token, '|', g.net_id))} AS id,
  ${replay_severity(g.rel)} AS severity,
  ${relate_confidence(g.rel)} AS confidence,
  'Token used from a network it was not issued to' AS title,
  coalesce(s.user_id, g.f.a_user_id) AS user_id,
  coalesce(s.upn, g.f.a_upn) AS logged_upn,
  g.f.session AS session_id,
  g.token AS token_id,
  coalesce(s.app_id, g.f.a_app_id) AS app_id,
  coalesce(s.app_name, g.f.a_app_name) AS logged_app_name,
  ${resource_of(s.resource, g.f.a_resource_id, g.f.workload)} AS resource,
  g.f.a_ip AS src_ip,
  g.net_id AS network,
  g.first_us, g.last_us, g.records, g.operations,
  g.i_k AS issue_k,
  concat('Token ', g.token, ' issued to {who} on ', s.net_id, ' at ', ${rfc3339(s.time)},
    ' was used from ', g.net_id, ' by ', g.records, ' record(s).') AS why,
  CASE WHEN g.f.session IS NULL THEN array() ELSE array(g.f.session) END AS sessions,
  g.scope_apps, g.scope_sps, g.scope_ips
FROM (
  SELECT token, a_net_id AS net_id, min(i_k) AS i_k, min(rel) AS rel,
    count(*) AS records, sum(greatest(count, 1)) AS operations,
    min(us) AS first_us, max(us) AS last_us,
    min_by(named_struct('session', session, 'a_user_id', a_user_id, 'a_upn', a_upn,
      'a_app_id', a_app_id, 'a_app_name', a_app_name, 'a_resource_id', a_resource_id,
      'workload', workload, 'a_ip', a_ip), ak) AS f,
    ${scope(a_app_id, a_sp, a_ip)}
  FROM tt001_moved m LEFT ANTI JOIN tt001_explained x ON x.ak = m.ak
  GROUP BY token, a_net_id
) g
JOIN tt_sin s ON s.k = g.i_k;
