//! The W3C Trace Context (Level 2) rules for `tracestate`, checked before the SDK parses it
//! (opentelemetry 0.33 lets an empty key or value through): an invalid `tracestate` is dropped
//! whole, as the specification asks, and the `traceparent` beside it still counts.

/// Most list-members in a `tracestate`.
const MAX_MEMBERS: usize = 32;
/// Longest header read: 32 members of the longest key (256) and value (256), their `=` and
/// commas, with room for optional whitespace and empty members. Longer is invalid, unread.
pub(crate) const MAX_BYTES: usize = 20_000;

/// Whether `value` (every `tracestate` header joined with commas) is a valid `tracestate`.
pub(crate) fn is_valid(value: &str) -> bool {
    if value.len() > MAX_BYTES {
        return false;
    }
    let mut keys: Vec<&str> = Vec::new();
    for member in value.split(',') {
        // Optional whitespace around members, and empty members, are allowed and skipped.
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        let Some((key, value)) = member.split_once('=') else {
            return false;
        };
        if !valid_key(key) || !valid_value(value) || keys.contains(&key) {
            return false;
        }
        keys.push(key);
        if keys.len() > MAX_MEMBERS {
            return false;
        }
    }
    true
}

/// `simple-key` (a lowercase letter, then up to 255 of `a-z0-9_-*/`) or `tenant@system`
/// (tenant: a lowercase letter or digit, then up to 240 more; system: a lowercase letter, then up
/// to 13 more).
fn valid_key(key: &str) -> bool {
    let tail = |s: &str| {
        s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-*/".contains(&c))
    };
    match key.split_once('@') {
        None => {
            key.len() <= 256
                && key.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
                && tail(&key[1..])
        }
        Some((tenant, system)) => {
            (1..=241).contains(&tenant.len())
                && tenant
                    .as_bytes()
                    .first()
                    .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && tail(&tenant[1..])
                && (1..=14).contains(&system.len())
                && system
                    .as_bytes()
                    .first()
                    .is_some_and(u8::is_ascii_lowercase)
                && tail(&system[1..])
        }
    }
}

/// 1 to 256 printable ASCII characters but `,` and `=`, the last not a space.
fn valid_value(value: &str) -> bool {
    (1..=256).contains(&value.len())
        && value
            .bytes()
            .all(|c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
        && !value.ends_with(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_rules() {
        let a241 = "a".repeat(241);
        let a242 = "a".repeat(242);
        let v256 = "v".repeat(256);
        let v257 = "v".repeat(257);
        let k256 = "k".repeat(256);
        let k257 = "k".repeat(257);
        let table: Vec<(String, bool)> = vec![
            ("".into(), true),
            ("congo=t61rcWkgMzE".into(), true),
            ("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE".into(), true),
            (" rojo=1 ,\t,, congo=2 ".into(), true),
            ("fw529a3039@dt=b".into(), true),
            ("0tenant@system=v".into(), true),
            (format!("{a241}@s=v"), true),
            (format!("{a242}@s=v"), false),
            ("t@abcdefghijklmn=v".into(), true),
            ("t@abcdefghijklmno=v".into(), false),
            ("t@0system=v".into(), false),
            (format!("{k256}=v"), true),
            (format!("{k257}=v"), false),
            (format!("k={v256}"), true),
            (format!("k={v257}"), false),
            ("=".into(), false),
            ("foo=".into(), false),
            ("=bar".into(), false),
            ("Foo=bar".into(), false),
            ("0foo=bar".into(), false),
            ("foo=bar baz".into(), true),
            ("foo=bar ".into(), true), // trailing OWS of the member, not of the value
            ("foo=a=b".into(), false),
            ("foo".into(), false),
            ("foo=1,foo=2".into(), false),
            ("foo=caf\u{e9}".into(), false),
            // More rows from the grammar of Level 2, section 3.3.1.
            ("foo= bar".into(), true),  // a value may start with a space
            ("foo=a\tb".into(), false), // but holds no tab
            ("foo=~!\"#$%&'()*+-./:;<>?@[\\]^_`{|}".into(), true),
            ("a.b=v".into(), false),
            ("a_b-c*d/e=v".into(), true),
            ("@system=v".into(), false),
            ("tenant@=v".into(), false),
            ("t@s@x=v".into(), false),
            ("t@Sys=v".into(), false),
            ("T@sys=v".into(), false),
            ("_t@sys=v".into(), false),
            ("t@s_y-s*/=v".into(), true),
            (format!("{k256}=v,{a241}@abcdefghijklmn=v"), true),
            (format!("{a241}@abcdefghijklmn=v"), true), // 256 characters in all
            // Empty members do not count towards the 32.
            (
                (0..32).map(|i| format!("k{i}=v, ,")).collect::<String>(),
                true,
            ),
        ];
        for (value, valid) in table {
            assert_eq!(is_valid(&value), valid, "{value:?}");
        }
    }

    #[test]
    fn thirty_two_members_at_most() {
        let members = |n: usize| {
            (0..n)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert!(is_valid(&members(32)));
        assert!(!is_valid(&members(33)), "a longer list is invalid whole");
    }

    #[test]
    fn a_huge_header_is_refused_unread() {
        assert!(!is_valid(&"k=v,".repeat(MAX_BYTES)));
    }
}
