//! `/metrics`: the health counters in Prometheus text exposition, one family per metric and one
//! sample per source, push or output.

use std::fmt::Display;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Health;
use crate::sources::State;
use crate::station::monitor::MonitorState;
use crate::station::snapshot::Snapshot;

/// A label value with `\`, `"` and line ends escaped.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn load(x: &AtomicU64) -> u64 {
    x.load(Ordering::Relaxed)
}

/// The exposition being written.
struct Text {
    o: String,
    /// `station="VTE1"`, on every sample.
    station: String,
}

impl Text {
    /// The HELP and TYPE lines of a family.
    fn family(&mut self, name: &str, help: &str, kind: &str) {
        // Writing to a String cannot fail.
        let _ = writeln!(
            self.o,
            "# HELP corsd_{name} {help}\n# TYPE corsd_{name} {kind}"
        );
    }

    /// One sample with the station label and `labels` after it.
    fn sample(&mut self, name: &str, labels: &str, v: impl Display) {
        let sep = if labels.is_empty() { "" } else { "," };
        let _ = writeln!(self.o, "corsd_{name}{{{}{sep}{labels}}} {v}", self.station);
    }

    /// Families of one sample each; names ending in `_total` are counters.
    fn rows(&mut self, labels: &str, rows: &[(&str, &str, u64)]) {
        for (name, help, v) in rows {
            let kind = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            self.family(name, help, kind);
            self.sample(name, labels, v);
        }
    }
}

/// The whole exposition.
pub fn metrics(snaps: &[Snapshot], h: &Health) -> String {
    let mut t = Text {
        o: String::new(),
        station: format!("station=\"{}\"", esc(&h.station)),
    };
    t.family(
        "part_up",
        "1 while the part works (as /healthz says), 0 while it is degraded",
        "gauge",
    );
    for p in super::parts::parts(h, snaps) {
        let labels = format!("part=\"{}\",kind=\"{}\"", esc(&p.name), p.kind);
        t.sample("part_up", &labels, u8::from(p.ok));
    }
    sources(&mut t, snaps);
    sink(&mut t, h);
    caster(&mut t, h);
    pushes_and_outputs(&mut t, h);
    archive(&mut t, h);
    monitors(&mut t, h);
    t.o
}

/// Per integrity monitor: the latest fix and error, the fix rate since start, wrong fixes.
fn monitors(t: &mut Text, h: &Health) {
    if h.monitors.is_empty() {
        return;
    }
    let all: Vec<_> = h.monitors.iter().map(|(n, m)| (n, m.get())).collect();
    let label = |n: &str| format!("monitor=\"{}\"", esc(n));
    t.family(
        "monitor_fix",
        "the latest solution: 1 fixed, 2 float, 0 none yet",
        "gauge",
    );
    for (n, m) in &all {
        let fix = m.last.as_ref().map_or(0, |l| l.fix);
        t.sample("monitor_fix", &label(n), fix);
    }
    t.family(
        "monitor_fixed_percent",
        "share of the solutions since start that were fixed",
        "gauge",
    );
    for (n, m) in &all {
        let pct = if m.solutions > 0 {
            100.0 * m.fixed as f64 / m.solutions as f64
        } else {
            0.0
        };
        t.sample("monitor_fixed_percent", &label(n), format!("{pct:.2}"));
    }
    t.family(
        "monitor_error_m",
        "the latest solution's error against the check receiver's known coordinates",
        "gauge",
    );
    for (n, m) in &all {
        if let Some(l) = &m.last {
            for (axis, v) in ["e", "n", "u"].iter().zip(l.enu) {
                let labels = format!("{},axis=\"{axis}\"", label(n));
                t.sample("monitor_error_m", &labels, format!("{v:.4}"));
            }
        }
    }
    t.family(
        "monitor_age_s",
        "age of the corrections in the latest solution",
        "gauge",
    );
    for (n, m) in &all {
        if let Some(l) = &m.last {
            t.sample("monitor_age_s", &label(n), format!("{:.1}", l.age_s));
        }
    }
    for (name, help, get) in [
        (
            "monitor_solutions_total",
            "solutions of the check receiver",
            (|m| m.solutions) as fn(&MonitorState) -> u64,
        ),
        ("monitor_fixed_total", "fixed solutions", |m| m.fixed),
        (
            "monitor_wrong_fixes_total",
            "fixed solutions farther than the threshold from the known coordinates",
            |m| m.wrong_fixes,
        ),
        (
            "monitor_skipped_total",
            "check epochs without a solution",
            |m| m.skipped,
        ),
    ] {
        t.family(name, help, "counter");
        for (n, m) in &all {
            t.sample(name, &label(n), get(m));
        }
    }
}

/// A counter of every source.
type Count = fn(&Snapshot) -> u64;
const SOURCE_COUNTERS: [(&str, &str, Count); 9] = [
    ("source_bytes_total", "bytes received", |s| s.bytes),
    ("source_frames_total", "valid frames", |s| s.frames),
    (
        "source_bad_frames_total",
        "frames with a bad checksum",
        |s| s.bad_frames,
    ),
    (
        "source_discarded_bytes_total",
        "bytes outside any frame",
        |s| s.discarded_bytes,
    ),
    (
        "source_epochs_received_total",
        "observation epochs assembled",
        |s| s.epochs_received,
    ),
    (
        "source_epochs_expected_total",
        "epochs expected from the observed interval",
        |s| s.epochs_expected,
    ),
    ("source_solutions_total", "position solutions", |s| {
        s.solutions
    }),
    ("source_reconnects_total", "reconnections", |s| s.reconnects),
    (
        "source_connect_attempts_total",
        "connection attempts",
        |s| s.connect_attempts,
    ),
];

fn sources(t: &mut Text, snaps: &[Snapshot]) {
    let source = |s: &Snapshot| format!("source=\"{}\"", esc(&s.name));
    t.family("source_up", "1 while the source is streaming", "gauge");
    for s in snaps {
        let up = matches!(s.state, State::Streaming) as u8;
        let labels = format!("{},state=\"{}\"", source(s), s.state.as_str());
        t.sample("source_up", &labels, up);
    }
    for (name, help, get) in SOURCE_COUNTERS {
        t.family(name, help, "counter");
        for s in snaps {
            t.sample(name, &source(s), get(s));
        }
    }
    t.family(
        "source_latency_ms",
        "delay from epoch time to arrival",
        "gauge",
    );
    for s in snaps {
        if let Some(l) = s.latency_ms {
            t.sample("source_latency_ms", &source(s), format!("{l:.1}"));
        }
    }
    t.family("messages_total", "frames per message type", "counter");
    for s in snaps {
        for (ty, n) in &s.messages {
            let labels = format!("{},type=\"{}\"", source(s), esc(ty));
            t.sample("messages_total", &labels, n);
        }
    }
}

fn sink(t: &mut Text, h: &Health) {
    let sk = &h.sink;
    t.rows(
        &format!("sink=\"{}\"", h.sink_kind),
        &[
            (
                "points_accepted_total",
                "points on disk in the spool",
                load(&sk.points_accepted),
            ),
            (
                "points_written_total",
                "points acknowledged by the database (or written to files)",
                load(&sk.points_written),
            ),
            (
                "points_rejected_total",
                "points the database refused (set aside in rejected/)",
                load(&sk.points_rejected),
            ),
            (
                "points_evicted_total",
                "points dropped unsent by the spool caps",
                load(&sk.points_evicted),
            ),
            (
                "write_errors_total",
                "failed database writes (retried)",
                load(&sk.write_errors),
            ),
            (
                "spool_bytes",
                "spool bytes not yet acknowledged",
                load(&sk.spool_bytes),
            ),
        ],
    );
}

fn caster(t: &mut Text, h: &Health) {
    let Some(c) = &h.caster else {
        return;
    };
    t.rows(
        "",
        &[
            (
                "caster_clients",
                "NTRIP clients connected",
                load(&c.clients),
            ),
            (
                "caster_bytes_out_total",
                "bytes sent to NTRIP clients",
                load(&c.bytes_out),
            ),
            (
                "caster_dropped_clients_total",
                "clients disconnected for falling behind",
                load(&c.dropped_clients),
            ),
            (
                "caster_refused_total",
                "requests refused for credentials",
                load(&c.refused),
            ),
            (
                "caster_bad_requests_total",
                "malformed, oversize or slow requests",
                load(&c.bad_requests),
            ),
        ],
    );
}

/// One family per metric, one sample per push or output.
fn pushes_and_outputs(t: &mut Text, h: &Health) {
    let push = |n: &String| format!("push=\"{}\"", esc(n));
    let output = |n: &String| format!("output=\"{}\"", esc(n));
    let families: [(&str, &str, &str, Vec<(String, u64)>); 6] = [
        (
            "push_streaming",
            "1 while the push to a remote caster streams",
            "gauge",
            h.pushes
                .iter()
                .map(|(n, p)| (push(n), u64::from(p.state_name() == "streaming")))
                .collect(),
        ),
        (
            "push_bytes_out_total",
            "bytes sent to a remote caster",
            "counter",
            h.pushes
                .iter()
                .map(|(n, p)| (push(n), load(&p.bytes_out)))
                .collect(),
        ),
        (
            "push_failures_total",
            "push sessions that ended in an error or a refusal",
            "counter",
            h.pushes
                .iter()
                .map(|(n, p)| (push(n), load(&p.failures)))
                .collect(),
        ),
        (
            "output_clients",
            "clients of a TCP output (1 while a serial output is open)",
            "gauge",
            h.outputs
                .iter()
                .map(|(n, x)| (output(n), load(&x.clients)))
                .collect(),
        ),
        (
            "output_bytes_out_total",
            "bytes written to an output",
            "counter",
            h.outputs
                .iter()
                .map(|(n, x)| (output(n), load(&x.bytes_out)))
                .collect(),
        ),
        (
            "output_faults_total",
            "output clients dropped or serial ports lost",
            "counter",
            h.outputs
                .iter()
                .map(|(n, x)| (output(n), load(&x.faults)))
                .collect(),
        ),
    ];
    for (name, help, kind, samples) in families {
        if samples.is_empty() {
            continue;
        }
        t.family(name, help, kind);
        for (labels, v) in samples {
            t.sample(name, &labels, v);
        }
    }
}

fn archive(t: &mut Text, h: &Health) {
    let Some(a) = &h.archive else {
        return;
    };
    t.rows(
        "",
        &[
            (
                "archive_frames_total",
                "frames written to the raw archive",
                load(&a.frames),
            ),
            (
                "archive_bytes_total",
                "bytes written to the raw archive",
                load(&a.bytes),
            ),
            (
                "archive_dropped_total",
                "frames not archived (disk floor, lag or write error)",
                load(&a.dropped),
            ),
        ],
    );
}
