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

/// The messages a run sends with `t0` in `[from, to)`, counted straight from the trace.
fn messages_sent(spec: &clusterlab_sim::RunSpec, from: u64, to: u64) -> usize {
    let mut sim = clusterlab_sim::Sim::new(spec).unwrap();
    *sim.world.ring_mut() = Some(clusterlab_sim::trace::RingSink::new(1 << 24));
    sim.run();
    let ring = sim.world.ring_mut().take().unwrap();
    ring.iter().filter_map(|r| r.message()).filter(|m| (from..to).contains(&m.0)).count()
}

/// `--diagram FROM..TO FILE`: an SVG document with one arrow for every message sent in the
/// window (here 20 ms of load balancing with a server killed and loss, so that some are
/// lost and some refused); past 400 messages, one request in N, and it says so.
#[test]
fn the_diagram_of_a_window_has_an_arrow_for_every_message_sent_in_it() {
    let dir = std::env::temp_dir().join(format!("clusterlab-diagram-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("window.svg");
    let file_s = file.to_string_lossy().into_owned();
    let args = ["run", "load-balancing", "--set", "loss=0.05", "--at", "1s kill server-2", "--until", "2s"];
    let (code, _, err) = clusterlab(&[&args[..], &["--diagram", "1s..1.02s", &file_s]].concat());
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(&file).unwrap();
    let spec = clusterlab_sim::RunSpec::new("load-balancing").set("loss", "0.05").fault("1s kill server-2").limit(clusterlab_sim::Limit::Until(2_000_000));
    let sent = messages_sent(&spec, 1_000_000, 1_020_000);
    assert!(sent > 50 && sent <= 400, "{sent}");
    assert_eq!(svg.matches("class=\"msg\"").count(), sent);
    let refused = format!("url(#m{})", clusterlab_sim::diagram::Dot::Refused as u8);
    assert!(svg.contains(&refused) && svg.contains("l8,8m0,-8l-8,8"), "a refused and a lost message are drawn");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches('<').count() - svg.matches("</").count() * 2, svg.matches("/>").count(), "every element is closed");
    assert!(err.contains(&format!("{sent} of the {sent} messages sent in the window")), "{err}");

    // A whole second: thousands of messages, one request in N drawn.
    let (code, _, err) = clusterlab(&[&args[..], &["--diagram", "0s..1s", &file_s]].concat());
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(&file).unwrap();
    let drawn = svg.matches("class=\"msg\"").count();
    assert!(drawn <= 400 && drawn > 100 && svg.contains("one request in") && err.contains("one request in"), "{drawn} {err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_diagram_window_that_makes_no_sense_is_refused() {
    for (window, file, want) in [("2s", "a.svg", "expected a window FROM..TO"), ("2s..1s", "a.svg", "must end after it starts"), ("1s..2x", "a.svg", "unknown unit"), ("1s..2s", "a.png", "not an .svg file name")] {
        let (code, _, err) = clusterlab(&["run", "load-balancing", "--until", "3s", "--diagram", window, file]);
        assert_eq!(code, 2, "{window} {file}");
        assert!(err.contains(want), "{window} {file}: {err}");
    }
}
