//! The layout stays one-way. The `use crate::…` and `super::…` paths of every file under `src/`
//! are read as text (comments left out) and checked against the one table below: a module may
//! use only modules of a lower layer, modules of one layer never use each other, and no files
//! use each other in a circle. A folder's `mod.rs` naming its own children is the module tree,
//! not a use. Files stay under 800 lines before their tests, unless their first comment says
//! they are a table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The allowed order, bottom up. A top-level module (`src/NAME.rs` or `src/NAME/`) may use the
/// modules of the layers below its own and nothing else.
const LAYERS: &[&[&str]] = &[
    // Vocabulary and the byte level: they use nothing of the crate.
    &["framing", "gnss", "backoff", "secret"],
    // Messages decode frames into the vocabulary; points and the spool carry products.
    &["messages", "telemetry", "spool"],
    // Shared protocols and formats.
    &["ntrip", "rinex", "report", "simulate"],
    // Bytes in; products out; corrections for rovers. Never each other.
    &["sources", "sinks", "feeds"],
    // One source's data flow.
    &["station"],
    // Raw TOML into each part's own settings.
    &["config"],
    // The only place that wires parts.
    &["app"],
    &["commands"],
    &["cli"],
    &["lib", "main"],
];

const MAX_LINES: usize = 800;

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `sinks/archive.rs` → `[sinks, archive]`; `sinks/mod.rs` → `[sinks]`; `lib.rs` → `[]`.
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    match parts.last().map(String::as_str) {
        Some("mod") => {
            parts.pop();
        }
        Some("lib" | "main") if parts.len() == 1 => parts.clear(),
        _ => {}
    }
    parts
}

/// The text without `//` and `/* */` comments (string contents are not parsed: a path in a
/// string would count, which the crate does not have).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            match text[i + 2..].find("*/") {
                Some(k) => i += k + 4,
                None => i = b.len(),
            }
        } else {
            let ch = text[i..].chars().next().expect("inside the text");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// `a::{b::c, d}` → `[a::b::c, a::d]`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.split(" as ").next().unwrap_or("").trim().to_string()];
    };
    let close = tree.rfind('}').unwrap_or(tree.len());
    let (head, body) = (&tree[..open], &tree[open + 1..close]);
    let (mut items, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for ch in body.chars() {
        match ch {
            ',' if depth == 0 => items.push(std::mem::take(&mut cur)),
            '{' => {
                depth += 1;
                cur.push(ch);
            }
            '}' => {
                depth -= 1;
                cur.push(ch);
            }
            _ => cur.push(ch),
        }
    }
    items.push(cur);
    items
        .iter()
        .filter(|i| !i.trim().is_empty())
        .flat_map(|i| expand(&format!("{head}{}", i.trim())))
        .collect()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every `crate::…`/`super::…` path of a file, as absolute module paths.
fn paths_in(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut raw = Vec::new();
    let mut rest = String::new();
    let mut t = text;
    // `use …;` statements, expanded; the rest of the text is searched for inline paths.
    while let Some(k) = t.find("use ") {
        let starts_word = k == 0 || !t[..k].chars().next_back().is_some_and(is_word);
        rest.push_str(&t[..k]);
        let after = &t[k + 4..];
        match (starts_word, after.find(';')) {
            (true, Some(end)) => {
                raw.extend(expand(&after[..end]));
                t = &after[end + 1..];
            }
            _ => {
                rest.push_str("use ");
                t = after;
            }
        }
    }
    rest.push_str(t);
    for root in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(k) = rest[from..].find(root) {
            let at = from + k;
            from = at + root.len();
            if rest[..at].chars().next_back().is_some_and(is_word) {
                continue;
            }
            let len = rest[at..]
                .find(|c: char| !(is_word(c) || c == ':'))
                .unwrap_or(rest.len() - at);
            raw.push(rest[at..at + len].trim_end_matches(':').to_string());
        }
    }
    let mut out = Vec::new();
    for p in raw {
        let segs: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
        match segs.first() {
            Some(&"crate") => out.push(segs[1..].iter().map(|s| s.to_string()).collect()),
            Some(&"super") => {
                let mut base = module.to_vec();
                let mut segs = &segs[..];
                while segs.first() == Some(&"super") {
                    base.pop();
                    segs = &segs[1..];
                }
                base.extend(segs.iter().map(|s| s.to_string()));
                out.push(base);
            }
            Some(&"self") => {
                let mut base = module.to_vec();
                base.extend(segs[1..].iter().map(|s| s.to_string()));
                out.push(base);
            }
            _ => {}
        }
    }
    out
}

/// Strongly connected components of more than one file (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>, nodes: &[String]) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        if let Some(ws) = t.edges.get(v) {
            for w in ws {
                if !t.index.contains_key(w.as_str()) {
                    visit(t, w);
                    let lw = t.low[w.as_str()];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(lw));
                } else if t.on.contains(w.as_str()) {
                    let iw = t.index[w.as_str()];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(iw));
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for n in nodes {
        if !t.index.contains_key(n.as_str()) {
            visit(&mut t, n);
        }
    }
    t.out
}

/// The file graph of `src/`: file → files it uses.
fn graph(src: &Path) -> (Vec<String>, BTreeMap<String, BTreeSet<String>>) {
    let mut paths = Vec::new();
    rs_files(src, &mut paths);
    let files: Vec<String> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(src).expect("under src/");
            rel.to_string_lossy().replace('\\', "/")
        })
        .collect();
    let by_module: BTreeMap<Vec<String>, &String> =
        files.iter().map(|f| (module_of(f), f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (f, p) in files.iter().zip(&paths) {
        let text = strip_comments(&std::fs::read_to_string(p).expect("a readable source file"));
        let module = module_of(f);
        for segs in paths_in(&text, &module) {
            let Some(target) = (1..=segs.len())
                .rev()
                .find_map(|n| by_module.get(&segs[..n]))
            else {
                continue;
            };
            let dir = f.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            let own_child = f.ends_with("mod.rs") && target.starts_with(&format!("{dir}/"));
            if *target != f && !own_child {
                edges
                    .entry(f.clone())
                    .or_default()
                    .insert((*target).clone());
            }
        }
    }
    (files, edges)
}

fn top(file: &str) -> &str {
    file.split('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".rs")
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_module_has_a_layer() {
    let (files, _) = graph(&src_dir());
    let missing: BTreeSet<&str> = files
        .iter()
        .map(|f| top(f))
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a layer in LAYERS: {missing:?}"
    );
}

#[test]
fn imports_go_down_the_layers_only() {
    let (_, edges) = graph(&src_dir());
    let mut wrong = Vec::new();
    for (from, tos) in &edges {
        for to in tos {
            let (a, b) = (top(from), top(to));
            if a == b {
                continue;
            }
            let (la, lb) = (layer_of(a), layer_of(b));
            if !matches!((la, lb), (Some(la), Some(lb)) if lb < la) {
                wrong.push(format!("{from} uses {to} ({a} may not use {b})"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_file_cycles() {
    let (files, edges) = graph(&src_dir());
    let found = cycles(&edges, &files);
    assert!(found.is_empty(), "files that use each other: {found:?}");
}

#[test]
fn files_stay_short() {
    let mut paths = Vec::new();
    rs_files(&src_dir(), &mut paths);
    let mut long = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).expect("a readable source file");
        let body = text.split("#[cfg(test)]").next().unwrap_or("");
        let lines = body.matches('\n').count();
        let first_comment = text.lines().next().unwrap_or("");
        if lines > MAX_LINES && !first_comment.to_ascii_lowercase().contains("table") {
            long.push(format!("{} ({lines} lines)", p.display()));
        }
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}

/// The checks catch what they are for: a backwards arrow and a circle in a made-up tree.
#[test]
fn the_checks_see_a_cycle_and_a_backwards_import() {
    let dir = std::env::temp_dir().join(format!("corsd-layout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("gnss")).expect("a temporary directory");
    std::fs::create_dir_all(dir.join("feeds")).expect("a temporary directory");
    let write = |p: &str, t: &str| std::fs::write(dir.join(p), t).expect("a temporary file");
    write("gnss/mod.rs", "pub mod a;\npub mod b;\n");
    write(
        "gnss/a.rs",
        "use super::b::X;\n// use crate::station::Nothing;\n",
    );
    write("gnss/b.rs", "use crate::gnss::a::{self, Y};\n");
    write(
        "feeds/mod.rs",
        "pub fn f() { let _ = crate::station::pipeline::Pipeline::new; }\n",
    );
    write("station.rs", "");
    let (files, edges) = graph(&dir);
    assert_eq!(
        cycles(&edges, &files),
        vec![vec!["gnss/a.rs".to_string(), "gnss/b.rs".into()]]
    );
    assert_eq!(
        edges["feeds/mod.rs"],
        BTreeSet::from(["station.rs".to_string()])
    );
    assert!(
        layer_of("station") > layer_of("feeds"),
        "feeds may not use station"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
