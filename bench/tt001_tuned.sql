-- TT001 in DuckDB SQL as an analyst who knows DuckDB would tune it: the same rule over the same
-- inputs with the same result as the plain reference (bench/tt001.sql, whose comments explain
-- the rule step by step), written to run fast. bench/README.md ("The tuned query") lists what
-- it does differently and why each change pays.
--
-- bench/duckdb_tt001.py fills the placeholders before running this file:
--   ${EACH <macro> <FAMILY>}           one `SELECT * FROM <macro>('<path>', <rank>)` per file of
--                                      the family, joined by UNION ALL (one read_json per file)
--   ${EACH_BUT_LAST <macro> <FAMILY>}  the same for all the family's files but the last
-- where FAMILY is SIGNIN, GRAPH or UAL and <rank> is the file's position among all the input
-- files in path order. It also creates the reference tables ms_ranges(lo, hi) and
-- hosting_asns(asn), as for the reference. The result is the table tt001(token_id, network,
-- accesses).
--
-- A note on macros: DuckDB expands a macro's argument wherever the body names it, and both the
-- planner and the executor pay for every copy. Arguments are therefore columns, and a body that
-- needs a derived value several times binds it once with list_transform([value], x -> ...)[1].

SET TimeZone = 'UTC';
SET preserve_insertion_order = false;
-- DuckDB cannot estimate the rows of JSON scans and CTEs (it plans with 0 or a guess), and its
-- join reordering and build-side choice then put the large access stream on the build side.
-- The joins below are written in the order they should run: the large side first (the probe
-- side), the small table second (the build side). The CTE filter pusher would copy filters
-- into the shared CTEs and evaluate their expressions twice.
SET disabled_optimizers = 'join_order,build_side_probe_side,cte_filter_pusher';

-- ---------------------------------------------------------------------------------------------
-- Value helpers: the reference's, with the common case first. trim() is the costliest string
-- function on this data (about 180 ns a value: it decodes every character looking for Unicode
-- spaces at the end), so it runs only when it could change the value: in ASCII text (as many
-- bytes as characters) only a space at either end can be trimmed.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP MACRO untrimmed(v) AS
    strlen(v) = length(v) AND NOT starts_with(v, ' ') AND NOT ends_with(v, ' ');
CREATE OR REPLACE TEMP MACRO nz(v) AS CASE
    WHEN v <> '' AND untrimmed(v) THEN v
    ELSE nullif(trim(v), '')
END;
-- A cast that accepts the value as it is gives what the cast of the trimmed value gives.
CREATE OR REPLACE TEMP MACRO int_of(v) AS
    coalesce(try_cast(v AS BIGINT), try_cast(trim(v) AS BIGINT));
CREATE OR REPLACE TEMP MACRO time_of(v) AS
    coalesce(try_cast(v AS TIMESTAMPTZ), try_cast(trim(v) AS TIMESTAMPTZ));
CREATE OR REPLACE TEMP MACRO bool_of(v) AS CASE v
    WHEN 'true' THEN true WHEN 'false' THEN false
    ELSE list_transform([lower(nz(v))], b -> CASE WHEN b IN ('true', '1') THEN true
        WHEN b IN ('false', '0') THEN false END)[1]
END;
-- Fields of a nested object logged as an object or as JSON text: one parse for all the paths;
-- a value that is not JSON has no fields.
CREATE OR REPLACE TEMP MACRO fields(v, paths) AS try(json_extract_string(v, paths));
-- Lower-case GUID text of GUID text (braces and surrounding spaces allowed), else NULL.
CREATE OR REPLACE TEMP MACRO guid_of(v) AS CASE
    WHEN regexp_full_match(v,
        '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}')
        THEN lower(v)
    ELSE list_transform([trim(v)], x -> CASE WHEN regexp_full_match(x,
            '\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?')
            AND starts_with(x, '{') = ends_with(x, '}')
        THEN lower(trim(x, '{}')) END)[1]
END;
CREATE OR REPLACE TEMP MACRO session_of(v) AS coalesce(guid_of(v), nz(v));
-- Token ids are joined on their uti text (22 characters of base64url), which is what nearly
-- every record logs: no decoding per row. GUID text (sign-in ids, UAL logons) and the older
-- base64 of the GUID text are turned into the uti instead; other text is its own key, as in
-- the reference (it never collides with a uti: a valid uti would have been decoded). The GUID
-- text is built for the findings only (token_text).
CREATE OR REPLACE TEMP MACRO uti_of(g) AS list_transform([replace(g, '-', '')], h -> translate(
    left(to_base64(unhex(h[7:8] || h[5:6] || h[3:4] || h[1:2] || h[11:12] || h[9:10]
        || h[15:16] || h[13:14] || h[17:32])), 22), '+/', '-_'))[1];
CREATE OR REPLACE TEMP MACRO token_key(v) AS CASE
    WHEN strlen(v) = 22 AND untrimmed(v) THEN v
    ELSE list_transform([nz(v)], x -> CASE length(x)
        WHEN 22 THEN x
        WHEN 36 THEN coalesce(uti_of(guid_of(x)), x)
        WHEN 38 THEN coalesce(uti_of(guid_of(x)), x)
        WHEN 48 THEN coalesce(CASE WHEN regexp_full_match(x, '[A-Za-z0-9+/]{48}')
            THEN uti_of(guid_of(try(decode(from_base64(x))))) END, x)
        ELSE x
    END)[1]
END;
CREATE OR REPLACE TEMP MACRO token_text(k) AS CASE
    WHEN regexp_full_match(k, '[A-Za-z0-9_-]{21}[AQgw]') THEN list_transform(
        [hex(from_base64(translate(k, '-_', '+/') || '=='))], h -> lower(
            h[7:8] || h[5:6] || h[3:4] || h[1:2] || '-' || h[11:12] || h[9:10] || '-' ||
            h[15:16] || h[13:14] || '-' || h[17:20] || '-' || h[21:32]))[1]
    ELSE k
END;
-- Sign-in kinds as numbers: 1 interactive, 2 non-interactive, 3 service principal,
-- 4 managed identity, 5 UAL logon.
CREATE OR REPLACE TEMP MACRO kind_of(name) AS CASE name
    WHEN 'SignInLogs' THEN 1 WHEN 'SigninLogs' THEN 1
    WHEN 'NonInteractiveUserSignInLogs' THEN 2 WHEN 'AADNonInteractiveUserSignInLogs' THEN 2
    ELSE list_transform([lower(trim(name))], n -> CASE n
        WHEN 'signinlogs' THEN 1
        WHEN 'noninteractiveusersigninlogs' THEN 2
        WHEN 'aadnoninteractiveusersigninlogs' THEN 2
        WHEN 'serviceprincipalsigninlogs' THEN 3
        WHEN 'microsoftserviceprincipalsigninlogs' THEN 3
        WHEN 'aadserviceprincipalsigninlogs' THEN 3
        WHEN 'managedidentitysigninlogs' THEN 4
        WHEN 'aadmanagedidentitysigninlogs' THEN 4
    END)[1]
END::TINYINT;
CREATE OR REPLACE TEMP MACRO user_type_of(v) AS coalesce(int_of(v),
    list_transform([lower(trim(v))], n -> CASE n
        WHEN 'regular' THEN 0 WHEN 'reserved' THEN 1 WHEN 'admin' THEN 2 WHEN 'dcadmin' THEN 3
        WHEN 'system' THEN 4 WHEN 'application' THEN 5 WHEN 'serviceprincipal' THEN 6
        WHEN 'custompolicy' THEN 7 WHEN 'systempolicy' THEN 8 END)[1]);
-- `incomingTokenType`: only a single primaryRefreshToken proves the device.
CREATE OR REPLACE TEMP MACRO prt_of(v) AS CASE v
    WHEN 'none' THEN false WHEN 'refreshToken' THEN false WHEN 'primaryRefreshToken' THEN true
    ELSE len(list_filter(string_split(coalesce(v, ''), ','), p -> trim(p) <> '')) = 1
        AND lower(regexp_replace(trim(v, ' ,'), '[ _.\-]', '', 'g')) = 'primaryrefreshtoken'
END;
-- The first value of a name in a [{Name, Value}] list parsed once (pairs_of).
CREATE OR REPLACE TEMP MACRO pairs_of(j) AS CASE WHEN json_type(j) = 'ARRAY'
    THEN from_json(j, '[{"Name":"VARCHAR","Value":"VARCHAR"}]') END;
CREATE OR REPLACE TEMP MACRO pair_value(ps, name) AS
    list_filter(ps, x -> lower(trim(x.Name)) = lower(name))[1].Value;

-- ---------------------------------------------------------------------------------------------
-- Addresses as numbers (UHUGEINT, IPv4 as IPv4-mapped IPv6, as the engine holds them), and the
-- /24 or /48 as a number (the families kept apart: IPv4 prefixes are below 2^48, IPv6 ones
-- above); the prefix text is built only for the findings.
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
-- parse_client_ip of trimmed text, the reference's steps in one expression (it runs once per
-- distinct address text): the bare address (ports, brackets and zones removed), an embedded
-- dotted IPv4 tail rewritten as two hex groups, `::` expanded.
CREATE OR REPLACE TEMP MACRO bare_of(x) AS CASE
    WHEN starts_with(x, '[') THEN
        CASE WHEN contains(x, ']') THEN regexp_extract(x, '^\[([^\]%]*)', 1) END
    WHEN NOT contains(x, ':') THEN NULL
    -- "v4:port" has a single colon and a u16 port; anything else is a bare IPv6.
    WHEN NOT contains(regexp_replace(x, ':[^:]*$', ''), ':')
        AND regexp_full_match(regexp_extract(x, ':([^:]*)$', 1), '\+?[0-9]{1,5}')
        AND try_cast(regexp_extract(x, ':([^:]*)$', 1) AS USMALLINT) IS NOT NULL
        THEN regexp_replace(x, ':[^:]*$', '')
    ELSE split_part(x, '%', 1)
END;
CREATE OR REPLACE TEMP MACRO hex_of(b) AS CASE
    WHEN b IS NULL OR v4_num(b) IS NOT NULL THEN NULL
    WHEN NOT contains(b, '.') THEN b
    ELSE list_transform([v4_num(regexp_extract(b, '[^:]*$'))], t -> CASE WHEN t IS NOT NULL
        THEN regexp_replace(b, '[^:]*$', '') || printf('%x:%x',
            (t // 65536::UHUGEINT)::BIGINT, (t % 65536::UHUGEINT)::BIGINT) END)[1]
END;
CREATE OR REPLACE TEMP MACRO groups_of(h) AS CASE
    WHEN h IS NULL OR NOT regexp_full_match(h, '[0-9A-Fa-f:]+') THEN NULL
    WHEN NOT contains(h, '::') THEN string_split(h, ':')
    WHEN length(h) - length(replace(h, '::', '')) <> 2 OR contains(h, ':::') THEN NULL
    -- `::` stands for at least one zero group.
    ELSE list_transform([[
            CASE WHEN split_part(h, '::', 1) = '' THEN []::VARCHAR[]
                ELSE string_split(split_part(h, '::', 1), ':') END,
            CASE WHEN split_part(h, '::', 2) = '' THEN []::VARCHAR[]
                ELSE string_split(split_part(h, '::', 2), ':') END]],
        ht -> CASE WHEN len(ht[1]) + len(ht[2]) <= 7 THEN list_concat(ht[1],
            list_transform(range(8 - len(ht[1]) - len(ht[2])), i -> '0'), ht[2]) END)[1]
END;
-- The two forms nearly every log writes, dotted IPv4 and eight IPv6 groups, come first.
CREATE OR REPLACE TEMP MACRO ip_of(x) AS CASE
    WHEN NOT contains(x, ':') THEN mapped_v4(v4_num(x))
    WHEN regexp_full_match(x, '([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}') THEN list_reduce(
        list_transform(string_split(x, ':'), s -> ('0x' || s)::INTEGER::UHUGEINT),
        (acc, s) -> acc * 65536::UHUGEINT + s)
    ELSE list_transform([bare_of(x)], b -> coalesce(mapped_v4(v4_num(b)),
        list_transform([groups_of(hex_of(b))], g -> v6_num(g))[1]))[1]
END;
CREATE OR REPLACE TEMP MACRO is_v4(ip) AS
    ip BETWEEN 281470681743360::UHUGEINT AND 281474976710655::UHUGEINT;
CREATE OR REPLACE TEMP MACRO prefix_key(ip) AS CASE
    WHEN is_v4(ip) THEN ((ip - 281470681743360::UHUGEINT) >> 8)::BIGINT
    ELSE (ip >> 80)::BIGINT + 281474976710656
END;
-- NetworkId::prefix_of as text: `a.b.c.0/24`, or the /48 in Rust's IPv6 notation.
CREATE OR REPLACE TEMP MACRO top48(ip) AS (ip >> 80::UHUGEINT)::BIGINT;
CREATE OR REPLACE TEMP MACRO group16(ip, bits) AS (top48(ip) >> bits) & 65535;
CREATE OR REPLACE TEMP MACRO prefix_text(ip) AS CASE
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
-- relate(): 0 same, 1 differ, 2 unknown (no ASNs, different families).
CREATE OR REPLACE TEMP MACRO rel(a_asn, a_pfx, a_v4, b_asn, b_pfx, b_v4) AS CASE
    WHEN a_asn IS NOT NULL AND b_asn IS NOT NULL THEN CASE WHEN a_asn = b_asn THEN 0 ELSE 1 END
    WHEN a_pfx = b_pfx THEN 0
    WHEN a_v4 <> b_v4 THEN 2
    ELSE 1
END;

-- ---------------------------------------------------------------------------------------------
-- One read_json per file (a single read_json over a list reads one large file on one thread),
-- the per-row work done in the scan.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP MACRO signin_file(path, f) AS TABLE
SELECT
    f AS file,
    guid_of(Id) AS id,
    coalesce(kind_of(Category), kind_of("Type")) AS kind,
    coalesce(time_of(CreatedDateTime), time_of(TimeGenerated)) AS t,
    lower(nz(UserId)) AS user_id,
    nz(UserPrincipalName) AS upn,
    lower(nz(AppId)) AS app_id,
    IPAddress AS ip_text,
    NULL::VARCHAR AS ip_text2,
    CASE WHEN asn BETWEEN 0 AND 4294967295 THEN asn END AS asn,
    nz(device[1]) AS device_id,
    -- The sign-in proves its device (with a device id): managed, compliant, a primary refresh
    -- token or a token-bound session.
    coalesce(bool_of(device[2]) OR bool_of(device[3]) OR prt_of(IncomingTokenType)
        OR lower(nz(protection[1])) = 'bound', false) AS proven_device,
    coalesce(int_of(status[1]), int_of(ResultType)) AS error_code,
    CASE ClientCredentialType WHEN 'none' THEN false
        ELSE coalesce(lower(nz(ClientCredentialType)) <> 'none', false)
    END AS confidential_credential,
    token_key(UniqueTokenIdentifier) AS token,
    session_of(SessionId) AS session_id
FROM (
    SELECT *,
        int_of(AutonomousSystemNumber) AS asn,
        fields(DeviceDetail, ['$.deviceId', '$.isManaged', '$.isCompliant']) AS device,
        fields(Status, ['$.errorCode']) AS status,
        fields(TokenProtectionStatusDetails, ['$.signInSessionStatus']) AS protection
    FROM read_json(path,
        format = 'newline_delimited',
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
);

-- UAL records with what each is (decode/ual.rs classify). What only a logon needs is kept for
-- logons, the token context is parsed for accesses; the rest stays as logged, derived later
-- for the few rows that need it.
CREATE OR REPLACE TEMP MACRO ual_file(path, f) AS TABLE
SELECT
    file, t, class, user_type,
    Id, OfficeId, TokenObjectId, UserKey, UserObjectId, UserId, MailboxOwnerUPN, SessionId,
    ClientIPAddress, ClientIP, ActorIpAddress,
    CASE WHEN class = 'logon' THEN ApplicationId END AS ApplicationId,
    CASE WHEN class = 'logon' THEN Actor END AS Actor,
    CASE WHEN class = 'logon' THEN DeviceProperties END AS DeviceProperties,
    CASE WHEN class = 'logon' THEN ErrorNumber END AS ErrorNumber,
    CASE WHEN class NOT IN ('logon', 'other')
        THEN fields(AppAccessContext, ['$.AADSessionId', '$.UniqueTokenId']) END AS ctx
FROM (
    SELECT *,
        CASE
            WHEN op IN ('userloggedin', 'userloginfailed')
                AND (record_type = 15 OR workload = 'azureactivedirectory') THEN 'logon'
            WHEN user_type = 4 THEN 'other'
            WHEN workload = 'exchange' AND (record_type IN (2, 3, 50) OR record_type IS NULL)
                THEN 'exchange-audit'
            WHEN workload IS NULL AND record_type IN (2, 3, 50) THEN 'exchange-audit'
            WHEN workload = 'onedrive' OR (workload IS NULL AND record_type = 7)
                THEN 'onedrive-audit'
            WHEN workload = 'sharepoint' OR (workload IS NULL AND record_type IN (4, 6, 14, 36))
                THEN 'sharepoint-audit'
            WHEN workload = 'microsoftteams' OR (workload IS NULL AND record_type = 25)
                THEN 'teams-audit'
            ELSE 'other'
        END AS class
    FROM (
        SELECT
            f AS file,
            coalesce(time_of(CreationTime), time_of(TimeGenerated)) AS t,
            lower(nz(Operation)) AS op,
            int_of(RecordType) AS record_type,
            lower(coalesce(nz(Workload), nz(OfficeWorkload))) AS workload,
            user_type_of(UserType) AS user_type,
            * EXCLUDE (CreationTime, TimeGenerated, Operation, RecordType, Workload,
                OfficeWorkload, UserType)
        FROM read_json(path,
            format = 'newline_delimited',
            columns = {
                'CreationTime': 'VARCHAR', 'TimeGenerated': 'VARCHAR', 'Id': 'VARCHAR',
                'OfficeId': 'VARCHAR', 'Operation': 'VARCHAR', 'RecordType': 'VARCHAR',
                'Workload': 'VARCHAR', 'OfficeWorkload': 'VARCHAR', 'UserType': 'VARCHAR',
                'TokenObjectId': 'VARCHAR', 'UserKey': 'VARCHAR', 'UserObjectId': 'VARCHAR',
                'UserId': 'VARCHAR', 'MailboxOwnerUPN': 'VARCHAR', 'ApplicationId': 'VARCHAR',
                'AppAccessContext': 'VARCHAR',
                'ClientIPAddress': 'VARCHAR', 'ClientIP': 'VARCHAR', 'ActorIpAddress': 'VARCHAR',
                'SessionId': 'VARCHAR', 'Actor': 'JSON', 'DeviceProperties': 'JSON',
                'ErrorNumber': 'VARCHAR'
            })
    )
    WHERE op IS NOT NULL AND t IS NOT NULL
);

-- Graph activity rows with what the token join needs; the rest as logged.
CREATE OR REPLACE TEMP MACRO graph_file(path, f) AS TABLE
SELECT
    f AS file,
    'graph-activity' AS log,
    time_of(TimeGenerated) AS t,
    CASE C_Idtyp WHEN 'user' THEN true WHEN 'app' THEN false
        ELSE coalesce(list_transform([lower(nz(C_Idtyp))], k -> CASE k
            WHEN 'user' THEN true WHEN 'app' THEN false END)[1], nz(UserId) IS NOT NULL)
    END AS delegated,
    token_key(SignInActivityId) AS token,
    IPAddress AS ip1, NULL::VARCHAR AS ip2, NULL::VARCHAR AS ip3,
    RequestId, UserId, ClientAuthMethod, SessionId, C_Sid
FROM read_json(path,
    format = 'newline_delimited',
    columns = {
        'TimeGenerated': 'VARCHAR', 'RequestId': 'VARCHAR', 'UserId': 'VARCHAR',
        'IPAddress': 'VARCHAR', 'ClientAuthMethod': 'VARCHAR', 'SessionId': 'VARCHAR',
        'C_Sid': 'VARCHAR', 'SignInActivityId': 'VARCHAR', 'C_Idtyp': 'VARCHAR'
    })
WHERE time_of(TimeGenerated) IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- The query, one statement.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP TABLE tt001 AS
WITH
-- The UAL is read once: its logons are sign-ins, the rest accesses.
ual AS MATERIALIZED (
    SELECT * FROM ${EACH ual_file UAL}
),
ual_logons AS (
    SELECT
        file,
        guid_of(Id) AS id,
        5::TINYINT AS kind,
        t,
        coalesce(lower(actor_id), guid_of(UserKey)) AS user_id,
        nz(UserId) AS upn,
        lower(nz(ApplicationId)) AS app_id,
        ClientIP AS ip_text,
        ActorIpAddress AS ip_text2,
        NULL::BIGINT AS asn,
        nz(p_device) AS device_id,
        -- Only a true "compliant and managed" says anything about management alone.
        coalesce(bool_of(p_managed) OR bool_of(p_compliant), false) AS proven_device,
        int_of(ErrorNumber) AS error_code,
        false AS confidential_credential,
        uti_of(guid_of(Id)) AS token,
        session_of(session_text) AS session_id
    FROM (
        SELECT *, coalesce(nz(p_session), nz(SessionId)) AS session_text
        FROM (
            SELECT *,
                list_filter(
                    CASE WHEN json_type(Actor) = 'ARRAY'
                        THEN from_json(Actor, '[{"ID":"VARCHAR"}]') END,
                    x -> guid_of(x.ID) IS NOT NULL)[1].ID AS actor_id,
                pair_value(props, 'Id') AS p_device,
                pair_value(props, 'IsCompliantAndManaged') AS p_managed,
                pair_value(props, 'IsCompliant') AS p_compliant,
                pair_value(props, 'SessionId') AS p_session
            FROM (SELECT *, pairs_of(DeviceProperties) AS props FROM ual WHERE class = 'logon')))
),
-- The Graph activity rows a token could link, read before the joins that need memory (under a
-- memory limit a JSON scan next to a large hash table does not fit).
graph AS MATERIALIZED (
    SELECT * FROM ${EACH graph_file GRAPH} WHERE delegated AND token IS NOT NULL
),
-- Every sign-in row, UAL logons included.
all_sign_ins AS MATERIALIZED (
    SELECT * FROM ${EACH signin_file SIGNIN}
    WHERE kind IS NOT NULL AND t IS NOT NULL
    UNION ALL BY NAME
    SELECT * FROM ual_logons
),
-- Sign-ins deduplicated by id, keeping the row of the first file in path order (rows without
-- an id all kept). Few ids are on several rows: they are found by grouping the ids alone, and
-- only their rows are ranked (a window over every row would sort them all).
repeated_ids AS (
    SELECT id, min(file) AS first_file FROM (
        SELECT id, file, count(*) AS n FROM all_sign_ins WHERE id IS NOT NULL GROUP BY id, file)
    GROUP BY id HAVING sum(n) > 1
),
sign_ins AS NOT MATERIALIZED (
    SELECT s.* FROM all_sign_ins s LEFT JOIN repeated_ids r ON r.id = s.id
    WHERE r.id IS NULL
    UNION ALL
    SELECT * EXCLUDE (rn) FROM (
        SELECT s.*, row_number() OVER (PARTITION BY s.id) AS rn
        FROM all_sign_ins s JOIN repeated_ids r ON r.id = s.id AND r.first_file = s.file)
    WHERE rn = 1
),
-- Every distinct address text of the sign-ins, parsed once.
ip_parse AS MATERIALIZED (
    SELECT raw, ip_of(x) AS ip FROM (
        SELECT raw, trim(raw) AS x FROM (
            SELECT DISTINCT raw FROM (
                SELECT ip_text AS raw FROM sign_ins UNION ALL SELECT ip_text2 FROM sign_ins)
            WHERE nz(raw) IS NOT NULL))
),
-- ASN per address from the sign-in rows (most frequent, smallest on a tie), voted per address
-- text first: each row costs one grouping on its text, not a join.
asn_by_ip AS (
    SELECT ip, arg_min(asn, (-n, asn)) AS asn FROM (
        SELECT p.ip, v.asn, sum(v.n) AS n
        FROM (SELECT ip_text, asn, count(*) AS n FROM sign_ins
            WHERE asn IS NOT NULL AND asn <> 0 AND ip_text IS NOT NULL
            GROUP BY ip_text, asn) v
        JOIN ip_parse p ON p.raw = v.ip_text
        WHERE p.ip IS NOT NULL
        GROUP BY p.ip, v.asn)
    GROUP BY ip
),
asn_by_prefix AS (
    SELECT prefix_key(ip) AS pfx, min(asn) AS asn FROM asn_by_ip
    GROUP BY prefix_key(ip) HAVING count(DISTINCT asn) = 1
),
-- Address text -> network, for every sign-in address text.
ipmap AS MATERIALIZED (
    SELECT p.raw, p.ip, is_v4(p.ip) AS v4, prefix_key(p.ip) AS pfx,
        coalesce(bi.asn, bp.asn) AS asn
    FROM ip_parse p
    LEFT JOIN asn_by_ip bi ON bi.ip = p.ip
    LEFT JOIN asn_by_prefix bp ON bp.pfx = prefix_key(p.ip)
    WHERE p.ip IS NOT NULL
),
-- Successful sign-ins with their networks.
ok_sign_ins AS MATERIALIZED (
    SELECT s.*,
        coalesce(m1.ip, m2.ip) AS ip,
        CASE WHEN m1.ip IS NOT NULL THEN m1.asn ELSE m2.asn END AS n_asn,
        CASE WHEN m1.ip IS NOT NULL THEN m1.pfx ELSE m2.pfx END AS n_pfx,
        CASE WHEN m1.ip IS NOT NULL THEN m1.v4 ELSE m2.v4 END AS n_v4,
        coalesce(s.user_id, lower(nz(s.upn))) AS usr,
        s.device_id IS NOT NULL AND proven_device AS proves_device
    FROM sign_ins s
    LEFT JOIN ipmap m1 ON m1.raw = s.ip_text
    LEFT JOIN ipmap m2 ON m2.raw = s.ip_text2
    WHERE coalesce(s.error_code, 0) = 0
),
-- Token -> the successful sign-in that issued it (the earliest by time, file, id). Nearly
-- every token has one sign-in: only the tokens of several are ranked.
repeated_tokens AS (
    SELECT token FROM ok_sign_ins WHERE token IS NOT NULL GROUP BY token HAVING count(*) > 1
),
issuers AS NOT MATERIALIZED (
    SELECT * FROM (
        SELECT s.* FROM ok_sign_ins s LEFT JOIN repeated_tokens r ON r.token = s.token
        WHERE s.token IS NOT NULL AND r.token IS NULL
        UNION ALL
        SELECT * EXCLUDE (rn) FROM (
            SELECT s.*,
                row_number() OVER (PARTITION BY s.token ORDER BY s.t, s.file, s.id) AS rn
            FROM ok_sign_ins s JOIN repeated_tokens r ON r.token = s.token)
        WHERE rn = 1)
    WHERE ip IS NOT NULL
),
-- The build side of the join with every access: only what the join and the network
-- comparison need (the rest of the issuing sign-in is fetched for the rows that move).
tokens AS (
    SELECT token, t AS s_t, n_asn AS s_asn, n_pfx AS s_pfx, n_v4 AS s_v4 FROM issuers
),
-- Delegated accesses with a token, joined to the issuing sign-in, not before the issue. The
-- access address is looked up among the sign-in addresses by its first logged text; a row on
-- the issuing network is done with here. The rest (another network, or an address text no
-- sign-in logged) goes on.
linked AS MATERIALIZED (
    SELECT * FROM (
        SELECT a.*, tk.* EXCLUDE (token), m.ip AS m_ip, m.asn AS m_asn, m.pfx AS m_pfx,
            m.v4 AS m_v4, rel(tk.s_asn, tk.s_pfx, tk.s_v4, m.asn, m.pfx, m.v4) AS m_rel
        FROM (
            SELECT * FROM graph
            UNION ALL BY NAME
            SELECT file, class AS log, t, coalesce(user_type NOT IN (5, 6), true) AS delegated,
                token_key(ctx[2]) AS token,
                ClientIPAddress AS ip1, ClientIP AS ip2, ActorIpAddress AS ip3,
                Id AS ual_id, OfficeId, TokenObjectId, UserKey, UserObjectId, UserId AS ual_user,
                MailboxOwnerUPN, ctx[1] AS ctx_session, SessionId AS ual_session
            FROM ual WHERE class NOT IN ('logon', 'other')
        ) a
        JOIN tokens tk ON tk.token = a.token
        LEFT JOIN ipmap m ON m.raw = coalesce(a.ip1, a.ip2, a.ip3)
        WHERE a.delegated AND a.token IS NOT NULL
            AND a.t >= tk.s_t - INTERVAL 5 MINUTE
            AND coalesce(a.ip1, a.ip2, a.ip3) IS NOT NULL)
    WHERE m_ip IS NULL OR m_rel <> 0
),
-- The address texts of those rows that no sign-in logged, parsed; the first of the row's
-- addresses that parses is its address (as the reference takes it).
acc_parse AS MATERIALIZED (
    SELECT raw, ip_of(x) AS ip FROM (
        SELECT raw, trim(raw) AS x FROM (
            SELECT DISTINCT raw FROM (
                SELECT ip1 AS raw FROM linked WHERE m_ip IS NULL
                UNION ALL SELECT ip2 FROM linked WHERE m_ip IS NULL
                UNION ALL SELECT ip3 FROM linked WHERE m_ip IS NULL)
            WHERE nz(raw) IS NOT NULL))
),
acc_net AS (
    SELECT p.raw, p.ip, is_v4(p.ip) AS v4, prefix_key(p.ip) AS pfx,
        coalesce(bi.asn, bp.asn) AS asn
    FROM acc_parse p
    LEFT JOIN asn_by_ip bi ON bi.ip = p.ip
    LEFT JOIN asn_by_prefix bp ON bp.pfx = prefix_key(p.ip)
    WHERE p.ip IS NOT NULL
),
resolved AS NOT MATERIALIZED (
    SELECT * EXCLUDE (n), n.ip AS a_ip, n.asn AS a_asn, n.pfx AS a_pfx, n.v4 AS a_v4 FROM (
        SELECT l.*, coalesce(
            CASE WHEN l.m_ip IS NOT NULL
                THEN {'ip': l.m_ip, 'asn': l.m_asn, 'pfx': l.m_pfx, 'v4': l.m_v4} END,
            CASE WHEN n1.ip IS NOT NULL
                THEN {'ip': n1.ip, 'asn': n1.asn, 'pfx': n1.pfx, 'v4': n1.v4} END,
            CASE WHEN n2.ip IS NOT NULL
                THEN {'ip': n2.ip, 'asn': n2.asn, 'pfx': n2.pfx, 'v4': n2.v4} END,
            CASE WHEN n3.ip IS NOT NULL
                THEN {'ip': n3.ip, 'asn': n3.asn, 'pfx': n3.pfx, 'v4': n3.v4} END) AS n
        FROM linked l
        LEFT JOIN acc_net n1 ON n1.raw = l.ip1
        LEFT JOIN acc_net n2 ON n2.raw = l.ip2
        LEFT JOIN acc_net n3 ON n3.raw = l.ip3)
    WHERE n IS NOT NULL
),
-- The issuing sign-ins of the rows left.
issue AS (
    SELECT token, ip AS s_ip, kind AS s_kind, confidential_credential AS s_confidential,
        user_id AS s_user, upn AS s_upn, session_id AS s_session, device_id AS s_device
    FROM issuers WHERE token IN (SELECT token FROM linked)
),
-- Microsoft's published ranges, joined on the distinct addresses left. A CIDR holds the
-- addresses whose number shifted right by its host bits equals its start's: the range join is
-- an equality join per prefix length (as a range join DuckDB would plan a nested loop, having
-- no row estimate for the CTE).
ms_keys AS (
    SELECT DISTINCT bits, lo >> bits AS key FROM (
        SELECT lo, round(log2((hi - lo)::DOUBLE + 1))::INTEGER::UHUGEINT AS bits FROM ms_ranges)
),
microsoft AS (
    SELECT DISTINCT x.ip FROM (
        SELECT a_ip AS ip FROM resolved UNION SELECT s_ip FROM issue) x
    CROSS JOIN (SELECT DISTINCT bits FROM ms_keys) b
    JOIN ms_keys k ON k.bits = b.bits AND k.key = x.ip >> b.bits
),
-- Another network (or one that cannot be compared), neither side Microsoft's. What the access
-- says about its user, session and client is derived now, for these rows only.
moved_any AS MATERIALIZED (
    SELECT * EXCLUDE (session_text), coalesce(session_of(session_text), s_session) AS session_id
    FROM (
        SELECT r.*, i.* EXCLUDE (token),
            rel(r.s_asn, r.s_pfx, r.s_v4, r.a_asn, r.a_pfx, r.a_v4) AS relation,
            CASE WHEN r.log = 'graph-activity' THEN nz(r.RequestId)
                ELSE coalesce(nz(r.ual_id), nz(r.OfficeId)) END AS record_id,
            CASE WHEN r.log = 'graph-activity' THEN lower(nz(r.UserId))
                ELSE coalesce(lower(nz(r.TokenObjectId)), guid_of(r.UserKey),
                    guid_of(r.UserObjectId)) END AS a_user,
            CASE WHEN r.log = 'graph-activity' THEN NULL
                ELSE coalesce(nz(r.ual_user), nz(r.MailboxOwnerUPN)) END AS a_upn,
            CASE WHEN r.log = 'graph-activity' THEN coalesce(nz(r.SessionId), nz(r.C_Sid))
                ELSE coalesce(nz(r.ctx_session), nz(r.ual_session)) END AS session_text,
            r.log = 'graph-activity' AND coalesce(int_of(r.ClientAuthMethod) IN (1, 2), false)
                AS a_confidential,
            h.asn IS NOT NULL OR coalesce(r.a_asn = 8075, false) AS a_hosting
        FROM resolved r
        LEFT JOIN (SELECT DISTINCT asn FROM hosting_asns) h ON h.asn = r.a_asn
        JOIN issue i ON i.token = r.token
        LEFT JOIN microsoft ma ON ma.ip = r.a_ip
        LEFT JOIN microsoft ms ON ms.ip = i.s_ip
        WHERE rel(r.s_asn, r.s_pfx, r.s_v4, r.a_asn, r.a_pfx, r.a_v4) <> 0
            AND ma.ip IS NULL AND ms.ip IS NULL)
),
-- The session chains of those rows: their successful interactive sign-ins (and UAL logons) and
-- non-interactive ones.
chain AS MATERIALIZED (
    SELECT session_id, kind IN (1, 5) AS root, n_asn, n_pfx, n_v4, ip, device_id, app_id,
        proves_device
    FROM ok_sign_ins
    WHERE kind IN (1, 2, 5)
        AND session_id IN (SELECT session_id FROM moved_any WHERE session_id IS NOT NULL)
),
-- Dual stack: an address of one family without an ASN, against the session's own sign-in
-- addresses of its family on the issuing network.
related AS (
    SELECT m.*, CASE
        WHEN m.relation <> 2 THEN m.relation
        WHEN w.any_same THEN 0
        WHEN w.any_differ THEN 1
        ELSE 2 END AS final_relation
    FROM moved_any m
    LEFT JOIN (
        SELECT l.session_id, l.s_ip, l.a_ip,
            bool_or(rel(c.n_asn, c.n_pfx, c.n_v4, l.a_asn, l.a_pfx, l.a_v4) = 0) AS any_same,
            bool_or(rel(c.n_asn, c.n_pfx, c.n_v4, l.a_asn, l.a_pfx, l.a_v4) = 1) AS any_differ
        FROM (SELECT DISTINCT session_id, s_ip, s_asn, s_pfx, s_v4, a_ip, a_asn, a_pfx, a_v4
            FROM moved_any WHERE relation = 2) l
        JOIN chain c ON c.session_id = l.session_id
        WHERE c.ip IS NOT NULL AND c.n_v4 = l.a_v4
            AND rel(c.n_asn, c.n_pfx, c.n_v4, l.s_asn, l.s_pfx, l.s_v4) = 0
        GROUP BY l.session_id, l.s_ip, l.a_ip
    ) w ON w.session_id = m.session_id AND w.s_ip = m.s_ip AND w.a_ip = m.a_ip
        AND m.relation = 2
),
-- Different networks, not a confidential client.
moved AS MATERIALIZED (
    SELECT * FROM related
    WHERE final_relation = 1
        AND NOT (s_kind = 2 AND s_confidential)
        AND NOT a_confidential
),
-- Session established on the access network: an interactive sign-in of the session there, or
-- the token's device roaming there with its usual client (per session, issuing address and
-- access address).
keys AS (
    SELECT DISTINCT session_id, s_ip, s_asn, s_pfx, s_v4, s_device, a_ip, a_asn, a_pfx, a_v4
    FROM moved WHERE session_id IS NOT NULL AND NOT a_hosting
),
home AS (
    SELECT k.*, c.n_asn AS h_asn, c.n_pfx AS h_pfx, c.n_v4 AS h_v4
    FROM keys k JOIN chain c ON c.session_id = k.session_id AND c.root AND c.ip IS NOT NULL
    UNION ALL
    SELECT k.*, k.s_asn, k.s_pfx, k.s_v4 FROM keys k
),
home_device_apps AS (
    SELECT DISTINCT k.session_id, k.s_ip, k.a_ip, c.device_id, c.app_id
    FROM keys k JOIN chain c ON c.session_id = k.session_id
    WHERE c.ip IS NOT NULL AND c.device_id IS NOT NULL AND c.app_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM home h
            WHERE h.session_id = k.session_id AND h.s_ip = k.s_ip AND h.a_ip = k.a_ip
                AND rel(c.n_asn, c.n_pfx, c.n_v4, h.h_asn, h.h_pfx, h.h_v4) = 0)
),
established AS (
    SELECT DISTINCT k.session_id, k.s_ip, NULL AS s_device, k.a_ip
    FROM keys k JOIN chain c ON c.session_id = k.session_id
    WHERE c.root AND c.ip IS NOT NULL
        AND rel(c.n_asn, c.n_pfx, c.n_v4, k.a_asn, k.a_pfx, k.a_v4) = 0
    UNION
    SELECT DISTINCT k.session_id, k.s_ip, k.s_device, k.a_ip
    FROM keys k
    JOIN chain c ON c.session_id = k.session_id AND NOT c.root
    JOIN home_device_apps d ON d.session_id = k.session_id AND d.s_ip = k.s_ip
        AND d.a_ip = k.a_ip AND d.device_id = c.device_id AND d.app_id = c.app_id
    WHERE c.ip IS NOT NULL AND c.proves_device AND c.device_id = k.s_device
        AND rel(c.n_asn, c.n_pfx, c.n_v4, k.a_asn, k.a_pfx, k.a_v4) = 0
),
-- The user of each row: the access's object id, else the object id the first sign-in gave its
-- UPN, else the UPN, else the issuing sign-in's user.
upn_to_id AS (
    SELECT upn_key, arg_min(user_id, (t, file, id)) AS user_id FROM (
        SELECT lower(trim(upn)) AS upn_key, user_id, t, file, id FROM sign_ins
        WHERE upn IS NOT NULL AND user_id IS NOT NULL)
    WHERE upn_key IN (SELECT lower(trim(a_upn)) FROM moved
        WHERE a_user IS NULL AND a_upn IS NOT NULL)
    GROUP BY upn_key
),
judged AS MATERIALIZED (
    SELECT m.*,
        coalesce(m.a_user, u.user_id, lower(trim(m.a_upn)), m.s_user, lower(nz(m.s_upn))) AS usr
    FROM moved m
    LEFT JOIN upn_to_id u ON u.upn_key = lower(trim(m.a_upn))
),
-- Device-proven successful user sign-ins of these users or in these prefixes, on networks
-- neither hosting nor Microsoft's.
proven AS MATERIALIZED (
    SELECT s.usr, s.t, s.session_id, s.n_asn, s.n_pfx, s.n_v4
    FROM ok_sign_ins s
    LEFT JOIN (SELECT DISTINCT asn FROM hosting_asns) h ON h.asn = s.n_asn
    WHERE s.kind IN (1, 2, 5) AND s.proves_device AND s.usr IS NOT NULL AND s.ip IS NOT NULL
        AND (s.usr IN (SELECT usr FROM judged WHERE NOT a_hosting)
            OR s.n_pfx IN (SELECT a_pfx FROM judged WHERE NOT a_hosting))
        AND h.asn IS NULL AND coalesce(s.n_asn <> 8075, true)
        AND NOT EXISTS (SELECT 1 FROM ms_ranges r WHERE s.ip BETWEEN r.lo AND r.hi)
),
-- The tenant's own /24 or /48: devices of three users proved themselves there; established
-- for everyone from the first sign-in of the third.
tenant_prefixes AS (
    SELECT n_pfx AS pfx, list_sort(list(first_t))[3] AS since
    FROM (SELECT n_pfx, usr, min(t) AS first_t FROM proven
        WHERE n_pfx IN (SELECT a_pfx FROM judged WHERE NOT a_hosting)
        GROUP BY n_pfx, usr)
    GROUP BY n_pfx
    HAVING count(*) >= 3
),
remaining AS (
    SELECT j.* FROM judged j
    WHERE NOT EXISTS (SELECT 1 FROM established e
        WHERE e.session_id = j.session_id AND e.s_ip = j.s_ip AND e.a_ip = j.a_ip
            AND (e.s_device IS NULL OR e.s_device = j.s_device))
        AND NOT (NOT j.a_hosting AND EXISTS (SELECT 1 FROM proven p
            WHERE p.usr = j.usr AND p.t < j.t
                AND (p.session_id IS NULL OR p.session_id IS DISTINCT FROM j.session_id)
                AND rel(p.n_asn, p.n_pfx, p.n_v4, j.a_asn, j.a_pfx, j.a_v4) = 0))
        AND NOT (NOT j.a_hosting AND EXISTS (SELECT 1 FROM tenant_prefixes tp
            WHERE tp.pfx = j.a_pfx AND tp.since < j.t))
),
-- Travel: a successful interactive sign-in of the user from the access network within 12 h.
travelled AS (
    SELECT DISTINCT r.usr, r.t, r.a_ip
    FROM ok_sign_ins ui
    JOIN remaining r ON r.usr = ui.usr
    WHERE NOT r.a_hosting AND ui.kind IN (1, 5) AND ui.ip IS NOT NULL
        AND ui.t BETWEEN r.t - INTERVAL 12 HOUR AND r.t + INTERVAL 12 HOUR
        AND rel(ui.n_asn, ui.n_pfx, ui.n_v4, r.a_asn, r.a_pfx, r.a_v4) = 0
),
findings AS (
    SELECT r.* FROM remaining r
    WHERE NOT EXISTS (SELECT 1 FROM travelled tr
        WHERE tr.usr = r.usr AND tr.t = r.t AND tr.a_ip = r.a_ip)
),
-- Accesses deduplicated as the reference does (by log and record id, the row of the first
-- file), on the rows found only: a row goes when its record is in an earlier file of its
-- family (nothing to read when a family is one file), and one row of a record stays.
earlier AS (
    SELECT DISTINCT e.log, e.record_id, e.file FROM (
        SELECT log, nz(RequestId) AS record_id, file FROM ${EACH_BUT_LAST graph_file GRAPH}
        UNION ALL
        SELECT class, coalesce(nz(Id), nz(OfficeId)), file
        FROM ${EACH_BUT_LAST ual_file UAL} WHERE class NOT IN ('logon', 'other')) e
    WHERE e.record_id IS NOT NULL AND EXISTS (SELECT 1 FROM findings f
        WHERE f.log = e.log AND f.record_id = e.record_id)
),
counted AS (
    SELECT * FROM (
        SELECT f.*, row_number() OVER (PARTITION BY f.log, f.record_id ORDER BY f.file) AS dup
        FROM findings f
        WHERE NOT EXISTS (SELECT 1 FROM earlier e
            WHERE e.log = f.log AND e.record_id = f.record_id AND e.file < f.file))
    WHERE record_id IS NULL OR dup = 1
)
SELECT token_text(token) AS token_id,
    coalesce('AS' || a_asn::VARCHAR, prefix_text(a_ip)) AS network,
    count(*) AS accesses
FROM counted
GROUP BY ALL
ORDER BY token_id, network;
