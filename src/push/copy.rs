//! Rows in PostgreSQL's COPY text format: tab-separated fields, `\N` for NULL, backslash
//! escapes for tab, newline, carriage return and backslash.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};

/// One table's rows for one `COPY … FROM STDIN`, built in memory a batch at a time.
#[derive(Default)]
pub struct Rows {
    pub buf: Vec<u8>,
    first: bool,
}

impl Rows {
    pub fn new() -> Rows {
        Rows {
            buf: Vec::with_capacity(1 << 18),
            first: true,
        }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(b"\\N");
    }

    pub fn text(&mut self, v: Option<&str>) {
        self.sep();
        let Some(s) = v else { return self.null() };
        let bytes = s.as_bytes();
        // The common case needs no escape: copy it whole.
        if !bytes
            .iter()
            .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r' | 0))
        {
            self.buf.extend_from_slice(bytes);
            return;
        }
        for &b in bytes {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                // PostgreSQL text cannot hold NUL: the replacement character stands in.
                0 => self.buf.extend_from_slice("\u{fffd}".as_bytes()),
                b => self.buf.push(b),
            }
        }
    }

    pub fn int(&mut self, v: Option<i64>) {
        self.sep();
        match v {
            Some(n) => {
                use std::io::Write;
                let _ = write!(self.buf, "{n}");
            }
            None => self.null(),
        }
    }

    pub fn bool(&mut self, v: Option<bool>) {
        self.sep();
        match v {
            Some(true) => self.buf.push(b't'),
            Some(false) => self.buf.push(b'f'),
            None => self.null(),
        }
    }

    pub fn float(&mut self, v: Option<f64>) {
        self.sep();
        match v.filter(|f| f.is_finite()) {
            // Rust's shortest round-trip form, which PostgreSQL reads back to the same double.
            Some(f) => self.buf.extend_from_slice(f.to_string().as_bytes()),
            None => self.null(),
        }
    }

    /// A time in milliseconds since the epoch, as `timestamptz` (NULL outside years 1-9999).
    pub fn ts_ms(&mut self, v: Option<i64>) {
        let t = v.and_then(DateTime::<Utc>::from_timestamp_millis);
        self.ts(t);
    }

    /// An RFC 3339 time as the ledger stores it (NULL when it does not parse).
    pub fn rfc3339(&mut self, v: Option<&str>) {
        let t = v
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        self.ts(t);
    }

    fn ts(&mut self, t: Option<DateTime<Utc>>) {
        self.sep();
        match t.filter(|t| (1..=9999).contains(&t.year())) {
            Some(t) => self
                .buf
                .extend_from_slice(t.to_rfc3339_opts(SecondsFormat::Millis, true).as_bytes()),
            None => self.null(),
        }
    }

    /// JSON text for a `jsonb` column: `None` (or text that is not JSON) is `fallback`.
    pub fn json(&mut self, v: Option<&str>, fallback: Option<&str>) {
        let fixed;
        let v = match v.filter(|s| serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok()) {
            // jsonb refuses the escape of NUL: such strings get the replacement character.
            Some(s) if s.contains("\\u0000") => {
                fixed = without_nul(s);
                fixed.as_deref()
            }
            Some(s) => Some(s),
            None => fallback,
        };
        self.text(v);
    }

    pub fn end(&mut self) {
        self.buf.push(b'\n');
        self.first = true;
    }
}

fn without_nul(s: &str) -> Option<String> {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => {
                *s = s.replace('\0', "\u{fffd}");
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            serde_json::Value::Object(o) => o.values_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(s).ok()?;
    walk(&mut v);
    serde_json::to_string(&v).ok()
}

#[cfg(test)]
mod tests {
    use super::Rows;

    #[test]
    fn fields_are_escaped_and_nulls_marked() {
        let mut r = Rows::new();
        r.text(Some("a\tb\\c\nd\re\0f"));
        r.text(None);
        r.int(Some(-42));
        r.bool(Some(true));
        r.float(Some(f64::NAN));
        r.ts_ms(Some(1_772_445_600_123));
        r.rfc3339(Some("not a time"));
        r.json(Some(r#"["x\u0000y"]"#), None);
        r.json(Some("{broken"), Some("[]"));
        r.end();
        assert_eq!(
            String::from_utf8(r.buf).expect("utf8"),
            "a\\tb\\\\c\\nd\\re\u{fffd}f\t\\N\t-42\tt\t\\N\t2026-03-02T10:00:00.123Z\t\\N\t[\"x\u{fffd}y\"]\t[]\n"
        );
    }
}
