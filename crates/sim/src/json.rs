//! A minimal JSON object writer. Records are written field by field straight into a reusable
//! buffer: faster than building `serde_json::Value` trees, and the field order is exactly the
//! order the code states, so output is byte-stable.

use std::fmt::Write as _;

/// Append `text` as a JSON string literal (with quotes).
pub(crate) fn push_str_lit(buf: &mut String, text: &str) {
    buf.push('"');
    for c in text.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
            c => buf.push(c),
        }
    }
    buf.push('"');
}

/// An open JSON object being written into a buffer. Call [`Obj::end`] to close it.
pub(crate) struct Obj<'b> {
    buf: &'b mut String,
    first: bool,
}

impl<'b> Obj<'b> {
    pub(crate) fn new(buf: &'b mut String) -> Obj<'b> {
        buf.push('{');
        Obj { buf, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.buf.push(',');
        }
        self.first = false;
        push_str_lit(self.buf, k);
        self.buf.push(':');
    }

    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_str_lit(self.buf, v);
        self
    }

    pub(crate) fn display(&mut self, k: &str, v: impl std::fmt::Display) -> &mut Self {
        self.key(k);
        self.buf.push('"');
        let start = self.buf.len();
        let _ = write!(self.buf, "{v}");
        // Displayed values here are ids and addresses; escape defensively all the same.
        if self.buf[start..].contains(['"', '\\']) {
            let text = self.buf.split_off(start);
            self.buf.pop();
            push_str_lit(self.buf, &text);
        } else {
            self.buf.push('"');
        }
        self
    }

    pub(crate) fn num(&mut self, k: &str, v: i64) -> &mut Self {
        self.key(k);
        let _ = write!(self.buf, "{v}");
        self
    }

    pub(crate) fn float(&mut self, k: &str, v: f64) -> &mut Self {
        self.key(k);
        let _ = write!(self.buf, "{v:?}");
        self
    }

    pub(crate) fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.buf.push_str(if v { "true" } else { "false" });
        self
    }

    pub(crate) fn null(&mut self, k: &str) -> &mut Self {
        self.key(k);
        self.buf.push_str("null");
        self
    }

    /// A field whose value is already JSON text.
    pub(crate) fn raw(&mut self, k: &str, json: &str) -> &mut Self {
        self.key(k);
        self.buf.push_str(json);
        self
    }

    /// A nested object.
    pub(crate) fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(k);
        let mut inner = Obj::new(self.buf);
        f(&mut inner);
        inner.end();
        self
    }

    /// A nested object written as a JSON *string* (Log Analytics non-interactive tables do
    /// this for `DeviceDetail`, `LocationDetails`, `Status`).
    pub(crate) fn obj_as_string(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        let mut inner = String::new();
        let mut o = Obj::new(&mut inner);
        f(&mut o);
        o.end();
        self.str(k, &inner)
    }

    pub(crate) fn str_array(&mut self, k: &str, items: &[&str]) -> &mut Self {
        self.key(k);
        self.buf.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            push_str_lit(self.buf, item);
        }
        self.buf.push(']');
        self
    }

    /// An array of objects, one per item.
    pub(crate) fn obj_array<T>(
        &mut self,
        k: &str,
        items: &[T],
        mut f: impl FnMut(&mut Obj<'_>, &T),
    ) -> &mut Self {
        self.key(k);
        self.buf.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            let mut o = Obj::new(self.buf);
            f(&mut o, item);
            o.end();
        }
        self.buf.push(']');
        self
    }

    pub(crate) fn end(self) {
        self.buf.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json_with_escapes_and_nesting() {
        let mut buf = String::new();
        let mut o = Obj::new(&mut buf);
        o.str("a", "q\"b\\\n\u{1}")
            .num("n", -3)
            .bool("t", true)
            .null("z")
            .float("f", 1.5)
            .display("g", 42)
            .obj("in", |i| {
                i.str("x", "y");
            })
            .obj_as_string("s", |i| {
                i.num("k", 1);
            })
            .str_array("arr", &["p", "q"])
            .obj_array("objs", &[1, 2], |o, v| {
                o.num("v", *v);
            });
        o.end();
        let v: serde_json::Value = serde_json::from_str(&buf).expect("valid JSON");
        assert_eq!(v["a"], "q\"b\\\n\u{1}");
        assert_eq!(v["in"]["x"], "y");
        assert_eq!(v["s"], "{\"k\":1}");
        assert_eq!(v["g"], "42");
        assert_eq!(v["objs"][1]["v"], 2);
        assert_eq!(v["f"], 1.5);
    }
}
