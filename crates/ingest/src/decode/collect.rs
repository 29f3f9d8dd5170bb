//! The field collector: one pass over a JSON object that keeps only the fields some decoder
//! needs, matched case-insensitively, and skips everything else without building it.
//!
//! Exports spell the same field `userId`, `UserId` or `userid`, and the raw claims `C_Sid`,
//! `c_Sid` or `C_SID`; every key is lower-cased into a stack buffer and matched against byte
//! literals (rustc turns that match into a switch on length and bytes). Values are kept borrowed
//! from the input when they carry no escapes, else from their unescaped copy kept for as long as
//! the input ([`Val`], [`Texts`]). Nested containers (`properties`,
//! `AuditData`, `DeviceDetail`, `AppAccessContext`, ...) are collected by the same machinery,
//! whether they arrive as objects or as JSON text inside a string. Every slot is lenient: a value
//! of an unexpected type is skipped, never an error, so only malformed JSON fails a record.
//!
//! The JSON itself is read by the lazy [`Scanner`]: values nobody asked for are crossed, not
//! parsed.
//!
//! Slots are raw: `userid` holds a sign-in's object id or a UAL record's UPN alike. The
//! per-shape normalizers interpret them.

use std::borrow::Cow;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::keys::{buckets, KeyOrder, KeyTable, Link, NO_KEY};
pub(crate) use super::scan::{LowerKey, Texts};
use super::scan::{Number, Scalar, ScanError, Scanner};
pub(crate) use tokentrail_model::text::trim;

/// Scalar slots that are only ever displayed (names, user agents), never matched, joined or
/// used to decide anything: one of them may keep text whose escape was not text (a lone
/// surrogate, replaced with U+FFFD), counted as a repair. In any other slot, such text makes
/// the record unreadable: an id with U+FFFD in it would be another id.
const DISPLAY_ONLY: [&str; 12] = [
    "user_agent",
    "client_info",
    "app_name",
    "client_app_name",
    "application_name",
    "resource_name",
    "sp_name",
    "display_name",
    "os",
    "browser",
    "source_file_name",
    "site_url",
];

/// 1 when the value just read into the slot `name` had its text repaired and the slot is
/// only displayed, 0 when nothing was repaired; an error when a slot that is not only
/// displayed would hold repaired text.
fn repaired(s: &mut Scanner<'_>, name: &str) -> Result<u32, ScanError> {
    if !s.take_repaired() {
        return Ok(0);
    }
    if DISPLAY_ONLY.contains(&name) {
        Ok(1)
    } else {
        Err(s.error(
            "invalid string escape (a lone surrogate) in a field that is not only displayed",
        ))
    }
}

/// Deepest nesting of slot structs (`properties` in `properties` ...). Real exports nest two
/// levels; the limit keeps hostile input from exhausting the stack.
const MAX_DEPTH: u32 = 4;

/// One scalar value as logged: text (borrowed from the input, or from its unescaped copy), a
/// number or a boolean. Objects and arrays in a scalar slot become [`Val::Other`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Val<'a> {
    /// A JSON string.
    Str(&'a str),
    /// A JSON integer.
    Int(i64),
    /// A JSON number with a fraction or beyond `i64`.
    Float(f64),
    /// A JSON boolean.
    Bool(bool),
    /// `null`, an object or an array.
    Other,
}

impl<'a> Val<'a> {
    /// The text, trimmed; `None` for empty text and non-strings.
    #[inline]
    pub(crate) fn str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(trim(s)).filter(|t| !t.is_empty()),
            _ => None,
        }
    }

    /// [`Val::str`] of a field that names someone or something (a user, an app, a device, a
    /// record): `None` for anonymization placeholders too ([`is_placeholder`]), which name
    /// nobody and would tie unrelated records together.
    #[inline]
    pub(crate) fn id(&self) -> Option<&str> {
        self.str().filter(|t| !is_placeholder(t))
    }

    /// Text for strings and numbers (a `RecordType` logged as `50` or `"50"`).
    pub(crate) fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Str(_) => self.str().map(Cow::Borrowed),
            Val::Int(i) => Some(Cow::Owned(i.to_string())),
            Val::Float(f) => Some(Cow::Owned(f.to_string())),
            Val::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Val::Other => None,
        }
    }

    /// An integer logged as a number or as decimal text.
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Val::Str(_) => self.str()?.parse().ok(),
            _ => None,
        }
    }

    /// A boolean logged as `true`, `"True"`, `"Yes"`, `1` or `"1"`.
    pub(crate) fn bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            Val::Int(0) => Some(false),
            Val::Int(1) => Some(true),
            Val::Str(_) => {
                let t = self.str()?;
                // The Entra admin center's CSV writes `Yes` and `No` where JSON has booleans.
                if t.eq_ignore_ascii_case("true") || t == "1" || t.eq_ignore_ascii_case("yes") {
                    Some(true)
                } else if t.eq_ignore_ascii_case("false")
                    || t == "0"
                    || t.eq_ignore_ascii_case("no")
                {
                    Some(false)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// The all-zero GUID anonymized exports write for every id.
const ZERO_GUID: &[u8; 36] = b"00000000-0000-0000-0000-000000000000";

/// Text that anonymized or redacted exports write where a value was: never a user, a device
/// or an id shared between records. Seen in public samples: `{PII Removed}`, `Not Available`
/// and `<null>` (UAL `ObjectId`, `ClientIP`), `ANONYMIZED` and `ANONYMIZED_VALUE` (SEKOIA's
/// anonymized Graph and UAL records), the all-zero GUID (Graph `id`, `appId`,
/// `correlationId`), `N/A` and `null` as text.
///
/// Decided by the length first, inline: most values have a length no placeholder has, and
/// a GUID is settled by its first digit unless it starts with a zero.
#[inline]
pub(crate) fn is_placeholder(text: &str) -> bool {
    const LENGTHS: u64 = 1 << 3 | 1 << 4 | 1 << 6 | 1 << 10 | 1 << 13 | 1 << 16;
    let b = text.as_bytes();
    match b.len() {
        36 => b.first() == Some(&b'0') && b == ZERO_GUID,
        n if n < 64 && LENGTHS >> n & 1 != 0 => is_placeholder_word(b),
        _ => false,
    }
}

/// The placeholders that are words (see [`is_placeholder`]).
#[inline(never)]
fn is_placeholder_word(b: &[u8]) -> bool {
    match b.len() {
        3 => b.eq_ignore_ascii_case(b"n/a"),
        4 => b.eq_ignore_ascii_case(b"null"),
        6 => b.eq_ignore_ascii_case(b"<null>"),
        10 => b.eq_ignore_ascii_case(b"anonymized"),
        13 => b.eq_ignore_ascii_case(b"not available") || b.eq_ignore_ascii_case(b"{pii removed}"),
        16 => b.eq_ignore_ascii_case(b"anonymized_value"),
        _ => false,
    }
}

/// True for the name of a .NET type where a nested object or a list was: what Windows
/// PowerShell writes for a value it did not serialize, `ConvertTo-Json` beyond its `-Depth`
/// (2 unless told) and `Export-Csv` always. Seen for Microsoft Graph PowerShell SDK objects:
/// `Microsoft.Graph.PowerShell.Models.MicrosoftGraphSignInStatus`, the beta module's
/// `Microsoft.Graph.Beta.PowerShell.Models.MicrosoftGraphDeviceDetail` (model classes of
/// microsoftgraph/msgraph-sdk-powershell), `System.Collections.Hashtable` and
/// ``System.Collections.Generic.Dictionary`2[System.String,System.Object]`` (their
/// `AdditionalProperties`), `System.String[]`, `System.Object[]`. Such a value tells
/// nothing: not a status, not a place, not an address. Only these two namespaces count, and
/// only as one word without blanks: an app may well be named `Microsoft.Azure.SyncFabric`.
pub(crate) fn is_type_name(text: &str) -> bool {
    let t = trim(text);
    // The prefixes first: most texts fail on their first byte, and nested JSON written as
    // text (a Log Analytics or CSV column) is long.
    let named = match t.strip_prefix("System.") {
        Some(rest) => {
            rest.starts_with("Collections.")
                || rest.starts_with("Management.Automation.")
                || rest.ends_with("[]")
        }
        None => t
            .strip_prefix("Microsoft.Graph.")
            .is_some_and(|rest| rest.contains("PowerShell.Models.")),
    };
    named && !t.bytes().any(|b| b.is_ascii_whitespace())
}

/// How deep flattened objects are read inside one another (`@{location=@{city=...}}`).
const FLATTENED_DEPTH: u32 = 8;

/// An object PowerShell flattened to text, as `Export-Csv` writes a nested object that came
/// from `ConvertFrom-Json` or `Invoke-MgGraphRequest` (`@{errorCode=50126; failureReason=Invalid
/// username or password.; additionalDetails=}`), as the JSON object it stands for: each value
/// text, an empty one absent, a flattened value an object in turn. A part without `=` belongs
/// to the value before it (a `;` inside a value). `None` when `text` is not such an object, or
/// nests deeper than [`FLATTENED_DEPTH`].
pub(crate) fn flattened_object_json(text: &str) -> Option<String> {
    fn object(text: &str, depth: u32, out: &mut String) -> Option<()> {
        let body = text.trim().strip_prefix("@{")?.strip_suffix('}')?;
        if depth > FLATTENED_DEPTH {
            return None;
        }
        // Members split at the `;` outside nested `@{...}`, a part without `=` joined to the
        // member before it.
        let mut members: Vec<(&str, usize, usize)> = Vec::new();
        let (mut nesting, mut start) = (0usize, 0usize);
        let bytes = body.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'{' if i > 0 && bytes[i - 1] == b'@' => nesting += 1,
                b'}' => nesting = nesting.saturating_sub(1),
                b';' if nesting == 0 => {
                    push_member(body, start, i, &mut members)?;
                    start = i + 1;
                }
                _ => {}
            }
        }
        push_member(body, start, body.len(), &mut members)?;
        out.push('{');
        let mut first = true;
        for (key, from, to) in members {
            let value = body.get(from..to)?.trim();
            if value.is_empty() {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&serde_json::to_string(key.trim()).ok()?);
            out.push(':');
            if value.starts_with("@{") && value.ends_with('}') {
                object(value, depth + 1, out)?;
            } else {
                out.push_str(&serde_json::to_string(value).ok()?);
            }
        }
        out.push('}');
        Some(())
    }
    /// The member `body[from..to]`: its key and the byte range of its value.
    fn push_member<'b>(
        body: &'b str,
        from: usize,
        to: usize,
        members: &mut Vec<(&'b str, usize, usize)>,
    ) -> Option<()> {
        let part = body.get(from..to)?;
        match part.split_once('=') {
            Some((key, _)) if !key.trim().is_empty() && !key.contains("@{") => {
                members.push((key, from + key.len() + 1, to));
            }
            _ => match members.last_mut() {
                Some(last) => last.2 = to,
                None if part.trim().is_empty() => {}
                None => return None,
            },
        }
        Some(())
    }
    let mut out = String::new();
    object(text, 0, &mut out)?;
    Some(out)
}

impl<'a> Val<'a> {
    /// The next value as a scalar slot; containers are skipped and become [`Val::Other`].
    #[inline]
    fn scan(s: &mut Scanner<'a>) -> Result<Val<'a>, ScanError> {
        Ok(match s.scalar()? {
            Scalar::Str(t) => Val::Str(t),
            Scalar::Number(Number::Unsigned(u)) => {
                i64::try_from(u).map_or(Val::Float(u as f64), Val::Int)
            }
            Scalar::Number(Number::Signed(i)) => Val::Int(i),
            Scalar::Number(Number::Float(f)) => Val::Float(f),
            Scalar::Bool(b) => Val::Bool(b),
            Scalar::Other => Val::Other,
        })
    }
}

/// A nested object logged as JSON text, as read once: the unescaped text, shared with every
/// record that logs the same, and its slots with each text replaced by its place in it.
///
/// A Log Analytics sign-in logs `DeviceDetail`, `Status`, `LocationDetails` and
/// `TokenProtectionStatusDetails` as escaped JSON text, and the same few texts over and over
/// (one per device, city or status): unescaping and reading each again cost a fifth of reading
/// such a row. Slots depend on nothing but the text, so a text seen before is not read again.
struct Seen<T> {
    /// The escaped text, quotes included, as logged.
    quoted: Box<str>,
    text: Rc<str>,
    slots: T,
    /// Where each text of `slots` is in `text`, in [`Val::to_place`] order.
    places: Box<[(usize, usize)]>,
}

/// Most texts remembered per kind of nested object and thread before the memory starts over.
const MAX_SEEN: usize = 1024;

/// Bytes of a record, from a string's opening quote, that pick the texts seen before it may
/// start with ([`SeenTexts::at`]).
const START: usize = 48;

/// The texts of one kind of nested object read before on one thread ([`Seen`]).
struct SeenTexts<T> {
    /// By the escaped text.
    by_text: FxHashMap<Box<str>, Rc<Seen<T>>>,
    /// By the first [`START`] bytes from its opening quote (and past its end, for a short one)
    /// where it was first read.
    by_start: FxHashMap<[u8; START], Vec<Rc<Seen<T>>>>,
}

impl<T> Default for SeenTexts<T> {
    fn default() -> Self {
        SeenTexts {
            by_text: FxHashMap::default(),
            by_start: FxHashMap::default(),
        }
    }
}

impl<T> SeenTexts<T> {
    /// The text seen before that `input` (from a string's opening quote) starts with: a string
    /// whose bytes up to its closing quote are those of one read before is that string, so
    /// it is found without crossing it first.
    fn at(&self, input: &[u8]) -> Option<Rc<Seen<T>>> {
        let start: &[u8; START] = input.get(..START)?.try_into().ok()?;
        self.by_start
            .get(start)?
            .iter()
            .find(|seen| input.starts_with(seen.quoted.as_bytes()))
            .cloned()
    }

    /// The text seen before that was logged as `quoted`.
    fn get(&self, quoted: &str) -> Option<Rc<Seen<T>>> {
        self.by_text.get(quoted).cloned()
    }

    /// Remember `seen`, read from `input` (from its opening quote).
    fn insert(&mut self, seen: Rc<Seen<T>>, input: &[u8]) {
        if self.by_text.len() >= MAX_SEEN {
            self.by_text.clear();
            self.by_start.clear();
        }
        if let Some(start) = input
            .get(..START)
            .and_then(|s| <[u8; START]>::try_from(s).ok())
        {
            self.by_start
                .entry(start)
                .or_default()
                .push(Rc::clone(&seen));
        }
        self.by_text.insert(seen.quoted.clone(), seen);
    }
}

/// A text's place in `within`, which it must be part of, remembered in `places`; `None` for a
/// text read from elsewhere (unescaped on its own), which makes the slots unshareable.
fn to_place(text: &str, within: &str, places: &mut Vec<(usize, usize)>) -> Option<&'static str> {
    let start = (text.as_ptr() as usize).checked_sub(within.as_ptr() as usize)?;
    if start + text.len() > within.len() {
        return None;
    }
    places.push((start, text.len()));
    Some("")
}

/// The text at the next place of `places` in `within`.
fn text_at<'a>(within: &'a str, places: &mut std::slice::Iter<'_, (usize, usize)>) -> &'a str {
    places
        .next()
        .and_then(|&(start, len)| within.get(start..start + len))
        .unwrap_or_default()
}

impl Val<'_> {
    /// The value with its text replaced by its place in `within` ([`Seen`]).
    fn to_place(self, within: &str, places: &mut Vec<(usize, usize)>) -> Option<Val<'static>> {
        Some(match self {
            Val::Str(t) => Val::Str(to_place(t, within, places)?),
            Val::Int(i) => Val::Int(i),
            Val::Float(f) => Val::Float(f),
            Val::Bool(b) => Val::Bool(b),
            Val::Other => Val::Other,
        })
    }

    /// The value [`Val::to_place`] made, its text taken from `within` again.
    fn restore<'a>(
        self,
        within: &'a str,
        places: &mut std::slice::Iter<'_, (usize, usize)>,
    ) -> Val<'a> {
        match self {
            Val::Str(_) => Val::Str(text_at(within, places)),
            Val::Int(i) => Val::Int(i),
            Val::Float(f) => Val::Float(f),
            Val::Bool(b) => Val::Bool(b),
            Val::Other => Val::Other,
        }
    }
}

/// A `[{Name, Value}]` list (`OperationProperties`, `ExtendedProperties`, `DeviceProperties`,
/// `Actor` as `[{ID, Type}]`, `signInEventTypes` as bare strings). Also read from JSON text and
/// from PowerShell's flattening `"@{Value=Bind; Name=MailAccessType}"`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Pairs<'a>(pub(crate) Vec<(&'a str, Val<'a>)>);

impl<'a> Pairs<'a> {
    /// The value of the first entry named `name` (case-insensitive).
    pub(crate) fn get(&self, name: &str) -> Option<&Val<'a>> {
        self.0
            .iter()
            .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// True for a list that is only a .NET type name ([`is_type_name`]): PowerShell wrote
    /// the name of a collection it did not serialize (`System.String[]`).
    fn is_type_name(&self) -> bool {
        matches!(self.0.as_slice(), [(name, Val::Other)] if is_type_name(name))
    }

    /// The names, in order (the entries of a list of bare strings).
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.trim())
    }

    /// Read from text: JSON (`[...]`), PowerShell flattening, or a comma-separated list;
    /// what JSON text unescapes is kept in `texts`.
    pub(crate) fn from_text(text: &'a str, texts: &'a Texts) -> Pairs<'a> {
        let t = text.trim();
        if t == "[]" {
            // Most lists logged as text are empty (`"SessionLifetimePolicies": "[]"`).
            return Pairs::default();
        }
        if t.starts_with('[') {
            let mut s = Scanner::new(t, texts);
            return Pairs::scan(&mut s)
                .and_then(|p| s.finish().map(|()| p))
                .unwrap_or_default();
        }
        let mut out = Pairs::default();
        out.push_text(t);
        out
    }

    /// Read the next value: a list of name/value objects or bare strings, or text as in
    /// [`Pairs::from_text`]; anything else is skipped and yields an empty list.
    fn scan(s: &mut Scanner<'a>) -> Result<Pairs<'a>, ScanError> {
        match s.peek()? {
            b'[' => {
                s.bump();
                let mut out = Pairs::default();
                let mut elements = s.elements();
                while elements.next(s)? {
                    match scan_pair(s)? {
                        Some((n, Val::Other)) if n.trim_start().starts_with("@{") => {
                            out.push_text(n)
                        }
                        Some(pair) => out.0.push(pair),
                        None => {}
                    }
                }
                Ok(out)
            }
            b'"' => Ok(match s.string_or_skip()? {
                Some(t) => Pairs::from_text(t, s.texts()),
                None => Pairs::default(),
            }),
            _ => s.skip_value().map(|()| Pairs::default()),
        }
    }

    fn push_text(&mut self, text: &'a str) {
        if let Some(body) = text
            .trim()
            .strip_prefix("@{")
            .and_then(|r| r.strip_suffix('}'))
        {
            let mut name = None;
            let mut value = None;
            for part in body.split(';') {
                if let Some((k, v)) = part.split_once('=') {
                    let k = k.trim();
                    if k.eq_ignore_ascii_case("name") {
                        name = Some(v.trim());
                    } else if k.eq_ignore_ascii_case("value") {
                        value = Some(v.trim());
                    }
                }
            }
            if let Some(n) = name {
                self.0.push((n, value.map_or(Val::Other, Val::Str)));
            }
            return;
        }
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            self.0.push((part, Val::Other));
        }
    }
}

/// One element of a name/value list: an object's `Name`/`Key`/`ID` (a session lifetime
/// policy's `expirationRequirement`) and `Value`/`Type`, or a bare string as a name; anything
/// else is skipped and yields nothing.
fn scan_pair<'a>(s: &mut Scanner<'a>) -> Result<Option<(&'a str, Val<'a>)>, ScanError> {
    match s.peek()? {
        b'{' => {
            s.bump();
            let mut name = None;
            let mut value = Val::Other;
            let mut entries = s.entries();
            while let Some(k) = entries.next_key(s)? {
                match k.lower().as_bytes() {
                    b"name" | b"key" | b"id" | b"expirationrequirement" => match Val::scan(s)? {
                        Val::Str(t) => name = Some(t),
                        v => name = v.text().map(|t| s.keep(t.into_owned())),
                    },
                    b"value" | b"type" => value = Val::scan(s)?,
                    _ => s.skip_value()?,
                }
            }
            Ok(name.map(|n| (n, value)))
        }
        b'"' => Ok(s.string_or_skip()?.map(|n| (n, Val::Other))),
        _ => s.skip_value().map(|()| None),
    }
}

/// Declares a slot struct: its scalar slots (`vals`), nested slot structs held in place
/// (`objs`: small, and common enough that a box each cost an allocation and a free per
/// record) or boxed (`boxed`: a `Rec` inside a `Rec`, and rare large ones) and
/// name/value lists (`lists`), each with the lower-cased keys it answers to. Generates the
/// lenient reader (from an object, or from JSON text in a string), CSV text setting and
/// owning.
macro_rules! slots {
    (
        $(#[$meta:meta])*
        $name:ident {
            vals { $($vf:ident = $($vk:literal)|+;)* }
            objs { $($of:ident : $oty:ident = $($ok:literal)|+;)* }
            boxed { $($bf:ident : $bty:ident = $($bk:literal)|+;)* }
            lists { $($lf:ident = $($lk:literal)|+;)* }
            $(ext $ety:ident {
                kept_as_json_text { $($rf:ident = $($rk:literal)|+;)* }
                $($xf:ident = $($xk:literal)|+;)*
            })?
        }
    ) => {
        $(
            /// Scalar slots that few records have, kept out of line so that the common
            /// record's slots stay small (they are set up and dropped for every record).
            #[derive(Clone, Debug, Default, PartialEq)]
            pub(crate) struct $ety<'a> {
                $(pub(crate) $xf: Option<Val<'a>>,)*
                /// Values kept as the JSON text they were logged as.
                $(pub(crate) $rf: Option<&'a str>,)*
            }

            impl<'a> $ety<'a> {
                /// None of the slots.
                const EMPTY: $ety<'static> = $ety { $($xf: None,)* $($rf: None,)* };
            }
        )?

        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub(crate) struct $name<'a> {
            $(pub(crate) $vf: Option<Val<'a>>,)*
            $(pub(crate) $of: Option<$oty<'a>>,)*
            $(pub(crate) $bf: Option<Box<$bty<'a>>>,)*
            $(pub(crate) $lf: Option<Pairs<'a>>,)*
            $(
                /// The rarely present slots.
                pub(crate) ext: Option<Box<$ety<'a>>>,
            )?
            /// The value arrived as a string that is not JSON (a `Location` of `"GB"`).
            pub(crate) text: Option<&'a str>,
            /// The value arrived as a string that looks like JSON but does not parse.
            pub(crate) malformed: bool,
            /// Display-only slots whose text was repaired (see [`DISPLAY_ONLY`]).
            pub(crate) repaired: u32,
        }

        impl<'a> $name<'a> {
            /// None of the slots: what an absent envelope or context reads as, without
            /// setting up and dropping kilobytes of empty slots per record.
            #[allow(dead_code)]
            pub(crate) const EMPTY: $name<'static> = $name {
                $($vf: None,)*
                $($of: None,)*
                $($bf: None,)*
                $($lf: None,)*
                $(ext: None::<Box<$ety<'static>>>,)?
                text: None,
                malformed: false,
                repaired: 0,
            };

            /// Display-only slots repaired here and in the nested structs.
            #[allow(dead_code)]
            pub(crate) fn repairs(&self) -> u32 {
                self.repaired
                    $(+ self.$of.as_ref().map_or(0, |o| o.repairs()))*
                    $(+ self.$bf.as_ref().map_or(0, |o| o.repairs()))*
            }

            /// Read a whole JSON text that must be one object, keeping what it unescapes in
            /// `texts`.
            #[allow(dead_code)]
            pub(crate) fn document(text: &'a str, texts: &'a Texts) -> Result<$name<'a>, ScanError> {
                let mut out = $name::default();
                $name::document_into(text, texts, &mut out)?;
                Ok(out)
            }

            /// [`Self::document`], filling `out` (default) where it is (a record's slots
            /// are kilobytes, and moving them cost as much as reading a few fields).
            #[allow(dead_code)]
            pub(crate) fn document_into(
                text: &'a str,
                texts: &'a Texts,
                out: &mut $name<'a>,
            ) -> Result<(), ScanError> {
                let s = &mut Scanner::new(text, texts);
                s.expect(b'{', "expected an object")?;
                $name::scan_entries(s, 0, out)?;
                s.finish()
            }

            /// Take every slot `self` lacks from `from` (whole slots: a nested object
            /// present in `self` is kept as it is).
            #[allow(dead_code)]
            pub(crate) fn fill_absent(&mut self, from: $name<'a>) {
                $(if self.$vf.is_none() { self.$vf = from.$vf; })*
                $(if self.$of.is_none() { self.$of = from.$of; })*
                $(if self.$bf.is_none() { self.$bf = from.$bf; })*
                $(if self.$lf.is_none() { self.$lf = from.$lf; })*
                $(
                    if let Some(from_ext) = from.ext {
                        let ext: &mut $ety<'a> = self.ext.get_or_insert_with(Box::default);
                        $(if ext.$xf.is_none() { ext.$xf = from_ext.$xf; })*
                        $(if ext.$rf.is_none() { ext.$rf = from_ext.$rf; })*
                    }
                )?
                self.repaired += from.repaired;
            }

            /// Read from text: JSON object text, an object PowerShell flattened
            /// ([`flattened_object_json`]), or kept as text.
            #[allow(dead_code)]
            pub(crate) fn from_text(text: &'a str, texts: &'a Texts) -> $name<'a> {
                let json = match text.trim_start() {
                    t if t.starts_with('{') => text,
                    t if t.starts_with("@{") => match flattened_object_json(t) {
                        Some(json) => texts.keep(json),
                        None => return $name { text: Some(text), ..$name::default() },
                    },
                    _ => return $name { text: Some(text), ..$name::default() },
                };
                match $name::document(json, texts) {
                    Ok(v) => v,
                    Err(_) => $name { malformed: true, ..$name::default() },
                }
            }

            /// Set the scalar slot named by `key` from a CSV cell (nothing for empty text).
            /// Returns false for keys no scalar slot answers to.
            #[allow(dead_code, unreachable_code)]
            pub(crate) fn set_val(&mut self, key: &[u8], text: &'a str) -> bool {
                if text.is_empty() {
                    return true;
                }
                match key {
                    $($($vk)|+ => self.$vf = Some(Val::Str(text)),)*
                    $(
                        $($($xk)|+ => {
                            self.ext.get_or_insert_with(Box::<$ety<'a>>::default).$xf =
                                Some(Val::Str(text))
                        })*
                        $($($rk)|+ => {
                            self.ext.get_or_insert_with(Box::<$ety<'a>>::default).$rf =
                                Some(text)
                        })*
                    )?
                    _ => return false,
                }
                true
            }

            /// Set the slot named by `key` from a CSV cell, keeping what nested JSON text
            /// unescapes in `texts`. Returns false for unknown keys.
            #[allow(dead_code, unused_variables)]
            pub(crate) fn set_text(&mut self, key: &[u8], text: &'a str, texts: &'a Texts) -> bool {
                if text.is_empty() {
                    return true;
                }
                let unserialized = is_type_name(text);
                let nested = match key {
                    $($($ok)|+ => {
                        self.$of = (!unserialized).then(|| $oty::from_text(text, texts));
                        true
                    })*
                    $($($bk)|+ => {
                        self.$bf = (!unserialized).then(|| Box::new($bty::from_text(text, texts)));
                        true
                    })*
                    $($($lk)|+ => {
                        self.$lf = (!unserialized).then(|| Pairs::from_text(text, texts));
                        true
                    })*
                    _ => false,
                };
                nested || self.set_val(key, text)
            }

            /// The slots with each text replaced by its place in `within` ([`Seen`]); `None`
            /// when a text is not part of it, or for slots that hold other slot structs than
            /// the ones in place.
            #[allow(dead_code, unreachable_code)]
            fn to_place(&self, within: &str, places: &mut Vec<(usize, usize)>) -> Option<$name<'static>> {
                $(if self.$bf.is_some() { return None; })*
                $(if self.$lf.is_some() { return None; })*
                $(if self.ext.as_deref().map(|_: &$ety<'_>| ()).is_some() { return None; })?
                // Fields are read in the order written: [`Self::restore`] reads them so.
                Some($name {
                    $($vf: match self.$vf {
                        Some(v) => Some(v.to_place(within, places)?),
                        None => None,
                    },)*
                    $($of: match &self.$of {
                        Some(o) => Some(o.to_place(within, places)?),
                        None => None,
                    },)*
                    $($bf: None,)*
                    $($lf: None,)*
                    $(ext: None::<Box<$ety<'static>>>,)?
                    text: match self.text {
                        Some(t) => Some(to_place(t, within, places)?),
                        None => None,
                    },
                    malformed: self.malformed,
                    repaired: self.repaired,
                })
            }

            /// The slots [`Self::to_place`] made, their texts taken from `within` again.
            #[allow(dead_code)]
            fn restore(
                placed: &$name<'static>,
                within: &'a str,
                places: &mut std::slice::Iter<'_, (usize, usize)>,
            ) -> $name<'a> {
                $name {
                    $($vf: placed.$vf.map(|v| v.restore(within, places)),)*
                    $($of: placed.$of.as_ref().map(|o| $oty::restore(o, within, places)),)*
                    $($bf: None,)*
                    $($lf: None,)*
                    $(ext: None::<Box<$ety<'a>>>,)?
                    text: placed.text.map(|_| text_at(within, places)),
                    malformed: placed.malformed,
                    repaired: placed.repaired,
                }
            }

            /// Read the next value, `depth` levels below the record: an object, JSON text in
            /// a string, or anything else skipped as an empty struct.
            /// Anything else leaves `out` as it is (default). With `shared`, escaped JSON
            /// text read before is not read again ([`Seen`]).
            #[allow(dead_code)]
            fn scan_at(
                s: &mut Scanner<'a>,
                depth: u32,
                out: &mut $name<'a>,
                shared: bool,
            ) -> Result<(), ScanError> {
                thread_local! {
                    static SEEN: RefCell<SeenTexts<$name<'static>>> = RefCell::default();
                }
                if depth > MAX_DEPTH {
                    return Err(s.error("objects nested too deeply"));
                }
                match s.peek()? {
                    b'{' => {
                        s.bump();
                        $name::scan_entries(s, depth, out)
                    }
                    b'"' if shared => {
                        let seen = SEEN
                            .try_with(|m| m.try_borrow().ok().and_then(|m| m.at(s.rest())))
                            .ok()
                            .flatten();
                        if let Some(seen) = seen {
                            s.advance(seen.quoted.len());
                            $name::restore_seen(s, &seen, out);
                            return Ok(());
                        }
                        let Some(quoted) = s.quoted_or_skip()? else {
                            return Ok(());
                        };
                        if !quoted.escaped {
                            let t = s.quoted_text(quoted)?;
                            *out = $name::from_text(t, s.texts());
                            return Ok(());
                        }
                        let seen = SEEN
                            .try_with(|m| m.try_borrow().ok().and_then(|m| m.get(quoted.text)))
                            .ok()
                            .flatten();
                        if let Some(seen) = seen {
                            $name::restore_seen(s, &seen, out);
                            return Ok(());
                        }
                        let t = s.quoted_text(quoted)?;
                        *out = $name::from_text(t, s.texts());
                        let mut places = Vec::new();
                        if let Some(slots) = out.to_place(t, &mut places) {
                            let seen = Rc::new(Seen {
                                quoted: quoted.text.into(),
                                text: Rc::from(t),
                                slots,
                                places: places.into_boxed_slice(),
                            });
                            let input = s.bytes_at(quoted.open());
                            let _ = SEEN.try_with(|m| {
                                if let Ok(mut m) = m.try_borrow_mut() {
                                    m.insert(seen, input);
                                }
                            });
                        }
                        Ok(())
                    }
                    b'"' => {
                        if let Some(t) = s.string_or_skip()? {
                            *out = $name::from_text(t, s.texts());
                        }
                        Ok(())
                    }
                    _ => s.skip_value(),
                }
            }

            /// The slots of a text seen before, its unescaped copy kept with the record's.
            #[allow(dead_code)]
            fn restore_seen(s: &Scanner<'a>, seen: &Seen<$name<'static>>, out: &mut $name<'a>) {
                let text = s.texts().keep_shared(Rc::clone(&seen.text));
                *out = $name::restore(&seen.slots, text, &mut seen.places.iter());
            }

            /// Read an object's entries into `out` (default; the cursor is past its `{`);
            /// the last of duplicate keys wins.
            #[allow(unused_variables)]
            fn scan_entries(s: &mut Scanner<'a>, depth: u32, out: &mut $name<'a>) -> Result<(), ScanError> {
                /// The slots, one variant each, named as the fields.
                #[allow(non_camel_case_types)]
                #[derive(Clone, Copy)]
                enum Slot { $($vf,)* $($of,)* $($bf,)* $($lf,)* $($($xf,)* $($rf,)*)? }
                const N: usize = [
                    $($(stringify!($vk),)+)*
                    $($(stringify!($ok),)+)*
                    $($(stringify!($bk),)+)*
                    $($(stringify!($lk),)+)*
                    $($($(stringify!($xk),)+)* $($(stringify!($rk),)+)*)?
                ].len();
                static KEYS: KeyTable<Slot, N, { buckets(N) }> = KeyTable::new([
                    $($(($vk, Slot::$vf),)+)*
                    $($(($ok, Slot::$of),)+)*
                    $($(($bk, Slot::$bf),)+)*
                    $($(($lk, Slot::$lf),)+)*
                    $($($(($xk, Slot::$xf),)+)* $($(($rk, Slot::$rf),)+)*)?
                ]);
                thread_local! {
                    /// The keys this kind of object had last time, per depth.
                    static ORDERS: [Cell<KeyOrder<Slot>>; MAX_DEPTH as usize + 1] =
                        Default::default();
                }
                // Taken out while reading, so an object of the same kind read inside this
                // one (JSON text at the same depth) starts from nothing instead of sharing.
                let mut order = ORDERS
                    .try_with(|o| o.get(depth as usize).map(Cell::take))
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let mut entries = s.entries();
                let mut link = Link::Start;
                let mut expected = order.first();
                // The expected key is not the one that followed the previous key last time.
                let mut guessed = false;
                loop {
                    let field = if let Some(field) = entries.next_known(s, &order, expected) {
                        if guessed {
                            order.relink(link, expected);
                            guessed = false;
                        }
                        link = Link::After(expected);
                        expected = order.next(expected);
                        field
                    } else if let Some(field) = entries.next_known(s, &order, order.next(expected)) {
                        // The expected key is missing this time.
                        let skipped = order.next(expected);
                        order.relink(link, skipped);
                        guessed = false;
                        link = Link::After(skipped);
                        expected = order.next(skipped);
                        field
                    } else {
                        let Some(key) = entries.next_key(s)? else {
                            break;
                        };
                        let field = key.find(&KEYS);
                        // A key the last objects did not have here: the key that followed it
                        // before comes next, or else the expected one.
                        link = match key.plain() {
                            Some(text) => order.learn(link, text, field),
                            None => Link::Detached,
                        };
                        match link {
                            Link::After(i) if order.next(i) != NO_KEY => {
                                expected = order.next(i);
                                guessed = false;
                            }
                            _ => guessed = true,
                        }
                        field
                    };
                    match field {
                        $(Some(Slot::$vf) => {
                            out.$vf = Some(Val::scan(s)?);
                            out.repaired += repaired(s, stringify!($vf))?;
                        })*
                        $(Some(Slot::$of) => {
                            let slot = out.$of.insert($oty::default());
                            $oty::scan_at(s, depth + 1, slot, true)?;
                            if slot.text.is_some_and(is_type_name) {
                                out.$of = None;
                            }
                        })*
                        $(Some(Slot::$bf) => {
                            let slot = out.$bf.insert(Box::default());
                            $bty::scan_at(s, depth + 1, slot, false)?;
                            if slot.text.is_some_and(is_type_name) {
                                out.$bf = None;
                            }
                        })*
                        $(Some(Slot::$lf) => {
                            out.$lf = Some(Pairs::scan(s)?).filter(|p| !p.is_type_name());
                            if s.take_repaired() {
                                return Err(s.error(
                                    "invalid string escape (a lone surrogate) in a name/value list",
                                ));
                            }
                        })*
                        $(
                            $(Some(Slot::$xf) => {
                                let v = Val::scan(s)?;
                                out.repaired += repaired(s, stringify!($xf))?;
                                out.ext.get_or_insert_with(Box::<$ety<'a>>::default).$xf = Some(v);
                            })*
                            $(Some(Slot::$rf) => {
                                let v = s.raw_value()?;
                                out.ext.get_or_insert_with(Box::<$ety<'a>>::default).$rf = Some(v);
                            })*
                        )?
                        None => s.skip_value()?,
                    }
                }
                let _ = ORDERS.try_with(|o| {
                    if let Some(cell) = o.get(depth as usize) {
                        cell.set(order);
                    }
                });
                Ok(())
            }
        }
    };
}

slots! {
    /// `deviceDetail` / `DeviceDetail`.
    DeviceSlots {
        vals {
            device_id = b"deviceid";
            display_name = b"displayname";
            os = b"operatingsystem";
            browser = b"browser";
            is_managed = b"ismanaged";
            is_compliant = b"iscompliant";
            trust_type = b"trusttype";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// `status` / `Status` of a sign-in.
    StatusSlots {
        vals {
            error_code = b"errorcode";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// `location` (object) / `LocationDetails`; as plain text it is a country code.
    LocationSlots {
        vals {
            country = b"countryorregion";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// `tokenProtectionStatusDetails`.
    TokenProtectionSlots {
        vals {
            session_status = b"signinsessionstatus";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// UAL `AppAccessContext`: any subset of its keys, or `{}`.
    AppAccessSlots {
        vals {
            session_id = b"aadsessionid";
            token_id = b"uniquetokenid";
            issued_at = b"issuedattime" | b"tokenissuedattime";
            client_app_id = b"clientappid";
            client_app_name = b"clientappname";
            correlation_id = b"correlationid";
            api_id = b"apiid";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// A sign-in's `agent` (Entra Agent ID: whether an AI agent identity signed in).
    AgentSlots {
        vals {
            agent_type = b"agenttype";
            subject_type = b"agentsubjecttype";
            subject_parent_id = b"agentsubjectparentid";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// `tokenDetails` of a directory audit's `linkableIdentifiers`.
    TokenDetailsSlots {
        vals {
            token_id = b"uniquetokenidentifier";
            issued_at = b"issuedatdatetime";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// `linkableIdentifiers` of a directory audit's initiator: the session, device and token
    /// the change was made with.
    LinkableSlots {
        vals {
            session_id = b"sessionid";
            device_id = b"deviceid";
        }
        objs {
            token_details: TokenDetailsSlots = b"tokendetails";
        }
        boxed {}
        lists {}
    }
}

slots! {
    /// `initiatedBy.user` / `initiatedBy.app` of a directory audit.
    IdentitySlots {
        vals {
            id = b"id";
            upn = b"userprincipalname";
            ip = b"ipaddress";
            app_id = b"appid";
            sp_id = b"serviceprincipalid";
            display_name = b"displayname";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// A directory audit's `initiatedBy` / `InitiatedBy`.
    InitiatedBySlots {
        vals {}
        objs {
            user: IdentitySlots = b"user";
            app: IdentitySlots = b"app";
            linkable: LinkableSlots = b"linkableidentifiers";
        }
        boxed {}
        lists {}
    }
}

slots! {
    /// An Elastic (ECS) document's `event`: `original` holds the raw record when the
    /// integration keeps it (`preserve_original_event`).
    EventSlots {
        vals {
            original = b"original";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// A SEKOIA test case's `input`.
    InputSlots {
        vals {
            message = b"message";
        }
        objs {}
        boxed {}
        lists {}
    }
}

slots! {
    /// Every field any shape needs, at one level of a record. The same struct holds the
    /// envelope (diagnostic settings, CSV row, `auditLogRecord`, `CloudAppEvents` row) and, in
    /// `properties` / `auditdata` / `raw_event_data`, the record it wraps.
    Rec {
        vals {
            // Envelopes.
            time = b"time";
            category = b"category";
            operation_name = b"operationname";
            caller_ip = b"calleripaddress";
            result_type = b"resulttype" | b"errorcode";
            table = b"type";
            record_id = b"recordid";
            creation_date = b"creationdate";
            user_ids = b"userids";
            operations = b"operations";
            service = b"service";
            timestamp = b"timestamp";
            action_type = b"actiontype";
            activity_date_time = b"activitydatetime";
            activity_display_name = b"activitydisplayname";
            client_ip_camel = b"clientip";
            // Sign-ins.
            id = b"id";
            created = b"createddatetime";
            time_generated = b"timegenerated";
            user_id = b"userid" | b"accountobjectid";
            upn = b"userprincipalname" | b"accountupn";
            app_id = b"appid";
            app_name = b"appdisplayname" | b"application";
            resource_id = b"resourceid";
            resource_identity = b"resourceidentity";
            resource_name = b"resourcedisplayname";
            sp_id = b"serviceprincipalid";
            sp_name = b"serviceprincipalname";
            ip = b"ipaddress";
            asn = b"autonomoussystemnumber";
            is_interactive = b"isinteractive";
            incoming_token_type = b"incomingtokentype";
            auth_protocol = b"authenticationprotocol";
            transfer_method = b"originaltransfermethod";
            auth_requirement = b"authenticationrequirement";
            client_credential_type = b"clientcredentialtype";
            unique_token_id = b"uniquetokenidentifier" | b"uniquetokenid";
            session_id = b"sessionid";
            original_request_id = b"originalrequestid";
            correlation_id = b"correlationid";
            user_agent = b"useragent";
            managed_identity_type = b"managedidentitytype";
            // Graph activity.
            request_id = b"requestid";
            request_method = b"requestmethod";
            request_uri = b"requesturi";
            response_status = b"responsestatuscode";
            client_auth_method = b"clientauthmethod";
            scopes = b"scopes";
            roles = b"roles";
            sign_in_activity_id = b"signinactivityid";
            device_id = b"deviceid" | b"entraiddeviceid" | b"aaddeviceid";
            token_issued_at = b"tokenissuedat";
            c_sid = b"c_sid";
            c_device_id = b"c_deviceid";
            c_iat = b"c_iat";
            c_idtyp = b"c_idtyp";
            // Unified Audit Log.
            record_type = b"recordtype";
            creation_time = b"creationtime";
            operation = b"operation";
            user_key = b"userkey";
            user_object_id = b"userobjectid";
            workload = b"workload" | b"officeworkload";
            client_ip_address = b"clientipaddress" | b"client_ipaddress";
            client_app_id = b"clientappid";
            client_app_name = b"clientappname";
            client_info = b"clientinfostring";
            mailbox_owner_upn = b"mailboxownerupn";
            token_object_id = b"tokenobjectid";
            operation_count = b"operationcount";
            object_id = b"objectid";
            source_file_name = b"sourcefilename";
            site_url = b"siteurl";
            application_id = b"applicationid";
            application_name = b"applicationdisplayname";
            is_managed_device = b"ismanageddevice";
            user_type = b"usertype";
            error_number = b"errornumber";
            office_id = b"officeid";
            actor_ip = b"actoripaddress";
            inter_systems_id = b"intersystemsid";
            intra_system_id = b"intrasystemid";
        }
        objs {
            device: DeviceSlots = b"devicedetail";
            status: StatusSlots = b"status";
            location: LocationSlots = b"location";
            location_details: LocationSlots = b"locationdetails";
            token_protection: TokenProtectionSlots = b"tokenprotectionstatusdetails";
            app_access: AppAccessSlots = b"appaccesscontext";
            input: InputSlots = b"input";
            agent: AgentSlots = b"agent";
        }
        boxed {
            properties: Rec = b"properties";
            audit_data: Rec = b"auditdata";
            raw_event_data: Rec = b"raweventdata";
            initiated_by: InitiatedBySlots = b"initiatedby";
            // A Microsoft Graph PowerShell SDK object's properties without a typed member
            // (newer ones, camelCase): see [`Rec::lift_additional_properties`].
            additional: Rec = b"additionalproperties";
            // An Elasticsearch hit's document, and an ECS document's `event`.
            elastic_source: Rec = b"_source";
            elastic_event: EventSlots = b"event";
        }
        lists {
            sign_in_event_types = b"signineventtypes" | b"logontype";
            operation_properties = b"operationproperties";
            extended_properties = b"extendedproperties";
            device_properties = b"deviceproperties";
            actor = b"actor";
            parameters = b"parameters";
            // `[{expirationRequirement, detail}]`: the requirements are the names.
            session_lifetime_policies = b"sessionlifetimepolicies";
        }
        ext RecExt {
            kept_as_json_text {
                // The array of an envelope saved as one record (`{"records":[...]}` per line,
                // a Graph page per line, an advanced hunting API answer).
                envelope = b"records" | b"value" | b"results";
                // A query answer (`{"tables":[...]}`) or one of its tables (`columns` and
                // `rows`: an ADX v2 frame, a table saved on its own) saved as one record.
                tables = b"tables";
                columns = b"columns";
                rows = b"rows";
                target_resources = b"targetresources";
            }
            // Envelopes and wrappers that are rare in each export's own records.
            audit_log_record_type = b"auditlogrecordtype";
            kind = b"kind";
            chat_thread_id = b"chatthreadid";
            // A forwarder's copy of the record as text (Splunk, Cribl `_raw`).
            raw = b"_raw";
            // An Azure Data Explorer v2 answer's frames (`DataSetHeader`, `DataTable`, ...).
            frame_type = b"frametype";
            // Defender XDR advanced hunting rows (the columns the tables above do not share).
            is_managed = b"ismanaged";
            is_compliant = b"iscompliant";
            device_trust_type = b"devicetrusttype";
            device_name = b"devicename";
            country_code = b"country";
            is_managed_identity = b"ismanagedidentity";
            // Newer sign-in fields.
            through_gsa = b"isthroughglobalsecureaccess";
            gsa_ip = b"globalsecureaccessipaddress";
            resource_ip = b"ipaddressfromresourceprovider";
            token_protection_status = b"signintokenprotectionstatus";
        }
    }
}

impl<'a> Rec<'a> {
    /// Count the fields of `AdditionalProperties` where the record lacks them. The Microsoft
    /// Graph PowerShell SDK (`Get-MgBetaAuditLogSignIn | ConvertTo-Json`) gives each object
    /// the typed members its generated model has, in PascalCase, and puts every property
    /// the model does not know (those Graph added after the SDK was generated, e.g. a
    /// sign-in's `sessionId`) in `AdditionalProperties`, keyed as Graph spells them. A member
    /// the record has at its top level wins.
    pub(crate) fn lift_additional_properties(&mut self) {
        if let Some(additional) = self.additional.take() {
            self.fill_absent(*additional);
        }
    }

    /// The rarely present slots ([`RecExt`]), all absent when none was read.
    #[inline]
    pub(crate) fn ext(&self) -> &RecExt<'a> {
        self.ext.as_deref().unwrap_or(&RecExt::EMPTY)
    }
}

slots! {
    /// Fields that tell what a record is when it is neither a sign-in nor an access: read
    /// in a second pass, only for such records (alerts, devices, policies, simulator files).
    MarkerSlots {
        vals {
            odata_type = b"@odata.type";
            title = b"title";
            severity = b"severity";
            detection_source = b"detectionsource";
            alert_web_url = b"alertweburl";
            service_source = b"servicesource";
            vendor_information = b"vendorinformation" | b"vendor";
            user_states = b"userstates";
            evidence = b"evidence";
            incident_web_url = b"incidentweburl";
            alerts = b"alerts";
            operating_system = b"operatingsystem";
            trust_type = b"trusttype";
            last_sign_in = b"approximatelastsignindatetime" | b"lastsignindatetime";
            registered = b"registrationdatetime";
            device_ownership = b"deviceownership";
            is_compliant = b"iscompliant";
            device_id = b"deviceid";
            conditions = b"conditions";
            grant_controls = b"grantcontrols" | b"builtincontrols";
            session_controls = b"sessioncontrols";
            include_users = b"includeusers";
            state = b"state";
            ip_ranges = b"ipranges";
            countries = b"countriesandregions";
            risk_event_type = b"riskeventtype";
            risk_last_updated = b"risklastupdateddatetime";
            risk_level = b"risklevel";
            risk_state = b"riskstate";
            sign_in_audience = b"signinaudience";
            service_principal_type = b"serviceprincipaltype";
            account_enabled = b"accountenabled";
            job_title = b"jobtitle";
            upn = b"userprincipalname" | b"username";
            group_types = b"grouptypes";
            security_enabled = b"securityenabled";
            provisioning = b"provisioningaction" | b"provisioningsteps";
            expected_rules = b"expected_rules";
            token_ids = b"token_ids";
            labels_by_kind = b"labels_by_kind";
            families = b"families";
            seed = b"seed";
            // An Elastic Common Schema document (Elastic's Azure and Microsoft 365
            // integrations).
            ecs = b"ecs";
        }
        objs {}
        boxed {}
        lists {}
    }
}

/// Hand each element of JSON array text to `f`, as text; each is read by its own decoder,
/// and only the array's own grammar is checked here.
pub(crate) fn each_element<'a>(
    array: &'a str,
    f: &mut dyn FnMut(&'a str),
) -> Result<(), ScanError> {
    // Values are crossed, never read: nothing is unescaped into these texts.
    let texts = Texts::default();
    let mut s = Scanner::new(array, &texts);
    s.expect(b'[', "expected an array")?;
    let mut elements = s.elements();
    while elements.next(&mut s)? {
        let len = s.raw_value()?.len();
        let end = s.pos();
        f(array.get(end - len..end).unwrap_or_default());
    }
    s.finish()
}

impl Rec<'_> {
    /// True when nothing was collected (`{}`, or a string or array in an object slot).
    pub(crate) fn is_empty(&self) -> bool {
        *self == Rec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_powershell_flattened_read_as_json() {
        let json = |t: &str| flattened_object_json(t);
        assert_eq!(
            json("@{errorCode=50126; failureReason=Invalid username or password.; additionalDetails=}")
                .as_deref(),
            Some(r#"{"errorCode":"50126","failureReason":"Invalid username or password."}"#)
        );
        assert_eq!(
            json("@{city=Paris; state=; countryOrRegion=FR; geoCoordinates=@{latitude=48.85; longitude=2.35}}")
                .as_deref(),
            Some(r#"{"city":"Paris","countryOrRegion":"FR","geoCoordinates":{"latitude":"48.85","longitude":"2.35"}}"#)
        );
        // A `;` inside a value, quotes and backslashes escaped, an empty object.
        assert_eq!(
            json("@{failureReason=a; b; errorCode=1}").as_deref(),
            Some(r#"{"failureReason":"a; b","errorCode":"1"}"#)
        );
        assert_eq!(
            json(r#"@{a=say "hi" \ there}"#).as_deref(),
            Some(r#"{"a":"say \"hi\" \\ there"}"#)
        );
        assert_eq!(json("@{}").as_deref(), Some("{}"));
        // Not flattened objects.
        for t in [
            "Paris",
            "@{",
            "@{novalue}",
            r#"{"a":1}"#,
            "@{=x}",
            "@{@{a=1}=2}",
        ] {
            assert_eq!(json(t), None, "{t}");
        }
        // Nesting beyond the bound.
        let deep = format!("{}{}", "@{a=".repeat(20), "}".repeat(20));
        assert_eq!(json(&deep), None);
        let bound = format!("{}x{}", "@{a=".repeat(9), "}".repeat(9));
        assert!(json(&bound).is_some());
    }

    /// Texts for a test's records: leaked, so a record may outlive the helper that read it.
    fn texts() -> &'static Texts {
        Box::leak(Box::default())
    }

    #[test]
    fn dotnet_type_names_are_told_from_values() {
        for t in [
            "Microsoft.Graph.PowerShell.Models.MicrosoftGraphSignInStatus",
            "Microsoft.Graph.Beta.PowerShell.Models.MicrosoftGraphDeviceDetail",
            " System.Collections.Hashtable ",
            "System.Collections.Generic.Dictionary`2[System.String,System.Object]",
            "System.Management.Automation.PSCustomObject",
            "System.String[]",
            "System.Object[]",
        ] {
            assert!(is_type_name(t), "{t}");
        }
        for t in [
            "",
            "GB",
            "Microsoft.Azure.SyncFabric",
            "Microsoft Graph PowerShell",
            "Microsoft.Graph.PowerShell.Models is a namespace",
            "System.Net.WebClient",
            "Systematic",
            "203.0.113.7",
        ] {
            assert!(!is_type_name(t), "{t}");
        }
    }

    #[test]
    fn additional_properties_fill_what_the_record_lacks() {
        let mut rec = Rec::document(
            r#"{"UserId":"u1","Status":{"ErrorCode":50140},
                "AdditionalProperties":{"userId":"u2","sessionId":"s1","status":{"errorCode":0},
                    "isThroughGlobalSecureAccess":true,"signInEventTypes":["nonInteractiveUser"]}}"#,
            texts(),
        )
        .unwrap();
        rec.lift_additional_properties();
        assert_eq!(rec.user_id, Some(Val::Str("u1")));
        assert_eq!(rec.session_id, Some(Val::Str("s1")));
        assert_eq!(
            rec.status.as_ref().and_then(|s| s.error_code),
            Some(Val::Int(50140))
        );
        assert_eq!(rec.ext().through_gsa, Some(Val::Bool(true)));
        assert_eq!(
            rec.sign_in_event_types
                .as_ref()
                .map(|p| p.names().collect::<Vec<_>>()),
            Some(vec!["nonInteractiveUser"])
        );
        assert!(rec.additional.is_none());
    }

    #[test]
    fn type_names_leave_nested_slots_absent() {
        let rec = Rec::document(
            r#"{"Status":"Microsoft.Graph.PowerShell.Models.MicrosoftGraphSignInStatus",
                "Location":"Microsoft.Graph.PowerShell.Models.MicrosoftGraphSignInLocation",
                "SignInEventTypes":"System.String[]",
                "AdditionalProperties":"System.Collections.Hashtable",
                "DeviceDetail":"{\"deviceId\":\"d1\"}"}"#,
            texts(),
        )
        .unwrap();
        assert!(rec.status.is_none());
        assert!(rec.location.is_none());
        assert!(rec.sign_in_event_types.is_none());
        assert!(rec.additional.is_none());
        assert!(rec.device.is_some());
        let mut csv = Rec::default();
        csv.set_text(b"status", "System.Collections.Hashtable", texts());
        csv.set_text(b"location", "GB", texts());
        assert!(csv.status.is_none());
        assert_eq!(csv.location.as_ref().and_then(|l| l.text), Some("GB"));
    }

    #[test]
    fn keys_match_in_any_case_and_nested_text_parses() {
        let rec: Rec<'_> = Rec::document(
            r#"{"C_SID":"s1","userId":"u","DeviceDetail":"{\"deviceId\":\"d1\"}",
                "Location":"GB","extra":{"a":[1,2,{"b":null}]},"RecordType":"50",
                "OperationProperties":["@{Value=Bind; Name=MailAccessType}"]}"#,
            texts(),
        )
        .unwrap();
        assert_eq!(rec.c_sid.as_ref().and_then(Val::str), Some("s1"));
        assert_eq!(rec.user_id.as_ref().and_then(Val::str), Some("u"));
        let device = rec.device.as_ref().unwrap();
        assert_eq!(device.device_id.as_ref().and_then(Val::str), Some("d1"));
        assert_eq!(rec.location.as_ref().unwrap().text, Some("GB"));
        assert_eq!(rec.record_type.as_ref().and_then(Val::int), Some(50));
        let props = rec.operation_properties.as_ref().unwrap();
        assert_eq!(props.get("mailaccesstype").and_then(Val::str), Some("Bind"));
    }

    #[test]
    fn trimming_matches_str_trim() {
        for text in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}x\u{2003}",
            "\u{e9}t\u{e9}",
            "\u{85}",
            "x\u{3000}",
            "\tab\n",
            "\u{1f}",
            "\u{7f}z\u{7f}",
            "GB",
            "  GB  ",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    /// How `text` reads (slots and error, as text to compare).
    fn read(text: &str) -> String {
        format!("{:?}", Rec::document(text, texts()))
    }

    /// [`read`] by a thread that has read nothing before: no keys remembered.
    fn read_cold(text: &str) -> String {
        std::thread::scope(|scope| scope.spawn(|| read(text)).join().unwrap())
    }

    /// Records whose keys come in other orders, cases and spellings than the ones before
    /// them: each must read the same after any other as on its own.
    const SHAPES: [&str; 12] = [
        r#"{"UserId":"u1","Id":"i1","IPAddress":"1.2.3.4","Status":{"errorCode":0},"Type":"SigninLogs"}"#,
        r#"{"UserId":"u2","IPAddress":"5.6.7.8","Status":{"errorCode":50},"Type":"SigninLogs"}"#,
        r#"{"UserId":"u3","Extra":[1,{"Id":"x"}],"Id":"i3","IPAddress":"9.9.9.9","Type":"T"}"#,
        r#"{"userid":"u4","id":"i4","ipaddress":"1.1.1.1","status":"{\"errorCode\":7}","type":"t"}"#,
        r#"{"Us\u0065rId":"u5","Id":"i5","UserId":"u5b","Id":"i5b"}"#,
        r#"{ "UserId" : "u6" , "Id":"i6","IPAddress" :"2.2.2.2"}"#,
        r#"{"Id":"i7","UserId":"u7","properties":{"UserId":"p7","Id":"pi7","Status":{"errorCode":1}}}"#,
        r#"{"UserId":"u8","UserIdX":"no","UserI":"no","Id":12,"IPAddress":null}"#,
        r#"{"properties":"{\"UserId\":\"p9\",\"Id\":\"q9\"}","UserId":"u9"}"#,
        r#"{"UserId":"u10","Id":"i10","IPAddress":"3.3.3.3","Status":{"errorCode":0},"Type":"SigninLogs","UserId":"last"}"#,
        r#"{}"#,
        r#"{"UserId":"u12","Id":"i12","IPAddress":"4.4.4.4","Status":{"errorCode":0},"Type":"SigninLogs","#,
    ];

    #[test]
    fn remembered_key_orders_read_like_a_cold_start() {
        let cold: Vec<_> = SHAPES.iter().map(|t| read_cold(t)).collect();
        // Every record after every other, and each twice in a row.
        for (i, before) in SHAPES.iter().enumerate() {
            for (j, text) in SHAPES.iter().enumerate() {
                let _ = read(before);
                let first = read(text);
                let again = read(text);
                assert_eq!(first, cold[j], "{j} after {i}");
                assert_eq!(again, cold[j], "{j} after {i}, twice");
            }
        }
        let last = Rec::document(SHAPES[9], texts()).unwrap();
        assert_eq!(last.user_id.as_ref().and_then(Val::str), Some("last"));
        let escaped = Rec::document(SHAPES[4], texts()).unwrap();
        assert_eq!(escaped.user_id.as_ref().and_then(Val::str), Some("u5b"));
        assert_eq!(
            Rec::document(SHAPES[7], texts()).unwrap().id,
            Some(Val::Int(12))
        );
        assert!(Rec::document(SHAPES[11], texts()).is_err());
    }

    #[test]
    fn nested_json_text_read_again_reads_as_the_first_time() {
        // Escaped JSON text of the nested objects kept in place: plain values, values with
        // escapes of their own, numbers, booleans, empty text, text that is not JSON and JSON
        // text that does not parse; each record read cold, then twice in a row on one thread.
        let records = [
            r#"{"DeviceDetail":"{\"deviceId\":\"d1\",\"isCompliant\":true,\"trustType\":\"\"}","Status":"{\"errorCode\":50126}"}"#,
            r#"{"DeviceDetail":"{\"deviceId\":\"d\\u00e9\",\"displayName\":\"a\\\"b\"}","LocationDetails":"{\"countryOrRegion\":\"FR\",\"geo\":{\"x\":[1,2]}}"}"#,
            r#"{"LocationDetails":"{\"countryOrRegion\":\"FR\"","Location":"G\u0042","Status":"{\"errorCode\":\"x\\ud800\"}"}"#,
            r#"{"TokenProtectionStatusDetails":"{\"signInSessionStatus\":\"unbound\",\"signInSessionStatusCode\":0}","agent":"{\"agentType\":1.5}"}"#,
            r#"{"AppAccessContext":"{\"AADSessionId\":\"s\",\"UniqueTokenId\":\"t\\/u\"}","input":"\"m\""}"#,
            // Texts that start alike and end otherwise, and a short one near the record's end.
            r#"{"DeviceDetail":"{\"deviceId\":\"0a79a6de-94e7-4e09-8fe0-79a754cf166e\"}"}"#,
            r#"{"DeviceDetail":"{\"deviceId\":\"0a79a6de-94e7-4e09-8fe0-79a754cf166f\"}"}"#,
            r#"{"DeviceDetail":"{\"deviceId\":\"0a79a6de-94e7-4e09-8fe0-79a754cf166e\"}","x":1}"#,
            r#"{"Status":"{\"errorCode\":1}"}"#,
            r#"{"Status":"{\"errorCode\":1}","DeviceDetail":"{\"deviceId\":\"d1\",\"isCompliant\":true,\"trustType\":\"\"}"}"#,
        ];
        for text in records {
            let cold = read_cold(text);
            assert!(cold.starts_with("Ok("), "{cold}");
            assert_eq!(read(text), cold, "{text}");
            assert_eq!(read(text), cold, "{text}, again");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn records_of_changing_shapes_read_like_a_cold_start(
            records in proptest::collection::vec(
                proptest::collection::vec(
                    (
                        proptest::sample::select(vec![
                            "UserId", "userid", "USERID", "Id", "id", "IPAddress", "Type",
                            "Category", "TenantId", "SessionId", "UserIdx", "Us\\u0065rId",
                            "DeviceDetail", "properties", "x", "CreatedDateTime",
                        ]),
                        proptest::sample::select(vec![
                            r#""a""#, r#""b\"c""#, "1", "null", r#"{"Id":"n","UserId":"m"}"#,
                            r#""{\"deviceId\":\"d\"}""#, "[1,2]", "true",
                        ]),
                        proptest::sample::select(vec![",", " ,", ", "]),
                    ),
                    0..12,
                ),
                1..6,
            ),
        ) {
            let texts: Vec<String> = records
                .iter()
                .map(|entries| {
                    let body: Vec<String> = entries
                        .iter()
                        .enumerate()
                        .map(|(n, (k, v, sep))| {
                            format!("{}\"{k}\":{v}", if n == 0 { "" } else { sep })
                        })
                        .collect();
                    format!("{{{}}}", body.concat())
                })
                .collect();
            // Twice through, so that each record meets the keys the others left.
            for text in texts.iter().chain(&texts) {
                let warm = read(text);
                proptest::prop_assert_eq!(warm, read_cold(text), "{}", text);
            }
        }
    }

    #[test]
    fn nested_slots_held_in_place_read_as_when_boxed() {
        // The last of duplicate keys wins whole, an object and its JSON text read alike, text
        // that is not JSON is kept as text, and JSON text that does not parse is marked.
        let rec: Rec<'_> = Rec::document(
            r#"{"Status":{"errorCode":1},"status":{"additionalDetails":"x"},
                "DeviceDetail":{"deviceId":"d1","trustType":"t"},
                "deviceDetail":"{\"deviceId\":\"d\\u0032\",\"isCompliant\":true}",
                "LocationDetails":"{\"countryOrRegion\":\"FR\"","Location":"GB",
                "AppAccessContext":{"AADSessionId":"s1","UniqueTokenId":"t1"},
                "TokenProtectionStatusDetails":7,"agent":{"agentType":"notAgentic"}}"#,
            texts(),
        )
        .unwrap();
        let status = rec.status.as_ref().unwrap();
        assert_eq!(status.error_code, None);
        let device = rec.device.as_ref().unwrap();
        assert_eq!(device.device_id.as_ref().and_then(Val::str), Some("d2"));
        assert_eq!(device.trust_type, None);
        assert_eq!(device.is_compliant, Some(Val::Bool(true)));
        let details = rec.location_details.as_ref().unwrap();
        assert!(details.malformed);
        assert_eq!(details.country, None);
        assert_eq!(rec.location.as_ref().unwrap().text, Some("GB"));
        let context = rec.app_access.as_ref().unwrap();
        assert_eq!(context.session_id.as_ref().and_then(Val::str), Some("s1"));
        assert_eq!(context.token_id.as_ref().and_then(Val::str), Some("t1"));
        // A number where an object belongs leaves the slot empty, not absent.
        assert_eq!(rec.token_protection, Some(TokenProtectionSlots::default()));
        let agent = rec.agent.as_ref().unwrap();
        assert_eq!(
            agent.agent_type.as_ref().and_then(Val::str),
            Some("notAgentic")
        );
        assert_eq!(rec.properties, None);
        assert_eq!(rec.repairs(), 0);
    }

    #[test]
    fn wrong_types_are_skipped_not_errors() {
        let rec: Rec<'_> = Rec::document(
            r#"{"status":5,"properties":[1],"actor":{"x":1},"id":{"t":1}}"#,
            texts(),
        )
        .unwrap();
        assert_eq!(rec.id, Some(Val::Other));
        assert!(rec.properties.unwrap().is_empty());
    }
}
