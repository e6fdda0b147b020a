//! Running steps: each prints what it runs and how long it took, and a failure names the step.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/xtask is two levels down").to_path_buf()
}

/// Where `cargo install` puts binaries.
pub fn cargo_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    home.join("bin")
}

/// PATH with the installed tools first: cargo's bin (trunk, wasm-bindgen) and npm's (wasm-opt).
pub fn tool_path() -> String {
    let mut parts = vec![cargo_bin(), root().join("tests/e2e/node_modules/.bin")];
    parts.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(parts).expect("paths join").to_string_lossy().into_owned()
}

/// Temporary files inside the project: /tmp can vanish mid-build on these machines.
pub fn tmp_dir() -> PathBuf {
    let t = root().join("target/tmp");
    let _ = std::fs::create_dir_all(&t);
    t
}

pub struct Step {
    name: String,
    cmd: Command,
    shown: String,
}

impl Step {
    pub fn new(name: &str) -> Step {
        Step { name: name.to_string(), cmd: Command::new("true"), shown: String::new() }
    }

    pub fn cmd(mut self, program: &str) -> Step {
        self.cmd = Command::new(program);
        self.cmd.current_dir(root()).env("PATH", tool_path()).env("TMPDIR", tmp_dir());
        self.shown = program.to_string();
        self
    }

    pub fn args<'a>(mut self, args: impl IntoIterator<Item = &'a str>) -> Step {
        for a in args {
            self.shown.push(' ');
            self.shown.push_str(a);
            self.cmd.arg(a);
        }
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Step {
        self.cmd.env(k, v);
        self
    }

    pub fn dir(mut self, d: PathBuf) -> Step {
        self.cmd.current_dir(d);
        self
    }

    /// Runs with output shown; an error names the step.
    pub fn run(mut self) -> Result<(), String> {
        println!("\n==> {}\n    $ {}", self.name, self.shown);
        let start = Instant::now();
        let status = self.cmd.status().map_err(|e| format!("step '{}': could not start '{}': {e}", self.name, self.shown))?;
        let took = start.elapsed().as_secs_f64();
        if !status.success() {
            return Err(format!("step '{}' failed after {took:.1}s ({status}): {}", self.name, self.shown));
        }
        println!("<== {} done in {took:.1}s", self.name);
        Ok(())
    }

    /// Runs quietly and returns stdout; an error names the step.
    pub fn output(mut self) -> Result<String, String> {
        let out = self.cmd.output().map_err(|e| format!("step '{}': could not start '{}': {e}", self.name, self.shown))?;
        if !out.status.success() {
            return Err(format!("step '{}' failed: {}\n{}", self.name, self.shown, String::from_utf8_lossy(&out.stderr)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// Prints dist/'s files, raw and gzipped; returns the gzipped total.
pub fn size_table(dist: &Path) -> Result<u64, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dist)
        .map_err(|e| format!("reading {}: {e}", dist.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    println!("\n{:<48} {:>10} {:>10}", "dist/ file", "raw B", "gzip B");
    let (mut raw_total, mut gz_total) = (0, 0);
    for f in files {
        let raw = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        let gz = gzip_size(&f)?;
        raw_total += raw;
        gz_total += gz;
        println!("{:<48} {:>10} {:>10}", f.file_name().unwrap_or_default().to_string_lossy(), raw, gz);
    }
    println!("{:<48} {:>10} {:>10}  (budget: 300 KB gzip)", "total", raw_total, gz_total);
    Ok(gz_total)
}

pub fn gzip_size(f: &Path) -> Result<u64, String> {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(f).output().map_err(|e| format!("gzip: {e}"))?;
    Ok(out.stdout.len() as u64)
}
