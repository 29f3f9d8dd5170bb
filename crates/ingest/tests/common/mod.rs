//! Helpers shared by the ingest integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use tokentrail_ingest::frame::{self, Container, FrameOptions, Framed};
use tokentrail_ingest::source::{self, Meter, Opened};
use tokentrail_ingest::Payload;
use tokentrail_model::Position;

/// One framed item: record text (CSV fields joined by `|`) or the unreadable reason.
pub type Item = (Position, Result<String, String>);

/// What framing one stream gave.
#[derive(Debug)]
pub struct Framed1 {
    pub name: String,
    pub container: Container,
    pub items: Vec<Item>,
    pub error: Option<String>,
}

fn collect(item: Framed<'_>, items: &mut Vec<Item>) {
    match item {
        Framed::Record { position, payload } => {
            let text = match payload {
                Payload::Json(b) => String::from_utf8_lossy(b).into_owned(),
                Payload::Csv { row, .. } => row
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect::<Vec<_>>()
                    .join("|"),
            };
            items.push((position, Ok(text)));
        }
        Framed::Unreadable { position, reason } => items.push((position, Err(reason))),
    }
}

/// Frame in-memory bytes.
pub fn frame_bytes(bytes: &[u8], opts: &FrameOptions) -> Framed1 {
    let mut items = Vec::new();
    let mut reader = bytes;
    let framing = frame::frame(&mut reader, opts, &mut |item| collect(item, &mut items));
    Framed1 {
        name: String::new(),
        container: framing.container,
        items,
        error: framing.error.map(|e| e.to_string()),
    }
}

/// Frame in-memory bytes with default options.
pub fn frame_default(bytes: &[u8]) -> Framed1 {
    frame_bytes(bytes, &FrameOptions::default())
}

/// Locate, open and frame paths (without decoding): one entry per stream or failed input.
pub fn frame_paths(paths: &[&Path], opts: &FrameOptions) -> Vec<Framed1> {
    let meter = Meter::new(None, None);
    let mut out = Vec::new();
    for located in source::locate(paths) {
        source::open(
            located,
            &meter,
            Default::default(),
            &mut |opened| match opened {
                Opened::Input(input) => {
                    let mut items = Vec::new();
                    let framing =
                        frame::frame(input.reader, opts, &mut |item| collect(item, &mut items));
                    out.push(Framed1 {
                        name: input.name.to_string(),
                        container: framing.container,
                        items,
                        error: framing.error.map(|e| e.to_string()),
                    });
                }
                Opened::Failed { name, error } => out.push(Framed1 {
                    name: name.to_string(),
                    container: Container::Unrecognized,
                    items: Vec::new(),
                    error: Some(error.to_string()),
                }),
            },
        );
    }
    out
}

/// `Ok(text)` items.
pub fn ok(position: Position, text: &str) -> Item {
    (position, Ok(text.to_string()))
}

/// Write a file under `dir`, creating parent directories.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

/// gzip-compress bytes (one member).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A zip archive of `(name, bytes)` members, deflated.
pub fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The public fixtures folder, or `None` (with a message) when it is absent outside CI.
pub fn public_fixtures() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/public");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("../shared/fixtures/public not found (required when CI=true)");
    }
    eprintln!("skipped: ../shared not found");
    None
}
