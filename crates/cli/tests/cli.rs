//! The command line as a user types it: the binary, its output and its exit code.

use std::process::Command;

fn clusterlab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_clusterlab")).args(args).output().expect("the binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_event_log_prints_in_words_and_filters_by_node_or_kind() {
    let run = ["run", "circuit-breaker", "--at", "5s hang b", "--at", "20s revive b", "--until", "30s"];
    let (code, all, _) = clusterlab(&[&run[..], &["--log"]].concat());
    assert_eq!(code, 0);
    assert!(all.contains("fault      hang b") && all.contains("state      a: breaker open") && all.contains("revive b"), "{all}");
    let (_, only_a, _) = clusterlab(&[&run[..], &["--log-only", "a"]].concat());
    let lines: Vec<&str> = only_a.lines().take_while(|l| l.starts_with(' ')).collect();
    assert!(!lines.is_empty() && lines.iter().all(|l| l.contains("a: breaker")), "{only_a}");
    let (_, faults, _) = clusterlab(&[&run[..], &["--log-only", "fault"]].concat());
    assert_eq!(faults.lines().take_while(|l| l.starts_with(' ')).count(), 2, "{faults}");
}

#[test]
fn a_filter_that_names_nothing_is_refused_with_what_exists() {
    let (code, _, err) = clusterlab(&["run", "circuit-breaker", "--until", "1s", "--log-only", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("'nope'") && err.contains("nodes: b, a, client"), "{err}");
}

/// Output piped into a reader that has already gone (`| head -1` after its line): the
/// run ends quietly, with no panic about the broken pipe. The reader closes before the
/// run has printed anything (60 virtual seconds take tens of milliseconds to simulate).
#[test]
fn a_reader_that_stops_early_is_no_panic() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_clusterlab"))
        .args(["run", "load-balancing", "--until", "60s", "--log"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("it ends");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("panicked"), "{err}");
}
