//! The optional MaxMind-format ASN database (`--asn-db`, e.g. GeoLite2-ASN): a second source of
//! autonomous system numbers for addresses no sign-in row names.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::geoip2;

/// Why an ASN database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum AsnDbError {
    /// The file could not be read or is not a MaxMind database.
    #[error("cannot open ASN database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        source: maxminddb::MaxMindDBError,
    },
    /// Bytes given directly are not a MaxMind database.
    #[error("not a MaxMind database: {0}")]
    Invalid(maxminddb::MaxMindDBError),
}

/// A MaxMind-format database that maps addresses to `autonomous_system_number`.
pub struct AsnDb {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for AsnDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsnDb")
            .field("database_type", &self.reader.metadata.database_type)
            .finish()
    }
}

impl AsnDb {
    /// Open a `.mmdb` file.
    pub fn open(path: impl AsRef<Path>) -> Result<AsnDb, AsnDbError> {
        let path = path.as_ref();
        maxminddb::Reader::open_readfile(path)
            .map(|reader| AsnDb { reader })
            .map_err(|source| AsnDbError::Open {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Use a database already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<AsnDb, AsnDbError> {
        maxminddb::Reader::from_source(bytes)
            .map(|reader| AsnDb { reader })
            .map_err(AsnDbError::Invalid)
    }

    /// The ASN of `ip`, when the database has a record for it that carries one. An IPv6
    /// address in an IPv4-only database, or an address the database lacks, gives `None`.
    pub fn lookup(&self, ip: IpAddr) -> Option<u32> {
        self.reader
            .lookup::<geoip2::Asn>(ip)
            .ok()
            .and_then(|r| r.autonomous_system_number)
    }
}
