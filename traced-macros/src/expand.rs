//! Code generation: one function body in, the same body running inside a span out.
//!
//! Every name the expansion uses is an absolute path into `::traced_runtime::__private` (or the
//! `crate = path` override), and every local it introduces is made with `Span::mixed_site()`, so
//! user code can neither see nor shadow them.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Block, Expr, ExprAsync, ExprCall, ReturnType, Signature, Stmt, Type};

use crate::args::{as_str_literal, Args, AttrValue};

/// What the expansion needs to know about one function.
pub(crate) struct Function<'a> {
    pub args: &'a Args,
    pub sig: &'a Signature,
    pub block: &'a Block,
    /// `Type` of the enclosing `#[traced] impl Type`, for the default span name `module::Type::method`.
    pub self_ty: Option<&'a Ident>,
}

/// The shape of the body, which decides where the span is entered and ended.
enum Shape<'a> {
    /// `fn f() -> T`: the body runs in a closure inside the span.
    Sync,
    /// `async fn f() -> T`: the body becomes an instrumented `async` block awaited in place.
    Async,
    /// `fn f() -> impl Future<Output = T>`: the returned future is instrumented.
    ImplFuture,
    /// An `#[async_trait]` expansion: `Box::pin(async move { .. })` as the final expression.
    AsyncTrait(&'a ExprAsync),
}

pub(crate) fn validate(sig: &Signature) -> syn::Result<()> {
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new(
            constness.span,
            "`#[traced]` cannot be used on a `const fn`: a span is created at run time",
        ));
    }
    Ok(())
}

pub(crate) fn body(function: &Function<'_>) -> syn::Result<Block> {
    validate(function.sig)?;
    let args = function.args;
    let krate = args
        .krate
        .as_ref()
        .map_or_else(|| quote!(::traced_runtime), ToTokens::to_token_stream);
    let private = quote!(#krate::__private);

    let span_var = Ident::new("__traced_span", Span::mixed_site());
    let ret_var = Ident::new("__traced_ret", Span::mixed_site());
    let callsite_var = Ident::new("__TRACED_CALLSITE", Span::mixed_site());

    let callsite = callsite(function, &private, &callsite_var);
    let start = start(function, &private, &callsite_var);
    let finish = finish(args, &private, &span_var, &ret_var);
    let block = function.block;

    let stmts: TokenStream = match shape(function.sig, block) {
        Shape::Sync => {
            // The closure's return type is the function's, so that the body type-checks as
            // written (a diverging body included); `impl Trait` cannot be written there.
            let closure_ret = match &function.sig.output {
                ReturnType::Default => quote!(-> ()),
                ReturnType::Type(arrow, ty) if !contains_impl_trait(ty) => quote!(#arrow #ty),
                ReturnType::Type(..) => TokenStream::new(),
            };
            // `unsafe fn` bodies are unsafe contexts; the closure is not, so it gets a block.
            let body = match &function.sig.unsafety {
                Some(unsafety) => quote!({ #unsafety #block }),
                None => quote!(#block),
            };
            let body_var = Ident::new("__traced_body", Span::mixed_site());
            quote! {
                #callsite
                #[allow(unused_unsafe)]
                let #body_var = #private::body(move || #closure_ret #body);
                // Nothing installed: one load and a branch.
                if #private::disabled() {
                    return #body_var();
                }
                let mut #span_var = #start;
                let #ret_var = #span_var.in_scope(#body_var);
                #finish
                #ret_var
            }
        }
        Shape::Async => {
            let fake_return = fake_return_edge(&function.sig.output);
            quote! {
                #callsite
                let mut #span_var = #start;
                let #ret_var = #private::Instrumented::new(&mut #span_var, async move {
                    #fake_return
                    #block
                })
                .await;
                #finish
                #ret_var
            }
        }
        Shape::ImplFuture => quote! {
            #callsite
            let mut #span_var = #start;
            let __traced_future = #span_var.in_scope(move || #block);
            async move {
                let #ret_var = #private::Instrumented::new(&mut #span_var, __traced_future).await;
                #finish
                #ret_var
            }
        },
        Shape::AsyncTrait(inner) => {
            // Input:  Box::pin(async move { let __ret: R = { body }; __ret })
            // Output: let span = start(..);
            //         Box::pin(async move { let ret = Instrumented::new(&mut span, async move { .. }).await; finish; ret })
            let (last, leading) = block
                .stmts
                .split_last()
                .expect("shape checked a final expression");
            let Stmt::Expr(Expr::Call(call), None) = last else {
                unreachable!("shape checked the final `Box::pin` call")
            };
            let func = &call.func;
            let inner_block = &inner.block;
            let inner_attrs = &inner.attrs;
            quote! {
                #callsite
                let mut #span_var = #start;
                #(#leading)*
                #func(async move {
                    let #ret_var = #private::Instrumented::new(
                        &mut #span_var,
                        #(#inner_attrs)* async move #inner_block,
                    )
                    .await;
                    #finish
                    #ret_var
                })
            }
        }
    };
    syn::parse2(quote_spanned!(block.span()=> { #stmts }))
}

fn shape<'a>(sig: &Signature, block: &'a Block) -> Shape<'a> {
    if sig.asyncness.is_some() {
        return Shape::Async;
    }
    if let Some(inner) = async_trait_body(block) {
        return Shape::AsyncTrait(inner);
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        if is_impl_future(ty) {
            return Shape::ImplFuture;
        }
    }
    Shape::Sync
}

/// Recognises the body that `#[async_trait]` leaves: a final `Box::pin(async move { .. })`.
fn async_trait_body(block: &Block) -> Option<&ExprAsync> {
    let Some(Stmt::Expr(Expr::Call(ExprCall { func, args, .. }), None)) = block.stmts.last() else {
        return None;
    };
    let Expr::Path(path) = func.as_ref() else {
        return None;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) || args.len() != 1 {
        return None;
    }
    match args.first() {
        Some(Expr::Async(inner)) if inner.capture.is_some() => Some(inner),
        _ => None,
    }
}

fn is_impl_future(ty: &Type) -> bool {
    let Type::ImplTrait(impl_trait) = ty else {
        return false;
    };
    impl_trait.bounds.iter().any(|bound| match bound {
        syn::TypeParamBound::Trait(bound) => bound
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Future"),
        _ => false,
    })
}

fn contains_impl_trait(ty: &Type) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => ident == "impl",
            TokenTree::Group(group) => walk(group.stream()),
            _ => false,
        })
    }
    walk(ty.to_token_stream())
}

/// Pins the output type of the `async` block to the function's return type, so that `?` and
/// `return` inside the body type-check as they did, and type errors land on the user's tokens.
fn fake_return_edge(output: &ReturnType) -> TokenStream {
    let (ty, span) = match output {
        ReturnType::Default => (quote!(()), Span::call_site()),
        ReturnType::Type(_, ty) if contains_impl_trait(ty) => (quote!(_), ty.span()),
        ReturnType::Type(_, ty) => (ty.to_token_stream(), ty.span()),
    };
    let fake = Ident::new("__traced_fake_return", Span::mixed_site());
    quote_spanned! {span=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let #fake: #ty = loop {};
            return #fake;
        }
    }
}

/// `static __TRACED_CALLSITE: Callsite = ..;` everything about the span known at compile time,
/// the instrumentation scope included: the package name and version of the crate the function
/// is written in, which `option_env!` reads there.
fn callsite(function: &Function<'_>, private: &TokenStream, var: &Ident) -> TokenStream {
    let args = function.args;
    let fn_name = function.sig.ident.to_string();
    let fn_name = fn_name.strip_prefix("r#").unwrap_or(&fn_name);
    let function_path = match function.self_ty {
        Some(ty) => {
            let ty = ty.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #ty, "::", #fn_name))
        }
        None => quote!(::core::concat!(::core::module_path!(), "::", #fn_name)),
    };
    let name = match &args.name {
        Some(name) => name.to_token_stream(),
        None => function_path.clone(),
    };
    let kind = Ident::new(
        args.kind.map_or("Internal", |kind| kind.variant()),
        Span::call_site(),
    );
    let line = quote_spanned!(function.sig.ident.span()=> ::core::line!());
    let unset_status = args.unset_status.is_some();
    let attr_count = args.attrs.as_ref().map_or(0, Vec::len);
    quote! {
        static #var: #private::Callsite = #private::Callsite {
            name: #name,
            function: #function_path,
            file: ::core::file!(),
            line: #line,
            kind: #private::SpanKind::#kind,
            unset_status: #unset_status,
            attr_count: #attr_count,
            // Expanded in the user's crate: the scope is that crate's.
            scope: #private::CrateScope {
                name: ::core::option_env!("CARGO_PKG_NAME"),
                version: ::core::option_env!("CARGO_PKG_VERSION"),
            },
        };
    }
}

/// `SpanGuard::start(&CALLSITE, parent, |attrs| { .. })`: the attribute expressions run only
/// when the span is recording.
fn start(function: &Function<'_>, private: &TokenStream, callsite: &Ident) -> TokenStream {
    let args = function.args;
    let parent = match &args.parent {
        Some(parent) => {
            quote_spanned!(parent.span()=> ::core::option::Option::Some(#private::as_parent(&(#parent))))
        }
        None => quote!(::core::option::Option::None),
    };
    let sink = Ident::new("__traced_attrs", Span::mixed_site());
    let pushes = args.attrs.iter().flatten().map(|attr| {
        let key = &attr.key;
        let value = match &attr.value {
            AttrValue::Plain(expr) => match as_str_literal(expr) {
                Some(lit) => quote!(#private::Value::from(#lit)),
                None => quote_spanned!(expr.span()=> #private::value(&(#expr))),
            },
            AttrValue::Display(expr) => quote_spanned!(expr.span()=> #private::display(&(#expr))),
            AttrValue::Debug(expr) => quote_spanned!(expr.span()=> #private::debug(&(#expr))),
        };
        quote!(#sink.push(#key, #value);)
    });
    quote! {
        #private::SpanGuard::start(&#callsite, #parent, |#sink: &mut #private::Attributes<'_>| {
            #(#pushes)*
        })
    }
}

/// Records the outcome (and the return value with `ret`), then ends the span.
fn finish(args: &Args, private: &TokenStream, span: &Ident, ret: &Ident) -> TokenStream {
    let record_ret = args.ret.map(|ret_span| {
        quote_spanned! {ret_span=>
            #span.record_return({
                #[allow(unused_imports)]
                use #private::ret::{ViaResult as _, ViaDebug as _};
                (&&#private::ret::Wrap(&#ret)).__traced_return()
            });
        }
    });
    let outcome = if args.expected_err.is_some() {
        quote!(#private::Outcome::Success)
    } else {
        quote! {{
            #[allow(unused_imports)]
            use #private::outcome::{
                ViaStdError as _, ViaBoxedError as _, ViaDynError as _, ViaDisplay as _,
                ViaDebug as _, ViaResult as _, ViaSuccess as _,
            };
            (&&&&&&#private::outcome::Wrap(&#ret)).__traced_outcome()
        }}
    };
    quote! {
        #record_ret
        #span.finish(#outcome);
    }
}
