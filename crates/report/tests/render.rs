//! Snapshots of every renderer over the hand-built findings of `common`.

mod common;

use tokentrail_report::csv::write_csv;
use tokentrail_report::markdown::write_markdown;
use tokentrail_report::ocsf::{write_ocsf_lines, OcsfOptions};
use tokentrail_report::table::{write_table, TableOptions};

fn options() -> OcsfOptions {
    OcsfOptions {
        product_version: "0.1.0".into(),
    }
}

fn render(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    f(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn ocsf_lines() {
    let text = render(|out| write_ocsf_lines(out, &common::all(), &options()).unwrap());
    assert_eq!(text.lines().count(), 6, "one line per finding");
    // Pretty-printed per finding for a readable snapshot; the lines themselves are compact.
    let pretty: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            serde_json::to_string_pretty(&v).unwrap()
        })
        .collect();
    insta::assert_snapshot!("ocsf_pretty", pretty.join("\n---\n"));
    insta::assert_snapshot!("ocsf_lines", text);
}

#[test]
fn ocsf_is_deterministic() {
    let a = render(|out| write_ocsf_lines(out, &common::all(), &options()).unwrap());
    let b = render(|out| write_ocsf_lines(out, &common::all(), &options()).unwrap());
    assert_eq!(a, b);
}

#[test]
fn table_without_suppressed() {
    let text = render(|out| {
        write_table(
            out,
            &common::all(),
            &TableOptions {
                color: false,
                show_suppressed: false,
                investigate: Some("tokentrail investigate 'my exports/'".to_string()),
            },
        )
        .unwrap()
    });
    assert!(!text.contains('\x1b'), "no colour when not asked");
    insta::assert_snapshot!("table", text);
}

#[test]
fn table_with_suppressed_and_colour() {
    let text = render(|out| {
        write_table(
            out,
            &common::all(),
            &TableOptions {
                color: true,
                show_suppressed: true,
                investigate: None,
            },
        )
        .unwrap()
    });
    insta::assert_snapshot!("table_suppressed_colour", text.replace('\x1b', "<ESC>"));
}

#[test]
fn table_of_nothing() {
    let text = render(|out| write_table(out, &[], &TableOptions::default()).unwrap());
    assert_eq!(text, "0 findings; 0 suppressed\n");
}

#[test]
fn csv_rows() {
    let text = render(|out| write_csv(out, &common::all()).unwrap());
    insta::assert_snapshot!("csv", text);
}

#[test]
fn markdown_summary() {
    let text = render(|out| {
        write_markdown(
            out,
            &common::all(),
            true,
            Some("tokentrail investigate 'exports/'"),
        )
        .unwrap()
    });
    insta::assert_snapshot!("markdown", text);
}
