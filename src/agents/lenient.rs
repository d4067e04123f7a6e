//! Field types that accept JSON of an unexpected type as "absent" instead of failing the
//! whole record: one odd field (an MCP tool taking a list as `path`) must not cost a line's
//! usage.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON string, borrowed from the line when it holds no escapes (nearly always) and copied
/// when it does. A field typed `Option<Cow<str>>` would copy every time: serde borrows only
/// into a bare `Cow<str>` field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Str<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A string, or `None` for any other JSON value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptStr(pub Option<String>);

struct OptStrVisitor;

impl<'de> Visitor<'de> for OptStrVisitor {
    type Value = OptStr;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<OptStr, E> {
        Ok(OptStr(Some(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<OptStr, E> {
        Ok(OptStr(Some(v)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<OptStr, E> {
        Ok(OptStr(None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<OptStr, E> {
        Ok(OptStr(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<OptStr, E> {
        Ok(OptStr(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<OptStr, E> {
        Ok(OptStr(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<OptStr, E> {
        Ok(OptStr(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OptStr, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(OptStr(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OptStr, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(OptStr(None))
    }
}

impl<'de> Deserialize<'de> for OptStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(OptStrVisitor)
    }
}

/// What tokledger reads of a tool call's input object: the file it names (`file_path`,
/// `notebook_path` or `path`) and a shell call's `command`, as [`command_key`] gives it, and
/// its program (`crate::program::program_of`); any other input (a string, a list, odd field types) names neither.
///
/// [`command_key`]: crate::usage::command_key
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolInputPath(pub Option<String>, pub Option<String>, pub Option<String>);

impl<'de> Deserialize<'de> for ToolInputPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ToolInputPath;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ToolInputPath, A::Error> {
                let (mut file, mut notebook, mut path, mut command, mut program) =
                    (None, None, None, None, None);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "file_path" => file = map.next_value::<OptStr>()?.0,
                        "notebook_path" => notebook = map.next_value::<OptStr>()?.0,
                        "path" => path = map.next_value::<OptStr>()?.0,
                        "command" => {
                            let raw = map.next_value::<OptStr>()?.0;
                            program = raw.as_deref().and_then(crate::program::program_of);
                            command = raw
                                .map(|c| crate::usage::command_key(&c))
                                .filter(|c| !c.is_empty());
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(ToolInputPath(file.or(notebook).or(path), command, program))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ToolInputPath, A::Error> {
                OptStrVisitor
                    .visit_seq(seq)
                    .map(|_| ToolInputPath(None, None, None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<ToolInputPath, E> {
                Ok(ToolInputPath(None, None, None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<ToolInputPath, E> {
                Ok(ToolInputPath(None, None, None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<ToolInputPath, E> {
                Ok(ToolInputPath(None, None, None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<ToolInputPath, E> {
                Ok(ToolInputPath(None, None, None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<ToolInputPath, E> {
                Ok(ToolInputPath(None, None, None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ToolInputPath, E> {
                Ok(ToolInputPath(None, None, None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A field's raw JSON when the key is there, `null` included (as `Value::get` sees a null):
/// kept unparsed while the rest of the record is read, for a reader that learns only at the
/// end what the record is, or reads a value only in some cases.
#[derive(Default, Clone, Copy, Debug)]
pub struct Present<'a>(pub Option<&'a serde_json::value::RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Present<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a serde_json::value::RawValue>::deserialize(d).map(|r| Present(Some(r)))
    }
}

impl<'a> Present<'a> {
    /// The value as `T`; `null` and absence are `None`. Repeated keys inside keep the last
    /// value. Err: the value is not a `T`.
    pub fn get<T: serde::de::DeserializeOwned>(self) -> Result<Option<T>, NotA> {
        let Some(raw) = self.0 else { return Ok(None) };
        let mut rewritten = String::new();
        from_json::<Option<T>>(raw.get(), &mut rewritten).map_err(|_| NotA)
    }

    /// The value when it is a string (borrowed unless it has escapes), as `Value::as_str`.
    pub fn str(self) -> Option<Cow<'a, str>> {
        let raw = self.0?.get();
        raw.starts_with('"')
            .then(|| serde_json::from_str::<Cow<'a, str>>(raw).ok())?
    }

    /// The raw value, unless it is absent or `null`.
    pub fn raw(self) -> Option<&'a serde_json::value::RawValue> {
        self.0.filter(|r| r.get() != "null")
    }
}

/// `text` read as the fields of `T` when it is a JSON object, else `None`: a derived struct
/// would read an array's items by position. Repeated keys keep the last value.
pub fn object_as<'a, T: Deserialize<'a>>(text: &'a str, rewritten: &'a mut String) -> Option<T> {
    text.trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
        .then(|| from_json::<T>(text, rewritten).ok())?
}

/// A value is not of the type its reader wants: the record is malformed.
#[derive(Debug)]
pub struct NotA;

/// An object read as `T`, or any other JSON value (`Other`) without failing the record: a
/// derived struct would read an array's items by position, or refuse a string.
pub enum ObjOr<T> {
    Object(T),
    Other,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = ObjOr<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ObjOr<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(ObjOr::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ObjOr<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ObjOr::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<ObjOr<T>, E> {
                Ok(ObjOr::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<ObjOr<T>, E> {
                Ok(ObjOr::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<ObjOr<T>, E> {
                Ok(ObjOr::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<ObjOr<T>, E> {
                Ok(ObjOr::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<ObjOr<T>, E> {
                Ok(ObjOr::Other)
            }
            fn visit_unit<E>(self) -> Result<ObjOr<T>, E> {
                Ok(ObjOr::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T> ObjOr<T> {
    pub fn object(&self) -> Option<&T> {
        match self {
            ObjOr::Object(t) => Some(t),
            ObjOr::Other => None,
        }
    }
}

/// Whether a parse failed only because an object repeats a key (serde's derived types
/// refuse that; JSON itself leaves it open).
pub fn is_duplicate_key(e: &serde_json::Error) -> bool {
    e.is_data() && e.to_string().starts_with("duplicate field")
}

/// Parse `text` as `T`; when an object in it repeats a key, keep the last value of each
/// (as `JSON.parse`, which the agents' own readers use, does) instead of losing the record.
/// The rewritten text lives in `rewritten`, which the result may borrow from.
pub fn from_json<'a, T: Deserialize<'a>>(
    text: &'a str,
    rewritten: &'a mut String,
) -> serde_json::Result<T> {
    match serde_json::from_str::<T>(text) {
        Err(e) if is_duplicate_key(&e) => {
            // `Value`'s maps keep the last value of a repeated key.
            let v: serde_json::Value = serde_json::from_str(text)?;
            *rewritten = v.to_string();
            let shared: &'a String = rewritten;
            serde_json::from_str(shared)
        }
        r => r,
    }
}

/// Whether some object in `text` (valid JSON) repeats a key: a full walk, so only for a
/// record that failed to parse.
pub fn repeats_a_key(text: &str) -> bool {
    struct Walk;
    impl<'de> Deserialize<'de> for Walk {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(WalkVisitor)
        }
    }
    struct WalkVisitor;
    impl<'de> Visitor<'de> for WalkVisitor {
        type Value = Walk;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<Walk, E> {
            Ok(Walk)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Walk, E> {
            Ok(Walk)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Walk, E> {
            Ok(Walk)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Walk, E> {
            Ok(Walk)
        }
        fn visit_str<E>(self, _: &str) -> Result<Walk, E> {
            Ok(Walk)
        }
        fn visit_unit<E>(self) -> Result<Walk, E> {
            Ok(Walk)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Walk, A::Error> {
            while a.next_element::<Walk>()?.is_some() {}
            Ok(Walk)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Walk, A::Error> {
            let mut keys: Vec<Cow<'de, str>> = Vec::new();
            while let Some(k) = a.next_key::<Cow<'de, str>>()? {
                if keys.contains(&k) {
                    return Err(de::Error::custom("repeated key"));
                }
                keys.push(k);
                a.next_value::<Walk>()?;
            }
            Ok(Walk)
        }
    }
    serde_json::from_str::<Walk>(text)
        .err()
        .is_some_and(|e| e.to_string().starts_with("repeated key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_borrows_unless_escaped() {
        let v: Vec<Str<'_>> = serde_json::from_str(r#"["plain","with \"quote\""]"#).unwrap();
        assert!(matches!(v[0].0, Cow::Borrowed("plain")));
        assert!(matches!(&v[1].0, Cow::Owned(s) if s == "with \"quote\""));
        assert!(serde_json::from_str::<Str<'_>>("7").is_err());
    }

    #[test]
    fn odd_types_read_as_absent() {
        let p: ToolInputPath =
            serde_json::from_str(r#"{"path":["a","b"],"file_path":"x.rs","n":{"k":1}}"#).unwrap();
        assert_eq!(p.0.as_deref(), Some("x.rs"));
        let p: ToolInputPath = serde_json::from_str(r#"{"path":7}"#).unwrap();
        assert_eq!(p.0, None);
        let p: ToolInputPath = serde_json::from_str(r#""just text""#).unwrap();
        assert_eq!(p.0, None);
        let s: OptStr = serde_json::from_str("[1,2]").unwrap();
        assert_eq!(s.0, None);
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_and_the_record() {
        #[derive(Deserialize)]
        struct Inner {
            n: u64,
        }
        #[derive(Deserialize)]
        struct Outer<'a> {
            #[serde(borrow)]
            id: Str<'a>,
            inner: Inner,
        }
        let mut scratch = String::new();
        let text = r#"{"id":"a","id":"b","inner":{"n":1,"n":2}}"#;
        assert!(is_duplicate_key(
            &serde_json::from_str::<Outer<'_>>(text)
                .err()
                .expect("serde refuses")
        ));
        let o: Outer<'_> = from_json(text, &mut scratch).expect("parsed");
        assert_eq!((&*o.id, o.inner.n), ("b", 2));
        let mut scratch = String::new();
        assert!(from_json::<Outer<'_>>(r#"{"id":"a","inner":{"n":-1}}"#, &mut scratch).is_err());
        assert!(repeats_a_key(r#"{"a":[{"x":1,"y":2,"x":3}]}"#));
        assert!(!repeats_a_key(r#"{"a":[{"x":1},{"x":2}],"x":{"x":1}}"#));
    }
}
