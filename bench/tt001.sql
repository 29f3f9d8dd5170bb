-- Reference implementation of rule TT001 (token used from a different network than the one it
-- was issued to) in DuckDB SQL, over the Log Analytics JSON lines exports of the sign-in logs
-- (SigninLogs, AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs,
-- AADManagedIdentitySignInLogs), MicrosoftGraphActivityLogs, and Unified Audit Log records as
-- JSON lines. It mirrors crates/engine (correlate.rs, network.rs, rules/tt001.rs, lib.rs) and the
-- decoders in crates/ingest/src/decode/; bench/README.md lists what differs.
--
-- bench/duckdb_tt001.py fills the placeholders ${SIGNIN_FILES}, ${GRAPH_FILES}, ${UAL_FILES}
-- (SQL lists of file paths) and creates two reference tables before running this file:
--   ms_ranges(lo UHUGEINT, hi UHUGEINT)  Microsoft service prefixes, IPv4 as IPv4-mapped IPv6
--                                        (crates/engine/src/data/microsoft_ranges.txt)
--   hosting_asns(asn BIGINT)             crates/engine/src/data/hosting_asns.txt
-- The result is the table tt001(token_id, network, accesses): one row per finding.

SET TimeZone = 'UTC';

-- ---------------------------------------------------------------------------------------------
-- Value helpers (the decoders' text(), lower(), int(), boolean(), Timestamp::parse)
-- ---------------------------------------------------------------------------------------------

-- Non-empty trimmed text.
CREATE OR REPLACE TEMP MACRO nz(v) AS nullif(trim(v), '');
-- Integer logged as a number or as decimal text.
CREATE OR REPLACE TEMP MACRO int_of(v) AS try_cast(nz(v) AS BIGINT);
-- Boolean logged as true, "True", 1 or "1".
CREATE OR REPLACE TEMP MACRO bool_of(v) AS CASE
    WHEN lower(nz(v)) IN ('true', '1') THEN true
    WHEN lower(nz(v)) IN ('false', '0') THEN false
END;
-- Microseconds since the epoch (ISO 8601; no zone means UTC; digits past the 6th are dropped).
CREATE OR REPLACE TEMP MACRO time_of(v) AS epoch_us(try_cast(nz(v) AS TIMESTAMPTZ));
-- Fields of a nested object read as text: an object arrives as its JSON text, JSON text in a
-- string as that text; anything else (`"GB"`, malformed JSON) has no fields. One parse for all
-- the paths asked for.
CREATE OR REPLACE TEMP MACRO fields(v, paths) AS CASE
    WHEN starts_with(ltrim(v), '{') AND json_valid(v) THEN json_extract_string(v, paths)
END;
-- A [{Name, Value}] list (DeviceProperties): the first value whose name matches.
CREATE OR REPLACE TEMP MACRO pair(j, name) AS nz(list_filter(
    CASE WHEN json_type(j) = 'ARRAY'
        THEN from_json(j, '[{"Name":"VARCHAR","Value":"VARCHAR"}]') END,
    x -> lower(trim(x.Name)) = lower(name))[1].Value);

-- Canonical GUID text (lower case), braces allowed; NULL when not a GUID.
CREATE OR REPLACE TEMP MACRO guid_of(v) AS CASE
    WHEN (length(trim(v)) = 36 AND substr(trim(v), 9, 1) = '-' AND substr(trim(v), 14, 1) = '-'
            AND substr(trim(v), 19, 1) = '-' AND substr(trim(v), 24, 1) = '-')
        OR (length(trim(v)) = 38 AND starts_with(trim(v), '{') AND ends_with(trim(v), '}')
            AND substr(trim(v), 10, 1) = '-' AND substr(trim(v), 15, 1) = '-'
            AND substr(trim(v), 20, 1) = '-' AND substr(trim(v), 25, 1) = '-')
    -- With the hyphens in place, the UUID cast checks the 32 hex digits.
    THEN try_cast(trim(v) AS UUID)::VARCHAR
END;
-- 32 hex digits of a GUID's Microsoft binary form (first three groups little-endian) as text.
CREATE OR REPLACE TEMP MACRO ms_guid(h) AS lower(
    h[7:8] || h[5:6] || h[3:4] || h[1:2] || '-' || h[11:12] || h[9:10] || '-' ||
    h[15:16] || h[13:14] || '-' || h[17:20] || '-' || h[21:32]);
-- A token id (TokenId::parse): GUID text; 22-character base64url `uti` of the GUID's 16 bytes;
-- 48-character standard base64 of the GUID text (2019-2022 exports); otherwise kept verbatim
-- (case-sensitive). Base64 decoding rejects non-zero trailing bits, as the base64 crate does.
CREATE OR REPLACE TEMP MACRO token_of(v) AS CASE length(trim(v))
    WHEN 0 THEN NULL
    WHEN 36 THEN coalesce(guid_of(v), trim(v))
    WHEN 38 THEN coalesce(guid_of(v), trim(v))
    WHEN 22 THEN CASE WHEN regexp_full_match(trim(v), '[A-Za-z0-9_-]{21}[AQgw]')
        THEN ms_guid(hex(from_base64(replace(replace(trim(v), '-', '+'), '_', '/') || '==')))
        ELSE trim(v) END
    WHEN 48 THEN coalesce(CASE WHEN regexp_full_match(trim(v), '[A-Za-z0-9+/]{48}')
        THEN guid_of(try(decode(from_base64(trim(v))))) END, trim(v))
    ELSE trim(v)
END;
-- A session id (SessionId::parse): GUID text, otherwise verbatim.
CREATE OR REPLACE TEMP MACRO session_of(v) AS coalesce(guid_of(v), nz(v));
-- Sign-in kind from the Log Analytics table or diagnostic category name.
CREATE OR REPLACE TEMP MACRO kind_of(name) AS CASE lower(trim(name))
    WHEN 'signinlogs' THEN 'interactive'
    WHEN 'noninteractiveusersigninlogs' THEN 'non-interactive'
    WHEN 'aadnoninteractiveusersigninlogs' THEN 'non-interactive'
    WHEN 'serviceprincipalsigninlogs' THEN 'service-principal'
    WHEN 'microsoftserviceprincipalsigninlogs' THEN 'service-principal'
    WHEN 'aadserviceprincipalsigninlogs' THEN 'service-principal'
    WHEN 'managedidentitysigninlogs' THEN 'managed-identity'
    WHEN 'aadmanagedidentitysigninlogs' THEN 'managed-identity'
END;
-- UAL UserType as its number (Sentinel writes the enum name).
CREATE OR REPLACE TEMP MACRO user_type_of(v) AS coalesce(int_of(v), CASE lower(trim(v))
    WHEN 'regular' THEN 0 WHEN 'reserved' THEN 1 WHEN 'admin' THEN 2 WHEN 'dcadmin' THEN 3
    WHEN 'system' THEN 4 WHEN 'application' THEN 5 WHEN 'serviceprincipal' THEN 6
    WHEN 'custompolicy' THEN 7 WHEN 'systempolicy' THEN 8 END);

-- ---------------------------------------------------------------------------------------------
-- Records
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP TABLE raw_sign_ins AS
WITH rows AS (
    SELECT *,
        fields(DeviceDetail, ['$.deviceId', '$.isManaged', '$.isCompliant']) AS device,
        fields(Status, ['$.errorCode'])[1] AS status_error,
        fields(TokenProtectionStatusDetails, ['$.signInSessionStatus'])[1] AS token_protection
    FROM read_json(${SIGNIN_FILES},
        format = 'newline_delimited', filename = true, maximum_object_size = 67108864,
        columns = {
            'Id': 'VARCHAR', 'Category': 'VARCHAR', 'Type': 'VARCHAR',
            'CreatedDateTime': 'VARCHAR', 'TimeGenerated': 'VARCHAR',
            'UserId': 'VARCHAR', 'UserPrincipalName': 'VARCHAR', 'AppId': 'VARCHAR',
            'IPAddress': 'VARCHAR', 'AutonomousSystemNumber': 'VARCHAR',
            'DeviceDetail': 'VARCHAR', 'Status': 'VARCHAR', 'ResultType': 'VARCHAR',
            'IncomingTokenType': 'VARCHAR', 'ClientCredentialType': 'VARCHAR',
            'TokenProtectionStatusDetails': 'VARCHAR', 'UniqueTokenIdentifier': 'VARCHAR',
            'SessionId': 'VARCHAR'
        })
)
SELECT
    filename AS file,
    guid_of(Id) AS id,
    coalesce(kind_of(Category), kind_of("Type")) AS kind,
    coalesce(time_of(CreatedDateTime), time_of(TimeGenerated)) AS t,
    lower(nz(UserId)) AS user_id,
    nz(UserPrincipalName) AS upn,
    lower(nz(AppId)) AS app_id,
    nz(IPAddress) AS ip_text,
    CASE WHEN int_of(AutonomousSystemNumber) BETWEEN 0 AND 4294967295
        THEN int_of(AutonomousSystemNumber) END AS asn,
    nz(device[1]) AS device_id,
    bool_of(device[2]) AS is_managed,
    bool_of(device[3]) AS is_compliant,
    coalesce(int_of(status_error), int_of(ResultType)) AS error_code,
    -- `incomingTokenType` is a flags list; only a single primaryRefreshToken (in any spelling
    -- the decoder normalizes) proves the device.
    len(list_filter(string_split(coalesce(IncomingTokenType, ''), ','), p -> trim(p) <> '')) = 1
        AND lower(regexp_replace(trim(IncomingTokenType, ' ,'), '[ _.\-]', '', 'g'))
            = 'primaryrefreshtoken' AS prt,
    nz(ClientCredentialType) AS credential_type,
    nz(token_protection) AS token_protection,
    token_of(UniqueTokenIdentifier) AS token_id,
    session_of(SessionId) AS session_id
FROM rows;

CREATE OR REPLACE TEMP TABLE raw_ual AS
SELECT
    filename AS file,
    nz(Id) AS id_text,
    coalesce(nz(Id), nz(OfficeId)) AS record_id,
    coalesce(time_of(CreationTime), time_of(TimeGenerated)) AS t,
    lower(nz(Operation)) AS op,
    int_of(RecordType) AS record_type,
    lower(coalesce(nz(Workload), nz(OfficeWorkload))) AS workload,
    user_type_of(UserType) AS user_type,
    TokenObjectId, UserKey, UserObjectId, UserId, MailboxOwnerUPN,
    ClientAppId, ApplicationId,
    fields(AppAccessContext, ['$.AADSessionId', '$.UniqueTokenId']) AS ctx,
    ClientIPAddress, ClientIP, ActorIpAddress, SessionId, Actor, DeviceProperties, ErrorNumber
FROM read_json(${UAL_FILES},
    format = 'newline_delimited', filename = true, maximum_object_size = 67108864,
    columns = {
        'CreationTime': 'VARCHAR', 'TimeGenerated': 'VARCHAR', 'Id': 'VARCHAR',
        'OfficeId': 'VARCHAR', 'Operation': 'VARCHAR', 'RecordType': 'VARCHAR',
        'Workload': 'VARCHAR', 'OfficeWorkload': 'VARCHAR', 'UserType': 'VARCHAR',
        'TokenObjectId': 'VARCHAR', 'UserKey': 'VARCHAR', 'UserObjectId': 'VARCHAR',
        'UserId': 'VARCHAR', 'MailboxOwnerUPN': 'VARCHAR', 'ClientAppId': 'VARCHAR',
        'ApplicationId': 'VARCHAR', 'AppAccessContext': 'VARCHAR',
        'ClientIPAddress': 'VARCHAR', 'ClientIP': 'VARCHAR', 'ActorIpAddress': 'VARCHAR',
        'SessionId': 'VARCHAR', 'Actor': 'JSON', 'DeviceProperties': 'JSON',
        'ErrorNumber': 'VARCHAR'
    });

-- What each UAL record is (decode/ual.rs classify): a logon, an access of one log, or other.
CREATE OR REPLACE TEMP TABLE ual AS
SELECT *,
    CASE
        WHEN op IN ('userloggedin', 'userloginfailed')
            AND (record_type = 15 OR workload = 'azureactivedirectory') THEN 'logon'
        WHEN user_type = 4 THEN 'other'
        WHEN workload = 'exchange' AND (record_type IN (2, 3, 50) OR record_type IS NULL)
            THEN 'exchange-audit'
        WHEN workload IS NULL AND record_type IN (2, 3, 50) THEN 'exchange-audit'
        WHEN workload = 'onedrive' OR (workload IS NULL AND record_type = 7) THEN 'onedrive-audit'
        WHEN workload = 'sharepoint' OR (workload IS NULL AND record_type IN (4, 6, 14, 36))
            THEN 'sharepoint-audit'
        WHEN workload = 'microsoftteams' OR (workload IS NULL AND record_type = 25)
            THEN 'teams-audit'
        ELSE 'other'
    END AS class
FROM raw_ual
WHERE op IS NOT NULL AND t IS NOT NULL;

-- Every sign-in row, UAL UserLoggedIn records included (decode/ual.rs logon).
CREATE OR REPLACE TEMP TABLE all_sign_ins AS
SELECT file, id, kind, t, user_id, upn, app_id, ip_text, NULL AS ip_text2, asn, device_id,
    is_managed, is_compliant, error_code, prt, credential_type, token_protection,
    coalesce(token_id, id) AS token, session_id
FROM raw_sign_ins
WHERE kind IS NOT NULL AND t IS NOT NULL
UNION ALL BY NAME
SELECT
    file,
    guid_of(id_text) AS id,
    'ual-logon' AS kind,
    t,
    coalesce(
        lower(list_filter(
            CASE WHEN json_type(Actor) = 'ARRAY'
                THEN from_json(Actor, '[{"ID":"VARCHAR"}]') END,
            x -> guid_of(x.ID) IS NOT NULL)[1].ID),
        guid_of(UserKey)) AS user_id,
    nz(UserId) AS upn,
    lower(nz(ApplicationId)) AS app_id,
    nz(ClientIP) AS ip_text,
    nz(ActorIpAddress) AS ip_text2,
    NULL AS asn,
    pair(DeviceProperties, 'Id') AS device_id,
    -- Only a true "compliant and managed" says anything about management alone.
    CASE WHEN bool_of(pair(DeviceProperties, 'IsCompliantAndManaged')) THEN true END AS is_managed,
    bool_of(pair(DeviceProperties, 'IsCompliant')) AS is_compliant,
    int_of(ErrorNumber) AS error_code,
    false AS prt,
    NULL AS credential_type,
    NULL AS token_protection,
    guid_of(id_text) AS token,
    session_of(coalesce(pair(DeviceProperties, 'SessionId'), nz(SessionId))) AS session_id
FROM ual
WHERE class = 'logon';

-- Every access: Graph activity rows and UAL records of the access logs.
CREATE OR REPLACE TEMP TABLE all_accesses AS
SELECT
    filename AS file,
    'graph-activity' AS log,
    nz(RequestId) AS record_id,
    time_of(TimeGenerated) AS t,
    -- Graph: C_Idtyp says user or app; else a user id makes it delegated.
    CASE lower(nz(C_Idtyp)) WHEN 'user' THEN true WHEN 'app' THEN false
        ELSE lower(nz(UserId)) IS NOT NULL END AS delegated,
    lower(nz(UserId)) AS user_id,
    NULL AS upn,
    nz(IPAddress) AS ip_text, NULL AS ip_text2, NULL AS ip_text3,
    -- A row without ClientAuthMethod is no confidential client's (NULL would drop the row).
    coalesce(int_of(ClientAuthMethod) IN (1, 2), false) AS confidential,
    session_of(coalesce(nz(SessionId), nz(C_Sid))) AS session_id,
    token_of(SignInActivityId) AS token
FROM read_json(${GRAPH_FILES},
    format = 'newline_delimited', filename = true, maximum_object_size = 67108864,
    columns = {
        'TimeGenerated': 'VARCHAR', 'RequestId': 'VARCHAR', 'UserId': 'VARCHAR',
        'IPAddress': 'VARCHAR', 'ClientAuthMethod': 'VARCHAR', 'SessionId': 'VARCHAR',
        'C_Sid': 'VARCHAR', 'SignInActivityId': 'VARCHAR', 'C_Idtyp': 'VARCHAR'
    })
WHERE time_of(TimeGenerated) IS NOT NULL
UNION ALL BY NAME
SELECT
    file,
    class AS log,
    record_id,
    t,
    coalesce(user_type NOT IN (5, 6), true) AS delegated,
    coalesce(lower(nz(TokenObjectId)), guid_of(UserKey), guid_of(UserObjectId)) AS user_id,
    coalesce(nz(UserId), nz(MailboxOwnerUPN)) AS upn,
    nz(ClientIPAddress) AS ip_text, nz(ClientIP) AS ip_text2, nz(ActorIpAddress) AS ip_text3,
    false AS confidential,
    session_of(coalesce(nz(ctx[1]), nz(SessionId))) AS session_id,
    token_of(ctx[2]) AS token
FROM ual
WHERE class NOT IN ('logon', 'other');

-- ---------------------------------------------------------------------------------------------
-- Addresses (parse_client_ip): every distinct address text, parsed once. An address is held as
-- a UHUGEINT, IPv4 as IPv4-mapped IPv6 (as the engine's prefix table does), so one number is
-- one address whatever its spelling.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP MACRO v4_num(x) AS CASE
    WHEN regexp_full_match(x, '((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])')
    THEN list_reduce(list_transform(string_split(x, '.'), o -> o::UHUGEINT),
        (acc, o) -> acc * 256::UHUGEINT + o)
END;
CREATE OR REPLACE TEMP MACRO mapped_v4(n) AS n + 281470681743360::UHUGEINT;  -- ::ffff:0:0
CREATE OR REPLACE TEMP MACRO v6_num(g) AS CASE
    WHEN g IS NOT NULL AND len(g) = 8
        AND len(list_filter(g, s -> regexp_full_match(s, '[0-9A-Fa-f]{1,4}'))) = 8
    THEN list_reduce(list_transform(g, s -> ('0x' || s)::INTEGER::UHUGEINT),
        (acc, s) -> acc * 65536::UHUGEINT + s)
END;

CREATE OR REPLACE TEMP TABLE ip_texts AS
SELECT DISTINCT trim(v) AS raw FROM (
    SELECT ip_text AS v FROM all_sign_ins UNION ALL SELECT ip_text2 FROM all_sign_ins
    UNION ALL SELECT ip_text FROM all_accesses UNION ALL SELECT ip_text2 FROM all_accesses
    UNION ALL SELECT ip_text3 FROM all_accesses)
WHERE nz(v) IS NOT NULL;

-- raw text -> address number (the mapped form; IPv4-mapped IPv6 text is the IPv4 client), in
-- steps: the bare address text (ports, brackets and zones removed), an embedded dotted IPv4
-- tail rewritten as two hex groups, `::` expanded, the number.
CREATE OR REPLACE TEMP TABLE ip_parse AS
WITH whole AS (
    SELECT raw, v4_num(raw) AS v4 FROM ip_texts
), bare AS (
    SELECT raw, v4, CASE
        WHEN v4 IS NOT NULL THEN NULL
        WHEN starts_with(raw, '[') THEN
            CASE WHEN contains(raw, ']') THEN regexp_extract(raw, '^\[([^\]%]*)', 1) END
        WHEN NOT contains(raw, ':') THEN NULL
        -- "v4:port" has a single colon and a u16 port; anything else is a bare IPv6.
        WHEN NOT contains(regexp_replace(raw, ':[^:]*$', ''), ':')
            AND regexp_full_match(regexp_extract(raw, ':([^:]*)$', 1), '\+?[0-9]{1,5}')
            AND try_cast(regexp_extract(raw, ':([^:]*)$', 1) AS USMALLINT) IS NOT NULL
            THEN regexp_replace(raw, ':[^:]*$', '')
        ELSE split_part(raw, '%', 1)
    END AS b
    FROM whole
), hexed AS (
    SELECT raw, v4, v4_num(b) AS b4, CASE
        WHEN b IS NULL OR v4_num(b) IS NOT NULL THEN NULL
        WHEN NOT contains(b, '.') THEN b
        WHEN v4_num(regexp_extract(b, '[^:]*$')) IS NOT NULL
            THEN regexp_replace(b, '[^:]*$', '') || printf('%x:%x',
                (v4_num(regexp_extract(b, '[^:]*$')) // 65536::UHUGEINT)::BIGINT,
                (v4_num(regexp_extract(b, '[^:]*$')) % 65536::UHUGEINT)::BIGINT)
    END AS h
    FROM bare
), halves AS (
    SELECT raw, v4, b4, h,
        CASE WHEN h IS NULL OR NOT regexp_full_match(h, '[0-9A-Fa-f:]+') THEN NULL
            WHEN NOT contains(h, '::') THEN 'plain'
            WHEN length(h) - length(replace(h, '::', '')) <> 2
                OR contains(h, ':::') THEN NULL
            ELSE 'gap' END AS form,
        CASE WHEN split_part(h, '::', 1) = '' THEN []::VARCHAR[]
            ELSE string_split(split_part(h, '::', 1), ':') END AS head,
        CASE WHEN split_part(h, '::', 2) = '' THEN []::VARCHAR[]
            ELSE string_split(split_part(h, '::', 2), ':') END AS tail
    FROM hexed
), grouped AS (
    SELECT raw, v4, b4, CASE
        WHEN form = 'plain' THEN string_split(h, ':')
        -- `::` stands for at least one zero group.
        WHEN form = 'gap' AND len(head) + len(tail) <= 7 THEN list_concat(head,
            list_transform(range(8 - len(head) - len(tail)), i -> '0'), tail)
    END AS g
    FROM halves
)
SELECT raw, coalesce(mapped_v4(v4), mapped_v4(b4), v6_num(g)) AS ip
FROM grouped;

-- ---------------------------------------------------------------------------------------------
-- Deduplication (lib.rs): sign-ins by id, keeping the row of the first file in path order;
-- accesses by (log, record id), likewise. Rows without an id are all kept.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP TABLE sign_ins AS
WITH resolved AS (
    SELECT s.*, coalesce(p1.ip, p2.ip) AS ip
    FROM all_sign_ins s
    LEFT JOIN ip_parse p1 ON p1.raw = trim(s.ip_text)
    LEFT JOIN ip_parse p2 ON p2.raw = trim(s.ip_text2)
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY id ORDER BY file) AS dup
    FROM resolved
)
SELECT row_number() OVER (ORDER BY t, file, id) AS idx, * EXCLUDE (dup, ip_text, ip_text2)
FROM ranked
WHERE id IS NULL OR dup = 1;

CREATE OR REPLACE TEMP TABLE accesses AS
WITH resolved AS (
    SELECT a.*, coalesce(p1.ip, p2.ip, p3.ip) AS ip
    FROM all_accesses a
    LEFT JOIN ip_parse p1 ON p1.raw = trim(a.ip_text)
    LEFT JOIN ip_parse p2 ON p2.raw = trim(a.ip_text2)
    LEFT JOIN ip_parse p3 ON p3.raw = trim(a.ip_text3)
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY log, record_id ORDER BY file) AS dup
    FROM resolved
)
SELECT * EXCLUDE (dup, ip_text, ip_text2, ip_text3)
FROM ranked
WHERE record_id IS NULL OR dup = 1;

-- ---------------------------------------------------------------------------------------------
-- Networks (network.rs): ASN from the sign-in rows (the most frequent per IP, the smallest on a
-- tie), else from a neighbour (a /24 or /48 whose sign-in addresses all have one ASN), else
-- the prefix. Microsoft: the built-in ranges only (the rest of AS8075 is Azure). Hosting: the
-- built-in ASN list and AS8075, except addresses in Microsoft's ranges.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP MACRO is_v4(ip) AS ip BETWEEN 281470681743360::UHUGEINT AND 281474976710655::UHUGEINT;
-- The first 48 bits of an IPv6 address, and one of its three 16-bit groups as hex.
CREATE OR REPLACE TEMP MACRO top48(ip) AS (ip >> 80::UHUGEINT)::BIGINT;
CREATE OR REPLACE TEMP MACRO group16(ip, bits) AS (top48(ip) >> bits) & 65535;
-- NetworkId::prefix_of as text: `a.b.c.0/24`, or the /48 in Rust's IPv6 notation (RFC 5952:
-- the trailing five zero groups are always the longest run).
CREATE OR REPLACE TEMP MACRO prefix_of(ip) AS CASE
    WHEN is_v4(ip) THEN
        (((ip - 281470681743360::UHUGEINT)::BIGINT >> 24) & 255)::VARCHAR || '.' ||
        (((ip - 281470681743360::UHUGEINT)::BIGINT >> 16) & 255)::VARCHAR || '.' ||
        (((ip - 281470681743360::UHUGEINT)::BIGINT >> 8) & 255)::VARCHAR || '.0/24'
    WHEN group16(ip, 0) <> 0 THEN printf('%x:%x:%x::/48',
        group16(ip, 32), group16(ip, 16), group16(ip, 0))
    WHEN group16(ip, 16) <> 0 THEN printf('%x:%x::/48', group16(ip, 32), group16(ip, 16))
    WHEN group16(ip, 32) <> 0 THEN printf('%x::/48', group16(ip, 32))
    ELSE '::/48'
END;

CREATE OR REPLACE TEMP TABLE asn_by_ip AS
SELECT ip, asn FROM (
    SELECT ip, asn, row_number() OVER (PARTITION BY ip ORDER BY count(*) DESC, asn) AS rn
    FROM sign_ins
    WHERE ip IS NOT NULL AND asn IS NOT NULL AND asn <> 0
    GROUP BY ip, asn)
WHERE rn = 1;

CREATE OR REPLACE TEMP TABLE asn_by_prefix AS
SELECT prefix_of(ip) AS prefix, min(asn) AS asn
FROM asn_by_ip
GROUP BY prefix_of(ip)
HAVING count(DISTINCT asn) = 1;

CREATE OR REPLACE TEMP TABLE nets AS
WITH addrs AS (
    SELECT DISTINCT ip FROM (SELECT ip FROM sign_ins UNION ALL SELECT ip FROM accesses)
    WHERE ip IS NOT NULL
), resolved AS (
    SELECT a.ip, is_v4(a.ip) AS v4, prefix_of(a.ip) AS prefix,
        coalesce(bi.asn, bp.asn) AS asn
    FROM addrs a
    LEFT JOIN asn_by_ip bi ON bi.ip = a.ip
    LEFT JOIN asn_by_prefix bp ON bp.prefix = prefix_of(a.ip)
)
SELECT r.ip, r.v4, r.prefix, r.asn,
    coalesce('AS' || r.asn::VARCHAR, r.prefix) AS net_id,
    coalesce(ms.hit, false) AS microsoft,
    (h.asn IS NOT NULL OR coalesce(r.asn = 8075, false)) AND NOT coalesce(ms.hit, false) AS hosting
FROM resolved r
LEFT JOIN (SELECT DISTINCT x.ip, true AS hit FROM resolved x
    JOIN ms_ranges m ON x.ip >= m.lo AND x.ip <= m.hi) ms ON ms.ip = r.ip
LEFT JOIN (SELECT DISTINCT asn FROM hosting_asns) h ON h.asn = r.asn;

-- relate(): both ASNs known: equal or not; else equal prefixes are one network; different
-- families cannot be compared; different prefixes of one family differ.
CREATE OR REPLACE TEMP MACRO rel(a_asn, a_prefix, a_v4, b_asn, b_prefix, b_v4) AS CASE
    WHEN a_asn IS NOT NULL AND b_asn IS NOT NULL
        THEN CASE WHEN a_asn = b_asn THEN 'same' ELSE 'differ' END
    WHEN a_prefix = b_prefix THEN 'same'
    WHEN a_v4 <> b_v4 THEN 'unknown'
    ELSE 'differ'
END;

-- ---------------------------------------------------------------------------------------------
-- Correlation (correlate.rs)
-- ---------------------------------------------------------------------------------------------

-- Successful sign-ins with their networks.
CREATE OR REPLACE TEMP TABLE ok_sign_ins AS
SELECT s.*, n.asn AS n_asn, n.prefix AS n_prefix, n.v4 AS n_v4
FROM sign_ins s LEFT JOIN nets n ON n.ip = s.ip
WHERE coalesce(s.error_code, 0) = 0;

-- Token id -> the successful sign-in that issued it (the earliest).
CREATE OR REPLACE TEMP TABLE tokens AS
SELECT token, min(idx) AS idx FROM ok_sign_ins WHERE token IS NOT NULL GROUP BY token;

-- Session chains: successful interactive sign-ins (and UAL logons) and non-interactive ones.
CREATE OR REPLACE TEMP TABLE chain AS
SELECT session_id, idx, kind IN ('interactive', 'ual-logon') AS root,
    n_asn, n_prefix, n_v4, ip, device_id, app_id,
    device_id IS NOT NULL AND (is_managed OR is_compliant OR prt
        OR lower(token_protection) = 'bound') AS proves_device
FROM ok_sign_ins
WHERE session_id IS NOT NULL AND kind IN ('interactive', 'ual-logon', 'non-interactive');

-- The user of a sign-in (object id, else UPN); UPN -> object id as the first sign-in logged it.
CREATE OR REPLACE TEMP TABLE upn_to_id AS
SELECT lower(trim(upn)) AS upn, arg_min(user_id, idx) AS user_id
FROM sign_ins WHERE nz(upn) IS NOT NULL AND user_id IS NOT NULL GROUP BY lower(trim(upn));

-- Successful interactive sign-ins per user (travel).
CREATE OR REPLACE TEMP TABLE user_interactive AS
SELECT coalesce(user_id, lower(nz(upn))) AS usr, t, n_asn, n_prefix, n_v4
FROM ok_sign_ins
WHERE kind IN ('interactive', 'ual-logon') AND coalesce(user_id, lower(nz(upn))) IS NOT NULL
    AND ip IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- TT001 (rules/tt001.rs)
-- ---------------------------------------------------------------------------------------------

-- Delegated accesses joined to the issuing sign-in, both with an address, not before the issue
-- (5 minutes of clock skew), neither side Microsoft infrastructure.
CREATE OR REPLACE TEMP TABLE tt001_linked AS
SELECT
    a.token, a.t, a.confidential,
    coalesce(a.session_id, s.session_id) AS session_id,
    coalesce(a.user_id, u.user_id, lower(trim(a.upn)), s.user_id, lower(nz(s.upn))) AS usr,
    s.kind AS issue_kind, s.credential_type, s.device_id AS s_device,
    a.ip AS a_ip, an.asn AS a_asn, an.prefix AS a_prefix, an.v4 AS a_v4, an.net_id AS a_net,
    an.hosting AS a_hosting,
    s.ip AS s_ip, sn.asn AS s_asn, sn.prefix AS s_prefix, sn.v4 AS s_v4,
    rel(sn.asn, sn.prefix, sn.v4, an.asn, an.prefix, an.v4) AS relation
FROM accesses a
JOIN tokens tk ON tk.token = a.token
JOIN sign_ins s ON s.idx = tk.idx
JOIN nets an ON an.ip = a.ip
JOIN nets sn ON sn.ip = s.ip
LEFT JOIN upn_to_id u ON u.upn = lower(trim(a.upn))
WHERE a.delegated
    AND a.t >= s.t - 300000000
    AND NOT an.microsoft AND NOT sn.microsoft;

-- Dual stack: an address of one family without an ASN is compared with the session's own
-- sign-in addresses of its family on the issuing network (the client's other stack).
CREATE OR REPLACE TEMP TABLE tt001_related AS
WITH twins AS (
    SELECT l.rowid AS r,
        bool_or(rel(c.n_asn, c.n_prefix, c.n_v4, l.a_asn, l.a_prefix, l.a_v4) = 'same') AS any_same,
        bool_or(rel(c.n_asn, c.n_prefix, c.n_v4, l.a_asn, l.a_prefix, l.a_v4) = 'differ') AS any_differ
    FROM tt001_linked l
    JOIN chain c ON c.session_id = l.session_id
    WHERE l.relation = 'unknown' AND c.ip IS NOT NULL AND c.n_v4 = l.a_v4
        AND rel(c.n_asn, c.n_prefix, c.n_v4, l.s_asn, l.s_prefix, l.s_v4) = 'same'
    GROUP BY l.rowid
)
SELECT l.*, CASE
    WHEN l.relation <> 'unknown' THEN l.relation
    WHEN w.any_same THEN 'same'
    WHEN w.any_differ THEN 'differ'
    ELSE 'unknown' END AS final_relation
FROM tt001_linked l LEFT JOIN twins w ON w.r = l.rowid;

-- Different networks, not a confidential client.
CREATE OR REPLACE TEMP TABLE tt001_moved AS
SELECT * FROM tt001_related
WHERE final_relation = 'differ'
    AND NOT (issue_kind = 'non-interactive' AND credential_type IS NOT NULL
        AND lower(credential_type) <> 'none')
    AND NOT confidential;

-- Was the session established on the access network: an interactive sign-in of the session
-- there, or a non-interactive one there that proves the device the token was issued to (the
-- issuing sign-in's device), a device the session used on a home network (its interactive
-- networks and the issuing network) with the same client?
CREATE OR REPLACE TEMP TABLE tt001_established AS
WITH keys AS (
    SELECT DISTINCT session_id, s_ip, s_asn, s_prefix, s_v4, s_device, a_ip, a_asn, a_prefix,
        a_v4
    FROM tt001_moved WHERE session_id IS NOT NULL AND NOT a_hosting
), home AS (
    SELECT k.*, c.n_asn AS h_asn, c.n_prefix AS h_prefix, c.n_v4 AS h_v4
    FROM keys k JOIN chain c ON c.session_id = k.session_id AND c.root AND c.ip IS NOT NULL
    UNION ALL
    SELECT k.*, k.s_asn, k.s_prefix, k.s_v4 FROM keys k
), home_device_apps AS (
    SELECT DISTINCT k.session_id, k.s_ip, k.a_ip, c.device_id, c.app_id
    FROM keys k JOIN chain c ON c.session_id = k.session_id
    WHERE c.ip IS NOT NULL AND c.device_id IS NOT NULL AND c.app_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM home h
            WHERE h.session_id = k.session_id AND h.s_ip = k.s_ip AND h.a_ip = k.a_ip
                AND rel(c.n_asn, c.n_prefix, c.n_v4, h.h_asn, h.h_prefix, h.h_v4) = 'same')
), interactive_there AS (
    SELECT DISTINCT k.session_id, k.s_ip, k.a_ip
    FROM keys k JOIN chain c ON c.session_id = k.session_id
    WHERE c.root AND c.ip IS NOT NULL
        AND rel(c.n_asn, c.n_prefix, c.n_v4, k.a_asn, k.a_prefix, k.a_v4) = 'same'
), roaming AS (
    SELECT DISTINCT k.session_id, k.s_ip, k.s_device, k.a_ip
    FROM keys k
    JOIN chain c ON c.session_id = k.session_id AND NOT c.root
    JOIN home_device_apps d ON d.session_id = k.session_id AND d.s_ip = k.s_ip
        AND d.a_ip = k.a_ip AND d.device_id = c.device_id AND d.app_id = c.app_id
    WHERE c.ip IS NOT NULL AND c.proves_device AND c.device_id = k.s_device
        AND rel(c.n_asn, c.n_prefix, c.n_v4, k.a_asn, k.a_prefix, k.a_v4) = 'same'
)
SELECT session_id, s_ip, NULL AS s_device, a_ip FROM interactive_there
UNION
SELECT session_id, s_ip, s_device, a_ip FROM roaming;

-- Where each user's devices proved themselves (Context::established): device-proven successful
-- user sign-ins, on networks neither hosting nor Microsoft's.
CREATE OR REPLACE TEMP TABLE device_proven AS
SELECT coalesce(s.user_id, lower(nz(s.upn))) AS usr, s.t, s.session_id,
    s.n_asn, s.n_prefix, s.n_v4
FROM ok_sign_ins s JOIN nets n ON n.ip = s.ip
WHERE s.kind IN ('interactive', 'non-interactive', 'ual-logon')
    AND s.device_id IS NOT NULL
    AND (s.is_managed OR s.is_compliant OR s.prt OR lower(s.token_protection) = 'bound')
    AND NOT n.hosting AND NOT n.microsoft
    AND coalesce(s.user_id, lower(nz(s.upn))) IS NOT NULL;

-- The tenant's own networks (Context::established): a /24 or /48 where the devices of three
-- users proved themselves, established for everyone from the first sign-in of the third.
CREATE OR REPLACE TEMP TABLE tenant_prefixes AS
SELECT n_prefix AS prefix, list_sort(list(first_t))[3] AS since
FROM (SELECT n_prefix, usr, min(t) AS first_t FROM device_proven GROUP BY n_prefix, usr)
GROUP BY n_prefix
HAVING count(*) >= 3;

-- Established network: a device-proven sign-in of the user on the access network, before the
-- access, in another session; or the access address in one of the tenant's own networks.
-- Travel: an interactive sign-in by the same user from the access
-- network within 12 h.
CREATE OR REPLACE TEMP TABLE tt001_findings AS
WITH remaining AS (
    SELECT m.* FROM tt001_moved m
    WHERE NOT EXISTS (SELECT 1 FROM tt001_established e
        WHERE e.session_id = m.session_id AND e.s_ip = m.s_ip AND e.a_ip = m.a_ip
            AND (e.s_device IS NULL OR e.s_device = m.s_device))
        AND NOT (NOT m.a_hosting AND EXISTS (SELECT 1 FROM device_proven p
            WHERE p.usr = m.usr AND p.t < m.t
                AND (p.session_id IS NULL OR p.session_id IS DISTINCT FROM m.session_id)
                AND rel(p.n_asn, p.n_prefix, p.n_v4, m.a_asn, m.a_prefix, m.a_v4) = 'same'))
        AND NOT (NOT m.a_hosting AND EXISTS (SELECT 1 FROM tenant_prefixes tp
            WHERE tp.prefix = m.a_prefix AND tp.since < m.t))
), travelled AS (
    SELECT DISTINCT r.usr, r.t, r.a_ip
    FROM remaining r JOIN user_interactive ui ON ui.usr = r.usr
    WHERE NOT r.a_hosting
        AND ui.t BETWEEN r.t - 43200000000 AND r.t + 43200000000
        AND rel(ui.n_asn, ui.n_prefix, ui.n_v4, r.a_asn, r.a_prefix, r.a_v4) = 'same'
)
SELECT r.* FROM remaining r
WHERE NOT EXISTS (SELECT 1 FROM travelled tr
    WHERE tr.usr = r.usr AND tr.t = r.t AND tr.a_ip = r.a_ip);

CREATE OR REPLACE TEMP TABLE tt001 AS
SELECT token AS token_id, a_net AS network, count(*) AS accesses
FROM tt001_findings
GROUP BY token, a_net
ORDER BY token, a_net;
