-- What DuckDB needs only to read the logs and project the columns TT001 reads, nothing else:
-- the floor under any DuckDB TT001 (issue 17's "close to what the hardware allows"). The same
-- scans as bench/tt001_tuned.sql (one read_json per file, the same columns), with no per-row
-- work beyond counting each column's values, which keeps DuckDB from skipping a column.
--
-- bench/duckdb_tt001.py fills ${EACH <macro> <FAMILY>} as for the TT001 queries; the result,
-- a table tt001 of one row with no token and no network, is not a finding set (bench/report.py
-- compares no findings for it).

CREATE OR REPLACE TEMP MACRO signin_file(path, f) AS TABLE
SELECT count(Id) + count(Category) + count("Type") + count(CreatedDateTime)
    + count(TimeGenerated) + count(UserId) + count(UserPrincipalName) + count(AppId)
    + count(IPAddress) + count(AutonomousSystemNumber) + count(DeviceDetail) + count(Status)
    + count(ResultType) + count(IncomingTokenType) + count(ClientCredentialType)
    + count(TokenProtectionStatusDetails) + count(UniqueTokenIdentifier) + count(SessionId)
    AS n
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
    });

CREATE OR REPLACE TEMP MACRO ual_file(path, f) AS TABLE
SELECT count(CreationTime) + count(TimeGenerated) + count(Id) + count(OfficeId)
    + count(Operation) + count(RecordType) + count(Workload) + count(OfficeWorkload)
    + count(UserType) + count(TokenObjectId) + count(UserKey) + count(UserObjectId)
    + count(UserId) + count(MailboxOwnerUPN) + count(ApplicationId) + count(AppAccessContext)
    + count(ClientIPAddress) + count(ClientIP) + count(ActorIpAddress) + count(SessionId)
    + count(Actor) + count(DeviceProperties) + count(ErrorNumber) AS n
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
    });

CREATE OR REPLACE TEMP MACRO graph_file(path, f) AS TABLE
SELECT count(TimeGenerated) + count(RequestId) + count(UserId) + count(IPAddress)
    + count(ClientAuthMethod) + count(SessionId) + count(C_Sid) + count(SignInActivityId)
    + count(C_Idtyp) AS n
FROM read_json(path,
    format = 'newline_delimited',
    columns = {
        'TimeGenerated': 'VARCHAR', 'RequestId': 'VARCHAR', 'UserId': 'VARCHAR',
        'IPAddress': 'VARCHAR', 'ClientAuthMethod': 'VARCHAR', 'SessionId': 'VARCHAR',
        'C_Sid': 'VARCHAR', 'SignInActivityId': 'VARCHAR', 'C_Idtyp': 'VARCHAR'
    });

CREATE OR REPLACE TEMP TABLE tt001 AS
SELECT NULL::VARCHAR AS token_id, NULL::VARCHAR AS network, sum(n) AS accesses
FROM (
    SELECT n FROM ${EACH signin_file SIGNIN}
    UNION ALL SELECT n FROM ${EACH ual_file UAL}
    UNION ALL SELECT n FROM ${EACH graph_file GRAPH}
);
