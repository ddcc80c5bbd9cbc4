//! The layers of `src/` point one way: `cli` → `app` → `discord` → `actors`
//! → `claude`, `db`, `format`, `config`, `telemetry`, `memory` → `domain`.
//! A file may name its own module and those below it; below `discord`
//! nothing names serenity or poise.

use std::path::{Path, PathBuf};

/// Each top-level module and its rank: higher may use lower.
const RANKS: &[(&str, u8)] = &[
    ("cli", 5),
    ("app", 4),
    ("discord", 3),
    ("actors", 2),
    ("claude", 1),
    ("db", 1),
    ("format", 1),
    ("config", 1),
    ("telemetry", 1),
    ("memory", 1),
    ("worktree", 1),
    ("domain", 0),
];

fn rank(module: &str) -> Option<u8> {
    RANKS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let first = file.strip_prefix(src).ok()?.components().next()?;
    let name = first.as_os_str().to_str()?;
    Some(name.trim_end_matches(".rs").to_string())
}

/// Every `crate::<module>` a text names, `use crate::{a, b}` included.
fn crate_modules(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            found.extend(inner.split(',').filter_map(head_word));
        } else if let Some(word) = head_word(rest) {
            found.push(word);
        }
    }
    found
}

fn head_word(text: &str) -> Option<String> {
    let word: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// Code that names serenity or poise; log targets in strings and words in
/// comments do not count.
fn names_discord_library(text: &str) -> bool {
    let code = code_only(text);
    ["serenity::", "poise::", "use serenity", "use poise"]
        .iter()
        .any(|needle| code.contains(needle))
}

/// The text without string literals and `//` comments.
fn code_only(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                chars.by_ref().take_while(|&c| c != '\n').for_each(drop);
                code.push('\n');
            }
            '"' => skip_string(&mut chars),
            '\'' if chars.peek() == Some(&'"') => {
                chars.next();
                chars.next();
            }
            _ => code.push(c),
        }
    }
    code
}

fn skip_string(chars: &mut impl Iterator<Item = char>) {
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return,
            _ => {}
        }
    }
}

fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut problems = Vec::new();
    for file in files {
        let Some(module) = module_of(src, &file) else {
            continue;
        };
        let Some(own) = rank(&module) else { continue };
        let text = std::fs::read_to_string(&file).expect("read source");
        let shown = file
            .strip_prefix(src)
            .unwrap_or(&file)
            .display()
            .to_string();
        for used in crate_modules(&text) {
            if used != module && rank(&used).is_some_and(|r| r >= own) {
                problems.push(format!("src/{shown} ({module}) uses crate::{used}"));
            }
        }
        if own < 3 && names_discord_library(&text) {
            problems.push(format!("src/{shown} ({module}) names serenity or poise"));
        }
    }
    problems
}

#[test]
fn every_module_of_src_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        let module = module_of(&src, &file).expect("module name");
        let known = rank(&module).is_some() || module == "lib" || module == "main";
        assert!(known, "{} is in no layer; add it to RANKS", file.display());
    }
}

#[test]
fn no_module_imports_one_above_it_or_beside_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = violations(&src);
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_sees_an_upward_import_and_a_serenity_type() {
    let dir = tempfile::tempdir().expect("temp dir");
    let actors = dir.path().join("actors");
    std::fs::create_dir(&actors).expect("mkdir");
    std::fs::write(
        actors.join("bad.rs"),
        "use crate::{domain::ChannelId, discord::actor::DiscordActor};\n// serenity::x in a comment\nconst T: &str = \"poise::y\";\nfn f(_: serenity::all::Http) {}\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("db.rs"),
        "use crate::config::Config;\nconst T: &str = \"serenity::http\"; // poise::x\n",
    )
    .expect("write");
    let mut problems = violations(dir.path());
    problems.sort();
    assert_eq!(
        problems,
        [
            "src/actors/bad.rs (actors) names serenity or poise",
            "src/actors/bad.rs (actors) uses crate::discord",
            "src/db.rs (db) uses crate::config",
        ]
    );
}
