//! What each scene costs in the page's bytes: the wasm is built once with every scene and
//! once without each one (scenes are cargo features of clusterlab-sim), each through the
//! same pipeline as `trunk build --release` (cargo, wasm-bindgen, wasm-opt -Oz and index.html's further passes, the
//! short import names of web/shorten-imports.mjs), and the
//! gzipped sizes are compared. A scene's cost is what leaving it out saves.

use crate::sh::{Step, gzip_size, root};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The scene features, in the order `all-scenes` lists them in crates/sim/Cargo.toml.
fn scene_features() -> Result<Vec<String>, String> {
    let manifest = std::fs::read_to_string(root().join("crates/sim/Cargo.toml")).map_err(|e| format!("reading crates/sim/Cargo.toml: {e}"))?;
    let line = manifest.lines().find(|l| l.starts_with("all-scenes")).ok_or("crates/sim/Cargo.toml has no all-scenes feature")?;
    Ok(line.split('"').skip(1).step_by(2).map(str::to_string).collect())
}

/// The passes Trunk runs after `-Oz`: index.html's `data-wasm-opt-params`.
fn wasm_opt_params() -> Result<String, String> {
    let html = std::fs::read_to_string(root().join("index.html")).map_err(|e| format!("reading index.html: {e}"))?;
    let (_, rest) = html.split_once("data-wasm-opt-params=\"").ok_or("index.html has no data-wasm-opt-params")?;
    Ok(rest.split('"').next().unwrap_or_default().to_string())
}

/// Builds the page's wasm with these scenes; returns its gzipped size after wasm-opt.
fn wasm_gzip(label: &str, scenes: &[&String], wasm_opt_params: &str) -> Result<u64, String> {
    let target_dir = root().join("target/scene-bytes");
    let features: Vec<String> = scenes.iter().map(|s| format!("clusterlab-sim/{s}")).collect();
    let features = features.join(",");
    let mut args = vec!["build", "--quiet", "-p", "clusterlab-web", "--bin", "clusterlab-web", "--release", "--target", "wasm32-unknown-unknown", "--no-default-features"];
    if !features.is_empty() {
        args.extend(["--features", features.as_str()]);
    }
    let dir = target_dir.to_string_lossy().into_owned();
    args.extend(["--target-dir", dir.as_str()]);
    Step::new(&format!("wasm {label}")).cmd("cargo").args(args).output()?;
    let out: PathBuf = target_dir.join("out").join(label);
    let _ = std::fs::remove_dir_all(&out);
    let wasm = target_dir.join("wasm32-unknown-unknown/release/clusterlab-web.wasm");
    let out_s = out.to_string_lossy().into_owned();
    Step::new("wasm-bindgen").cmd("wasm-bindgen").args(["--target", "web", "--no-typescript", "--out-dir", &out_s, &wasm.to_string_lossy()]).output()?;
    let bg = out.join("clusterlab-web_bg.wasm").to_string_lossy().into_owned();
    let mut opt = vec!["-Oz", &bg, "-o", &bg];
    opt.extend(wasm_opt_params.split_whitespace());
    Step::new("wasm-opt").cmd("wasm-opt").args(opt).output()?;
    let script = root().join("web/shorten-imports.mjs").to_string_lossy().into_owned();
    Step::new("shorten-imports").cmd("node").args([script.as_str(), out_s.as_str()]).output()?;
    gzip_size(Path::new(&bg))
}

/// Prints the table and returns it as a section of BENCHMARKS.md.
pub fn per_scene() -> Result<String, String> {
    let scenes = scene_features()?;
    println!("\n==> bytes per scene: the page's wasm built {} times (a few minutes)", scenes.len() + 2);
    let all: Vec<&String> = scenes.iter().collect();
    let params = wasm_opt_params()?;
    let full = wasm_gzip("all", &all, &params)?;
    let none = wasm_gzip("none", &[], &params)?;
    let mut md = String::new();
    writeln!(md, "## Bytes per scene\n\nCommand: `cargo xtask dist`. The page's wasm is built with every scene, with none, and without each one in turn (scenes are cargo features of clusterlab-sim), each through cargo, wasm-bindgen, `wasm-opt -Oz` with index.html's `data-wasm-opt-params` and web/shorten-imports.mjs as Trunk does; a scene's cost is what leaving it out saves, gzipped.\n").ok();
    writeln!(md, "| build | wasm gzip B | scene's cost B |\n|---|---:|---:|").ok();
    writeln!(md, "| every scene | {full} | |").ok();
    for s in &scenes {
        let without: Vec<&String> = scenes.iter().filter(|x| *x != s).collect();
        let size = wasm_gzip(s, &without, &params)?;
        writeln!(md, "| without {s} | {size} | {} |", full as i64 - size as i64).ok();
    }
    writeln!(md, "| no scene (engine, page, libraries) | {none} | |").ok();
    writeln!(md, "\nEvery scene together costs {} B; the platform they share, {none} B.", full as i64 - none as i64).ok();
    println!("\n{md}");
    Ok(md)
}
