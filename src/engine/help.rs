//! `help()` / `help("name")`: a catalog of every fdtlab function grouped by topic, built from
//! the `///` doc comments Rhai keeps with the `metadata` feature, plus the stdlib modules.
use super::api::{Topic, TOPICS};
use super::options::edit_distance;
use super::stdlib::STDLIB;
use rhai::{Engine, Module};
use std::sync::OnceLock;

/// One overload of a function.
#[derive(Clone, Debug)]
pub struct FnDoc {
    /// Name as registered (`get$shape`, `+`, `util::fmt`, ...).
    pub name: String,
    /// Name as a user types it (`.shape`, `a[i]`, `util::fmt`).
    pub display: String,
    /// Full signature with parameter names and types.
    pub signature: String,
    /// Parameter names only, e.g. `mean(a, axis)`.
    pub short: String,
    /// Doc comment text without the `///` markers (empty if undocumented).
    pub doc: String,
}

impl FnDoc {
    /// First sentence of the doc comment (its first paragraph up to ". ").
    pub fn summary(&self) -> String {
        let para: Vec<&str> = self
            .doc
            .lines()
            .map(str::trim)
            .take_while(|l| !l.is_empty())
            .collect();
        let text = para.join(" ");
        let mut from = 0;
        while let Some(k) = text[from..].find(". ") {
            let i = from + k;
            let word = text[..i].rsplit(' ').next().unwrap_or("");
            if !matches!(word, "e.g" | "i.e" | "etc" | "vs") {
                return text[..=i].to_string();
            }
            from = i + 2;
        }
        text
    }
    /// Operators (`+`, `==`, ...) are listed on one line per topic, not one each.
    pub fn is_operator(&self) -> bool {
        !self
            .name
            .starts_with(|c: char| c.is_alphabetic() || c == '_')
    }
}

/// A group of functions shown together by `help()`.
#[derive(Clone, Debug)]
pub struct TopicDoc {
    /// Topic name (`ndarray`, `io`, or a stdlib module path).
    pub name: String,
    /// One-line description.
    pub summary: String,
    /// `Some("import \"util\" as util;")` for stdlib modules.
    pub import: Option<String>,
    /// Every overload, sorted by name.
    pub fns: Vec<FnDoc>,
}

/// All topics.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub topics: Vec<TopicDoc>,
}

/// The catalog of the built-in topics and stdlib modules (built once).
pub fn catalog() -> &'static Catalog {
    static CAT: OnceLock<Catalog> = OnceLock::new();
    CAT.get_or_init(Catalog::build)
}

/// Strips `///` / `/** */` markers from Rhai's stored doc comments.
pub fn clean_doc(comments: &[String]) -> String {
    let mut out = Vec::new();
    for c in comments {
        if let Some(block) = c.strip_prefix("/**") {
            let block = block.strip_suffix("*/").unwrap_or(block);
            for line in block.lines() {
                let l = line.trim_start();
                let l = l.strip_prefix('*').unwrap_or(l);
                out.push(l.strip_prefix(' ').unwrap_or(l).to_string());
            }
        } else {
            for line in c.lines() {
                let l = line.trim_start();
                let l = l
                    .strip_prefix("///")
                    .or_else(|| l.strip_prefix("//!"))
                    .unwrap_or(l);
                out.push(l.strip_prefix(' ').unwrap_or(l).to_string());
            }
        }
    }
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// Rust type spellings that leak into signatures → script spellings.
fn script_types(sig: &str) -> String {
    let mut s = sig.replace("&mut ", "");
    for (from, to) in [
        ("NdArray", "ndarray"),
        ("ImmutableString", "String"),
        ("&str", "String"),
        ("FLOAT", "f64"),
        ("INT", "i64"),
        ("Dynamic", "?"),
        ("Res<()>", "()"),
    ] {
        s = s.replace(from, to);
    }
    // `Res<T>` (a local alias for Result<T, Box<EvalAltResult>>) → `T`.
    while let Some(i) = s.find("Res<") {
        let rest = &s[i + 4..];
        let mut depth = 1;
        let mut end = None;
        for (k, c) in rest.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(k);
                        break;
                    }
                }
                _ => {}
            }
        }
        match end {
            Some(k) => s = format!("{}{}{}", &s[..i], &rest[..k], &rest[k + 1..]),
            None => break,
        }
    }
    s
}

/// `get$shape(a: ndarray) -> Array` → `a.shape -> Array`; indexers → `a[i: i64] -> ?`.
fn user_signature(name: &str, sig: &str) -> String {
    let (args, ret) = match sig.split_once(')') {
        Some((head, tail)) => (head.split_once('(').map_or("", |(_, a)| a), tail),
        None => return sig.to_string(),
    };
    let params: Vec<&str> = args.split(", ").collect();
    let obj = params
        .first()
        .map_or("a", |p| p.split(':').next().unwrap_or("a").trim());
    if let Some(p) = name.strip_prefix("get$") {
        format!("{obj}.{p}{ret}")
    } else if let Some(p) = name.strip_prefix("set$") {
        format!("{obj}.{p} = {}", params.get(1).unwrap_or(&"v"))
    } else if name == "index$get$" {
        format!("{obj}[{}]{ret}", params.get(1).unwrap_or(&"i"))
    } else if name == "index$set$" {
        format!(
            "{obj}[{}] = {}",
            params.get(1).unwrap_or(&"i"),
            params.get(2).unwrap_or(&"v")
        )
    } else {
        sig.to_string()
    }
}

fn display_name(name: &str) -> String {
    if let Some(p) = name.strip_prefix("get$") {
        format!(".{p}")
    } else if let Some(p) = name.strip_prefix("set$") {
        format!(".{p} =")
    } else if name == "index$get$" {
        "a[i]".into()
    } else if name == "index$set$" {
        "a[i] = v".into()
    } else {
        name.into()
    }
}

/// Every function registered in `engine` outside Rhai's standard packages, with its docs.
pub fn engine_fn_docs(engine: &Engine) -> Vec<FnDoc> {
    let Ok(json) = engine.gen_fn_metadata_to_json(false) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&json) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in v["functions"].as_array().into_iter().flatten() {
        let name = f["name"].as_str().unwrap_or("").to_string();
        let comments: Vec<String> = f["docComments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
        let params: Vec<String> = f["params"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p["name"].as_str().unwrap_or("_").to_string())
            .collect();
        let doc = clean_doc(&comments);
        if doc.starts_with(super::guard::GENERATED_DOC) {
            continue;
        }
        let display = display_name(&name);
        let signature = user_signature(
            &name,
            &script_types(f["signature"].as_str().unwrap_or(&name)),
        );
        let short = format!("{display}({})", params.join(", "));
        out.push(FnDoc {
            name,
            display,
            signature,
            short,
            doc,
        });
    }
    out
}

fn topic_docs(t: &Topic) -> TopicDoc {
    let mut e = Engine::new_raw();
    let m: Module = (t.module)();
    e.register_global_module(m.into());
    let mut fns = engine_fn_docs(&e);
    fns.sort_by(|a, b| {
        a.display
            .cmp(&b.display)
            .then(a.signature.cmp(&b.signature))
    });
    TopicDoc {
        name: t.name.into(),
        summary: t.summary.into(),
        import: None,
        fns,
    }
}

/// Docs of the script functions of one stdlib module.
pub fn stdlib_docs(name: &str, src: &str) -> TopicDoc {
    let e = Engine::new_raw();
    let mut fns = Vec::new();
    let mut summary = String::new();
    if let Ok(ast) = e.compile(src) {
        summary = clean_doc(&[ast.doc().to_string()])
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        for f in ast.iter_functions() {
            if f.access == rhai::FnAccess::Private {
                continue;
            }
            let comments: Vec<String> = f.comments.iter().map(|s| s.to_string()).collect();
            let full = format!("{name}::{}", f.name);
            let params = f.params.join(", ");
            fns.push(FnDoc {
                name: full.clone(),
                display: full.clone(),
                signature: format!("{full}({params})"),
                short: format!("{full}({params})"),
                doc: clean_doc(&comments),
            });
        }
    }
    fns.sort_by(|a, b| a.display.cmp(&b.display));
    TopicDoc {
        name: name.into(),
        summary,
        import: Some(format!("import \"{name}\" as {name};")),
        fns,
    }
}

impl Catalog {
    /// Builds the catalog from [`TOPICS`] and [`STDLIB`].
    pub fn build() -> Self {
        let mut topics: Vec<TopicDoc> = TOPICS.iter().map(topic_docs).collect();
        topics.extend(STDLIB.iter().map(|(n, src)| stdlib_docs(n, src)));
        Catalog { topics }
    }

    /// Every documented overload, with its topic.
    pub fn all(&self) -> impl Iterator<Item = (&TopicDoc, &FnDoc)> {
        self.topics
            .iter()
            .flat_map(|t| t.fns.iter().map(move |f| (t, f)))
    }

    /// The text of `help()`: one line per function name, grouped by topic.
    pub fn overview(&self) -> String {
        let mut out = String::from(
            "fdtlab functions — help(\"name\") shows the signatures, the full doc and an example.\n",
        );
        for t in &self.topics {
            out.push('\n');
            match &t.import {
                Some(imp) => out.push_str(&format!("{} — {}   [{}]\n", t.name, t.summary, imp)),
                None => out.push_str(&format!("{} — {}\n", t.name, t.summary)),
            }
            let mut lines: Vec<(String, String)> = Vec::new();
            let mut ops: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for f in &t.fns {
                if f.is_operator() {
                    let op = if f.short.matches(',').count() == 0 && f.name == "-" {
                        "unary -".to_string()
                    } else {
                        f.name.clone()
                    };
                    if !ops.contains(&op) {
                        ops.push(op);
                    }
                    continue;
                }
                if !seen.insert(f.display.clone()) {
                    continue;
                }
                let overloads: Vec<&FnDoc> =
                    t.fns.iter().filter(|g| g.display == f.display).collect();
                let shortest = overloads
                    .iter()
                    .min_by_key(|g| g.short.len())
                    .map(|g| g.short.clone())
                    .unwrap_or_default();
                let label = if f.display.starts_with('.') || f.display.starts_with("a[") {
                    f.display.clone()
                } else if overloads.len() > 1 {
                    format!("{shortest} …")
                } else {
                    shortest
                };
                lines.push((label, f.summary()));
            }
            let w = lines
                .iter()
                .map(|(l, _)| l.chars().count())
                .max()
                .unwrap_or(0);
            for (label, summary) in lines {
                let pad = w - label.chars().count();
                let room = 100usize.saturating_sub(w + 4).max(30);
                let summary = if summary.chars().count() > room {
                    let cut: String = summary.chars().take(room - 1).collect();
                    format!("{}…", cut.trim_end())
                } else {
                    summary
                };
                out.push_str(&format!("  {label}{}  {summary}\n", " ".repeat(pad)));
            }
            if !ops.is_empty() {
                out.push_str(&format!("  operators: {}\n", ops.join(" ")));
            }
        }
        out.push_str(
            "\nRhai's own functions (print, len, push, to_string, ...) are documented at https://rhai.rs/book/.\n",
        );
        out
    }

    /// The text of `help(name)`: every overload's signature and doc, a topic listing, or
    /// suggestions for an unknown name.
    pub fn lookup(&self, name: &str) -> String {
        let key = name.trim().trim_end_matches("()");
        if let Some(t) = self.topics.iter().find(|t| t.name == key) {
            let sub = Catalog {
                topics: vec![t.clone()],
            };
            let text = sub.overview();
            // Drop the global header/footer lines of the overview.
            let body: Vec<&str> = text
                .lines()
                .skip(2)
                .filter(|l| !l.starts_with("Rhai's own"))
                .collect();
            return body.join("\n").trim_end().to_string() + "\n";
        }
        let prop = format!(".{}", key.trim_start_matches('.'));
        let hits: Vec<(&TopicDoc, &FnDoc)> = self
            .all()
            .filter(|(_, f)| {
                f.name == key
                    || f.display == key
                    || f.display == prop
                    || (key.starts_with('[') && f.display.starts_with("a["))
            })
            .collect();
        if hits.is_empty() {
            return self.suggest(key);
        }
        let mut out = String::new();
        let mut docs: Vec<(&str, Vec<String>, &str)> = Vec::new();
        for (t, f) in &hits {
            match docs.iter_mut().find(|(d, _, _)| *d == f.doc.as_str()) {
                Some((_, sigs, _)) => sigs.push(f.signature.clone()),
                None => docs.push((f.doc.as_str(), vec![f.signature.clone()], t.name.as_str())),
            }
        }
        for (k, (doc, sigs, topic)) in docs.iter().enumerate() {
            if k > 0 {
                out.push('\n');
            }
            for s in sigs {
                out.push_str(s);
                out.push('\n');
            }
            out.push_str(&format!("  [{topic}]\n\n"));
            if doc.is_empty() {
                out.push_str("(no documentation)\n");
            } else {
                for line in doc.lines() {
                    if !line.trim().is_empty() {
                        out.push_str("  ");
                        out.push_str(line);
                    }
                    out.push('\n');
                }
            }
        }
        out
    }

    /// "Did you mean" text for an unknown name.
    pub fn suggest(&self, key: &str) -> String {
        if key.trim().is_empty() {
            return "help(\"\") names nothing: call help() for the topics, or help(\"name\") with a \
                    function or topic name\n"
                .to_string();
        }
        let mut names: Vec<&str> = self
            .all()
            .filter(|(_, f)| !f.is_operator())
            .map(|(_, f)| f.display.trim_start_matches('.'))
            .chain(self.topics.iter().map(|t| t.name.as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        let lower = key.to_lowercase();
        let mut scored: Vec<(usize, &str)> = names
            .iter()
            .filter_map(|n| {
                let d = edit_distance(&lower, &n.to_lowercase());
                let short = n.rsplit("::").next().unwrap_or(n);
                let contains = !lower.is_empty()
                    && (n.to_lowercase().contains(&lower) || lower.contains(&short.to_lowercase()));
                if d <= 2.max(key.len() / 3) || contains {
                    Some((if contains { d.min(1) } else { d }, *n))
                } else {
                    None
                }
            })
            .collect();
        scored.sort();
        let best: Vec<&str> = scored.iter().take(6).map(|(_, n)| *n).collect();
        if best.is_empty() {
            format!("no fdtlab function or topic named '{key}'; help() lists them all\n")
        } else {
            format!(
                "no fdtlab function or topic named '{key}'. Did you mean: {}?\n",
                best.join(", ")
            )
        }
    }

    /// Every name a user can type (for completion): functions, properties, stdlib paths.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .all()
            .filter(|(_, f)| !f.is_operator() && !f.display.starts_with("a["))
            .map(|(_, f)| {
                f.display
                    .trim_start_matches('.')
                    .trim_end_matches(" =")
                    .to_string()
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The `help` topic: `help()` and `help(name)` print to stdout.
pub fn module() -> Module {
    rhai::exported_module!(help_api)
}

#[fdtlab_macros::guarded]
#[rhai::export_module]
pub mod help_api {
    /// Lists every fdtlab function by topic, one line each (signature and first doc line).
    ///
    /// ```rhai
    /// help();
    /// ```
    pub fn help() {
        print!("{}", super::catalog().overview());
    }

    /// Shows the signatures, full documentation and an example for `name` (a function, a
    /// property like "shape", a topic like "ndarray", or a stdlib path like "util::fmt").
    /// Unknown names get suggestions.
    ///
    /// ```rhai
    /// help("zeros");
    /// ```
    #[rhai_fn(name = "help")]
    pub fn help_name(name: &str) {
        print!("{}", super::catalog().lookup(name));
    }
}
