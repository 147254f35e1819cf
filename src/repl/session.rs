//! A REPL session without any terminal code: evaluate lines, keep state, answer completion and
//! "is this input finished?" questions. The editor ([`super::editor`]) is a thin layer on top.
//!
//! State carried from line to line: variables (one [`Scope`]), functions (an accumulated
//! [`AST`] whose statements are cleared after each line) and `import ... as name` modules
//! (registered into the engine as static modules once the line has run).
use crate::engine::array::NdArray;
use crate::engine::error::{exit_code, format_error, format_parse_error};
use crate::engine::help::catalog;
use crate::engine::{new_engine, EngineConfig};
use rhai::{Dynamic, Engine, ParseErrorType, Position, Scope, AST};

/// Rhai keywords and common built-ins offered by completion.
const KEYWORDS: &[&str] = &[
    "let",
    "const",
    "fn",
    "if",
    "else",
    "while",
    "loop",
    "for",
    "in",
    "do",
    "until",
    "return",
    "throw",
    "try",
    "catch",
    "import",
    "export",
    "as",
    "private",
    "true",
    "false",
    "break",
    "continue",
    "switch",
    "this",
    "Fn",
    "call",
    "curry",
    "type_of",
    "print",
    "debug",
    "is_def_var",
    "is_def_fn",
    "exit",
];

/// One interactive session: engine, variables, functions and imports.
pub struct Session {
    engine: Engine,
    scope: Scope<'static>,
    ast: AST,
    exit: Option<i32>,
    names: Vec<String>,
    functions: std::collections::HashSet<String>,
    properties: std::collections::HashSet<String>,
}

impl Session {
    /// A session on a fresh engine from [`new_engine`].
    pub fn new(cfg: &EngineConfig) -> Self {
        Self::with_engine(new_engine(cfg))
    }

    /// A session on a given engine.
    pub fn with_engine(engine: Engine) -> Self {
        let mut s = Session {
            engine,
            scope: Scope::new(),
            ast: AST::empty(),
            exit: None,
            names: Vec::new(),
            functions: Default::default(),
            properties: Default::default(),
        };
        s.refresh_names();
        s
    }

    /// The engine (e.g. to register extra functions in tests).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The variables defined so far.
    pub fn scope(&self) -> &Scope<'static> {
        &self.scope
    }

    /// `Some(code)` once a line called `exit(code)`.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit
    }

    /// Evaluates one input (possibly several lines). Returns the value's text (`None` for unit
    /// and for statements), or the error as `line:col: message`. The session survives errors.
    pub fn eval_line(&mut self, src: &str) -> Result<Option<String>, String> {
        crate::core::interrupt::clear();
        if src.trim().is_empty() {
            return Ok(None);
        }
        let new_ast = self
            .engine
            .compile_with_scope(&self.scope, src)
            .map_err(|e| format_parse_error(&e, None))?;
        let defines_fns = new_ast.iter_functions().next().is_some();
        let mut ast = self.ast.merge(&new_ast);
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &ast);
        // Keep the functions (even if the line failed), drop the statements.
        ast.clear_statements();
        self.ast = ast;
        if defines_fns {
            self.refresh_names();
        }
        let value = match result {
            Ok(v) => v,
            Err(e) => {
                if let Some(code) = exit_code(&e) {
                    self.exit = Some(code);
                    return Ok(None);
                }
                return Err(format_error(&e, None));
            }
        };
        self.persist_imports(src)?;
        Ok(self.echo(value))
    }

    /// Registers the modules of top-level `import "path" as name;` statements so that `name::`
    /// keeps working on later lines.
    fn persist_imports(&mut self, src: &str) -> Result<(), String> {
        let imports = top_level_imports(src);
        if imports.is_empty() {
            return Ok(());
        }
        for (path, alias) in imports {
            let module = self
                .engine
                .module_resolver()
                .resolve(&self.engine, None, &path, Position::NONE)
                .map_err(|e| format_error(&e, None))?;
            self.engine.register_static_module(alias, module);
        }
        self.refresh_names();
        Ok(())
    }

    /// Text shown for a result: unit → nothing; strings quoted (multi-line strings as is);
    /// everything else through the script-level `to_debug`.
    fn echo(&self, v: Dynamic) -> Option<String> {
        if v.is_unit() {
            return None;
        }
        if v.is_string() {
            let s = v.into_string().unwrap_or_default();
            return Some(if s.contains('\n') {
                s.trim_end().to_string()
            } else {
                format!("{s:?}")
            });
        }
        if let Some(a) = v.read_lock::<NdArray>() {
            return Some(a.to_string());
        }
        let mut scope = Scope::new();
        scope.push("__echo__", v.clone());
        Some(
            self.engine
                .eval_with_scope::<String>(&mut scope, "to_debug(__echo__)")
                .unwrap_or_else(|_| v.to_string()),
        )
    }

    /// True if `src` is an unfinished input (an open block, bracket or call): the parser hit
    /// the end of the input while still expecting something. Decided by Rhai's parser, so
    /// brackets inside strings do not count.
    pub fn is_incomplete(&self, src: &str) -> bool {
        if src.trim().is_empty() {
            return false;
        }
        let err = match self.engine.compile_with_scope(&self.scope, src) {
            Ok(_) => return false,
            Err(e) => e,
        };
        match *err.0 {
            ParseErrorType::UnexpectedEOF => true,
            ParseErrorType::MissingToken(..) | ParseErrorType::MissingSymbol(..) => {
                at_end(src, err.1)
            }
            ParseErrorType::BadInput(rhai::LexError::UnterminatedString) => {
                // Only back-tick strings may span lines.
                src.matches('`').count() % 2 == 1
            }
            _ => false,
        }
    }

    /// Completion candidates starting with `prefix`: fdtlab and Rhai functions, properties,
    /// imported modules, variables, script functions and keywords.
    pub fn completions(&self, prefix: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .names
            .iter()
            .cloned()
            .chain(self.scope.iter_raw().map(|(n, _, _)| n.to_string()))
            .chain(self.ast.iter_functions().map(|f| f.name.to_string()))
            .chain(KEYWORDS.iter().map(|k| k.to_string()))
            .filter(|n| n.starts_with(prefix) && !n.is_empty())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// True if `name` is a function (so completion can add "("), and not also a property.
    pub fn is_function_name(&self, name: &str) -> bool {
        (self.functions.contains(name) || self.ast.iter_functions().any(|f| f.name == name))
            && !self.properties.contains(name)
            && !self.scope.contains(name)
    }

    /// Rebuilds the list of registered names (functions, properties, module paths).
    fn refresh_names(&mut self) {
        let mut names: Vec<String> = catalog().names();
        let mut functions = std::collections::HashSet::new();
        let mut properties = std::collections::HashSet::new();
        for (_, f) in catalog().all() {
            if f.name.starts_with("get$") {
                properties.insert(f.name[4..].to_string());
            } else if !f.is_operator() && !f.name.contains('$') {
                functions.insert(f.name.clone());
            }
        }
        for sig in self.engine.gen_fn_signatures(true) {
            let name = sig.split('(').next().unwrap_or("").trim();
            if let Some(p) = name.strip_prefix("get$") {
                properties.insert(p.to_string());
                names.push(p.to_string());
                continue;
            }
            if name.contains('$') || !name.starts_with(|c: char| c.is_alphabetic() || c == '_') {
                continue;
            }
            functions.insert(name.to_string());
            names.push(name.to_string());
        }
        names.sort();
        names.dedup();
        self.names = names;
        self.functions = functions;
        self.properties = properties;
    }
}

/// Whether `pos` is at or after the last non-blank character of `src`.
fn at_end(src: &str, pos: Position) -> bool {
    let (Some(line), Some(col)) = (pos.line(), pos.position()) else {
        return true; // Position::NONE: the parser ran off the end.
    };
    let trimmed = src.trim_end();
    let last_line = trimmed.lines().count().max(1);
    let last_col = trimmed.lines().last().map_or(0, |l| l.chars().count());
    line > last_line || (line == last_line && col >= last_col)
}

/// `(path, alias)` of every `import "path" as alias` outside blocks, strings and comments.
pub fn top_level_imports(src: &str) -> Vec<(String, String)> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    let ident = |i: usize| i < b.len() && (b[i].is_alphanumeric() || b[i] == '_');
    while i < b.len() {
        let c = b[i];
        match c {
            '"' | '`' | '\'' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            '/' if b.get(i + 1) == Some(&'/') => {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            }
            '/' if b.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            '{' | '(' | '[' => {
                depth += 1;
                i += 1;
            }
            '}' | ')' | ']' => {
                depth -= 1;
                i += 1;
            }
            _ if ident(i) => {
                let start = i;
                while ident(i) {
                    i += 1;
                }
                let word: String = b[start..i].iter().collect();
                if word == "import" && depth == 0 && (start == 0 || !ident(start - 1)) {
                    if let Some((path, alias, end)) = parse_import(&b, i) {
                        out.push((path, alias));
                        i = end;
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Parses ` "path" as alias` starting at `i`; returns the end index too.
fn parse_import(b: &[char], mut i: usize) -> Option<(String, String, usize)> {
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_whitespace() {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if b.get(i) != Some(&'"') {
        return None;
    }
    i += 1;
    let start = i;
    while i < b.len() && b[i] != '"' {
        if b[i] == '\\' {
            return None; // escapes in paths: leave it to the script
        }
        i += 1;
    }
    let path: String = b.get(start..i)?.iter().collect();
    i += 1;
    skip_ws(&mut i);
    if b.get(i..i + 2)? != ['a', 's'] {
        return None;
    }
    i += 2;
    skip_ws(&mut i);
    let start = i;
    while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
        i += 1;
    }
    if i == start {
        return None;
    }
    Some((path, b[start..i].iter().collect(), i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_top_level_imports_only() {
        let src = r#"import "util" as u; fn f() { import "x" as y; } let s = "import \"a\" as b";
// import "c" as d
import "lib/m" as m"#;
        assert_eq!(
            top_level_imports(src),
            vec![
                ("util".to_string(), "u".to_string()),
                ("lib/m".to_string(), "m".to_string())
            ]
        );
    }
}
