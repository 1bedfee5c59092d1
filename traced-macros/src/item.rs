//! Dispatch on the annotated item: a function, or an impl block whose methods are each traced.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Attribute, ImplItem, Item, ItemFn, ItemImpl, Type};

use crate::args::{self, Args};
use crate::expand::{self, Function};

const WRONG_ITEM: &str = "`#[traced]` can only be used on a function, a method or an impl block";

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let args = match syn::parse2::<Args>(args) {
        Ok(args) => args,
        Err(err) => return fallback(&err, input),
    };
    let Ok(item) = syn::parse2::<Item>(input.clone()) else {
        return fallback(&syn::Error::new(first_span(&input), WRONG_ITEM), input);
    };
    match item {
        Item::Fn(mut function) => match trace_fn(&args, &mut function) {
            Ok(()) => function.into_token_stream(),
            Err(err) => fallback(&err, input),
        },
        Item::Impl(mut block) => match trace_impl(&args, &mut block) {
            Ok(()) => block.into_token_stream(),
            Err(err) => {
                // The untouched impl, less the methods' own `#[traced]`: they would only repeat
                // the error, so one mistake gives one message.
                let mut original = syn::parse2::<ItemImpl>(input).expect("parsed above");
                for item in &mut original.items {
                    if let ImplItem::Fn(method) = item {
                        method.attrs.retain(|attr| !is_traced(attr));
                    }
                }
                fallback(&err, original.into_token_stream())
            }
        },
        _ => fallback(&syn::Error::new(first_span(&input), WRONG_ITEM), input),
    }
}

/// The error, and the item unchanged so that the rest of the crate (and rust-analyzer) still sees it.
fn fallback(err: &syn::Error, item: TokenStream) -> TokenStream {
    let mut tokens = err.to_compile_error();
    tokens.extend(item);
    tokens
}

fn first_span(tokens: &TokenStream) -> Span {
    // Skip outer attributes and visibility: point at the item's keyword.
    let mut iter = tokens.clone().into_iter().peekable();
    while let Some(token) = iter.next() {
        match &token {
            proc_macro2::TokenTree::Punct(p) if p.as_char() == '#' => {
                iter.next();
            }
            proc_macro2::TokenTree::Ident(ident) if ident == "pub" => {
                if let Some(proc_macro2::TokenTree::Group(_)) = iter.peek() {
                    iter.next();
                }
            }
            _ => return token.span(),
        }
    }
    Span::call_site()
}

fn trace_fn(args: &Args, function: &mut ItemFn) -> syn::Result<()> {
    if let Some(skip) = args.skip {
        return Err(syn::Error::new(
            skip,
            "`skip` only applies to a method inside a `#[traced]` impl block; remove the attribute instead",
        ));
    }
    let block = expand::body(&Function {
        args,
        sig: &function.sig,
        block: &function.block,
        self_ty: None,
    })?;
    *function.block = block;
    Ok(())
}

fn trace_impl(args: &Args, block: &mut ItemImpl) -> syn::Result<()> {
    if let Some(name) = &args.name {
        return Err(syn::Error::new(
            name.span(),
            "a span name on an impl block would name every method alike; put `#[traced(\"...\")]` on the method",
        ));
    }
    if let Some(skip) = args.skip {
        return Err(syn::Error::new(
            skip,
            "`skip` applies to a method; remove `#[traced]` from the impl block instead",
        ));
    }
    let self_ty = type_ident(&block.self_ty);
    let mut errors: Option<syn::Error> = None;
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        let own = take_traced_attribute(&mut method.attrs);
        let own = match own.map(|attr| args::parse_attribute(&attr)).transpose() {
            Ok(own) => own,
            Err(err) => {
                combine(&mut errors, err);
                continue;
            }
        };
        let mut own_args;
        let method_args = match own {
            Some(parsed) if parsed.skip.is_some() => continue,
            Some(parsed) => {
                own_args = parsed;
                if own_args.krate.is_none() {
                    own_args.krate.clone_from(&args.krate);
                }
                &own_args
            }
            None => args,
        };
        match expand::body(&Function {
            args: method_args,
            sig: &method.sig,
            block: &method.block,
            self_ty: self_ty.as_ref(),
        }) {
            Ok(body) => method.block = body,
            Err(err) => combine(&mut errors, err),
        }
    }
    errors.map_or(Ok(()), Err)
}

fn combine(errors: &mut Option<syn::Error>, err: syn::Error) {
    match errors {
        Some(errors) => errors.combine(err),
        None => *errors = Some(err),
    }
}

/// Removes and returns the method's own `#[traced]` / `#[traced(...)]` (any path ending in `traced`).
fn take_traced_attribute(attrs: &mut Vec<Attribute>) -> Option<Attribute> {
    let index = attrs.iter().position(is_traced)?;
    Some(attrs.remove(index))
}

fn is_traced(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "traced")
}

/// `Type` of `impl<T> path::Type<T>`; `&Type` and `Box<Type>` name the inner type.
fn type_ident(ty: &Type) -> Option<proc_macro2::Ident> {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.clone()),
        Type::Reference(reference) => type_ident(&reference.elem),
        Type::Paren(paren) => type_ident(&paren.elem),
        Type::Group(group) => type_ident(&group.elem),
        _ => None,
    }
}
