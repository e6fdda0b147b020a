//! `cargo xtask setup|serve|test|dist|bench`: the project's own automation. It installs
//! what is missing (and only that) from the package registries, then builds and tests.
//! Standard library and serde_json only, so it compiles in seconds on a fresh machine.

mod bench;
mod bytes;
mod peer;
mod setup;
mod sh;

use sh::{Step, root};
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <setup | serve [--port N] | test | dist | bench | peer>
  dist   release build into dist/, its sizes, and each scene's cost in bytes (into BENCHMARKS.md)
  bench  every figure of BENCHMARKS.md, written anew
  peer   only the engine against SimPy (into BENCHMARKS.md)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::all(),
        Some("serve") => serve(&args[1..]),
        Some("test") => test(),
        Some("dist") => dist().and_then(|gz| {
            bench::put_section(&bytes::per_scene()?)?;
            bench::put_dist_total(gz)
        }),
        Some("bench") => bench::run(),
        Some("peer") => peer_only(),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The SimPy comparison alone, on a freshly built CLI.
fn peer_only() -> Result<(), String> {
    Step::new("build the CLI, tuned for speed").cmd("cargo").args(["build", "--profile", "native", "-p", "clusterlab-cli"]).run()?;
    let section = peer::section()?;
    println!("\n{section}");
    bench::put_section(&section)
}

fn serve(args: &[String]) -> Result<(), String> {
    let port = match args {
        [] => "8080".to_string(),
        [flag, p] if flag == "--port" && p.parse::<u16>().is_ok() => p.clone(),
        _ => return Err(format!("serve takes an optional --port N; {USAGE}")),
    };
    setup::all()?;
    println!("\nclusterlab at http://127.0.0.1:{port}/  (Ctrl-C stops)");
    Step::new("trunk serve")
        .cmd("trunk")
        .args(["serve", "--offline", "--address", "127.0.0.1", "--port", &port, "--public-url", "/"])
        .run()
}

fn test() -> Result<(), String> {
    setup::all()?;
    Step::new("native tests (cargo test, the whole workspace but the web crate)")
        .cmd("cargo")
        .args(["test", "--workspace", "--exclude", "clusterlab-web"])
        .run()?;
    Step::new("component tests in headless Chromium (wasm-bindgen-test)")
        .cmd("cargo")
        .args(["test", "-p", "clusterlab-web", "--target", "wasm32-unknown-unknown"])
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300")
        .run()?;
    dist()?;
    Step::new("end-to-end tests (Playwright + Chromium against dist/)")
        .cmd("npx")
        .args(["playwright", "test"])
        .dir(root().join("tests/e2e"))
        .env("CLUSTERLAB_DIST", root().join("dist").to_string_lossy().as_ref())
        .run()
}

/// Release build into dist/, then a table of sizes raw and gzipped. Returns total gzip bytes.
fn dist() -> Result<u64, String> {
    Step::new("release build (trunk build --release)").cmd("trunk").args(["build", "--release", "--offline"]).run()?;
    sh::size_table(&root().join("dist"))
}
