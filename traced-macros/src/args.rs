//! The arguments of `#[traced(...)]`, parsed into a typed model.
//!
//! Every option is set through [`set_once`], so a duplicate is reported the same way for all of
//! them, on the second occurrence. Errors are spanned on the offending token.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

mod kw {
    syn::custom_keyword!(name);
    syn::custom_keyword!(attrs);
    syn::custom_keyword!(kind);
    syn::custom_keyword!(parent);
    syn::custom_keyword!(ret);
    syn::custom_keyword!(unset_status);
    syn::custom_keyword!(expected_err);
    syn::custom_keyword!(skip);
}

/// `#[traced(...)]` as written by the user.
#[derive(Default)]
pub(crate) struct Args {
    pub name: Option<LitStr>,
    pub attrs: Option<Vec<Attr>>,
    pub kind: Option<Kind>,
    pub parent: Option<Expr>,
    pub ret: Option<Span>,
    pub unset_status: Option<Span>,
    pub expected_err: Option<Span>,
    pub skip: Option<Span>,
    pub krate: Option<Path>,
}

/// One `key = value` of `attrs(...)`.
pub(crate) struct Attr {
    pub key: LitStr,
    pub value: AttrValue,
}

pub(crate) enum AttrValue {
    /// A value mapped to an OpenTelemetry type by its Rust type.
    Plain(Expr),
    /// `%expr`: recorded with `Display`.
    Display(Expr),
    /// `?expr`: recorded with `Debug`.
    Debug(Expr),
}

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl Kind {
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Kind::Internal => "Internal",
            Kind::Server => "Server",
            Kind::Client => "Client",
            Kind::Producer => "Producer",
            Kind::Consumer => "Consumer",
        }
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, span: Span, option: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(syn::Error::new(
            span,
            format!("duplicate `{option}` option: it may be given once"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut first = true;
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if first && lookahead.peek(LitStr) {
                let name: LitStr = input.parse()?;
                args.name = Some(check_name(name)?);
            } else if first && input.peek(Lit) {
                // `#[traced(42)]`: a name that is not a string literal.
                let literal: Lit = input.parse()?;
                return Err(syn::Error::new(
                    literal.span(),
                    "expected the span name as a string literal, e.g. `#[traced(\"orders.process\")]`",
                ));
            } else if lookahead.peek(kw::name) {
                let key: kw::name = input.parse()?;
                input.parse::<Token![=]>()?;
                let name = parse_name(input, key.span)?;
                set_once(&mut args.name, name, key.span, "name")?;
            } else if lookahead.peek(kw::attrs) {
                let key: kw::attrs = input.parse()?;
                let content;
                syn::parenthesized!(content in input);
                let attrs = parse_attrs(&content)?;
                set_once(&mut args.attrs, attrs, key.span, "attrs")?;
            } else if lookahead.peek(kw::kind) {
                let key: kw::kind = input.parse()?;
                input.parse::<Token![=]>()?;
                let kind = parse_kind(input)?;
                set_once(&mut args.kind, kind, key.span, "kind")?;
            } else if lookahead.peek(kw::parent) {
                let key: kw::parent = input.parse()?;
                input.parse::<Token![=]>()?;
                let expr: Expr = input.parse()?;
                set_once(&mut args.parent, expr, key.span, "parent")?;
            } else if lookahead.peek(kw::ret) {
                let key: kw::ret = input.parse()?;
                set_once(&mut args.ret, key.span, key.span, "ret")?;
            } else if lookahead.peek(kw::unset_status) {
                let key: kw::unset_status = input.parse()?;
                set_once(&mut args.unset_status, key.span, key.span, "unset_status")?;
            } else if lookahead.peek(kw::expected_err) {
                let key: kw::expected_err = input.parse()?;
                set_once(&mut args.expected_err, key.span, key.span, "expected_err")?;
            } else if lookahead.peek(kw::skip) {
                let key: kw::skip = input.parse()?;
                set_once(&mut args.skip, key.span, key.span, "skip")?;
            } else if lookahead.peek(Token![crate]) {
                let key: Token![crate] = input.parse()?;
                input.parse::<Token![=]>()?;
                let path = Path::parse_mod_style(input)?;
                set_once(&mut args.krate, path, key.span, "crate")?;
            } else {
                return Err(lookahead.error());
            }
            first = false;
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

fn parse_name(input: ParseStream<'_>, key: Span) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        return check_name(input.parse()?);
    }
    if input.is_empty() || input.peek(Token![,]) {
        return Err(syn::Error::new(
            key,
            "missing span name: write `name = \"orders.process\"`",
        ));
    }
    let token: proc_macro2::TokenTree = input.parse()?;
    Err(syn::Error::new(
        token.span(),
        "expected the span name as a string literal, e.g. `name = \"orders.process\"`",
    ))
}

fn check_name(name: LitStr) -> syn::Result<LitStr> {
    if name.value().trim().is_empty() {
        return Err(syn::Error::new(
            name.span(),
            "the span name must not be empty",
        ));
    }
    Ok(name)
}

fn parse_kind(input: ParseStream<'_>) -> syn::Result<Kind> {
    if input.is_empty() || input.peek(Token![,]) {
        return Err(input.error(
            "expected a span kind after `kind =`: one of `internal`, `server`, `client`, `producer`, `consumer`",
        ));
    }
    let ident = Ident::parse_any(input).map_err(|err| {
        syn::Error::new(
            err.span(),
            "expected a span kind: one of `internal`, `server`, `client`, `producer`, `consumer`",
        )
    })?;
    Ok(match ident.to_string().as_str() {
        "internal" => Kind::Internal,
        "server" => Kind::Server,
        "client" => Kind::Client,
        "producer" => Kind::Producer,
        "consumer" => Kind::Consumer,
        other => {
            return Err(syn::Error::new(
                ident.span(),
                format!(
                    "unknown span kind `{other}`: expected one of `internal`, `server`, `client`, `producer`, `consumer`"
                ),
            ))
        }
    })
}

fn parse_attrs(input: ParseStream<'_>) -> syn::Result<Vec<Attr>> {
    let mut attrs: Vec<Attr> = Vec::new();
    while !input.is_empty() {
        let key = parse_key(input)?;
        if let Some(first) = attrs.iter().find(|attr| attr.key.value() == key.value()) {
            let mut err = syn::Error::new(
                key.span(),
                format!("duplicate attribute key `{}`", key.value()),
            );
            err.combine(syn::Error::new(first.key.span(), "first given here"));
            return Err(err);
        }
        if input.is_empty() || input.peek(Token![,]) {
            return Err(syn::Error::new(
                key.span(),
                format!(
                    "missing value for attribute `{0}`: write `{0} = <expression>`",
                    key.value()
                ),
            ));
        }
        input.parse::<Token![=]>()?;
        let value = if input.peek(Token![%]) {
            input.parse::<Token![%]>()?;
            AttrValue::Display(parse_value(input, &key)?)
        } else if input.peek(Token![?]) {
            input.parse::<Token![?]>()?;
            AttrValue::Debug(parse_value(input, &key)?)
        } else {
            AttrValue::Plain(parse_value(input, &key)?)
        };
        attrs.push(Attr { key, value });
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(attrs)
}

fn parse_value(input: ParseStream<'_>, key: &LitStr) -> syn::Result<Expr> {
    if input.is_empty() || input.peek(Token![,]) {
        return Err(syn::Error::new(
            key.span(),
            format!("missing value for attribute `{}` after `=`", key.value()),
        ));
    }
    input.parse()
}

/// A key is a dotted path of identifiers (keywords allowed: `error.type`) or a string literal.
fn parse_key(input: ParseStream<'_>) -> syn::Result<LitStr> {
    const EXPECTED: &str =
        "expected an attribute key: a dotted identifier such as `order.id`, or a string literal";
    if input.peek(LitStr) {
        let key: LitStr = input.parse()?;
        if key.value().is_empty() {
            return Err(syn::Error::new(
                key.span(),
                "an attribute key must not be empty",
            ));
        }
        return Ok(key);
    }
    if !input.peek(Ident::peek_any) {
        let span = if input.is_empty() {
            input.span()
        } else {
            input.parse::<proc_macro2::TokenTree>()?.span()
        };
        return Err(syn::Error::new(span, EXPECTED));
    }
    let first = Ident::parse_any(input)?;
    let mut key = first.unraw().to_string();
    let mut span = first.span();
    while input.peek(Token![.]) {
        input.parse::<Token![.]>()?;
        let part = Ident::parse_any(input).map_err(|err| syn::Error::new(err.span(), EXPECTED))?;
        key.push('.');
        key.push_str(&part.unraw().to_string());
        span = span.join(part.span()).unwrap_or(span);
    }
    Ok(LitStr::new(&key, span))
}

/// Parses the tokens of a `#[traced...]` attribute found on an impl item.
pub(crate) fn parse_attribute(attr: &syn::Attribute) -> syn::Result<Args> {
    match &attr.meta {
        syn::Meta::Path(_) => Ok(Args::default()),
        syn::Meta::List(list) => list.parse_args(),
        syn::Meta::NameValue(nv) => Err(syn::Error::new(
            nv.eq_token.span(),
            "expected `#[traced]` or `#[traced(...)]`",
        )),
    }
}

/// Whether `expr` is a string literal, which can be recorded without allocating.
pub(crate) fn as_str_literal(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit),
        _ => None,
    }
}
