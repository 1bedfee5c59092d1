//! The one place secrets are taken out of what the crate prints: the userinfo, query and
//! fragment of URLs (`http://user:SECRET@host:4318/v1/traces?api_key=SECRET` shows as
//! `http://REDACTED@host:4318/v1/traces?REDACTED`) and header values (`REDACTED`).
//!
//! Every message that can hold an endpoint goes through [`url`]: warnings about variables,
//! errors' `Display` and `Debug`, export failures, the `Debug` of configurations, clients and
//! exporters. The scheme, host, port and path stay: they are what a reader needs to find a
//! mistake, and they are not secrets.

/// What stands in for a secret.
pub(crate) const REDACTED: &str = "REDACTED";

/// `url` with its userinfo, query and fragment replaced by [`REDACTED`]. Works on anything,
/// URL or not (an invalid endpoint is printed too), and errs on the side of hiding: the
/// userinfo is everything between the scheme's `://` (or the start, without a scheme) and the
/// last `@` before the query, so an `@` in a path hides the host rather than risk a password.
pub(crate) fn url(url: &str) -> String {
    let start = url
        .find("://")
        .filter(|at| !url[..*at].contains(['/', '?', '#', '@']))
        .map_or(0, |at| at + 3);
    let (head, rest) = url.split_at(start);
    let tail_at = rest.find(['?', '#']).unwrap_or(rest.len());
    let (before_query, tail) = rest.split_at(tail_at);
    let mut out = String::with_capacity(url.len());
    out.push_str(head);
    match before_query.rfind('@') {
        Some(at) => {
            out.push_str(REDACTED);
            out.push_str(&before_query[at..]);
        }
        None => out.push_str(before_query),
    }
    // `?…#…`: the query and the fragment each become REDACTED; `#…`: the fragment alone.
    if let Some(query) = tail.strip_prefix('?') {
        out.push('?');
        out.push_str(REDACTED);
        if query.contains('#') {
            out.push('#');
            out.push_str(REDACTED);
        }
    } else if tail.starts_with('#') {
        out.push('#');
        out.push_str(REDACTED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_query_and_fragment_are_redacted() {
        let table = [
            (
                "http://user:SECRET@host:4318/v1/traces?api_key=SECRET",
                "http://REDACTED@host:4318/v1/traces?REDACTED",
            ),
            ("http://host:4318", "http://host:4318"),
            ("http://host:4318/v1/traces", "http://host:4318/v1/traces"),
            ("https://SECRET@host", "https://REDACTED@host"),
            (
                "http://host/p?SECRET#SECRET",
                "http://host/p?REDACTED#REDACTED",
            ),
            ("http://host/p#SECRET", "http://host/p#REDACTED"),
            ("http://host?SECRET", "http://host?REDACTED"),
            ("http://[::1]:4318/x?SECRET", "http://[::1]:4318/x?REDACTED"),
            // The last `@` ends the userinfo, even when the password holds one.
            ("http://u:p@SECRET@host:1/x", "http://REDACTED@host:1/x"),
            // An `@` in the path: the host is hidden rather than a password shown.
            ("http://SECRET/a@b", "http://REDACTED@b"),
            // Not URLs the exporter accepts, printed in warnings all the same.
            ("SECRET:SECRET@host:4317", "REDACTED@host:4317"),
            ("ftp://u:SECRET@host", "ftp://REDACTED@host"),
            ("host:4318/x?SECRET", "host:4318/x?REDACTED"),
            ("a/b://SECRET@h", "REDACTED@h"),
            ("://SECRET@h", "://REDACTED@h"),
            ("SECRET@", "REDACTED@"),
            ("@?SECRET", "REDACTED@?REDACTED"),
            ("é://ü:SECRET@ö/ä?SECRET", "é://REDACTED@ö/ä?REDACTED"),
            ("http://", "http://"),
            ("", ""),
        ];
        for (input, expected) in table {
            assert_eq!(url(input), expected, "{input}");
        }
    }
}
