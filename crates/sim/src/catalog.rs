//! Fixed facts the simulated tenant is built from: application ids, networks, names.
//!
//! Microsoft application ids and names come from `../shared/reference/microsoft/first-party-apps.json`
//! and `foci-clients.csv` (merill/microsoft-info, secureworks/family-of-client-ids-research).
//! Microsoft service address ranges come from `m365-endpoints-worldwide.json` (Microsoft 365
//! IP and URL web service, worldwide instance). Every other network below (ISPs, carriers,
//! hosting providers) is synthetic: a plausible ASN and prefix, not a claim about who announces
//! which prefix.

use tokentrail_model::Guid;

/// A client or resource application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct App {
    pub(crate) id: Guid,
    pub(crate) name: &'static str,
}

const fn app(id: u128, name: &'static str) -> App {
    App { id: Guid(id), name }
}

// First-party clients (first-party-apps.json; FOCI membership from foci-clients.csv).
pub(crate) const WINDOWS_SIGN_IN: App =
    app(0x38aa3b87_a06d_4817_b275_7a316988d93b, "Windows Sign In");
pub(crate) const MICROSOFT_OFFICE: App =
    app(0xd3590ed6_52b3_4102_aeff_aad2292ab01c, "Microsoft Office");
pub(crate) const OUTLOOK_MOBILE: App =
    app(0x27922004_5251_4030_b22d_91ecd9a37ea4, "Outlook Mobile");
pub(crate) const TEAMS: App = app(0x1fec8e78_bce4_4aaf_ab1b_5451cc387264, "Microsoft Teams");
pub(crate) const ONEDRIVE_SYNC: App = app(
    0xab9b8c07_8f02_4f72_87fa_80105867a763,
    "OneDrive SyncEngine",
);
pub(crate) const OFFICE_HOME: App = app(0x4765445b_32c6_49b0_83e6_1d93765276ca, "OfficeHome");
pub(crate) const OWA: App = app(
    0x9199bf20_a13f_4107_85dc_02114787ef48,
    "Outlook Web App Office 365",
);

// Resources.
pub(crate) const EXCHANGE: App = app(
    0x00000002_0000_0ff1_ce00_000000000000,
    "Office 365 Exchange Online",
);
pub(crate) const SHAREPOINT: App = app(
    0x00000003_0000_0ff1_ce00_000000000000,
    "Office 365 SharePoint Online",
);
pub(crate) const GRAPH: App = app(0x00000003_0000_0000_c000_000000000000, "Microsoft Graph");
pub(crate) const AAD: App = app(
    0x00000002_0000_0000_c000_000000000000,
    "Windows Azure Active Directory",
);

// The tenant's own applications (synthetic ids, used every day so an inventory learns them).
pub(crate) const INTRANET: App = app(0x6f1c2a44_93b0_4d7e_a1f3_2c8e5d9b7a10, "Contoso Intranet");
pub(crate) const REPORTS_SCRIPT: App = app(
    0x2b7d9e31_4c5a_4f60_8e12_9a3b6c7d8e21,
    "Contoso Reports Automation",
);
pub(crate) const BACKUP_APP: App = app(
    0x8a4e6c12_7b3d_4e9f_a5c1_0d2e3f4a5b32,
    "Contoso Mailbox Backup",
);
pub(crate) const HR_SYNC_APP: App = app(0x5c3b1a90_2e4f_4d6a_b7c8_1e9f0a2b3c43, "Contoso HR Sync");
pub(crate) const INVOICE_FUNC: App = app(
    0x1d2c3b4a_5e6f_4a7b_8c9d_0e1f2a3b4c54,
    "func-invoice-processor",
);

/// A network: one autonomous system with an IPv4 /16 and an IPv6 /48 it announces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NetDef {
    pub(crate) name: &'static str,
    pub(crate) asn: u32,
    pub(crate) v4: [u8; 2],
    pub(crate) v6: [u16; 3],
    pub(crate) country: &'static str,
    pub(crate) state: &'static str,
    pub(crate) city: &'static str,
    pub(crate) lat: f64,
    pub(crate) lon: f64,
}

const fn net(
    name: &'static str,
    asn: u32,
    v4: [u8; 2],
    v6: [u16; 3],
    place: (&'static str, &'static str, &'static str, f64, f64),
) -> NetDef {
    NetDef {
        name,
        asn,
        v4,
        v6,
        country: place.0,
        state: place.1,
        city: place.2,
        lat: place.3,
        lon: place.4,
    }
}

const SEATTLE: (&str, &str, &str, f64, f64) = ("US", "Washington", "Seattle", 47.6062, -122.3321);
const CHICAGO: (&str, &str, &str, f64, f64) = ("US", "Illinois", "Chicago", 41.8781, -87.6298);
const BOSTON: (&str, &str, &str, f64, f64) = ("US", "Massachusetts", "Boston", 42.3601, -71.0589);
const LONDON: (&str, &str, &str, f64, f64) = ("GB", "England", "London", 51.5072, -0.1276);
const PARIS: (&str, &str, &str, f64, f64) = ("FR", "Paris", "Paris", 48.8566, 2.3522);
const BERLIN: (&str, &str, &str, f64, f64) = ("DE", "Berlin", "Berlin", 52.52, 13.405);
const AMSTERDAM: (&str, &str, &str, f64, f64) =
    ("NL", "North Holland", "Amsterdam", 52.3676, 4.9041);
const FRANKFURT: (&str, &str, &str, f64, f64) =
    ("DE", "Hesse", "Frankfurt am Main", 50.1109, 8.6821);
const ASHBURN: (&str, &str, &str, f64, f64) = ("US", "Virginia", "Ashburn", 39.0438, -77.4874);
const NEW_YORK: (&str, &str, &str, f64, f64) = ("US", "New York", "New York", 40.7128, -74.006);
const HELSINKI: (&str, &str, &str, f64, f64) = ("FI", "Uusimaa", "Helsinki", 60.1699, 24.9384);

/// Residential ISPs (synthetic prefixes).
pub(crate) const HOME_ISPS: [NetDef; 4] = [
    net(
        "comcast-residential",
        7922,
        [73, 53],
        [0x2601, 0x0601, 0x8a00],
        SEATTLE,
    ),
    net(
        "charter-residential",
        20115,
        [71, 87],
        [0x2600, 0x6c50, 0x0600],
        CHICAGO,
    ),
    net(
        "verizon-fios",
        701,
        [108, 20],
        [0x2600, 0x4040, 0x1a00],
        BOSTON,
    ),
    net(
        "cox-residential",
        22773,
        [68, 105],
        [0x2600, 0x8800, 0x2b00],
        SEATTLE,
    ),
];

/// The tenant's offices (synthetic prefixes).
pub(crate) const OFFICES: [NetDef; 2] = [
    net(
        "office-seattle-lumen",
        3356,
        [4, 14],
        [0x2001, 0x1900, 0x2310],
        SEATTLE,
    ),
    net(
        "office-chicago-zayo",
        6461,
        [64, 125],
        [0x2001, 0x0438, 0x0ff0],
        CHICAGO,
    ),
];

/// Mobile carriers (CGNAT: the address rotates inside the carrier's prefix).
pub(crate) const CARRIERS: [NetDef; 3] = [
    net(
        "tmobile-us",
        21928,
        [172, 58],
        [0x2607, 0xfb90, 0x1c00],
        SEATTLE,
    ),
    net(
        "verizon-wireless",
        6167,
        [174, 203],
        [0x2600, 0x1000, 0xb000],
        CHICAGO,
    ),
    net(
        "att-mobility",
        20057,
        [107, 77],
        [0x2600, 0x0380, 0x5c00],
        BOSTON,
    ),
];

/// Hotel and conference networks for business travel (synthetic prefixes).
pub(crate) const TRAVEL: [NetDef; 4] = [
    net(
        "hotel-london-bt",
        2856,
        [86, 142],
        [0x2a00, 0x23c0, 0x4b00],
        LONDON,
    ),
    net(
        "hotel-paris-orange",
        3215,
        [90, 63],
        [0x2a01, 0xcb00, 0x0c10],
        PARIS,
    ),
    net(
        "hotel-berlin-dtag",
        3320,
        [79, 214],
        [0x2003, 0x00e8, 0x0f00],
        BERLIN,
    ),
    net(
        "hotel-newyork-spectrum",
        12271,
        [66, 108],
        [0x2604, 0x2000, 0x1d00],
        NEW_YORK,
    ),
];

/// The fixed cloud network the delegated automation account runs from (AWS, synthetic /16 that
/// no attacker uses).
pub(crate) const AUTOMATION_CLOUD: NetDef = net(
    "aws-us-east-1-automation",
    16509,
    [52, 71],
    [0x2600, 0x1f18, 0x0a00],
    ASHBURN,
);

/// Where the tenant's confidential web app and service principals run (Azure; synthetic).
pub(crate) const AZURE_APPS: NetDef = net(
    "azure-app-service",
    8075,
    [20, 119],
    [0x2603, 0x1030, 0x0b00],
    ASHBURN,
);

/// Microsoft 365 service-side addresses. Ranges from `m365-endpoints-worldwide.json`
/// (serviceArea Exchange: `40.96.0.0/13`, `2603:1026::/36`; SharePoint: `52.104.0.0/14`,
/// `2603:1063:6000::/35`); AS8075 is Microsoft's.
pub(crate) const MS_EXCHANGE: NetDef = net(
    "microsoft-exchange-online",
    8075,
    [40, 97],
    [0x2603, 0x1026, 0x0c0b],
    ASHBURN,
);
pub(crate) const MS_SHAREPOINT: NetDef = net(
    "microsoft-sharepoint-online",
    8075,
    [52, 105],
    [0x2603, 0x1063, 0x6a00],
    ASHBURN,
);

/// Hosting and VPS networks attackers rent (synthetic prefixes; none overlaps a benign one).
pub(crate) const HOSTING: [NetDef; 4] = [
    net(
        "digitalocean",
        14061,
        [159, 203],
        [0x2604, 0xa880, 0x0400],
        NEW_YORK,
    ),
    net(
        "amazon-aws",
        16509,
        [3, 126],
        [0x2a05, 0xd014, 0x0c00],
        FRANKFURT,
    ),
    net(
        "vultr",
        20473,
        [45, 77],
        [0x2001, 0x19f0, 0x5001],
        AMSTERDAM,
    ),
    net(
        "hetzner",
        24940,
        [95, 217],
        [0x2a01, 0x04f9, 0xc010],
        HELSINKI,
    ),
];

pub(crate) const FIRST_NAMES: [&str; 24] = [
    "adele",
    "alex",
    "allan",
    "bianca",
    "cameron",
    "christie",
    "debra",
    "diego",
    "emily",
    "enrico",
    "grady",
    "henrietta",
    "irvin",
    "isaiah",
    "johanna",
    "joni",
    "lee",
    "lidia",
    "lynne",
    "megan",
    "miriam",
    "nestor",
    "patti",
    "pradeep",
];
pub(crate) const LAST_NAMES: [&str; 20] = [
    "vance",
    "wilber",
    "deyoung",
    "pincus",
    "white",
    "cline",
    "berg",
    "siciliani",
    "braun",
    "gartner",
    "archie",
    "cerrato",
    "sink",
    "langer",
    "lauer",
    "sherman",
    "gu",
    "holt",
    "robbins",
    "bowen",
];

/// The tenant's domain and id.
pub(crate) const DOMAIN: &str = "contoso.example";
pub(crate) const TENANT_ID: Guid = Guid(0x3f8e2c1a_7b6d_4e5f_9a0b_1c2d3e4f5a60);
/// The Log Analytics workspace id (`TenantId` column of Log Analytics rows).
pub(crate) const WORKSPACE_ID: Guid = Guid(0x9d8c7b6a_5f4e_4d3c_8b2a_1f0e9d8c7b70);

pub(crate) const UA_EDGE_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66";
pub(crate) const UA_OFFICE_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; WebView/3.0) Microsoft Outlook 16.0.17328";
pub(crate) const UA_ONEDRIVE: &str =
    "Microsoft SkyDriveSync 24.020.0128.0003 ship; Windows NT 10.0 (19045)";
pub(crate) const UA_TEAMS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0 Teams/24004.1403.2634.2418/49";
pub(crate) const UA_OUTLOOK_IOS: &str = "Outlook-iOS/723.4027091.prod.iphone (4.2408.0)";
pub(crate) const UA_SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15";
pub(crate) const UA_PYTHON: &str = "python-requests/2.31.0";
pub(crate) const UA_MSAL_JAVA: &str = "okhttp/4.12.0";
pub(crate) const UA_AZURE_SDK: &str =
    "azsdk-net-Identity/1.10.4 (.NET 8.0.2; Microsoft Windows 10.0.20348)";
