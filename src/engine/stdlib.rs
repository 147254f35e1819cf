//! Script modules shipped inside the binary (`stdlib/*.rhai`), importable from any folder with
//! `import "name" as name;`. Module resolution: the embedded stdlib first, then `.rhai` files
//! relative to the script's folder (the current folder in the REPL).
use rhai::module_resolvers::{FileModuleResolver, ModuleResolversCollection, StaticModuleResolver};
use rhai::{Engine, Module, Scope};
use std::path::Path;

/// `(import path, source)` of every stdlib module. Add new files here.
pub const STDLIB: &[(&str, &str)] = &[
    ("util", include_str!("../../stdlib/util.rhai")),
    ("figures", include_str!("../../stdlib/figures.rhai")),
];

/// Compiles one stdlib module with `engine` (so it may call every native function).
pub fn compile_module(engine: &Engine, name: &str, src: &str) -> Result<Module, String> {
    let mut ast = engine
        .compile(src)
        .map_err(|e| format!("stdlib '{name}': {e}"))?;
    ast.set_source(format!("stdlib/{name}.rhai"));
    Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(|e| format!("stdlib '{name}': {e}"))
}

/// Installs the module resolvers: embedded stdlib, then files under `script_dir` (or the
/// current folder). File modules are cached per engine only for scripts; the REPL re-reads
/// them so edits show up on the next `import`.
pub fn install(engine: &mut Engine, script_dir: Option<&Path>) {
    let mut stat = StaticModuleResolver::new();
    for (name, src) in STDLIB {
        match compile_module(engine, name, src) {
            Ok(m) => stat.insert(*name, m),
            // The stdlib is tested (tests/stdlib.rs); a broken module must not kill the REPL.
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    let mut files = match script_dir {
        Some(d) => FileModuleResolver::new_with_path(d),
        None => FileModuleResolver::new(),
    };
    files.enable_cache(script_dir.is_some());
    let mut all = ModuleResolversCollection::new();
    all.push(stat);
    all.push(files);
    engine.set_module_resolver(all);
}
