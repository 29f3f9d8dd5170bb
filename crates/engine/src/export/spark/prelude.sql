-- tokentrail: the shared part of the rules' Spark SQL form (crates/engine/src/export/spark/).
-- It reads the normalized tables `tokentrail normalize` writes and builds what every rule
-- reads, as the engine does in Engine::finish and correlate.rs: sign-in rows of one id merged,
-- accesses deduplicated, the network of every address, the token index, session chains, the
-- networks established for each user, and the coverage of the sign-in logs.
-- Names in dollar-braces are filled in by `tokentrail export`; every view is prefixed tt_.

SET spark.sql.session.timeZone = UTC;
-- A temporary view keeps its analyzed plan: otherwise (Spark 3.1 and later) every reference
-- to a view analyzes its SQL again, and so every view below it, which costs minutes for a
-- chain of views as long as this one.
SET spark.sql.legacy.storeAnalyzedPlanForView = true;
-- The plan text Spark writes for its listeners is capped. Adaptive execution is off: it was
-- turned off when nested cached views made that text double per level, and the differential
-- test and measurements ran without it. Set spark.sql.shuffle.partitions to the size of the
-- input (docs/spark.md).
SET spark.sql.adaptive.enabled = false;
SET spark.sql.maxPlanStringLength = 100000;
-- The network comparison is a large CASE used in many joins and filters: inferring
-- constraints from it makes the optimizer, not the data, take minutes.
SET spark.sql.constraintPropagation.enabled = false;

CREATE OR REPLACE TEMPORARY VIEW tt_raw_sign_ins USING parquet OPTIONS (path '${normalized}/sign_ins');

CREATE OR REPLACE TEMPORARY VIEW tt_raw_accesses USING parquet OPTIONS (path '${normalized}/accesses');

-- Reference data, as built into this tokentrail (crates/engine/src/data/).
-- Microsoft's published service ranges, as 32-digit hex bounds of 128-bit addresses (IPv4
-- mapped into IPv6), merged.
CREATE OR REPLACE TEMPORARY VIEW tt_microsoft_ranges AS
SELECT * FROM VALUES ${microsoft_ranges} AS t(lo, hi);

-- Hosting ASNs, AS8075 (Azure) included.
CREATE OR REPLACE TEMPORARY VIEW tt_hosting_asns AS
SELECT * FROM VALUES ${hosting_asns} AS t(asn);

-- Client ids (lower case) the catalog knows: display name, first party, tooling default.
CREATE OR REPLACE TEMPORARY VIEW tt_apps AS
SELECT * FROM VALUES ${apps} AS t(app, name, first_party, tooling);

-- Sign-in rows with placeholder ids dropped and the facts the engine computes per row
-- (store.rs: Store::sign_in).
CREATE OR REPLACE TEMPORARY VIEW tt_si_rows AS
SELECT
  r.*,
  (CASE WHEN kind IN ('ual-logon') OR coalesce(kind_assumed, false) THEN 1 ELSE 0 END) AS twin_rank,
  (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END + CASE WHEN upn IS NULL THEN 0 ELSE 1 END
   + CASE WHEN app_id IS NULL THEN 0 ELSE 1 END + CASE WHEN app_name IS NULL THEN 0 ELSE 1 END
   + CASE WHEN resource IS NULL THEN 0 ELSE 1 END
   + CASE WHEN service_principal_id IS NULL THEN 0 ELSE 1 END
   + CASE WHEN device_id IS NULL THEN 0 ELSE 1 END + CASE WHEN ip IS NULL THEN 0 ELSE 1 END
   + CASE WHEN issued IS NULL THEN 0 ELSE 1 END + CASE WHEN session IS NULL THEN 0 ELSE 1 END
   + CASE WHEN asn <> 0 THEN 1 ELSE 0 END) AS richness
FROM (
  SELECT
    source_file AS src_file,
    CASE WHEN source_line IS NOT NULL THEN 0 ELSE 1 END AS src_kind,
    coalesce(source_line, source_index) AS src_n,
    CASE WHEN ${guid_placeholder(id)} THEN NULL ELSE id END AS sid,
    kind,
    time,
    unix_micros(time) AS us,
    user_id, upn, app_id, app_name,
    coalesce(resource_name, resource_id) AS resource,
    service_principal_id,
    device_id,
    -- The user agent and country together, when the user agent is logged; a country not
    -- logged is empty (store.rs: agent_country).
    CASE WHEN user_agent IS NOT NULL
      THEN concat(user_agent, chr(31), coalesce(country, '')) END AS agent_country,
    ip,
    coalesce(asn, 0) AS asn,
    coalesce(
      CASE WHEN ${id_placeholder(token_id)} THEN NULL ELSE token_id END,
      CASE WHEN ${guid_placeholder(id)} THEN NULL ELSE id END) AS issued,
    CASE WHEN ${id_placeholder(session_id)} THEN NULL ELSE session_id END AS session,
    coalesce(error_code, 0) = 0 AS succeeded,
    coalesce(trim(client_credential_type) <> '' AND lower(trim(client_credential_type)) <> 'none', false) AS confidential,
    device_id IS NOT NULL AND (coalesce(device_is_managed, false) OR coalesce(device_is_compliant, false)
      OR coalesce(lower(incoming_token_type) = 'primaryrefreshtoken', false)
      OR coalesce(lower(token_protection) = 'bound', false)) AS proves_device,
    coalesce(device_is_managed, false) OR coalesce(device_is_compliant, false) AS managed,
    coalesce(lower(auth_protocol) = 'devicecode', false) OR coalesce(lower(transfer_method) = 'devicecodeflow', false) AS device_code,
    coalesce(lower(auth_protocol) = 'ropc', false) AS ropc,
    coalesce(kind_assumed, false) AS kind_assumed
  FROM tt_raw_sign_ins
) r;

-- One row per sign-in (lib.rs: merge_sign_ins): the rows of one id become the row of an Entra
-- log before a UAL UserLoggedIn twin, then the richest, then the first read, filled from the
-- others in that order. Rows without an id are kept as they are.
CREATE OR REPLACE TEMPORARY VIEW tt_si_ranked AS
SELECT *, row_number() OVER (PARTITION BY sid ORDER BY twin_rank, richness DESC, src_file, src_kind, src_n) AS rn
FROM tt_si_rows WHERE sid IS NOT NULL;

CREATE OR REPLACE TEMPORARY VIEW tt_si_merged AS
SELECT
  sid,
  min_by(src_file, rn) AS src_file, min_by(src_kind, rn) AS src_kind, min_by(src_n, rn) AS src_n,
  min_by(time, rn) AS time, min_by(us, rn) AS us,
  min_by(user_id, IF(user_id IS NULL, NULL, rn)) AS user_id,
  min_by(upn, IF(upn IS NULL, NULL, rn)) AS upn,
  min_by(app_id, IF(app_id IS NULL, NULL, rn)) AS app_id,
  min_by(app_name, IF(app_name IS NULL, NULL, rn)) AS app_name,
  min_by(resource, IF(resource IS NULL, NULL, rn)) AS resource,
  min_by(service_principal_id, IF(service_principal_id IS NULL, NULL, rn)) AS service_principal_id,
  min_by(issued, IF(issued IS NULL, NULL, rn)) AS issued,
  min_by(session, IF(session IS NULL, NULL, rn)) AS session,
  min_by(agent_country, IF(agent_country IS NULL, NULL, rn)) AS agent_country,
  min_by(ip, IF(ip IS NULL, NULL, rn)) AS ip,
  min_by(struct(ip, asn), IF(ip IS NULL, NULL, rn)) AS ip_row,
  collect_list(struct(rn, ip, asn)) AS ip_asns,
  coalesce(min_by(device_id, IF(device_id IS NULL, NULL, rn)), NULL) AS device_id,
  coalesce(min_by(proves_device, IF(device_id IS NULL, NULL, rn)), min_by(proves_device, rn)) AS proves_device,
  coalesce(min_by(managed, IF(device_id IS NULL, NULL, rn)), min_by(managed, rn)) AS managed,
  bool_or(device_code) AS device_code,
  bool_or(ropc) AS ropc,
  min_by(kind, rn) AS base_kind,
  min_by(kind_assumed, rn) AS base_assumed,
  min_by(kind, IF(kind_assumed, NULL, rn)) AS stated_kind,
  min_by(succeeded, rn) AS succeeded,
  min_by(confidential, rn) AS confidential
FROM tt_si_ranked
GROUP BY sid;

-- Every kept sign-in, with `k`, the order the engine puts sign-ins in (time, id, where read).
DROP VIEW IF EXISTS tt_si;
CACHE TABLE tt_si AS
SELECT s.*, named_struct('us', us, 'id', sid, 'f', src_file, 'p', src_kind, 'n', src_n) AS k
FROM (
  SELECT
    sid, src_file, src_kind, src_n, time, us, user_id, upn, app_id, app_name, resource,
    service_principal_id, issued, session, agent_country, ip,
    -- The ASN goes with the address: the first logged one among the rows that logged it.
    coalesce(element_at(array_sort(filter(ip_asns, x -> x.ip = ip AND x.asn <> 0)), 1).asn, 0) AS asn,
    device_id, proves_device, managed, device_code, ropc,
    CASE WHEN base_assumed AND stated_kind IS NOT NULL
      THEN CASE WHEN stated_kind IN ('interactive', 'ual-logon') THEN 'interactive' ELSE stated_kind END
      ELSE base_kind END AS kind,
    base_assumed AND stated_kind IS NULL AS kind_assumed,
    succeeded, confidential
  FROM tt_si_merged
  UNION ALL
  SELECT
    sid, src_file, src_kind, src_n, time, us, user_id, upn, app_id, app_name, resource,
    service_principal_id, issued, session, agent_country, ip, asn, device_id, proves_device, managed,
    device_code, ropc, kind, kind_assumed, succeeded, confidential
  FROM tt_si_rows WHERE sid IS NULL
) s;

-- The user a sign-in acts for (correlate.rs: user_of_sign_in): object id, else UPN, trimmed
-- and lower case.
CREATE OR REPLACE TEMPORARY VIEW tt_si_user AS
SELECT s.*,
  coalesce(${key(user_id)}, ${key(upn)}) AS user_key,
  kind IN ('interactive', 'non-interactive', 'ual-logon') AS user_kind,
  kind IN ('interactive', 'ual-logon') AS root_kind,
  lower(app_id) AS app_lc
FROM tt_si s;

-- UPN (key) -> the user object id (key) the first sign-in that logged both gave it.
DROP VIEW IF EXISTS tt_upn_to_id;
CACHE TABLE tt_upn_to_id AS
SELECT ${key(upn)} AS upn_key, min_by(${key(user_id)}, k) AS user_key
FROM tt_si WHERE ${key(upn)} IS NOT NULL AND ${key(user_id)} IS NOT NULL
GROUP BY ${key(upn)};

-- Access records with placeholder ids dropped (store.rs: Store::access).
CREATE OR REPLACE TEMPORARY VIEW tt_acc_rows AS
SELECT a.*,
  (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END + CASE WHEN upn IS NULL THEN 0 ELSE 1 END
   + CASE WHEN service_principal_id IS NULL THEN 0 ELSE 1 END
   + CASE WHEN app_id IS NULL THEN 0 ELSE 1 END + CASE WHEN app_name IS NULL THEN 0 ELSE 1 END
   + CASE WHEN resource_id IS NULL THEN 0 ELSE 1 END + CASE WHEN operation IS NULL THEN 0 ELSE 1 END
   + CASE WHEN ip IS NULL THEN 0 ELSE 1 END + CASE WHEN token IS NULL THEN 0 ELSE 1 END
   + CASE WHEN session IS NULL THEN 0 ELSE 1 END
   + CASE WHEN client_auth_method IS NULL THEN 0 ELSE 1 END
   + CASE WHEN is_managed_device IS NULL THEN 0 ELSE 1 END
   + CASE WHEN token_issued_at IS NULL THEN 0 ELSE 1 END) AS richness,
  CASE actor WHEN 'delegated' THEN true WHEN 'app-only' THEN false
    ELSE NOT (NOT has_user AND (service_principal_id IS NOT NULL OR confidential_client)) AND has_user
  END AS delegated,
  CASE actor WHEN 'app-only' THEN true WHEN 'delegated' THEN false
    ELSE NOT has_user AND (service_principal_id IS NOT NULL OR confidential_client)
  END AS app_only,
  CASE log WHEN 'graph-activity' THEN 0 WHEN 'exchange-audit' THEN 1 WHEN 'sharepoint-audit' THEN 2
    WHEN 'onedrive-audit' THEN 3 WHEN 'teams-audit' THEN 4 ELSE 5 END AS log_rank,
  -- A session or token is alive from its token's issue.
  least(us, coalesce(unix_micros(token_issued_at), us)) AS alive_us
FROM (
  SELECT
    source_file AS src_file,
    CASE WHEN source_line IS NOT NULL THEN 0 ELSE 1 END AS src_kind,
    coalesce(source_line, source_index) AS src_n,
    log,
    CASE WHEN ${text_placeholder(record_id)} THEN NULL ELSE record_id END AS record_id,
    time, unix_micros(time) AS us, workload, actor, user_id, upn, service_principal_id,
    app_id, app_name, resource_id, ip, client_auth_method, is_managed_device,
    CASE WHEN ${id_placeholder(session_id)} THEN NULL ELSE session_id END AS session,
    CASE WHEN ${id_placeholder(token_id)} THEN NULL ELSE token_id END AS token,
    token_issued_at, operation, coalesce(count, 1) AS count,
    user_id IS NOT NULL OR upn IS NOT NULL AS has_user,
    coalesce(client_auth_method <> 0, false) AS confidential_client
  FROM tt_raw_accesses
) a;

-- One record per (log, record id), or per content without an id: the richest copy, then the
-- first read (lib.rs: one_per_key).
DROP VIEW IF EXISTS tt_acc;
CACHE TABLE tt_acc AS
SELECT * FROM (
  SELECT *, row_number() OVER (
    PARTITION BY log, record_id,
      CASE WHEN record_id IS NULL THEN named_struct(
        'us', us, 'user_id', user_id, 'upn', upn, 'sp', service_principal_id, 'app', app_id,
        'app_name', app_name, 'resource', resource_id, 'op', operation, 'ip', ip,
        'token', token, 'session', session, 'iat', token_issued_at, 'count', count,
        'workload', workload, 'actor', actor, 'cam', client_auth_method,
        'managed', is_managed_device) END
    ORDER BY richness DESC, src_file, src_kind, src_n) AS dup
  FROM tt_acc_rows
) WHERE dup = 1;

-- Every address: its 128-bit form as 32 hex digits (IPv4 mapped into IPv6), its /24 or /48
-- (as NetworkId prints it), its family.
CREATE OR REPLACE TEMPORARY VIEW tt_addr AS
SELECT ip, v4,
  CASE WHEN v4 THEN concat('00000000000000000000ffff',
      concat_ws('', transform(split(ip, '\\.'), o -> lpad(lower(hex(cast(o AS int))), 2, '0'))))
    ELSE concat_ws('', transform(groups, g -> lpad(g, 4, '0'))) END AS hex,
  CASE WHEN v4 THEN concat(substring_index(ip, '.', 3), '.0/24')
    WHEN groups[2] <> '0' THEN concat(groups[0], ':', groups[1], ':', groups[2], '::/48')
    WHEN groups[1] <> '0' THEN concat(groups[0], ':', groups[1], '::/48')
    WHEN groups[0] <> '0' THEN concat(groups[0], '::/48')
    ELSE '::/48' END AS prefix
FROM (
  SELECT ip, v4,
    CASE WHEN v4 THEN NULL
      WHEN instr(ip, '::') > 0 THEN concat(l, array_repeat('0', 8 - size(l) - size(r)), r)
      ELSE split(ip, ':') END AS groups
  FROM (
    SELECT ip, instr(ip, ':') = 0 AS v4,
      filter(split(substring_index(ip, '::', 1), ':'), x -> x <> '') AS l,
      CASE WHEN instr(ip, '::') > 0
        THEN filter(split(substring(ip, instr(ip, '::') + 2), ':'), x -> x <> '')
        ELSE array() END AS r
    FROM (SELECT DISTINCT ip FROM (SELECT ip FROM tt_si UNION ALL SELECT ip FROM tt_acc) WHERE ip IS NOT NULL)
  )
);

-- The ASN of each sign-in address: the one logged most often with it, the smallest on a tie
-- (network.rs: Networks::learn).
CREATE OR REPLACE TEMPORARY VIEW tt_ip_asn AS
SELECT ip, max_by(asn, named_struct('n', n, 'neg', -asn)) AS asn
FROM (SELECT ip, asn, count(*) AS n FROM tt_si WHERE ip IS NOT NULL AND asn <> 0 GROUP BY ip, asn)
GROUP BY ip;

-- A /24 or /48 whose sign-in addresses are all of one ASN lends it to its other addresses.
CREATE OR REPLACE TEMPORARY VIEW tt_prefix_asn AS
SELECT d.prefix, min(i.asn) AS asn
FROM tt_ip_asn i JOIN tt_addr d ON d.ip = i.ip
GROUP BY d.prefix HAVING count(DISTINCT i.asn) = 1;

-- The network of every address (network.rs: Networks::resolve): the ASN the sign-ins logged
-- with it, else its neighbours' (less certain), else its prefix. Microsoft is the published
-- ranges only; hosting is the hosting list and AS8075 outside them.
DROP VIEW IF EXISTS tt_net;
CACHE TABLE tt_net AS
SELECT n.*,
  CASE WHEN asn IS NOT NULL THEN concat('AS', asn) ELSE prefix END AS net_id,
  NOT microsoft AND asn IS NOT NULL AND (asn = 8075 OR asn IN (SELECT asn FROM tt_hosting_asns)) AS hosting
FROM (
  SELECT d.ip, d.v4, d.prefix,
    coalesce(i.asn, p.asn) AS asn,
    i.asn IS NOT NULL AS certain,
    EXISTS (SELECT 1 FROM tt_microsoft_ranges m WHERE d.hex BETWEEN m.lo AND m.hi) AS microsoft
  FROM tt_addr d
  LEFT JOIN tt_ip_asn i ON i.ip = d.ip
  LEFT JOIN tt_prefix_asn p ON p.prefix = d.prefix
) n;

-- Kept sign-ins with their network.
DROP VIEW IF EXISTS tt_sin;
CACHE TABLE tt_sin AS
SELECT s.*, n.net_id, n.asn AS net_asn, n.certain, n.prefix, n.v4, n.microsoft, n.hosting
FROM tt_si_user s LEFT JOIN tt_net n ON n.ip = s.ip;

-- The token index: each token's issuing sign-in, the first successful one in order.
DROP VIEW IF EXISTS tt_issuer;
CACHE TABLE tt_issuer AS
SELECT issued AS token, min(k) AS k FROM tt_si WHERE succeeded AND issued IS NOT NULL GROUP BY issued;

-- Session chains: successful interactive sign-ins (and UAL logons), and non-interactive ones.
DROP VIEW IF EXISTS tt_chain;
CACHE TABLE tt_chain AS
SELECT * FROM tt_sin WHERE succeeded AND session IS NOT NULL AND kind IN ('interactive', 'ual-logon', 'non-interactive');

-- Accesses linked once (correlate.rs: Context::link): the issuing sign-in, the session (its
-- own, else its issuing sign-in's), the user (object id, else the object id a sign-in gave the
-- UPN, else the UPN), the network.
DROP VIEW IF EXISTS tt_linked;
CACHE TABLE tt_linked AS
SELECT a.*,
  i.k AS issue_k,
  coalesce(a.session, s.session) AS link_session,
  coalesce(${key(a.user_id)}, u.user_key, ${key(a.upn)}) AS user_key,
  lower(a.app_id) AS app_lc,
  n.net_id, n.asn AS net_asn, n.certain, n.prefix, n.v4, n.microsoft, n.hosting,
  named_struct('us', a.us, 'log', a.log_rank, 'rid', a.record_id, 'f', a.src_file, 'p', a.src_kind, 'n', a.src_n) AS ak
FROM tt_acc a
LEFT JOIN tt_issuer i ON i.token = a.token
LEFT JOIN tt_si s ON s.k = i.k
LEFT JOIN tt_upn_to_id u ON u.upn_key = ${key(a.upn)}
LEFT JOIN tt_net n ON n.ip = a.ip;

-- The first access of each session (any access, copies included, as the engine learns it
-- while reading), through the token's issuing sign-in when the access names no session.
CREATE OR REPLACE TEMPORARY VIEW tt_session_access_first AS
SELECT session, min(alive_us) AS us FROM (
  SELECT coalesce(a.session, s.session) AS session, a.alive_us
  FROM tt_acc_rows a
  LEFT JOIN tt_issuer i ON a.session IS NULL AND i.token = a.token
  LEFT JOIN tt_si s ON s.k = i.k
) WHERE session IS NOT NULL GROUP BY session;

-- When each session was first alive: any sign-in of its chain, any access.
DROP VIEW IF EXISTS tt_session_start;
CACHE TABLE tt_session_start AS
SELECT session, min(us) AS us FROM (
  SELECT session, us FROM tt_chain
  UNION ALL SELECT session, us FROM tt_session_access_first
) GROUP BY session;

-- UPN to show for a user object id (key): the first sign-in's, else the first access's.
DROP VIEW IF EXISTS tt_id_upn;
CACHE TABLE tt_id_upn AS
SELECT user_key, coalesce(min_by(si_upn, si_k), min_by(acc_upn, acc_k)) AS upn FROM (
  SELECT ${key(user_id)} AS user_key, trim(upn) AS si_upn, k AS si_k, CAST(NULL AS string) AS acc_upn, CAST(NULL AS struct<us:bigint,log:int,rid:string,f:string,p:int,n:bigint>) AS acc_k
  FROM tt_si WHERE ${key(user_id)} IS NOT NULL AND instr(trim(upn), '@') > 0
  UNION ALL
  SELECT ${key(user_id)}, NULL, NULL, trim(upn), ak
  FROM tt_linked WHERE ${key(user_id)} IS NOT NULL AND instr(trim(upn), '@') > 0
) GROUP BY user_key;

-- Where each user's devices proved themselves (correlate.rs: Context::established): by ASN
-- and by prefix when the address has an ASN, by prefix (both kinds) when it has none.
DROP VIEW IF EXISTS tt_established;
-- As the engine, only the first two sessions of each (user, key) are kept: the first from
-- another session than a record's own is among them (a sign-in without a session counts as
-- another session).
CACHE TABLE tt_established AS
SELECT user_key, key, us, session FROM (
  SELECT *, row_number() OVER (PARTITION BY user_key, key ORDER BY us, session) AS rn FROM (
    SELECT user_key, key, session, min(us) AS us FROM (
      SELECT user_key, us, session,
        CASE WHEN net_asn IS NOT NULL THEN array(concat('asn:', net_asn), concat('prefix:', prefix))
          ELSE array(concat('bare:', prefix), concat('prefix:', prefix)) END AS keys
      FROM tt_sin
      WHERE succeeded AND proves_device AND user_kind AND user_key IS NOT NULL AND ip IS NOT NULL
        AND NOT hosting AND NOT microsoft
    ) LATERAL VIEW explode(keys) e AS key
    GROUP BY user_key, key, session
  )
) WHERE rn <= 2;

-- The tenant's own networks: a /24 or /48 where devices of three users proved themselves,
-- from when the third did.
DROP VIEW IF EXISTS tt_tenant_networks;
CACHE TABLE tt_tenant_networks AS
SELECT prefix, element_at(array_sort(collect_list(first_us)), ${tenant_network_users}) AS us
FROM (
  SELECT prefix, user_key, min(us) AS first_us FROM tt_sin
  WHERE succeeded AND proves_device AND user_kind AND user_key IS NOT NULL AND ip IS NOT NULL
    AND NOT hosting AND NOT microsoft
  GROUP BY prefix, user_key
) GROUP BY prefix HAVING count(*) >= ${tenant_network_users};

-- Users' successful interactive sign-ins (travel).
DROP VIEW IF EXISTS tt_user_interactive;
CACHE TABLE tt_user_interactive AS
SELECT user_key, us, net_id, net_asn, certain, prefix, v4, microsoft, hosting
FROM tt_sin WHERE succeeded AND user_kind AND root_kind AND user_key IS NOT NULL AND ip IS NOT NULL;

-- Coverage of the sign-in logs (coverage.rs). The window is the span of the whole input.
CREATE OR REPLACE TEMPORARY VIEW tt_window AS
SELECT min(us) AS start_us, max(us) AS end_us FROM (
  SELECT us FROM tt_si UNION ALL SELECT us FROM tt_acc_rows
);

-- The tokens delegated accesses logged an issue time for (the earliest), whose they were,
-- and the kind of the sign-in that issued them (null: none did). Placeholder ids, and
-- first-party clients' unmatched tokens, say nothing.
DROP VIEW IF EXISTS tt_token_evidence;
CACHE TABLE tt_token_evidence AS
SELECT e.*, s.kind AS found FROM (
  SELECT token, min(unix_micros(token_issued_at)) AS at_us,
    min_by(coalesce(${key(a.user_id)}, u.user_key, ${key(a.upn)}), unix_micros(token_issued_at)) AS user_key,
    min_by(lower(a.app_id), unix_micros(token_issued_at)) AS app_lc
  FROM tt_acc_rows a LEFT JOIN tt_upn_to_id u ON u.upn_key = ${key(a.upn)}
  WHERE a.delegated AND a.token IS NOT NULL AND a.token_issued_at IS NOT NULL
  GROUP BY token
) e
LEFT JOIN tt_issuer i ON i.token = e.token
LEFT JOIN tt_si s ON s.k = i.k
LEFT JOIN tt_apps p ON p.app = e.app_lc
WHERE e.user_key IS NOT NULL
  AND (s.kind IS NOT NULL OR (${guid(e.token)} AND (${orphan_first_party} OR NOT coalesce(p.first_party, false))));

-- The silences of each sign-in log in the window (between records in different five-minute
-- buckets, and before the first and after the last), each a hole (tokens of three or more
-- users issued inside it and found in no sign-in, none found in this log), quiet (longer than
-- the log's quiet threshold) or neither.
CREATE OR REPLACE TEMPORARY VIEW tt_family_stats AS
SELECT kind, count(*) AS records, min(us) AS first_us, max(us) AS last_us,
  greatest(${coverage_gap_secs}, least(
    CASE WHEN count(*) > 1 THEN ((max(us) DIV 1000000) - (min(us) DIV 1000000)) DIV (count(*) - 1) * ${expected_records_in_hole} ELSE 0 END,
    ${max_quiet_secs})) AS quiet_after_secs
FROM tt_si GROUP BY kind;

CREATE OR REPLACE TEMPORARY VIEW tt_silences AS
SELECT kind, start_us, end_us FROM (
  SELECT kind, lag(us) OVER (PARTITION BY kind ORDER BY us) AS start_us, us AS end_us,
    floor(lag(us) OVER (PARTITION BY kind ORDER BY us) / 300000000) AS prev_bucket,
    floor(us / 300000000) AS bucket
  FROM tt_si
) WHERE start_us IS NOT NULL AND bucket <> prev_bucket AND end_us > start_us
UNION ALL
SELECT f.kind, w.start_us, f.first_us FROM tt_family_stats f CROSS JOIN tt_window w WHERE f.first_us > w.start_us
UNION ALL
SELECT f.kind, f.last_us, w.end_us FROM tt_family_stats f CROSS JOIN tt_window w WHERE w.end_us > f.last_us;

DROP VIEW IF EXISTS tt_silence_judged;
CACHE TABLE tt_silence_judged AS
SELECT s.kind, s.start_us, s.end_us,
  (s.end_us DIV 1000000) - (s.start_us DIV 1000000) > 0 AND s.kind IN ('interactive', 'non-interactive')
    AND NOT coalesce(t.proven, false) AND coalesce(t.unmatched_users, 0) >= ${hole_min_users} AS hole,
  (s.end_us DIV 1000000) - (s.start_us DIV 1000000) > f.quiet_after_secs AS long_silence
FROM tt_silences s
JOIN tt_family_stats f ON f.kind = s.kind
LEFT JOIN (
  SELECT s.kind, s.start_us, s.end_us,
    bool_or(e.found = s.kind) AS proven,
    count(DISTINCT CASE WHEN e.found IS NULL THEN e.user_key END) AS unmatched_users
  FROM tt_silences s JOIN tt_token_evidence e ON e.at_us > s.start_us AND e.at_us < s.end_us
  WHERE s.kind IN ('interactive', 'non-interactive')
  GROUP BY s.kind, s.start_us, s.end_us
) t ON t.kind = s.kind AND t.start_us = s.start_us AND t.end_us = s.end_us;

CREATE OR REPLACE TEMPORARY VIEW tt_holes AS
SELECT kind, start_us, end_us FROM tt_silence_judged WHERE hole;

CREATE OR REPLACE TEMPORARY VIEW tt_quiet AS
SELECT kind, start_us, end_us FROM tt_silence_judged WHERE NOT hole AND long_silence;
