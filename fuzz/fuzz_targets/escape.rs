//! The escaping helpers every renderer calls, on any text: nothing active survives any of
//! them, a CSV cell never starts a formula, Markdown text renders as the text and nothing else,
//! and a PowerShell literal reads back as one whole string.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tokentrail_model::escape;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let inert = |s: &str| !s.contains(escape::is_active);
    assert!(inert(&escape::terminal(text)));
    assert!(inert(&escape::markdown(text)));
    assert!(inert(&escape::markdown_code(text)));
    assert!(inert(&escape::html(text)));
    assert!(inert(&escape::yaml_quoted(text)));
    let cell = escape::csv_cell(text);
    assert!(inert(&cell));
    assert!(!cell.starts_with([
        '=', '+', '-', '@', '\t', '\r', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}'
    ]));

    // Markdown text inside a line renders as exactly that text.
    let md = format!("value: {}", escape::markdown(text));
    let mut rendered = String::new();
    for event in pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES) {
        match event {
            pulldown_cmark::Event::Text(t) => rendered.push_str(&t),
            pulldown_cmark::Event::Start(pulldown_cmark::Tag::Paragraph)
            | pulldown_cmark::Event::End(pulldown_cmark::TagEnd::Paragraph) => {}
            other => panic!("{other:?} from {md:?}"),
        }
    }
    assert_eq!(
        rendered.trim_end(),
        format!("value: {}", escape::terminal(text)).trim_end()
    );

    // A PowerShell literal is one string that reads back as the text.
    if let Some(literal) = escape::powershell_literal(text) {
        let (read, used) = escape::read_powershell_literal(&literal).expect("a closed string");
        assert_eq!(read, text);
        assert_eq!(used, literal.len(), "{literal:?} goes on after its end");
    }
});
