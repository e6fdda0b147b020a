//! `cargo xtask setup`: installs what is missing, and only that. Everything comes from
//! the package registries (crates.io, npm, Debian); Trunk is then pointed at these local
//! tools and never downloads its own. A second run finds everything and takes seconds.

use crate::sh::{Step, cargo_bin, root, tmp_dir};
use std::path::Path;
use std::time::Instant;

pub const TRUNK_VERSION: &str = "0.22.1";
/// Trunk 0.22.1 needs rustc >= 1.96.1, newer than many machines' stock toolchain, so the
/// tools (Trunk, wasm-bindgen-cli) are compiled with this one, installed by name: never
/// implicitly, which machines with RUSTUP_AUTO_INSTALL=0 refuse. The project itself
/// builds with whatever toolchain is active.
pub const TOOLS_TOOLCHAIN: &str = "1.99.1";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

pub fn all() -> Result<(), String> {
    let start = Instant::now();
    println!("==> setup: checking tools (each is installed only if missing)");
    check("wasm32 target", wasm_target)?;
    check("trunk", trunk)?;
    check("wasm-bindgen-cli", wasm_bindgen)?;
    check("chromium + chromedriver", chromium)?;
    check("npm packages (Playwright, binaryen's wasm-opt)", npm_packages)?;
    check("crates fetched (Trunk builds offline)", fetch)?;
    println!("<== setup done in {:.1}s", start.elapsed().as_secs_f64());
    Ok(())
}

fn check(what: &str, f: impl FnOnce() -> Result<String, String>) -> Result<(), String> {
    let t = Instant::now();
    let status = f().map_err(|e| format!("setup of {what}: {e}"))?;
    println!("    {what:<48} {status} ({:.1}s)", t.elapsed().as_secs_f64());
    Ok(())
}

/// The first line a tool prints for `--version`, or None if it does not run.
fn version(tool: &str) -> Option<String> {
    let candidates = [cargo_bin().join(tool), Path::new(tool).to_path_buf()];
    candidates.iter().find_map(|c| {
        let out = std::process::Command::new(c).arg("--version").output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").trim().to_string())
    })
}

/// Installs the tools toolchain if rustup lacks it (seconds: a download, no compile).
fn tools_toolchain() -> Result<(), String> {
    let list = Step::new("list rust toolchains").cmd("rustup").args(["toolchain", "list"]).output()?;
    if list.lines().any(|l| l.starts_with(&format!("{TOOLS_TOOLCHAIN}-"))) {
        return Ok(());
    }
    Step::new(&format!("install Rust {TOOLS_TOOLCHAIN}, used only to compile the tools"))
        .cmd("rustup")
        .args(["toolchain", "install", TOOLS_TOOLCHAIN, "--profile", "minimal"])
        .run()
}

fn cargo_install(name: &str, ver: &str, locked: bool) -> Result<(), String> {
    tools_toolchain()?;
    let target_dir = root().join("target/install");
    let toolchain = format!("+{TOOLS_TOOLCHAIN}");
    let mut args = vec![toolchain.as_str(), "install", name, "--version", ver, "--target-dir"];
    let target_dir = target_dir.to_string_lossy().into_owned();
    args.push(&target_dir);
    if locked {
        args.push("--locked");
    }
    Step::new(&format!("install {name} {ver}")).cmd("cargo").args(args).run()
}

fn wasm_target() -> Result<String, String> {
    let installed = Step::new("list rust targets").cmd("rustup").args(["target", "list", "--installed"]).output()?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok("present".into());
    }
    Step::new("add the wasm32 target").cmd("rustup").args(["target", "add", WASM_TARGET]).run()?;
    Ok("installed".into())
}

fn trunk() -> Result<String, String> {
    let want = format!("trunk {TRUNK_VERSION}");
    if version("trunk").as_deref() == Some(want.as_str()) {
        return Ok(format!("{want} present"));
    }
    println!("\n    Trunk {TRUNK_VERSION} is missing: compiling it from crates.io takes 15-25 minutes on two cores.");
    cargo_install("trunk", TRUNK_VERSION, true)?;
    Ok(format!("{want} installed"))
}

/// The wasm-bindgen version Cargo.lock pins; the CLI must match it exactly.
pub fn locked_wasm_bindgen() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == "name = \"wasm-bindgen\"" {
            let v = lines.next().unwrap_or("");
            return v.trim().strip_prefix("version = \"").and_then(|v| v.strip_suffix('"')).map(str::to_string).ok_or("odd Cargo.lock".into());
        }
    }
    Err("Cargo.lock has no wasm-bindgen".into())
}

fn wasm_bindgen() -> Result<String, String> {
    let ver = locked_wasm_bindgen()?;
    let want = format!("wasm-bindgen {ver}");
    if version("wasm-bindgen").as_deref() == Some(want.as_str()) {
        return Ok(format!("{want} present"));
    }
    println!("\n    wasm-bindgen-cli {ver} (the version in Cargo.lock) is missing: about 4 minutes to compile.");
    // Without --locked: its lockfile pins a crate the registry no longer serves.
    cargo_install("wasm-bindgen-cli", &ver, false)?;
    Ok(format!("{want} installed"))
}

fn chromium() -> Result<String, String> {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok("present".into());
    }
    let apt = |args: &[&str]| Step::new("apt-get").cmd("apt-get").args(args.iter().copied()).env("DEBIAN_FRONTEND", "noninteractive").run();
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "chromium", "chromium-driver"])?;
    Ok("installed from Debian".into())
}

fn npm_packages() -> Result<String, String> {
    let dir = root().join("tests/e2e");
    let installed = dir.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = matches!((modified(&installed), modified(&dir.join("package-lock.json"))), (Some(i), Some(l)) if i >= l);
    if fresh && dir.join("node_modules/.bin/wasm-opt").exists() && dir.join("node_modules/.bin/playwright").exists() {
        return Ok("present".into());
    }
    Step::new("npm ci (tests/e2e)")
        .cmd("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .dir(dir)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .run()?;
    Ok("installed from package-lock.json".into())
}

fn fetch() -> Result<String, String> {
    let _ = tmp_dir();
    Step::new("cargo fetch").cmd("cargo").args(["fetch", "--quiet"]).output()?;
    Ok("ok".into())
}
