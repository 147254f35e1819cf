//! `#[fdtlab_macros::guarded]`: put it above `#[export_module]` on every fdtlab script-API
//! module. It rewrites the module before Rhai's code generator sees it:
//!
//! 1. **Panic guard.** Every exported function's body runs inside
//!    `fdtlab::engine::guard::call`, which turns a Rust panic (in the function or in the rayon
//!    workers it started) into a catchable Rhai runtime error
//!    "internal error in NAME: … — please report". Functions that returned a plain value become
//!    `return_raw` (their script signature is unchanged).
//! 2. **No options map needed.** A function whose last parameter is a `Map` also gets an
//!    overload without it, called with an empty map (`gfdt(tr, s)` = `gfdt(tr, s, #{})`).
//! 3. **Whole floats as integers.** A function with `INT` parameters also gets overloads that
//!    take `FLOAT` in their place and accept whole numbers only (`thin(2.0)` = `thin(2)`,
//!    `thin(2.5)` is a clear error).
//!
//! Generated overloads are skipped where the module already registers the same script name
//! with the same parameter types. Their doc comment starts with [`GENERATED_DOC`] so `help()`
//! lists only the functions a person wrote.
use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote};
use std::collections::HashSet;
use syn::punctuated::Punctuated;
use syn::{
    parse_macro_input, parse_quote, Attribute, FnArg, Item, ItemFn, ItemMod, Meta, ReturnType,
    Token, Type,
};

/// First words of the doc comment of every generated overload (the help catalog skips them).
const GENERATED_DOC: &str = "(generated overload)";

#[proc_macro_attribute]
pub fn guarded(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[guarded] takes no arguments",
        )
        .to_compile_error()
        .into();
    }
    let mut m = parse_macro_input!(item as ItemMod);
    match rewrite_module(&mut m) {
        Ok(()) => quote!(#m).into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The parsed `#[rhai_fn(...)]` arguments of one function.
struct FnAttrs {
    /// Index of the `rhai_fn` attribute in `attrs`, if any.
    index: Option<usize>,
    metas: Vec<Meta>,
}

impl FnAttrs {
    fn parse(f: &ItemFn) -> syn::Result<Self> {
        for (i, a) in f.attrs.iter().enumerate() {
            if a.path().is_ident("rhai_fn") {
                let metas = a.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?;
                return Ok(FnAttrs {
                    index: Some(i),
                    metas: metas.into_iter().collect(),
                });
            }
        }
        Ok(FnAttrs {
            index: None,
            metas: Vec::new(),
        })
    }

    fn has(&self, flag: &str) -> bool {
        self.metas
            .iter()
            .any(|m| matches!(m, Meta::Path(p) if p.is_ident(flag)))
    }

    fn values(&self, key: &str) -> Vec<String> {
        self.metas
            .iter()
            .filter_map(|m| match m {
                Meta::NameValue(nv) if nv.path.is_ident(key) => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// The names a script calls this function by (`get$x` for a getter, `index$get$` for an
    /// indexer).
    fn script_names(&self, f: &ItemFn) -> Vec<String> {
        let mut v = self.values("name");
        v.extend(self.values("get").into_iter().map(|g| format!("get${g}")));
        v.extend(self.values("set").into_iter().map(|s| format!("set${s}")));
        if self.has("index_get") {
            v.push("index$get$".into());
        }
        if self.has("index_set") {
            v.push("index$set$".into());
        }
        if v.is_empty() {
            v.push(f.sig.ident.to_string().trim_start_matches("r#").to_string());
        }
        v
    }

    fn to_attr(&self) -> Attribute {
        let metas = &self.metas;
        parse_quote!(#[rhai_fn(#(#metas),*)])
    }
}

/// A parameter's type as a comparable key (`&mut`, `rhai::` and spaces dropped; Rust
/// spellings of Rhai's number and string types unified).
fn type_key(t: &Type) -> String {
    let s = quote!(#t).to_string().replace(' ', "");
    let s = s.trim_start_matches("&mut").trim_start_matches('&');
    let s = s
        .trim_start_matches("rhai::")
        .trim_start_matches("::rhai::");
    match s {
        "i64" => "INT".into(),
        "f64" => "FLOAT".into(),
        "str" | "String" | "ImmutableString" => "String".into(),
        other => other.into(),
    }
}

fn is_context(t: &Type) -> bool {
    type_key(t).ends_with("NativeCallContext")
}

/// One parameter: its type and whether it is the NativeCallContext.
fn params(f: &ItemFn) -> Vec<(Type, bool)> {
    f.sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Typed(p) => Some(((*p.ty).clone(), is_context(&p.ty))),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

fn key_of(name: &str, ps: &[(Type, bool)]) -> String {
    let types: Vec<String> = ps
        .iter()
        .filter(|(_, ctx)| !ctx)
        .map(|(t, _)| type_key(t))
        .collect();
    format!("{name}({})", types.join(","))
}

fn is_operator(name: &str) -> bool {
    !name.starts_with(|c: char| c.is_alphabetic() || c == '_' || c == '$')
        && !name.starts_with("index$")
}

fn rewrite_module(m: &mut ItemMod) -> syn::Result<()> {
    let Some((_, items)) = m.content.as_mut() else {
        return Ok(());
    };
    // Script signatures registered by hand: generated overloads never shadow them.
    let mut taken: HashSet<String> = HashSet::new();
    for it in items.iter() {
        if let Item::Fn(f) = it {
            if exported(f) {
                let a = FnAttrs::parse(f)?;
                let ps = params(f);
                for n in a.script_names(f) {
                    taken.insert(key_of(&n, &ps));
                }
            }
        }
    }
    let mut extra: Vec<Item> = Vec::new();
    for it in items.iter_mut() {
        match it {
            Item::Fn(f) if exported(f) => {
                let attrs = FnAttrs::parse(f)?;
                if attrs.has("skip") {
                    continue;
                }
                extra.extend(overloads(f, &attrs, &mut taken)?);
                guard(f, attrs)?;
            }
            Item::Mod(sub) => rewrite_module(sub)?,
            _ => {}
        }
    }
    let has_err_import = items.iter().any(|it| match it {
        Item::Use(u) => quote!(#u).to_string().contains("EvalAltResult"),
        _ => false,
    });
    if !has_err_import {
        items.push(parse_quote!(
            #[allow(unused_imports)]
            use ::rhai::EvalAltResult;
        ));
    }
    items.extend(extra);
    Ok(())
}

fn exported(f: &ItemFn) -> bool {
    matches!(f.vis, syn::Visibility::Public(_))
}

/// The display name used in "internal error in NAME".
fn display_name(names: &[String]) -> String {
    let n = &names[0];
    if let Some(p) = n.strip_prefix("get$") {
        format!(".{p}")
    } else if let Some(p) = n.strip_prefix("set$") {
        format!(".{p} =")
    } else if n.starts_with("index$") {
        "a[i]".into()
    } else {
        n.clone()
    }
}

/// Wraps the body in the panic guard and makes the function `return_raw`.
fn guard(f: &mut ItemFn, mut attrs: FnAttrs) -> syn::Result<()> {
    let name = display_name(&attrs.script_names(f));
    let body = &f.block;
    let ret: Type = match &f.sig.output {
        ReturnType::Default => parse_quote!(()),
        ReturnType::Type(_, t) => (**t).clone(),
    };
    if attrs.has("return_raw") {
        *f.block = parse_quote!({
            ::fdtlab::engine::guard::call(#name, move || -> #ret #body)
        });
    } else {
        *f.block = parse_quote!({
            ::fdtlab::engine::guard::call_plain(#name, move || -> #ret #body)
        });
        f.sig.output = parse_quote!(-> Result<#ret, Box<EvalAltResult>>);
        attrs.metas.push(parse_quote!(return_raw));
        let new_attr = attrs.to_attr();
        match attrs.index {
            Some(i) => f.attrs[i] = new_attr,
            None => f.attrs.push(new_attr),
        }
    }
    Ok(())
}

/// The options-less and whole-float overloads of `f` that no hand-written function already
/// covers.
fn overloads(f: &ItemFn, attrs: &FnAttrs, taken: &mut HashSet<String>) -> syn::Result<Vec<Item>> {
    let names = attrs.script_names(f);
    if names.iter().any(|n| {
        is_operator(n)
            || n.starts_with("get$")
            || n.starts_with("set$")
            || n == "to_string"
            || n == "to_debug"
    }) {
        return Ok(Vec::new());
    }
    let ps = params(f);
    let ret: Type = match &f.sig.output {
        ReturnType::Default => parse_quote!(()),
        ReturnType::Type(_, t) => (**t).clone(),
    };
    let ret: Type = if attrs.has("return_raw") {
        ret
    } else {
        parse_quote!(Result<#ret, Box<EvalAltResult>>)
    };
    let ints: Vec<usize> = ps
        .iter()
        .enumerate()
        .filter(|(_, (t, ctx))| !ctx && type_key(t) == "INT")
        .map(|(i, _)| i)
        .collect();
    let opts_last = ps
        .last()
        .is_some_and(|(t, ctx)| !ctx && type_key(t) == "Map");
    let mut out = Vec::new();
    let display = display_name(&names);
    for drop_opts in [false, true] {
        if drop_opts && !opts_last {
            continue;
        }
        for mask in 0u32..(1 << ints.len()) {
            if !drop_opts && mask == 0 {
                continue; // the original itself
            }
            let floats: Vec<usize> = ints
                .iter()
                .enumerate()
                .filter(|(b, _)| mask & (1 << b) != 0)
                .map(|(_, &i)| i)
                .collect();
            let kept = if drop_opts { ps.len() - 1 } else { ps.len() };
            let mut decls: Vec<TokenStream2> = Vec::new();
            let mut conv: Vec<TokenStream2> = Vec::new();
            let mut args: Vec<TokenStream2> = Vec::new();
            let mut vtypes: Vec<(Type, bool)> = Vec::new();
            for (i, (t, ctx)) in ps.iter().enumerate().take(kept) {
                let a = format_ident!("a{i}");
                if floats.contains(&i) {
                    decls.push(quote!(#a: ::rhai::FLOAT));
                    let pname = param_name(f, i);
                    conv.push(quote!(
                        let #a = ::fdtlab::engine::guard::whole(#display, #pname, #a)?;
                    ));
                    vtypes.push((parse_quote!(FLOAT), false));
                } else {
                    decls.push(quote!(#a: #t));
                    vtypes.push((t.clone(), *ctx));
                }
                args.push(quote!(#a));
            }
            if drop_opts {
                args.push(quote!(::rhai::Map::new()));
            }
            let keys: Vec<String> = names.iter().map(|n| key_of(n, &vtypes)).collect();
            if keys.iter().any(|k| taken.contains(k)) {
                continue;
            }
            taken.extend(keys);
            let ident = &f.sig.ident;
            let vident = format_ident!(
                "__fdtlab_{}_{}{}",
                ident,
                if drop_opts { "noopts" } else { "" },
                mask
            );
            let mut metas: Vec<Meta> = attrs
                .metas
                .iter()
                .filter(|m| !matches!(m, Meta::NameValue(nv) if nv.path.is_ident("name")))
                .filter(|m| !matches!(m, Meta::Path(p) if p.is_ident("return_raw")))
                .cloned()
                .collect();
            if !attrs.has("index_get") && !attrs.has("index_set") {
                for n in &names {
                    metas.push(parse_quote!(name = #n));
                }
            }
            metas.push(parse_quote!(return_raw));
            let doc = format!(
                " {GENERATED_DOC} of `{display}`: {}; see help(\"{display}\").",
                match (drop_opts, floats.is_empty()) {
                    (true, true) => "without the options map (= with `#{}`)",
                    (true, false) => "without the options map, whole floats accepted as integers",
                    _ => "whole floats accepted as integers",
                }
            );
            out.push(parse_quote!(
                #[doc = #doc]
                #[rhai_fn(#(#metas),*)]
                pub fn #vident(#(#decls),*) -> #ret {
                    #(#conv)*
                    #ident(#(#args),*)
                }
            ));
        }
    }
    Ok(out)
}

/// The source name of parameter `i` (for "argument 'k' must be a whole number").
fn param_name(f: &ItemFn, i: usize) -> String {
    match f.sig.inputs.iter().nth(i) {
        Some(FnArg::Typed(p)) => match &*p.pat {
            syn::Pat::Ident(id) => id.ident.to_string(),
            _ => format!("#{}", i + 1),
        },
        _ => format!("#{}", i + 1),
    }
}
