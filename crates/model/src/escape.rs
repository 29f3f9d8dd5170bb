//! Making text from the logs safe for each place tokentrail writes it.
//!
//! Every string a renderer prints came from a log an attacker may write to: inbox rule names,
//! file names, user agents, app display names, request paths, a guest's UPN. Each output has
//! its own way to turn such text into an action (an escape sequence on a terminal, a formula in
//! a spreadsheet, a link in Markdown, a second command in PowerShell), so each has its helper
//! here, and every renderer calls these helpers instead of writing its own. `docs/security.md`
//! says which output uses which.
//!
//! The helpers share one rule for characters that act on whoever displays them: C0 and C1
//! control characters, DEL, the Unicode line and paragraph separators and the bidirectional
//! formatting characters (embeddings, overrides, isolates and marks, which can make
//! `gpj.exe` read as `exe.jpg`) are written as visible escapes, `\x1b`, `\r`, `\u{202e}`. A
//! backslash itself is left alone, so `\x1b` in the output may also be those four characters
//! in the log; the point is that nothing invisible or active reaches the reader.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io;

/// True for the characters that act on a terminal or reorder text: C0 and C1 controls, DEL,
/// line and paragraph separators, and the bidirectional formatting characters (U+061C,
/// U+200E, U+200F, U+202A-U+202E, U+2066-U+2069).
pub fn is_active(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// The visible form of an active character: `\n`, `\r`, `\t`, `\x1b` for the other ASCII
/// controls and DEL, `\u{9b}` for the rest.
fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `text` with every active character (see [`is_active`]) written visibly; borrowed when
/// there is none. For terminal output: tables, Markdown on stdout, notes on stderr.
pub fn terminal(text: &str) -> Cow<'_, str> {
    let Some(first) = text.find(is_active) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if is_active(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Characters that start a formula in a spreadsheet when they open a cell (OWASP "CSV
/// Injection"), with the full-width forms some locales of Excel also read as formulas.
fn starts_formula(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '\t' | '\r' | '\u{ff1d}' | '\u{ff0b}' | '\u{ff0d}' | '\u{ff20}'
    )
}

/// A CSV cell: active characters written visibly ([`terminal`]), and a cell that would start
/// a formula (`=`, `+`, `-`, `@`, tab, carriage return, or their full-width forms) prefixed
/// with `'` so spreadsheets show it as text (the OWASP guard). The CSV writer quotes the cell.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    let shown = terminal(text);
    if !shown.starts_with(starts_formula) {
        return shown;
    }
    let mut out = String::with_capacity(shown.len() + 1);
    out.push('\'');
    out.push_str(&shown);
    Cow::Owned(out)
}

/// Markdown text inside a line (after a label, a list marker or a table pipe): active
/// characters written visibly, so a value never starts a new line (and with it a heading, a
/// list or a code block), and every character that starts inline markup (`\`, `` ` ``, `*`,
/// `_`, `~`, `[`, `]`, `<`, `>`, `|`, `#`, `&`) backslash-escaped, so no link, image, raw
/// HTML (`<script>`), code span, emphasis, entity or table cell can come from a value.
/// Rendered, the text reads as it was logged.
pub fn markdown(text: &str) -> Cow<'_, str> {
    let special = |c: char| {
        is_active(c)
            || matches!(
                c,
                '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '<' | '>' | '|' | '#' | '&'
            )
    };
    if !text.contains(special) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if special(c) {
            // `\x1b` must read as text once rendered: its backslash is escaped too.
            out.push('\\');
        }
        if is_active(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A Markdown code span holding `text` literally: active characters written visibly, the
/// fence one backtick longer than the longest run of backticks inside, padded with a space
/// where the text starts or ends with a backtick or a space. Nothing inside a code span is
/// markup, so this suits ids, file names and commands the reader may copy.
///
/// Inside a table cell use [`markdown_code_cell`]: a table splits cells at `|` even inside code.
pub fn markdown_code(text: &str) -> String {
    let shown = terminal(text);
    let mut longest = 0;
    let mut run = 0;
    for c in shown.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if shown.starts_with(['`', ' ']) || shown.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shown}{pad}{fence}")
}

/// [`markdown_code`] for a table cell: `|` is escaped as `\|`, which GitHub-flavoured tables
/// turn back into `|` inside the code span.
pub fn markdown_code_cell(text: &str) -> String {
    markdown_code(text).replace('|', "\\|")
}

/// HTML element content or a quoted attribute value: active characters written visibly (a
/// browser would otherwise apply a bidi override), then `&`, `<`, `>`, `"` and `'` as
/// character references.
pub fn html(text: &str) -> String {
    let shown = terminal(text);
    let mut out = String::with_capacity(shown.len());
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The characters PowerShell reads as a single quote: `'` and the typographic quotes
/// U+2018-U+201B. Inside a single-quoted string each is escaped by doubling it.
fn powershell_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}')
}

/// `text` as a PowerShell single-quoted (verbatim) string: nothing inside is expanded
/// (`$()`, `$var`, backticks and `;` are plain text) and each quote character is doubled.
///
/// `None` when the text cannot be pasted faithfully: it holds an active character (a newline
/// would end the command line in a console, a bidi override would hide what is pasted) or
/// U+FFFD (the log's text was damaged, so the name would not be the real one). The caller then
/// names the object by reference ("the rule changed at ..., find it with Get-InboxRule").
pub fn powershell_literal(text: &str) -> Option<String> {
    if text.contains(|c: char| is_active(c) || c == '\u{fffd}') {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if powershell_quote(c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Some(out)
}

/// `text` as one word of a POSIX shell command line: as it is when it holds only characters
/// no shell treats specially (letters, digits, `_ - . / : @ % + = ,`), else single-quoted with
/// each `'` written `'\''`. `None`, as for [`powershell_literal`], when it cannot be pasted
/// faithfully (an active character or U+FFFD).
pub fn shell_word(text: &str) -> Option<String> {
    if text.contains(|c: char| is_active(c) || c == '\u{fffd}') {
        return None;
    }
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return Some(text.to_string());
    }
    Some(format!("'{}'", text.replace('\'', "'\\''")))
}

/// Read the PowerShell single-quoted string that starts `text` the way PowerShell's
/// tokenizer does (two quote characters in a row stand for the second; a lone one ends the
/// string): its value and the bytes it spans. `None` when `text` does not start with a quote
/// or the string never ends. This is how tests and fuzzing check [`powershell_literal`].
pub fn read_powershell_literal(text: &str) -> Option<(String, usize)> {
    let mut chars = text.char_indices().peekable();
    let (_, open) = chars.next()?;
    if !powershell_quote(open) {
        return None;
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if powershell_quote(c) {
            match chars.peek() {
                Some(&(_, d)) if powershell_quote(d) => {
                    out.push(d);
                    chars.next();
                }
                _ => return Some((out, i + c.len_utf8())),
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// `text` as one URL path segment: unreserved characters (`A-Z a-z 0-9 - . _ ~`) and `@` as
/// they are, everything else percent-encoded, so a logged id can never add a path, a query or
/// a second request.
pub fn url_path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    // `.` and `..` alone would move up the path.
    if out == "." || out == ".." {
        return out.replace('.', "%2E");
    }
    out
}

/// A YAML double-quoted scalar holding `text` exactly: `"`, `\` and every active character
/// escaped (`\u001b`, `\u202e`), so a value can neither end the scalar nor start a line.
pub fn yaml_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            // YAML 1.1 also reads U+0085, U+2028 and U+2029 as line breaks; the BOM is not
            // printable there.
            c if is_active(c) || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `serde_json` formatter that writes every active character (see [`is_active`]) as a
/// `\uXXXX` escape, where serde_json writes C1 controls and bidi characters raw. The JSON
/// means exactly the same; only its bytes stop acting on a terminal that shows them.
///
/// Wraps the formatter that decides the layout (`CompactFormatter`, `PrettyFormatter`).
#[derive(Clone, Debug, Default)]
pub struct JsonEscaper<F>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for JsonEscaper<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(is_active) {
            let (plain, tail) = rest.split_at(at);
            writer.write_all(plain.as_bytes())?;
            let mut chars = tail.chars();
            let c = chars.next().unwrap_or(' ');
            write!(writer, "\\u{:04x}", c as u32)?;
            rest = chars.as_str();
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Write `value` as one line of JSON with [`JsonEscaper`].
pub fn write_json<W: io::Write, T: serde::Serialize + ?Sized>(
    out: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser =
        serde_json::Serializer::with_formatter(out, JsonEscaper(serde_json::ser::CompactFormatter));
    value.serialize(&mut ser)
}

/// Write `value` as indented JSON with [`JsonEscaper`].
pub fn write_json_pretty<W: io::Write, T: serde::Serialize + ?Sized>(
    out: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(
        out,
        JsonEscaper(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut ser)
}

/// [`write_json`] into a string.
pub fn json_string<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    write_json(&mut out, value)?;
    // The serializer writes UTF-8 only.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// Display adapter: `format!("{}", Shown(name))` writes [`terminal`]`(name)`.
#[derive(Clone, Copy, Debug)]
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&terminal(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shell word reads back as the text, whatever quotes, spaces or `$` it holds.
    #[cfg(unix)]
    #[test]
    fn shell_words_read_back_as_the_text() {
        assert_eq!(
            shell_word("exports/2024-03.json").as_deref(),
            Some("exports/2024-03.json")
        );
        assert_eq!(shell_word("my logs").as_deref(), Some("'my logs'"));
        assert_eq!(shell_word("").as_deref(), Some("''"));
        assert_eq!(shell_word("a\x1b[2J"), None);
        for text in [
            "it's $(rm -rf x) `y` \\ \"z\" *;|&",
            "'",
            "a'b'c",
            "~user",
            "#x",
        ] {
            let word = shell_word(text).unwrap();
            let out = std::process::Command::new("sh")
                .args(["-c", &format!("printf %s {word}")])
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), text, "{word}");
        }
    }

    #[test]
    fn terminal_shows_controls_and_bidi_visibly() {
        assert_eq!(terminal("plain é ✓"), "plain é ✓");
        assert!(matches!(terminal("plain"), Cow::Borrowed(_)));
        assert_eq!(
            terminal("a\x1b]8;;https://evil.example\x1b\\b\rc\nd\te\x7f"),
            "a\\x1b]8;;https://evil.example\\x1b\\b\\rc\\nd\\te\\x7f"
        );
        assert_eq!(terminal("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(
            terminal("invoice\u{202e}fdp.exe"),
            "invoice\\u{202e}fdp.exe"
        );
        for c in [
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{2066}', '\u{2067}', '\u{2068}',
            '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}', '\u{2028}', '\u{2029}', '\u{85}',
        ] {
            let text = format!("x{c}y");
            let shown = terminal(&text);
            assert!(!shown.contains(c), "{c:?} stays raw in {shown}");
        }
    }

    #[test]
    fn csv_cells_that_start_a_formula_become_text() {
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\",\"y\")"),
            "'=HYPERLINK(\"http://x\",\"y\")"
        );
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\u{ff1d}1+1"), "'\u{ff1d}1+1");
        // Tab and carriage return are shown as text, which no spreadsheet reads as a formula.
        assert_eq!(csv_cell("\t=1"), "\\t=1");
        assert_eq!(csv_cell("\r=1"), "\\r=1");
        assert_eq!(csv_cell("a=1"), "a=1");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn markdown_text_cannot_open_markup_or_lines() {
        assert_eq!(
            markdown("x\n# Pwned\n<script>alert(1)</script>"),
            "x\\\\n\\# Pwned\\\\n\\<script\\>alert(1)\\</script\\>"
        );
        assert_eq!(
            markdown("[click](javascript:alert(1))"),
            "\\[click\\](javascript:alert(1))"
        );
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(markdown("198.51.100.10"), "198.51.100.10");
        assert_eq!(
            markdown("first_last@contoso.example"),
            "first\\_last@contoso.example"
        );
        assert_eq!(markdown("plain text 1.5"), "plain text 1.5");
    }

    #[test]
    fn markdown_code_spans_hold_any_text() {
        assert_eq!(markdown_code("abc"), "`abc`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x``"), "``` `x`` ```");
        assert_eq!(markdown_code("a\nb"), "`a\\nb`");
        assert_eq!(markdown_code_cell("a|b"), "`a\\|b`");
    }

    #[test]
    fn powershell_literals_stay_one_argument() {
        let name = "x' ; Remove-Mailbox -Identity ceo@contoso.example -Confirm:$false ; '";
        assert_eq!(
            powershell_literal(name).unwrap(),
            "'x'' ; Remove-Mailbox -Identity ceo@contoso.example -Confirm:$false ; '''"
        );
        assert_eq!(
            powershell_literal("$(Get-Date) `n").unwrap(),
            "'$(Get-Date) `n'"
        );
        assert_eq!(
            powershell_literal("a\u{2019}b").unwrap(),
            "'a\u{2019}\u{2019}b'"
        );
        assert_eq!(powershell_literal("line\nbreak"), None);
        assert_eq!(powershell_literal("bidi\u{202e}"), None);
        assert_eq!(powershell_literal("damaged\u{fffd}"), None);
    }

    #[test]
    fn url_segments_and_yaml_scalars() {
        assert_eq!(
            url_path_segment("11111111-1111-4111-8111-111111111111"),
            "11111111-1111-4111-8111-111111111111"
        );
        assert_eq!(url_path_segment("a/../b?c#d e"), "a%2F..%2Fb%3Fc%23d%20e");
        assert_eq!(url_path_segment(".."), "%2E%2E");
        assert_eq!(
            yaml_quoted("a\"b\\c\nd\u{2028}\u{202e}"),
            "\"a\\\"b\\\\c\\u000ad\\u2028\\u202e\""
        );
    }

    #[test]
    fn json_escaper_keeps_meaning_and_drops_raw_bytes() {
        let text = "ua \u{1b}[31m \u{9b} \u{202e} é";
        let out = json_string(&serde_json::json!({ "ua": text })).unwrap();
        assert_eq!(out, r#"{"ua":"ua \u001b[31m \u009b \u202e é"}"#);
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["ua"], text);
    }

    #[test]
    fn html_escapes_markup_and_bidi() {
        assert_eq!(
            html("<b>\"x\" & 'y'\u{202e}</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;\\u{202e}&lt;/b&gt;"
        );
    }

    /// The inline events of `text` rendered as a Markdown paragraph (or table cell).
    fn markdown_events(text: &str) -> Vec<pulldown_cmark::Event<'_>> {
        pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::ENABLE_TABLES)
            .filter(|e| {
                !matches!(
                    e,
                    pulldown_cmark::Event::Start(pulldown_cmark::Tag::Paragraph)
                        | pulldown_cmark::Event::End(pulldown_cmark::TagEnd::Paragraph)
                )
            })
            .collect()
    }

    fn any_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        // Markup characters, controls, bidi and quotes come up often; any char sometimes.
        let picked = prop::sample::select(vec![
            'a', 'Z', '0', '1', ' ', '.', ')', '\\', '`', '*', '_', '~', '[', ']', '(', '<', '>',
            '|', '#', '&', '!', '+', '-', '=', '@', ':', '/', '\'', '"', '$', '\n', '\r', '\t',
            '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{2028}', '\u{2019}',
            '\u{201b}', '\u{fffd}', '\u{ff1d}', 'é',
        ]);
        prop::collection::vec(prop_oneof![4 => picked, 1 => any::<char>()], 0..24)
            .prop_map(|v| v.into_iter().collect())
    }

    proptest::proptest! {
        #[test]
        fn nothing_active_survives_any_helper(text in any_text()) {
            let none_active = |s: &str| !s.contains(is_active);
            proptest::prop_assert!(none_active(&terminal(&text)));
            proptest::prop_assert!(none_active(&csv_cell(&text)));
            proptest::prop_assert!(none_active(&markdown(&text)));
            proptest::prop_assert!(none_active(&markdown_code(&text)));
            proptest::prop_assert!(none_active(&html(&text)));
            proptest::prop_assert!(none_active(&yaml_quoted(&text)));
            proptest::prop_assert!(none_active(&json_string(&text).unwrap()));
        }

        #[test]
        fn csv_cells_never_start_a_formula(text in any_text()) {
            let cell = csv_cell(&text);
            proptest::prop_assert!(!cell.starts_with(starts_formula), "{cell:?}");
        }

        #[test]
        fn markdown_text_renders_as_that_text_and_nothing_else(text in any_text()) {
            // Inside a line, as every renderer places values.
            let escaped = format!("value: {}", markdown(&text));
            let mut rendered = String::new();
            for event in markdown_events(&escaped) {
                match event {
                    pulldown_cmark::Event::Text(t) => rendered.push_str(&t),
                    other => proptest::prop_assert!(
                        false, "{other:?} from {escaped:?} ({text:?})"
                    ),
                }
            }
            // A paragraph drops its leading and trailing blanks.
            let shown = format!("value: {}", terminal(&text));
            proptest::prop_assert_eq!(rendered.trim_end(), shown.trim_end());
        }

        #[test]
        fn markdown_code_renders_as_one_code_span(text in any_text()) {
            let span = markdown_code(&text);
            let events = markdown_events(&span);
            let shown = terminal(&text);
            if shown.trim().is_empty() {
                return Ok(());
            }
            proptest::prop_assert_eq!(events.len(), 1, "{:?} from {:?}", events, span);
            match &events[0] {
                pulldown_cmark::Event::Code(code) => {
                    // CommonMark strips the one padding space from each side.
                    proptest::prop_assert_eq!(code.as_ref(), shown.as_ref());
                }
                other => proptest::prop_assert!(false, "{other:?} from {span:?}"),
            }
        }

        #[test]
        fn powershell_literals_read_back_whole(text in any_text()) {
            if let Some(literal) = powershell_literal(&text) {
                let (read, used) = read_powershell_literal(&literal).expect("a closed string");
                proptest::prop_assert_eq!(read, text);
                proptest::prop_assert_eq!(used, literal.len(), "the string ends at its end");
            } else {
                let refused = |c: char| is_active(c) || c == char::REPLACEMENT_CHARACTER;
                proptest::prop_assert!(text.contains(refused));
            }
        }

        #[test]
        fn yaml_scalars_read_back_exactly(text in any_text()) {
            // The escapes used are common to YAML double-quoted scalars and JSON strings.
            let back: String = serde_json::from_str(&yaml_quoted(&text)).unwrap();
            proptest::prop_assert_eq!(back, text);
        }

        #[test]
        fn url_segments_hold_no_delimiter(text in any_text()) {
            let segment = url_path_segment(&text);
            proptest::prop_assert!(!segment.contains(['/', '?', '#', ' ', '%']) || segment.contains('%'));
            proptest::prop_assert!(segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~@%".contains(&b)));
            proptest::prop_assert!(segment != "." && segment != "..");
        }
    }
}
