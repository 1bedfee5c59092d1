//! The W3C Baggage rules (<https://www.w3.org/TR/baggage/>), read and written here, with the
//! SDK's `Baggage` only at the boundary.
//!
//! ```text
//! baggage-string = list-member 0*179( OWS "," OWS list-member )
//! list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
//! property       = key OWS "=" OWS value / key OWS
//! key            = token                       ; RFC 9110: !#$%&'*+-.^_`|~ digits letters
//! value          = *baggage-octet              ; percent-encoded UTF-8
//! baggage-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
//! ```
//!
//! - Limits: the specification asks that at least 64 list-members and 8192 bytes be propagated
//!   whole. Those are traced's limits too: beyond them the trailing members are dropped, never
//!   the whole header. Reading stops after [`MAX_BYTES`] of input, so a 1 MB header costs what
//!   an 8 KB one does.
//! - An invalid member (no `=`, an empty or non-token key, a value or property with a forbidden
//!   character, a broken `%` escape) is dropped alone; the others are kept.
//! - Values are percent-decoded on the way in (a sequence that is not UTF-8 becomes U+FFFD, as
//!   the specification asks) and percent-encoded on the way out: every byte outside
//!   `baggage-octet`, and `%` itself.
//! - Properties are kept as they came (`;k=v;flag`), without the optional whitespace, and
//!   written back after the value.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::OnceLock;

use opentelemetry::baggage::{Baggage, BaggageExt as _, KeyValueMetadata};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::Context;

use crate::propagation::BAGGAGE;

/// W3C `baggage`, by the rules of [`propagation`](crate::propagation): what
/// `OTEL_PROPAGATORS=baggage` (the default) installs. Use it in place of opentelemetry-sdk's
/// when you compose propagators yourself.
#[derive(Clone, Copy, Debug, Default)]
pub struct BaggagePropagator;

impl TextMapPropagator for BaggagePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        let members = baggage
            .iter()
            .map(|(key, (value, metadata))| (key.as_str(), value.as_str(), metadata.as_str()));
        if let Some(header) = to_header(members) {
            injector.set(BAGGAGE, header);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let values = extractor
            .get_all(BAGGAGE)
            .or_else(|| extractor.get(BAGGAGE).map(|value| vec![value]));
        let Some(values) = values else {
            return cx.clone();
        };
        let baggage: Baggage = parse(values)
            .into_iter()
            .map(|member| KeyValueMetadata::new(member.key, member.value, member.properties))
            .collect();
        cx.with_baggage(baggage)
    }

    fn fields(&self) -> FieldIter<'_> {
        static FIELDS: OnceLock<[String; 1]> = OnceLock::new();
        FieldIter::new(FIELDS.get_or_init(|| [BAGGAGE.to_owned()]))
    }
}

/// The W3C Baggage minimum number of list-members to propagate; traced keeps this many.
pub(crate) const MAX_MEMBERS: usize = 64;
/// The W3C Baggage minimum size of a `baggage-string` to propagate, in bytes; traced keeps
/// this much, and reads no further.
pub(crate) const MAX_BYTES: usize = 8192;

/// One valid list-member: its key, its decoded value, its properties as they came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) key: String,
    pub(crate) value: String,
    /// `k=v;flag`: the properties without the leading `;`, empty when there are none.
    pub(crate) properties: String,
}

/// The valid members of the `baggage` headers `values` (several headers are one list, in
/// order), up to [`MAX_MEMBERS`] members within the first [`MAX_BYTES`] bytes. A member that
/// does not end within those bytes is dropped, as are the ones after it.
pub(crate) fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Member> {
    let mut members = Vec::new();
    for_each_within(values, |raw| {
        if let Some(member) = parse_member(raw) {
            members.push(member);
        }
        members.len() < MAX_MEMBERS
    });
    members
}

/// The `baggage` headers `values` joined with commas, cut after the last member that ends
/// within [`MAX_BYTES`]: what [`parse`] reads, for a propagator other than this crate's.
pub(crate) fn bounded_join(values: Vec<&str>) -> String {
    let mut joined = String::new();
    for_each_within(values, |raw| {
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(raw);
        true
    });
    joined
}

/// Calls `f` with each raw list-member of `values` (joined with commas) that ends within the
/// first [`MAX_BYTES`] bytes, in order, until it returns `false`. No byte after those is read:
/// the cost of a 1 MB header is that of an 8 KB one.
fn for_each_within<'a>(
    values: impl IntoIterator<Item = &'a str>,
    mut f: impl FnMut(&'a str) -> bool,
) {
    // Bytes of the joined list before the current header, joining commas included.
    let mut read = 0usize;
    for (index, header) in values.into_iter().enumerate() {
        if index > 0 {
            read += 1;
        }
        let Some(budget) = MAX_BYTES.checked_sub(read) else {
            return;
        };
        let cut = header.len() > budget;
        let window = if cut {
            // The members that end within the budget: up to the last comma at or before it.
            match header.as_bytes()[..=budget]
                .iter()
                .rposition(|&c| c == b',')
            {
                Some(comma) => &header[..comma],
                None => return,
            }
        } else {
            header
        };
        for raw in window.split(',') {
            if !f(raw) {
                return;
            }
        }
        if cut {
            return;
        }
        read += header.len();
    }
}

/// One list-member, or `None` when it is empty or invalid.
fn parse_member(raw: &str) -> Option<Member> {
    let mut parts = raw.split(';');
    let pair = parts.next()?;
    let (key, value) = pair.split_once('=')?;
    let key = trim_ows(key);
    let value = trim_ows(value);
    if !is_token(key) {
        return None;
    }
    let value = decode(value)?;
    let mut properties = String::new();
    for property in parts {
        let property = trim_ows(property);
        let property = match property.split_once('=') {
            Some((key, value)) => {
                let (key, value) = (trim_ows(key), trim_ows(value));
                if !is_token(key) || !is_value(value) {
                    return None;
                }
                Cow::Owned(format!("{key}={value}"))
            }
            None if is_token(property) => Cow::Borrowed(property),
            None => return None,
        };
        if !properties.is_empty() {
            properties.push(';');
        }
        properties.push_str(&property);
    }
    Some(Member {
        key: key.to_owned(),
        value,
        properties,
    })
}

/// The `baggage` header for `members` (key, decoded value, properties): at most
/// [`MAX_MEMBERS`] members and [`MAX_BYTES`] bytes, the members that do not fit dropped. A
/// member whose key is not a token, or whose properties are not valid, is left out (the
/// properties only). `None` when no member is left.
pub(crate) fn to_header<'a>(
    members: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> Option<String> {
    let mut header = String::new();
    let mut count = 0;
    let mut member = String::new();
    for (key, value, properties) in members {
        let key = trim_ows(key);
        if !is_token(key) {
            continue;
        }
        member.clear();
        member.push_str(key);
        member.push('=');
        encode_into(value, &mut member);
        if !properties.is_empty() && valid_properties(properties) {
            member.push(';');
            member.push_str(properties);
        }
        let separator = usize::from(!header.is_empty());
        if header.len() + separator + member.len() > MAX_BYTES {
            continue;
        }
        if separator == 1 {
            header.push(',');
        }
        header.push_str(&member);
        count += 1;
        if count == MAX_MEMBERS {
            break;
        }
    }
    (!header.is_empty()).then_some(header)
}

/// Whether `properties` (`k=v;flag`, as kept by [`parse`]) is a valid property list.
fn valid_properties(properties: &str) -> bool {
    properties.split(';').all(|property| {
        let property = trim_ows(property);
        match property.split_once('=') {
            Some((key, value)) => is_token(trim_ows(key)) && is_value(trim_ows(value)),
            None => is_token(property),
        }
    })
}

/// `s` without the optional whitespace (space, tab) around it.
fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// An RFC 9110 `token`: one or more of `!#$%&'*+-.^_`|~`, digits and letters.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

fn is_baggage_octet(c: u8) -> bool {
    matches!(c, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// A value as written: baggage-octets only.
fn is_value(s: &str) -> bool {
    s.bytes().all(is_baggage_octet)
}

/// The decoded value of `s`, or `None` when it holds a character outside `baggage-octet` or a
/// `%` not followed by two hex digits. Decoded bytes that are not UTF-8 become U+FFFD.
fn decode(s: &str) -> Option<String> {
    if !is_value(s) {
        return None;
    }
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let high = char::from(hex[0]).to_digit(16)?;
            let low = char::from(hex[1]).to_digit(16)?;
            out.push(u8::try_from(high * 16 + low).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Appends `value` to `out`, percent-encoding every byte outside `baggage-octet`, and `%`.
fn encode_into(value: &str, out: &mut String) {
    for &c in value.as_bytes() {
        if is_baggage_octet(c) && c != b'%' {
            out.push(char::from(c));
        } else {
            let _ = write!(out, "%{c:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(key: &str, value: &str, properties: &str) -> Member {
        Member {
            key: key.into(),
            value: value.into(),
            properties: properties.into(),
        }
    }

    /// The examples and grammar of the W3C Baggage specification, member by member.
    #[test]
    fn the_specification_rules() {
        let table: Vec<(&str, Vec<Member>)> = vec![
            // "Example: baggage: key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue"
            (
                "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
                vec![
                    member("key1", "value1", "property1;property2"),
                    member("key2", "value2", ""),
                    member("key3", "value3", "propertyKey=propertyValue"),
                ],
            ),
            ("userId=alice", vec![member("userId", "alice", "")]),
            (
                "serverNode=DF%2028,isProduction=false",
                vec![
                    member("serverNode", "DF 28", ""),
                    member("isProduction", "false", ""),
                ],
            ),
            // Percent-encoded UTF-8, and a sequence that is not UTF-8 replaced by U+FFFD.
            ("city=Z%C3%BCrich", vec![member("city", "Zürich", "")]),
            ("bad=%FF", vec![member("bad", "\u{fffd}", "")]),
            // An empty value is a valid `*baggage-octet`.
            ("empty=", vec![member("empty", "", "")]),
            // Optional whitespace everywhere it is allowed, empty members skipped.
            (
                " \tk = v ; p = q ;flag ,, ",
                vec![member("k", "v", "p=q;flag")],
            ),
            // Invalid members are dropped one by one.
            ("novalue,k=v", vec![member("k", "v", "")]),
            ("=v,k=v", vec![member("k", "v", "")]),
            ("k y=v,k=v", vec![member("k", "v", "")]),
            ("k(=v,k=v", vec![member("k", "v", "")]),
            ("k=a b,k2=v", vec![member("k2", "v", "")]),
            ("k=a\"b,k2=v", vec![member("k2", "v", "")]),
            ("k=a\\b,k2=v", vec![member("k2", "v", "")]),
            ("k=caf\u{e9},k2=v", vec![member("k2", "v", "")]),
            ("k=%G1,k2=v", vec![member("k2", "v", "")]),
            ("k=%4,k2=v", vec![member("k2", "v", "")]),
            ("k=v;p=a b,k2=v", vec![member("k2", "v", "")]),
            ("k=v;=x,k2=v", vec![member("k2", "v", "")]),
            // `=` is a baggage-octet: a value may hold it.
            ("k=a=b,k2=v", vec![member("k", "a=b", ""), member("k2", "v", "")]),
            ("", vec![]),
        ];
        for (header, expected) in table {
            assert_eq!(parse([header]), expected, "{header:?}");
        }
    }

    #[test]
    fn several_headers_are_one_list_in_order() {
        assert_eq!(
            parse(["a=1,b=2", "c=3"]),
            vec![
                member("a", "1", ""),
                member("b", "2", ""),
                member("c", "3", "")
            ]
        );
    }

    fn members(n: usize, width: usize) -> String {
        (0..n)
            .map(|i| format!("k{i:03}={}", "v".repeat(width)))
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn sixty_four_members_and_8192_bytes_are_kept_whole() {
        // 64 members of 128 bytes each with their commas: 64 * 128 - 1 = 8191 bytes.
        let header = members(64, 128 - 6);
        assert!(header.len() <= MAX_BYTES, "{}", header.len());
        let parsed = parse([header.as_str()]);
        assert_eq!(parsed.len(), 64);
        let written = to_header(parsed.iter().map(|m| (&*m.key, &*m.value, "")));
        assert_eq!(written.as_deref(), Some(&*header));
    }

    #[test]
    fn beyond_the_limits_trailing_members_are_dropped() {
        let parsed = parse([members(65, 1).as_str()]);
        assert_eq!(parsed.len(), 64);
        assert_eq!(parsed[63].key, "k063");
        // 100 members of 100 bytes: the first 81 end within 8192 bytes (81 * 101 - 1 = 8180).
        let parsed = parse([members(100, 95).as_str()]);
        assert_eq!(parsed.len(), MAX_MEMBERS);
        let parsed = parse([members(40, 300).as_str()]);
        assert_eq!(
            parsed.len(),
            8192 / 306,
            "members that end within 8192 bytes"
        );
        assert_eq!(
            parsed.last().unwrap().key,
            format!("k{:03}", 8192 / 306 - 1)
        );
        let one_huge = format!("a=1,huge={},b=2", "v".repeat(1 << 20));
        assert_eq!(parse([one_huge.as_str()]), vec![member("a", "1", "")]);
        assert_eq!(bounded_join(vec![one_huge.as_str()]), "a=1");
        // Across headers: the second one starts after the first one's bytes and a comma.
        let first = members(1, 8192 - 6); // 8191 bytes: room for nothing after the comma
        assert_eq!(parse([first.as_str(), "b=2"]).len(), 1);
        let first = members(1, 8192 - 10); // 8187 bytes, a comma, then `b=2` ends at 8191
        assert_eq!(parse([first.as_str(), "b=2", "c=3"]).len(), 2);
        assert_eq!(
            bounded_join(vec![first.as_str(), "b=2", "c=3"]),
            format!("{first},b=2")
        );
    }

    #[test]
    fn values_are_percent_encoded_on_the_way_out() {
        let header = to_header([
            ("k", "a b,c;d=e%f\"g\\h", ""),
            ("city", "Zürich", "p=q;flag"),
            ("bad key", "v", ""),
            ("ok", "v", "not valid property"),
        ]);
        assert_eq!(
            header.as_deref(),
            Some("k=a%20b%2Cc%3Bd=e%25f%22g%5Ch,city=Z%C3%BCrich;p=q;flag,ok=v")
        );
        // And back.
        let parsed = parse([header.as_deref().unwrap()]);
        assert_eq!(parsed[0].value, "a b,c;d=e%f\"g\\h");
        assert_eq!(parsed[1], member("city", "Zürich", "p=q;flag"));
        assert_eq!(to_header(std::iter::empty()), None);
    }

    #[test]
    fn the_header_written_stays_within_the_limits() {
        let long = "v".repeat(5000);
        let header = to_header([
            ("a", long.as_str(), ""),
            ("b", long.as_str(), ""),
            ("c", "1", ""),
        ])
        .unwrap();
        assert!(header.len() <= MAX_BYTES);
        assert!(
            header.starts_with("a=") && header.ends_with(",c=1"),
            "{header}"
        );
        let many: Vec<(String, String)> = (0..100).map(|i| (format!("k{i}"), "v".into())).collect();
        let header = to_header(many.iter().map(|(k, v)| (k.as_str(), v.as_str(), ""))).unwrap();
        assert_eq!(header.split(',').count(), MAX_MEMBERS);
    }
}
