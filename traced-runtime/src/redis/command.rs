//! What a span says about a command: its name and its query text, read from the `Cmd` or
//! `Pipeline` (async connections) or from the packed RESP bytes (sync connections) without
//! copying.
//!
//! The name of a known command is a `&'static str` found in a table (no allocation, sampled or
//! not); the query text is written only for a recording span.

use std::borrow::Cow;
use std::fmt::Write as _;

use redis::{Arg, Cmd, Pipeline};

/// The span name of a pipeline, and of a transaction (an atomic pipeline).
pub(crate) const PIPELINE: &str = "PIPELINE";
pub(crate) const MULTI: &str = "MULTI";
/// The name of a command whose name cannot be read (an empty or malformed command): the
/// database span name convention's fallback, `db.system.name`.
const UNKNOWN: &str = "redis";
/// Values longer than this are cut in the query text when values are kept.
const MAX_VALUE_LEN: usize = 256;

/// One command of a connection, as its arguments (the name first).
///
/// Given to the [attributes hook](super::RedisTracing::with_attributes) through
/// [`Operation::commands`].
#[derive(Clone, Copy, Debug)]
pub struct Command<'a> {
    source: Source<'a>,
}

#[derive(Clone, Copy, Debug)]
enum Source<'a> {
    Cmd(&'a Cmd),
    /// The RESP array of one command (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`).
    Packed(&'a [u8]),
}

impl<'a> Command<'a> {
    pub(crate) fn from_cmd(cmd: &'a Cmd) -> Self {
        Command {
            source: Source::Cmd(cmd),
        }
    }

    pub(crate) fn from_packed(packed: &'a [u8]) -> Self {
        Command {
            source: Source::Packed(packed),
        }
    }

    /// The command name as `db.operation.name` has it: upper case (`GET`, `HSET`).
    pub fn name(&self) -> Cow<'static, str> {
        self.args()
            .next()
            .map_or(Cow::Borrowed(UNKNOWN), canonical_name)
    }

    /// Every argument, the command name first, as sent.
    pub fn args(&self) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
        match self.source {
            Source::Cmd(cmd) => Either::Left(cmd.args_iter().map(|arg| match arg {
                Arg::Simple(bytes) => bytes,
                // The cursor of a `SCAN`-like command: its value is not reachable here.
                _ => b"?".as_slice(),
            })),
            Source::Packed(packed) => Either::Right(PackedArgs::new(packed)),
        }
    }

    /// Appends this command's `db.query.text` to `out`: the name (and the subcommand of a
    /// container command such as `CLIENT KILL`), then each argument as `?`, or its value when
    /// `keep_values` (never for the commands that carry credentials).
    pub(crate) fn write_query_text(&self, out: &mut String, keep_values: bool) {
        let mut args = self.args();
        let Some(first) = args.next() else {
            out.push_str(UNKNOWN);
            return;
        };
        let name = canonical_name(first);
        out.push_str(&name);
        let keep_values = keep_values && !SENSITIVE.contains(&name.as_ref());
        if CONTAINERS.contains(&name.as_ref()) {
            if let Some(sub) = args.next() {
                out.push(' ');
                if is_keyword(sub) {
                    // Checked ASCII: the conversion cannot fail.
                    for &byte in sub {
                        out.push(char::from(byte.to_ascii_uppercase()));
                    }
                } else {
                    out.push('?');
                }
            }
        }
        for arg in args {
            out.push(' ');
            if keep_values {
                write_value(out, arg);
            } else {
                out.push('?');
            }
        }
    }
}

/// The commands of one pipeline.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Batch<'a> {
    Pipeline(&'a Pipeline),
    /// A packed pipeline: `count` commands after the first `skip` (a transaction's `MULTI`).
    Packed {
        packed: &'a [u8],
        skip: usize,
        count: usize,
    },
}

impl<'a> Batch<'a> {
    pub(crate) fn commands(self) -> impl Iterator<Item = Command<'a>> + 'a {
        match self {
            Batch::Pipeline(pipeline) => Either::Left(pipeline.cmd_iter().map(Command::from_cmd)),
            Batch::Packed {
                packed,
                skip,
                count,
            } => Either::Right(
                PackedCommands { rest: packed }
                    .skip(skip)
                    .take(count)
                    .map(Command::from_packed),
            ),
        }
    }

    pub(crate) fn len(self) -> usize {
        match self {
            Batch::Pipeline(pipeline) => pipeline.len(),
            Batch::Packed { count, .. } => count,
        }
    }
}

/// A command or a pipeline, as the [attributes hook](super::RedisTracing::with_attributes)
/// sees it.
#[derive(Clone, Copy, Debug)]
pub struct Operation<'a> {
    kind: OperationKind<'a>,
}

#[derive(Clone, Copy, Debug)]
enum OperationKind<'a> {
    Command(Command<'a>),
    Batch { batch: Batch<'a>, atomic: bool },
}

impl<'a> Operation<'a> {
    pub(crate) fn command(command: Command<'a>) -> Self {
        Operation {
            kind: OperationKind::Command(command),
        }
    }

    pub(crate) fn batch(batch: Batch<'a>, atomic: bool) -> Self {
        Operation {
            kind: OperationKind::Batch { batch, atomic },
        }
    }

    /// The span name and `db.operation.name`: the command's name, or `PIPELINE`, or `MULTI`
    /// for a transaction.
    pub fn name(&self) -> Cow<'static, str> {
        match self.kind {
            OperationKind::Command(command) => command.name(),
            OperationKind::Batch { atomic: true, .. } => Cow::Borrowed(MULTI),
            OperationKind::Batch { atomic: false, .. } => Cow::Borrowed(PIPELINE),
        }
    }

    /// Whether this is a pipeline or a transaction.
    pub fn is_pipeline(&self) -> bool {
        matches!(self.kind, OperationKind::Batch { .. })
    }

    /// The number of commands: 1 for a command, the pipeline's commands (without the
    /// `MULTI`/`EXEC` around a transaction) for a pipeline.
    pub fn len(&self) -> usize {
        match self.kind {
            OperationKind::Command(_) => 1,
            OperationKind::Batch { batch, .. } => batch.len(),
        }
    }

    /// Whether there is no command (an empty pipeline).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The commands, in order.
    pub fn commands(&self) -> impl Iterator<Item = Command<'a>> + 'a {
        match self.kind {
            OperationKind::Command(command) => Either::Left(std::iter::once(command)),
            OperationKind::Batch { batch, .. } => Either::Right(batch.commands()),
        }
    }

    /// `db.query.text`: one command's text, or those of a pipeline's commands joined with
    /// `"; "` (the database conventions' batch rule).
    pub(crate) fn query_text(&self, keep_values: bool) -> String {
        let mut out = String::with_capacity(16 * self.len().max(1));
        for (index, command) in self.commands().enumerate() {
            if index > 0 {
                out.push_str("; ");
            }
            command.write_query_text(&mut out, keep_values);
        }
        out
    }
}

/// Commands whose arguments may hold credentials: their values are never written, whatever
/// the option says (`AUTH [user] password`, `HELLO 3 AUTH user password`, `MIGRATE .. AUTH
/// password`, `ACL SETUSER name >password`, `CONFIG SET requirepass ..`).
const SENSITIVE: &[&str] = &["ACL", "AUTH", "CONFIG", "HELLO", "MIGRATE"];

/// Commands whose second word is a subcommand (`CLIENT KILL`): kept in the query text.
const CONTAINERS: &[&str] = &[
    "ACL", "CLIENT", "CLUSTER", "COMMAND", "CONFIG", "FUNCTION", "LATENCY", "MEMORY", "MODULE",
    "OBJECT", "PUBSUB", "SCRIPT", "SLOWLOG", "XGROUP", "XINFO",
];

/// A subcommand-like word: short, ASCII letters, digits, `-` and `_`.
fn is_keyword(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes.len() <= 32
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
}

/// `value` as redis-cli would echo it: bare when printable without spaces or quotes, else
/// double-quoted with escapes; cut after [`MAX_VALUE_LEN`] bytes.
fn write_value(out: &mut String, value: &[u8]) {
    let (shown, cut) = if value.len() > MAX_VALUE_LEN {
        (&value[..MAX_VALUE_LEN], value.len())
    } else {
        (value, 0)
    };
    let bare = !shown.is_empty()
        && shown
            .iter()
            .all(|&byte| byte.is_ascii_graphic() && !matches!(byte, b'"' | b'\'' | b'\\'));
    if bare {
        // ASCII graphic bytes only: each is one char.
        out.extend(shown.iter().map(|&byte| char::from(byte)));
    } else {
        out.push('"');
        for chunk in shown.utf8_chunks() {
            for ch in chunk.valid().chars() {
                match ch {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    ch if ch.is_control() => {
                        let _ = write!(out, "\\u{{{:x}}}", u32::from(ch));
                    }
                    ch => out.push(ch),
                }
            }
            for byte in chunk.invalid() {
                let _ = write!(out, "\\x{byte:02x}");
            }
        }
        out.push('"');
    }
    if cut > 0 {
        let _ = write!(out, "...({cut} bytes)");
    }
}

/// The upper-case name of a command: a `&'static str` from [`NAMES`] when known (any case),
/// else an upper-cased copy.
pub(crate) fn canonical_name(name: &[u8]) -> Cow<'static, str> {
    if let Some(hot) = hot_name(name) {
        return Cow::Borrowed(hot);
    }
    let mut upper = [0u8; 24];
    if name.len() <= upper.len() {
        let upper = &mut upper[..name.len()];
        for (slot, byte) in upper.iter_mut().zip(name) {
            *slot = byte.to_ascii_uppercase();
        }
        if let Ok(index) = NAMES.binary_search_by(|known| known.as_bytes().cmp(upper)) {
            return Cow::Borrowed(NAMES[index]);
        }
    }
    if name.is_empty() {
        return Cow::Borrowed(UNKNOWN);
    }
    Cow::Owned(String::from_utf8_lossy(name).to_ascii_uppercase())
}

/// The most common commands as redis-rs spells them (upper case): one `match` on the bytes,
/// before the binary search's upper-casing and string comparisons (about 400 instructions).
fn hot_name(name: &[u8]) -> Option<&'static str> {
    Some(match name {
        b"GET" => "GET",
        b"SET" => "SET",
        b"DEL" => "DEL",
        b"MGET" => "MGET",
        b"MSET" => "MSET",
        b"SETEX" => "SETEX",
        b"INCRBY" => "INCRBY",
        b"EXPIRE" => "EXPIRE",
        b"EXISTS" => "EXISTS",
        b"TTL" => "TTL",
        b"HGET" => "HGET",
        b"HSET" => "HSET",
        b"HGETALL" => "HGETALL",
        b"HDEL" => "HDEL",
        b"LPUSH" => "LPUSH",
        b"RPUSH" => "RPUSH",
        b"LPOP" => "LPOP",
        b"RPOP" => "RPOP",
        b"LRANGE" => "LRANGE",
        b"SADD" => "SADD",
        b"SMEMBERS" => "SMEMBERS",
        b"ZADD" => "ZADD",
        b"ZRANGE" => "ZRANGE",
        b"PUBLISH" => "PUBLISH",
        b"EVALSHA" => "EVALSHA",
        b"PING" => "PING",
        _ => return None,
    })
}

/// The commands of Redis 8 (and of its modules' common ones), sorted for a binary search.
const NAMES: &[&str] = &[
    "ACL",
    "APPEND",
    "ASKING",
    "AUTH",
    "BF.ADD",
    "BF.EXISTS",
    "BF.MADD",
    "BF.MEXISTS",
    "BF.RESERVE",
    "BGREWRITEAOF",
    "BGSAVE",
    "BITCOUNT",
    "BITFIELD",
    "BITFIELD_RO",
    "BITOP",
    "BITPOS",
    "BLMOVE",
    "BLMPOP",
    "BLPOP",
    "BRPOP",
    "BRPOPLPUSH",
    "BZMPOP",
    "BZPOPMAX",
    "BZPOPMIN",
    "CLIENT",
    "CLUSTER",
    "COMMAND",
    "CONFIG",
    "COPY",
    "DBSIZE",
    "DEBUG",
    "DECR",
    "DECRBY",
    "DEL",
    "DISCARD",
    "DUMP",
    "ECHO",
    "EVAL",
    "EVALSHA",
    "EVALSHA_RO",
    "EVAL_RO",
    "EXEC",
    "EXISTS",
    "EXPIRE",
    "EXPIREAT",
    "EXPIRETIME",
    "FAILOVER",
    "FCALL",
    "FCALL_RO",
    "FLUSHALL",
    "FLUSHDB",
    "FT.AGGREGATE",
    "FT.CREATE",
    "FT.SEARCH",
    "FUNCTION",
    "GEOADD",
    "GEODIST",
    "GEOHASH",
    "GEOPOS",
    "GEORADIUS",
    "GEORADIUSBYMEMBER",
    "GEORADIUSBYMEMBER_RO",
    "GEORADIUS_RO",
    "GEOSEARCH",
    "GEOSEARCHSTORE",
    "GET",
    "GETBIT",
    "GETDEL",
    "GETEX",
    "GETRANGE",
    "GETSET",
    "HDEL",
    "HELLO",
    "HEXISTS",
    "HEXPIRE",
    "HEXPIREAT",
    "HEXPIRETIME",
    "HGET",
    "HGETALL",
    "HGETDEL",
    "HGETEX",
    "HINCRBY",
    "HINCRBYFLOAT",
    "HKEYS",
    "HLEN",
    "HMGET",
    "HMSET",
    "HPERSIST",
    "HPEXPIRE",
    "HPEXPIREAT",
    "HPEXPIRETIME",
    "HPTTL",
    "HRANDFIELD",
    "HSCAN",
    "HSET",
    "HSETEX",
    "HSETNX",
    "HSTRLEN",
    "HTTL",
    "HVALS",
    "INCR",
    "INCRBY",
    "INCRBYFLOAT",
    "INFO",
    "JSON.ARRAPPEND",
    "JSON.DEL",
    "JSON.GET",
    "JSON.MGET",
    "JSON.SET",
    "KEYS",
    "LASTSAVE",
    "LATENCY",
    "LCS",
    "LINDEX",
    "LINSERT",
    "LLEN",
    "LMOVE",
    "LMPOP",
    "LOLWUT",
    "LPOP",
    "LPOS",
    "LPUSH",
    "LPUSHX",
    "LRANGE",
    "LREM",
    "LSET",
    "LTRIM",
    "MEMORY",
    "MGET",
    "MIGRATE",
    "MODULE",
    "MONITOR",
    "MOVE",
    "MSET",
    "MSETNX",
    "MULTI",
    "OBJECT",
    "PERSIST",
    "PEXPIRE",
    "PEXPIREAT",
    "PEXPIRETIME",
    "PFADD",
    "PFCOUNT",
    "PFMERGE",
    "PING",
    "PSETEX",
    "PSUBSCRIBE",
    "PTTL",
    "PUBLISH",
    "PUBSUB",
    "PUNSUBSCRIBE",
    "QUIT",
    "RANDOMKEY",
    "READONLY",
    "READWRITE",
    "RENAME",
    "RENAMENX",
    "REPLICAOF",
    "RESET",
    "RESTORE",
    "ROLE",
    "RPOP",
    "RPOPLPUSH",
    "RPUSH",
    "RPUSHX",
    "SADD",
    "SAVE",
    "SCAN",
    "SCARD",
    "SCRIPT",
    "SDIFF",
    "SDIFFSTORE",
    "SELECT",
    "SET",
    "SETBIT",
    "SETEX",
    "SETNX",
    "SETRANGE",
    "SHUTDOWN",
    "SINTER",
    "SINTERCARD",
    "SINTERSTORE",
    "SISMEMBER",
    "SLOWLOG",
    "SMEMBERS",
    "SMISMEMBER",
    "SMOVE",
    "SORT",
    "SORT_RO",
    "SPOP",
    "SPUBLISH",
    "SRANDMEMBER",
    "SREM",
    "SSCAN",
    "SSUBSCRIBE",
    "STRLEN",
    "SUBSCRIBE",
    "SUNION",
    "SUNIONSTORE",
    "SUNSUBSCRIBE",
    "SWAPDB",
    "TIME",
    "TOUCH",
    "TTL",
    "TYPE",
    "UNLINK",
    "UNSUBSCRIBE",
    "UNWATCH",
    "WAIT",
    "WAITAOF",
    "WATCH",
    "XACK",
    "XADD",
    "XAUTOCLAIM",
    "XCLAIM",
    "XDEL",
    "XGROUP",
    "XINFO",
    "XLEN",
    "XPENDING",
    "XRANGE",
    "XREAD",
    "XREADGROUP",
    "XREVRANGE",
    "XTRIM",
    "ZADD",
    "ZCARD",
    "ZCOUNT",
    "ZDIFF",
    "ZDIFFSTORE",
    "ZINCRBY",
    "ZINTER",
    "ZINTERCARD",
    "ZINTERSTORE",
    "ZLEXCOUNT",
    "ZMPOP",
    "ZMSCORE",
    "ZPOPMAX",
    "ZPOPMIN",
    "ZRANDMEMBER",
    "ZRANGE",
    "ZRANGEBYLEX",
    "ZRANGEBYSCORE",
    "ZRANGESTORE",
    "ZRANK",
    "ZREM",
    "ZREMRANGEBYLEX",
    "ZREMRANGEBYRANK",
    "ZREMRANGEBYSCORE",
    "ZREVRANGE",
    "ZREVRANGEBYLEX",
    "ZREVRANGEBYSCORE",
    "ZREVRANK",
    "ZSCAN",
    "ZSCORE",
    "ZUNION",
    "ZUNIONSTORE",
];

/// The arguments of one packed command (a RESP array of bulk strings). Stops at the first
/// malformed byte: the connection sends what redis-rs packed, which is well formed.
#[derive(Clone)]
struct PackedArgs<'a> {
    rest: &'a [u8],
    remaining: usize,
}

impl<'a> PackedArgs<'a> {
    fn new(packed: &'a [u8]) -> Self {
        match read_header(packed, b'*') {
            Some((count, rest)) => PackedArgs {
                rest,
                remaining: count,
            },
            None => PackedArgs {
                rest: &[],
                remaining: 0,
            },
        }
    }
}

impl<'a> Iterator for PackedArgs<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        match read_bulk(self.rest) {
            Some((bulk, rest)) => {
                self.rest = rest;
                Some(bulk)
            }
            None => {
                self.remaining = 0;
                None
            }
        }
    }
}

/// The packed commands of a packed pipeline, one RESP array each.
#[derive(Clone)]
struct PackedCommands<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for PackedCommands<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.rest;
        let (count, mut rest) = read_header(start, b'*')?;
        for _ in 0..count {
            let Some((_, after)) = read_bulk(rest) else {
                self.rest = &[];
                return None;
            };
            rest = after;
        }
        self.rest = rest;
        Some(&start[..start.len() - rest.len()])
    }
}

/// `{marker}{decimal}\r\n`: the decimal and what follows.
fn read_header(bytes: &[u8], marker: u8) -> Option<(usize, &[u8])> {
    let rest = bytes.strip_prefix(&[marker])?;
    let end = rest.iter().position(|&byte| byte == b'\r')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits.iter().fold(0usize, |value, digit| {
        value * 10 + usize::from(digit - b'0')
    });
    let rest = rest[end..].strip_prefix(b"\r\n")?;
    Some((value, rest))
}

/// `$len\r\n{bytes}\r\n`: the bytes and what follows.
fn read_bulk(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = read_header(bytes, b'$')?;
    if rest.len() < len {
        return None;
    }
    let (bulk, rest) = rest.split_at(len);
    Some((bulk, rest.strip_prefix(b"\r\n")?))
}

/// One of two iterators: the arguments of a `Cmd` or of packed bytes.
#[derive(Clone)]
enum Either<L, R> {
    Left(L),
    Right(R),
}

impl<T, L: Iterator<Item = T>, R: Iterator<Item = T>> Iterator for Either<L, R> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            Either::Left(left) => left.next(),
            Either::Right(right) => right.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cmd: &Cmd, keep_values: bool) -> String {
        let mut out = String::new();
        Command::from_cmd(cmd).write_query_text(&mut out, keep_values);
        let packed = cmd.get_packed_command();
        let mut from_packed = String::new();
        Command::from_packed(&packed).write_query_text(&mut from_packed, keep_values);
        assert_eq!(out, from_packed, "a Cmd and its packed bytes read the same");
        out
    }

    #[test]
    fn the_names_table_is_sorted_and_upper_case() {
        assert!(NAMES.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(NAMES.iter().all(|name| name.to_ascii_uppercase() == *name));
    }

    #[test]
    fn every_known_name_borrows_itself_in_any_case() {
        for name in NAMES {
            assert!(matches!(canonical_name(name.as_bytes()), Cow::Borrowed(n) if n == *name));
            let lower = name.to_ascii_lowercase();
            assert!(matches!(canonical_name(lower.as_bytes()), Cow::Borrowed(n) if n == *name));
            if let Some(hot) = hot_name(name.as_bytes()) {
                assert_eq!(hot, *name);
            }
        }
        for hot in [
            b"GET".as_slice(),
            b"SETEX",
            b"INCRBY",
            b"HGETALL",
            b"EVALSHA",
        ] {
            assert!(NAMES.contains(&hot_name(hot).unwrap()));
        }
    }

    #[test]
    fn known_names_borrow_and_unknown_ones_are_upper_cased() {
        assert!(matches!(canonical_name(b"get"), Cow::Borrowed("GET")));
        assert!(matches!(canonical_name(b"HSet"), Cow::Borrowed("HSET")));
        assert!(matches!(
            canonical_name(b"json.get"),
            Cow::Borrowed("JSON.GET")
        ));
        assert_eq!(canonical_name(b"my.command"), "MY.COMMAND");
        assert_eq!(canonical_name(b""), "redis");
    }

    #[test]
    fn values_become_question_marks_by_default() {
        let mut cmd = redis::cmd("set");
        cmd.arg("user:1").arg("secret value").arg("EX").arg(60);
        assert_eq!(text(&cmd, false), "SET ? ? ? ?");
        assert_eq!(
            text(&cmd, true),
            "SET user:1 \"secret value\" EX 60",
            "kept values are quoted as redis-cli does"
        );
    }

    #[test]
    fn credentials_are_never_written() {
        let mut auth = redis::cmd("AUTH");
        auth.arg("user").arg("hunter2");
        assert_eq!(text(&auth, true), "AUTH ? ?");
        let mut hello = redis::cmd("HELLO");
        hello.arg(3).arg("AUTH").arg("user").arg("hunter2");
        assert_eq!(text(&hello, true), "HELLO ? ? ? ?");
        let mut acl = redis::cmd("ACL");
        acl.arg("SETUSER").arg("bob").arg(">hunter2");
        assert_eq!(text(&acl, true), "ACL SETUSER ? ?");
        let mut config = redis::cmd("config");
        config.arg("set").arg("requirepass").arg("hunter2");
        assert_eq!(text(&config, true), "CONFIG SET ? ?");
    }

    #[test]
    fn subcommands_are_kept() {
        let mut kill = redis::cmd("CLIENT");
        kill.arg("kill").arg("ID").arg(7);
        assert_eq!(text(&kill, false), "CLIENT KILL ? ?");
        let mut odd = redis::cmd("CLIENT");
        odd.arg("not a keyword");
        assert_eq!(text(&odd, false), "CLIENT ?");
    }

    #[test]
    fn binary_and_long_values_are_escaped_and_cut() {
        let mut cmd = redis::cmd("SET");
        cmd.arg("k").arg(b"a\"b\\\n\xff".as_slice());
        assert_eq!(text(&cmd, true), "SET k \"a\\\"b\\\\\\n\\xff\"");
        let mut long = redis::cmd("SET");
        long.arg("k").arg("x".repeat(300));
        assert_eq!(
            text(&long, true),
            format!("SET k {}...(300 bytes)", "x".repeat(256))
        );
    }

    #[test]
    fn a_packed_pipeline_reads_as_its_commands() {
        let mut pipe = redis::pipe();
        pipe.atomic().set("k", "v").ignore().get("k");
        let packed = pipe.get_packed_pipeline();
        let batch = Batch::Packed {
            packed: &packed,
            skip: 1,
            count: 2,
        };
        assert_eq!(
            Operation::batch(batch, true).query_text(false),
            "SET ? ?; GET ?"
        );
        let structured = Operation::batch(Batch::Pipeline(&pipe), true);
        assert_eq!(structured.query_text(false), "SET ? ?; GET ?");
        assert_eq!(structured.name(), "MULTI");
        assert_eq!(structured.len(), 2);
    }

    #[test]
    fn malformed_packed_bytes_end_the_arguments() {
        assert_eq!(PackedArgs::new(b"*2\r\n$3\r\nGET\r\n$9\r\nk").count(), 1);
        assert_eq!(PackedArgs::new(b"junk").count(), 0);
        assert_eq!(Command::from_packed(b"").name(), "redis");
    }
}
