//! Tidy checks: tests over the workspace's source text that keep its shape (as rust-analyzer's
//! `xtask/src/tidy.rs` does). They run with `cargo test -p xtask` (so with `cargo xtask ci` and
//! `cargo xtask test`), or alone as `cargo xtask tidy`.
//!
//! The checks read code only: comments and the contents of string literals are blanked first, and
//! `#[cfg(test)] mod ... { }` blocks are skipped (tests may name what the code they test may not).
//!
//! - `http_handlers_name_no_port_or_adapter`: no file under `bins/garrison/src/http/` names a port (a
//!   trait defined in `crates/core/src`, found by parsing `pub trait`) or an adapter crate (every
//!   workspace crate under `crates/` but core, the view crates render and pages, testkit, the Discord
//!   and Roblox simulators and the OpenAPI reader they share); no file of the binary names an adapter crate outside `wiring.rs` (or a
//!   `wiring`/`adapters` module). [`HTTP_ALLOWED`] and [`ADAPTERS_ALLOWED`] are empty; an entry no
//!   longer needed fails the check too, so they never grow back unnoticed.
//! - `core_depends_only_on_pure_crates`: `crates/core/Cargo.toml`'s dependencies are in [`PURE_CRATES`].
//! - `view_crates_depend_only_on_pure_crates`: render's and pages' dependencies are in [`PURE_CRATES`]
//!   or [`VIEW_DEPENDENCIES`].
//! - `core_and_view_crates_use_no_io_or_clock_apis`: no `std::fs`, `std::net`, `std::process`,
//!   `SystemTime`, `UNIX_EPOCH` or `Instant::now` in `crates/core/src`, `crates/render/src` and
//!   `crates/pages/src`.
//! - `twilight_is_named_only_in_crates_discord`: no `twilight_*::` path in Rust code and no `twilight-*`
//!   dependency outside `crates/discord`.
//! - `a_guild_id_is_a_server_id`: no Rust code takes a guild as `guild: Snowflake`, `guild_id: Snowflake`
//!   or `server: Snowflake`: a Discord guild is a `ServerId` on the records half and the Discord half.
//! - `storage_branches_on_the_backend_only_in_db_rs`: outside `crates/storage/src/db.rs` (which holds
//!   `per_backend!`), storage code never matches on `AnyConnection::Postgresql`/`Sqlite` or
//!   `Backend::Postgres`/`Sqlite`.
//! - `every_architecture_invariant_names_a_guard_that_exists`: every "Architecture invariant:" paragraph
//!   of ARCHITECTURE.md says "guarded by" and names, in backticks, tests or files that exist.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// (file, name) pairs under `bins/garrison/src/http/` that name a port or an adapter crate at main
/// today. Remove an entry when its handler stops naming it (the check fails until you do).
/// Empty since issue 11 was done: keep it so, and fix the handler rather than add an entry.
const HTTP_ALLOWED: &[(&str, &str)] = &[];

/// (file, adapter crate) pairs of the binary outside `wiring.rs` and `http/` that name an adapter crate
/// at main today. Same rule: remove an entry when it is no longer needed.
/// Empty too: an adapter the binary needs lives under `adapters/` and is built in `wiring.rs`.
const ADAPTERS_ALLOWED: &[(&str, &str)] = &[];

/// What `garrison-core` may depend on: crates that do no IO and need no runtime.
const PURE_CRATES: &[&str] = &[
    "base64",
    "bytes",
    "fancy-regex",
    "futures-core",
    "futures-util",
    "garrison-backup",
    "hmac",
    "percent-encoding",
    "serde",
    "serde_json",
    "sha2",
    "thiserror",
];

/// Workspace crates under `crates/` that are not adapters: the domain, the view crates and the
/// test-only crates.
const NOT_ADAPTERS: &[&str] = &[
    "garrison-core",
    "garrison-backup",
    "garrison-render",
    "garrison-pages",
    "garrison-testkit",
    "garrison-discord-sim",
    "garrison-roblox-sim",
    "garrison-streams-sim",
    "garrison-openapi",
];

/// The view crates: pure functions from values to a PNG (render) or an HTML page (pages). They do no
/// IO and implement no port, so they are not adapters: a handler may read headers into a card's
/// description or turn a service's answer into a page (that is parsing and mapping), and a service
/// may draw with them. The tidy checks `view_crates_depend_only_on_pure_crates` and
/// `core_and_view_crates_use_no_io_or_clock_apis` keep them pure.
const VIEW_CRATES: &[(&str, &str)] = &[("garrison-render", "crates/render"), ("garrison-pages", "crates/pages")];

/// What a view crate may depend on besides [`PURE_CRATES`]: image codecs (and flate2, only to choose
/// the PNG encoder's deflate backend), rasterizing and fonts.
const VIEW_DEPENDENCIES: &[&str] =
    &["flate2", "fontdue", "image", "jpeg-decoder", "jpeg-encoder", "tiny-skia", "ttf-parser"];

fn root() -> PathBuf {
    crate::root()
}

/// `path` relative to the workspace root, with `/` separators.
fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Every file under `dir` whose name ends with `suffix`, sorted; skips `target` and hidden directories.
fn files_under(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    pending.push(path);
                }
            } else if name.ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The workspace's Rust files (crates, binaries, xtask and the black-box tests).
fn workspace_rust_files() -> Vec<PathBuf> {
    ["crates", "bins", "xtask", "tests"].iter().flat_map(|dir| files_under(&root().join(dir), ".rs")).collect()
}

/// `source` with comments and the contents of string and character literals replaced by spaces (line
/// breaks kept, so offsets and line numbers still match).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (i == 0 || !is_ident(chars[i - 1]) || (chars[i - 1] == 'b' && (i < 2 || !is_ident(chars[i - 2]))))
            && matches!(next, Some('"' | '#'))
        {
            // A raw string: r"..." or r#"..."#, with as many #s at the end as at the start.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push('r');
            out.extend(std::iter::repeat_n('#', hashes));
            out.push('"');
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) => {
                        out.push('"');
                        out.extend(std::iter::repeat_n('#', hashes));
                        j += 1 + hashes;
                        break;
                    }
                    Some(&other) => {
                        out.push(blank(other));
                        j += 1;
                    }
                }
            }
            i = j;
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            if i < chars.len() {
                out.push('"');
                i += 1;
            }
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}', '"') or a lifetime ('a), which stays.
            if next == Some('\\') {
                let end = (i + 2..chars.len().min(i + 12)).find(|&j| chars[j] == '\'');
                match end {
                    Some(end) => {
                        out.push('\'');
                        out.extend(std::iter::repeat_n(' ', end - i - 1));
                        out.push('\'');
                        i = end + 1;
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            } else if chars.get(i + 2) == Some(&'\'') {
                out.push_str("' '");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `code` (already [`code_only`]) with every `#[cfg(test)] mod name { ... }` blanked.
fn without_test_modules(code: &str) -> String {
    let mut out: Vec<char> = code.chars().collect();
    let text: String = out.iter().collect();
    let mut from = 0;
    while let Some(found) = text[from..].find("#[cfg(test)]") {
        let start = from + found;
        let after = &text[start + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        from = start + 1;
        let Some(rest) = trimmed.strip_prefix("mod ") else { continue };
        let Some(open) = rest.find(['{', ';']) else { continue };
        if rest.as_bytes()[open] == b';' {
            continue;
        }
        // Character offsets: the text is ASCII wherever it matters here, but count chars to be safe.
        let open_byte = start + "#[cfg(test)]".len() + (after.len() - trimmed.len()) + "mod ".len() + open;
        let mut depth = 0usize;
        let mut end_byte = text.len();
        for (offset, ch) in text[open_byte..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end_byte = open_byte + offset + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let (first, last) = (text[..start].chars().count(), text[..end_byte].chars().count());
        for ch in &mut out[first..last] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        from = end_byte;
    }
    out.into_iter().collect()
}

/// The code of a Rust file that tidy judges: no comments, no string contents, no test modules.
fn judged_code(path: &Path) -> String {
    without_test_modules(&code_only(&read(path)))
}

/// The identifiers in `code`.
fn identifiers(code: &str) -> BTreeSet<&str> {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|word| word.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_'))
        .collect()
}

/// Whether `code` contains `path` (such as `std::fs`) as a path: not preceded or followed by more of an
/// identifier, whitespace around `::` ignored.
fn names_path(code: &str, path: &str) -> bool {
    let pieces: Vec<&str> = code.split("::").collect();
    let last = pieces.len() - 1;
    let squeezed = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| match (i == 0, i == last) {
            (true, true) => *piece,
            (true, false) => piece.trim_end(),
            (false, true) => piece.trim_start(),
            (false, false) => piece.trim(),
        })
        .collect::<Vec<_>>()
        .join("::");
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    squeezed.match_indices(path).any(|(at, _)| {
        let before = squeezed[..at].chars().next_back();
        let after = squeezed[at + path.len()..].chars().next();
        before.is_none_or(|c| !is_ident(c)) && (path.ends_with("::") || after.is_none_or(|c| !is_ident(c)))
    })
}

/// Every `pub trait` defined in `crates/core/src`: the ports adapters implement (and the binary's
/// handlers must not name).
fn core_traits() -> BTreeSet<String> {
    let mut traits = BTreeSet::new();
    for file in files_under(&root().join("crates/core/src"), ".rs") {
        let code = judged_code(&file);
        let words: Vec<&str> = code.split_whitespace().collect();
        for pair in words.windows(3) {
            if pair[0] == "pub" && pair[1] == "trait" {
                let name: String = pair[2].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                traits.insert(name);
            }
        }
    }
    traits
}

/// The package name of every crate under `crates/`, with its directory.
fn crates() -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    for manifest in files_under(&root().join("crates"), "Cargo.toml") {
        let text = read(&manifest);
        let name = text
            .lines()
            .skip_while(|l| l.trim() != "[package]")
            .find_map(|l| {
                l.trim().strip_prefix("name").map(|v| v.trim().trim_start_matches('=').trim().trim_matches('"'))
            })
            .map(str::to_owned);
        if let (Some(name), Some(dir)) = (name, manifest.parent()) {
            found.insert(name, dir.to_path_buf());
        }
    }
    found
}

/// The adapter crates, as Rust code names them (`garrison_storage`, ...).
fn adapter_crates() -> BTreeSet<String> {
    crates().into_keys().filter(|name| !NOT_ADAPTERS.contains(&name.as_str())).map(|n| n.replace('-', "_")).collect()
}

/// Checks `found` (file, name) pairs against an allow-list: the violations not allowed, and the
/// allow-list entries no longer needed.
fn judge(found: &BTreeSet<(String, String)>, allowed: &[(&str, &str)], rule: &str) -> Vec<String> {
    let allowed: BTreeSet<(String, String)> = allowed.iter().map(|(f, n)| ((*f).to_owned(), (*n).to_owned())).collect();
    let mut problems: Vec<String> =
        found.difference(&allowed).map(|(file, name)| format!("{file} names `{name}`: {rule}")).collect();
    problems.extend(allowed.difference(found).map(|(file, name)| {
        format!(
            "{file} no longer names `{name}`: remove (\"{file}\", \"{name}\") from the allow-list in xtask/src/tidy.rs"
        )
    }));
    problems
}

fn fail_on(problems: &[String], what: &str) {
    assert!(problems.is_empty(), "{what}:\n  {}\n", problems.join("\n  "));
}

/// What a binary file names among `names`.
fn named_in(file: &Path, names: &BTreeSet<String>) -> Vec<String> {
    let code = judged_code(file);
    let words = identifiers(&code);
    names.iter().filter(|name| words.contains(name.as_str())).cloned().collect()
}

/// Whether a file of the binary may construct adapters: `wiring.rs`, or a `wiring` or `adapters` module.
fn is_wiring(relative: &str) -> bool {
    let inside = relative.trim_start_matches("bins/garrison/src/");
    ["wiring.rs", "adapters.rs"].contains(&inside) || inside.starts_with("wiring/") || inside.starts_with("adapters/")
}

#[test]
fn http_handlers_name_no_port_or_adapter() {
    let ports = core_traits();
    let adapters = adapter_crates();
    assert!(ports.contains("XpLedger") && ports.contains("ObjectStore") && ports.contains("DiscordBots"), "{ports:?}");
    assert!(adapters.contains("garrison_storage") && adapters.contains("garrison_discord"), "{adapters:?}");
    let forbidden: BTreeSet<String> = ports.union(&adapters).cloned().collect();

    let mut in_http = BTreeSet::new();
    let mut elsewhere = BTreeSet::new();
    for file in files_under(&root().join("bins/garrison/src"), ".rs") {
        let path = relative(&file);
        if path.starts_with("bins/garrison/src/http/") {
            in_http.extend(named_in(&file, &forbidden).into_iter().map(|name| (path.clone(), name)));
        } else if !is_wiring(&path) {
            elsewhere.extend(named_in(&file, &adapters).into_iter().map(|name| (path.clone(), name)));
        }
    }
    let mut problems = judge(
        &in_http,
        HTTP_ALLOWED,
        "handlers parse, call one service and map its error; ports and adapters are wired in wiring.rs",
    );
    problems.extend(judge(&elsewhere, ADAPTERS_ALLOWED, "adapters are constructed only in wiring.rs"));
    fail_on(&problems, "the binary's shape (ARCHITECTURE.md, bins/garrison)");
}

/// The dependency names of the normal and build dependency tables of a manifest (not dev-dependencies).
fn dependencies(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut in_table = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.starts_with('[') {
            let header = line.trim_matches(|c| c == '[' || c == ']');
            let is_dep_table = |h: &str| {
                let last = h.rsplit('.').next().unwrap_or(h);
                (last == "dependencies" || last == "build-dependencies") && !h.contains("dev-dependencies")
            };
            // `[dependencies.name]` names one dependency.
            if let Some((table, name)) = header.rsplit_once('.')
                && is_dep_table(table)
            {
                deps.push(name.trim_matches('"').to_owned());
                in_table = false;
                continue;
            }
            in_table = is_dep_table(header);
            continue;
        }
        if in_table && let Some(name) = line.split(['=', '.']).next().map(str::trim).filter(|n| !n.is_empty()) {
            deps.push(name.trim_matches('"').to_owned());
        }
    }
    deps
}

#[test]
fn core_depends_only_on_pure_crates() {
    let deps = dependencies(&read(&root().join("crates/core/Cargo.toml")));
    assert!(deps.iter().any(|d| d == "thiserror"), "the manifest was read: {deps:?}");
    let impure: Vec<&String> = deps.iter().filter(|d| !PURE_CRATES.contains(&d.as_str())).collect();
    assert!(
        impure.is_empty(),
        "garrison-core does no IO: {impure:?} is not in tidy's PURE_CRATES (xtask/src/tidy.rs); a crate that \
         needs a runtime, a network, a database or the clock belongs in an adapter"
    );
}

#[test]
fn view_crates_depend_only_on_pure_crates() {
    for (name, dir) in VIEW_CRATES {
        assert!(NOT_ADAPTERS.contains(name), "{name} is a view crate, so not an adapter");
        let deps = dependencies(&read(&root().join(dir).join("Cargo.toml")));
        assert!(!deps.is_empty(), "the manifest of {name} was read");
        let impure: Vec<&String> = deps
            .iter()
            .filter(|d| !PURE_CRATES.contains(&d.as_str()) && !VIEW_DEPENDENCIES.contains(&d.as_str()))
            .collect();
        assert!(
            impure.is_empty(),
            "{name} is a view crate and does no IO: {impure:?} is in neither PURE_CRATES nor VIEW_DEPENDENCIES \
             (xtask/src/tidy.rs); a crate that needs a runtime, a network, a database or the clock belongs in an adapter"
        );
    }
}

#[test]
fn core_and_view_crates_use_no_io_or_clock_apis() {
    let mut problems = Vec::new();
    for dir in ["crates/core/src", "crates/backup/src", "crates/render/src", "crates/pages/src"] {
        for file in files_under(&root().join(dir), ".rs") {
            let code = judged_code(&file);
            for path in ["std::fs", "std::net", "std::process", "SystemTime", "UNIX_EPOCH", "Instant::now"] {
                if names_path(&code, path) {
                    problems.push(format!("{} uses `{path}`", relative(&file)));
                }
            }
            // `use std::{fs, net, ...}` names them without the `std::` in front.
            for group in code.split("std::{").skip(1) {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for module in ["fs", "net", "process"] {
                    if identifiers(group).contains(module) {
                        problems.push(format!("{} uses `std::{module}`", relative(&file)));
                    }
                }
            }
        }
    }
    fail_on(&problems, "core, render and pages do no IO and read no clock (time comes through the Clock port)");
}

#[test]
fn twilight_is_named_only_in_crates_discord() {
    let discord = root().join("crates/discord");
    // The simulator's own tests drive real twilight clients (dev-dependencies): what Garrison's client
    // reads must be what the simulator sends, and only a test can show it.
    let conformance = root().join("crates/discord-sim/tests");
    let mut problems = Vec::new();
    for file in workspace_rust_files() {
        if file.starts_with(&discord) || file.starts_with(&conformance) {
            continue;
        }
        let code = judged_code(&file);
        if identifiers(&code)
            .iter()
            .any(|word| word.starts_with("twilight_") && names_path(&code, &format!("{word}::")))
        {
            problems.push(format!("{} names a twilight crate", relative(&file)));
        }
    }
    for manifest in ["crates", "bins", "xtask"].iter().flat_map(|dir| files_under(&root().join(dir), "Cargo.toml")) {
        if manifest.starts_with(&discord) {
            continue;
        }
        let deps = dependencies(&read(&manifest));
        if let Some(dep) = deps.iter().find(|d| d.starts_with("twilight")) {
            problems.push(format!("{} depends on {dep}", relative(&manifest)));
        }
    }
    fail_on(&problems, "twilight's types never leave crates/discord");
}

#[test]
fn a_guild_id_is_a_server_id() {
    let pattern = ["guild: Snowflake", "guild_id: Snowflake", "server: Snowflake"];
    let mut problems = Vec::new();
    for file in workspace_rust_files() {
        let code = code_only(&read(&file));
        for (line, text) in code.lines().enumerate() {
            if pattern.iter().any(|p| text.contains(p)) {
                problems.push(format!("{}:{} takes a guild as a bare Snowflake", relative(&file), line + 1));
            }
        }
    }
    fail_on(&problems, "a Discord guild is a `ServerId` on both halves (parsed by one rule)");
}

#[test]
fn storage_branches_on_the_backend_only_in_db_rs() {
    let mut problems = Vec::new();
    for file in files_under(&root().join("crates/storage/src"), ".rs") {
        let path = relative(&file);
        if path == "crates/storage/src/db.rs" {
            continue;
        }
        let code = judged_code(&file);
        for variant in ["AnyConnection::Postgresql", "AnyConnection::Sqlite", "Backend::Postgres", "Backend::Sqlite"] {
            if names_path(&code, variant) {
                problems.push(format!("{path} matches on `{variant}`"));
            }
        }
    }
    fail_on(&problems, "SQL that differs by backend goes through per_backend! (crates/storage/src/db.rs)");
}

/// The "Architecture invariant:" paragraphs of a Markdown text: from a line that starts with the marker
/// to the next blank line, heading, list item or marker.
fn invariants(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim();
        let ends = trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("- ");
        if trimmed.starts_with("Architecture invariant:") {
            found.extend(current.take());
            current = Some(trimmed.to_owned());
        } else if ends {
            found.extend(current.take());
        } else if let Some(paragraph) = current.as_mut() {
            paragraph.push(' ');
            paragraph.push_str(trimmed);
        }
    }
    found.extend(current);
    found
}

/// The guards an invariant names: the backticked items after "guarded by".
fn guards(invariant: &str) -> Vec<String> {
    let lower = invariant.to_ascii_lowercase();
    let Some(at) = lower.find("guarded by") else { return Vec::new() };
    invariant[at..].split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// Whether a guard exists: a file (`path/file.rs`), a test in a file (`path/file.rs::name`), or a
/// function anywhere in the tree (`name`, `module::name`, `tidy::name`).
fn guard_exists(guard: &str, functions: &BTreeSet<String>) -> Result<(), String> {
    let (file, function) = match guard.rsplit_once("::") {
        Some((before, name)) if before.ends_with(".rs") => (Some(before), Some(name)),
        Some((_, name)) => (None, Some(name)),
        None if guard.ends_with(".rs") || guard.contains('/') => (Some(guard), None),
        None => (None, Some(guard)),
    };
    if let Some(file) = file {
        let path = root().join(file);
        if !path.is_file() {
            return Err(format!("`{guard}`: there is no file {file}"));
        }
        if let Some(function) = function
            && !code_only(&read(&path)).contains(&format!("fn {function}("))
        {
            return Err(format!("`{guard}`: {file} has no function {function}"));
        }
        return Ok(());
    }
    match function {
        Some(name) if name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') => {
            if functions.contains(name) { Ok(()) } else { Err(format!("`{guard}`: no function {name} in the tree")) }
        }
        _ => Err(format!("`{guard}` names neither a test function nor a file")),
    }
}

/// The name of every function defined in the workspace's Rust files.
fn all_functions() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in workspace_rust_files() {
        let code = code_only(&read(&file));
        for piece in code.split("fn ").skip(1) {
            let name: String = piece.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

#[test]
fn every_architecture_invariant_names_a_guard_that_exists() {
    let text = read(&root().join("ARCHITECTURE.md"));
    let invariants = invariants(&text);
    assert!(invariants.len() >= 10, "ARCHITECTURE.md's invariants were found: {invariants:#?}");
    let functions = all_functions();
    let mut problems = Vec::new();
    for invariant in &invariants {
        let short: String = invariant.chars().take(90).collect();
        let guards = guards(invariant);
        if guards.is_empty() {
            problems.push(format!("\"{short}...\" names no guard (write: Guarded by `test_name`, `path/file.rs`)"));
        }
        for guard in guards {
            if let Err(why) = guard_exists(&guard, &functions) {
                problems.push(format!("\"{short}...\": {why}"));
            }
        }
    }
    fail_on(&problems, "every architecture invariant names a test or tidy check that would catch its breach");
}

#[test]
fn tidy_reads_code_only() {
    let source = r##"
        use garrison_storage::X; // garrison_fetch in a comment
        /* garrison_render /* nested */ still a comment */
        let s = "garrison_pages and \" quote"; let r = r#"twilight_http::x"#;
        let c = '"'; let l: &'static str = "x";
        fn f<'a>(x: &'a str) {}
        #[cfg(test)]
        mod tests { use garrison_discord::Y; fn inner() { { } } }
        fn after() {}
    "##;
    let code = without_test_modules(&code_only(source));
    let words = identifiers(&code);
    assert!(words.contains("garrison_storage") && words.contains("after") && words.contains("static"));
    for hidden in ["garrison_fetch", "garrison_render", "garrison_pages", "twilight_http", "garrison_discord", "inner"]
    {
        assert!(!words.contains(hidden), "{hidden} should be hidden in:\n{code}");
    }
    assert_eq!(code.lines().count(), source.lines().count(), "line breaks are kept");
    assert!(names_path("use std :: fs;", "std::fs") && !names_path("use std::fsx;", "std::fs"));
    assert!(!names_path("mystd::fs", "std::fs"));

    let manifest = "[package]\nname = \"x\"\n[dependencies]\nserde.workspace = true\ntokio = { version = \"1\" }\n\
                    [dev-dependencies]\nproptest = \"1\"\n[dependencies.diesel]\nversion = \"2\"\n";
    assert_eq!(dependencies(manifest), ["serde", "tokio", "diesel"]);

    let markdown = "Text.\n\nArchitecture invariant: one\nline two. Guarded by `a_test` and\n`x/y.rs::b`.\n\n\
                    - **Secrets.** Something.\n  Architecture invariant: none here.\n- next item\n\
                    A mention of the Architecture invariant: marker mid-line is no invariant.\n";
    let found = invariants(markdown);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(guards(&found[0]), ["a_test", "x/y.rs::b"]);
    assert!(guards(&found[1]).is_empty());
}

#[test]
fn allow_lists_only_shrink() {
    let found: BTreeSet<(String, String)> =
        [("http/a.rs".to_owned(), "XpLedger".to_owned()), ("http/b.rs".to_owned(), "garrison_storage".to_owned())]
            .into_iter()
            .collect();
    let allowed = [("http/a.rs", "XpLedger"), ("http/c.rs", "ObjectStore")];
    let problems = judge(&found, &allowed, "rule");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("http/b.rs names `garrison_storage`"), "{problems:?}");
    assert!(problems[1].starts_with("http/c.rs no longer names `ObjectStore`: remove"), "{problems:?}");
    assert!(judge(&found, &[("http/a.rs", "XpLedger"), ("http/b.rs", "garrison_storage")], "rule").is_empty());
}
