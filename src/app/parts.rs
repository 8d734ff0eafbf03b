//! Every part of the running daemon that can fail, with its state, in one list: `/healthz` is ok
//! only when every part is, `/metrics` has `corsd_part_up` per part, `/status.json` carries the
//! list under `parts`. A part is named as the operator configured it (a source's or push's name)
//! or by where it writes or listens (the database URL, a directory, an address).

use std::sync::atomic::Ordering;

use serde::Serialize;

use super::Health;
use crate::sinks::series::Delivery;
use crate::sources::State;
use crate::station::monitor::MonitorState;
use crate::station::snapshot::Snapshot;

/// A spool holding more than this share of its byte cap is filling: the database has not taken
/// the data for long enough that the oldest will be dropped if it goes on.
pub const SPOOL_FILLING: f64 = 0.5;

/// A monitor with no solution for this long is failing: corrections stopped reaching it, or
/// its check receiver stopped.
pub const MONITOR_STALE: std::time::Duration = std::time::Duration::from_secs(30);

/// One part's health.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Part {
    pub name: String,
    /// `source`, `influx`, `files` (time series without a database), `spool`, `archive`,
    /// `push`, `caster`, `output` or `monitor`.
    pub kind: &'static str,
    pub ok: bool,
    /// What the part does now, in the part's own words (`streaming`, `retrying`, `filling`...).
    pub state: String,
    /// The part's last error, kept after it recovered (`ok` says whether it has).
    pub last_error: Option<String>,
    /// A number that says more (bytes waiting, clients), when the part has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Part {
    fn new(
        name: impl Into<String>,
        kind: &'static str,
        ok: bool,
        state: impl Into<String>,
    ) -> Part {
        Part {
            name: name.into(),
            kind,
            ok,
            state: state.into(),
            last_error: None,
            detail: None,
        }
    }

    fn error(mut self, e: Option<String>) -> Part {
        self.last_error = e;
        self
    }

    fn detail(mut self, d: String) -> Part {
        self.detail = Some(d);
        self
    }
}

/// Every part, in the order the daemon starts them.
pub fn parts(h: &Health, snaps: &[Snapshot]) -> Vec<Part> {
    let mut out = Vec::new();
    series(h, &mut out);
    if let (Some(a), Some(dir)) = (&h.archive, &h.names.archive) {
        let problem = a.problem();
        out.push(
            Part::new(
                dir.clone(),
                "archive",
                problem.is_none(),
                if problem.is_some() {
                    "failing"
                } else {
                    "writing"
                },
            )
            .error(problem.or_else(|| a.last_error())),
        );
    }
    if let Some(c) = &h.caster {
        let problem = c.problem();
        out.push(
            Part::new(
                h.names.casters.join(", "),
                "caster",
                problem.is_none(),
                if problem.is_some() {
                    "failing"
                } else {
                    "listening"
                },
            )
            .error(problem.or_else(|| c.last_error()))
            .detail(format!("{} clients", c.clients.load(Ordering::Relaxed))),
        );
    }
    for (name, p) in &h.pushes {
        let state = p.state_name();
        out.push(
            Part::new(name.clone(), "push", state == "streaming", state).error(
                p.last_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone(),
            ),
        );
    }
    for (name, o) in &h.outputs {
        let part = if h.names.serial_outputs.contains(name) {
            let open = o.open.load(Ordering::Relaxed) == 1;
            Part::new(
                name.clone(),
                "output",
                open,
                if open { "open" } else { "closed" },
            )
        } else {
            Part::new(name.clone(), "output", true, "listening")
                .detail(format!("{} clients", o.clients.load(Ordering::Relaxed)))
        };
        out.push(part.error(o.last_error()));
    }
    for (name, m) in &h.monitors {
        out.push(monitor(name, &m.get(), h.started.elapsed()));
    }
    for s in snaps {
        out.push(
            Part::new(
                s.name.clone(),
                "source",
                matches!(s.state, State::Streaming | State::Finished),
                s.state.as_str(),
            )
            .error(s.last_error.clone()),
        );
    }
    out
}

/// A monitor is ok while it solves; its state is the latest fix and error, or why it has none.
fn monitor(name: &str, m: &MonitorState, up: std::time::Duration) -> Part {
    let fresh = m.last.as_ref().filter(|l| l.at.elapsed() <= MONITOR_STALE);
    let part = match (fresh, &m.last) {
        (Some(l), _) => {
            let state = if l.fix == 1 { "fixed" } else { "float" };
            let window = m
                .window_fix_percent
                .map(|p| format!(", {p:.1} % fixed over the window"))
                .unwrap_or_default();
            Part::new(name, "monitor", !(m.alarm || m.low_fix_rate), state).detail(format!(
                "E {:+.3} N {:+.3} U {:+.3} m, {} satellites, ratio {:.1}, age {:.1} s{window}",
                l.enu[0], l.enu[1], l.enu[2], l.nsat, l.ratio, l.age_s
            ))
        }
        (None, None) if up <= MONITOR_STALE => Part::new(name, "monitor", true, "starting"),
        (None, _) => Part::new(name, "monitor", false, "no solution"),
    };
    let why = m.event.clone().or_else(|| m.last_skip.clone()).or_else(|| {
        (m.mount_frames == 0)
            .then(|| "no corrections from the mount: check the station source".to_string())
    });
    part.error(why)
}

/// The time-series sink: the database and its spool, or the line-protocol files.
fn series(h: &Health, out: &mut Vec<Part>) {
    let sk = &h.sink;
    let delivery = sk.delivery();
    if h.sink_kind != "influx" {
        out.push(
            Part::new(
                h.names.sink.clone(),
                "files",
                delivery == Delivery::Ok,
                if delivery == Delivery::Ok {
                    "writing"
                } else {
                    delivery.as_str()
                },
            )
            .error(sk.last_error()),
        );
        return;
    }
    out.push(
        Part::new(
            h.names.sink.clone(),
            "influx",
            delivery == Delivery::Ok,
            delivery.as_str(),
        )
        .error(sk.last_error()),
    );
    let backlog = sk.spool_bytes.load(Ordering::Relaxed);
    let cap = sk.spool_max_bytes.load(Ordering::Relaxed);
    let share = if cap > 0 {
        backlog as f64 / cap as f64
    } else {
        0.0
    };
    let failing = sk.spool_error();
    let (ok, state) = if failing.is_some() {
        (false, "failing")
    } else if share > SPOOL_FILLING {
        (false, "filling")
    } else if backlog > 0 {
        (true, "sending")
    } else {
        (true, "empty")
    };
    let mut last_error = failing.or_else(|| sk.spool_last_error());
    if state == "filling" {
        last_error = Some(format!(
            "{:.0} % of its {cap}-byte cap waits for the database; at the cap the oldest points are dropped",
            share * 100.0
        ));
    }
    out.push(
        Part::new(
            h.names.spool.clone().unwrap_or_default(),
            "spool",
            ok,
            state,
        )
        .error(last_error)
        .detail(format!("{backlog} bytes waiting")),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::caster::CasterStatus;
    use crate::feeds::output::OutputStatus;
    use crate::sinks::series::SinkStatus;
    use std::sync::Arc;

    fn health() -> Health {
        Health {
            station: "VTE1".into(),
            sources: Vec::new(),
            sink: Arc::new(SinkStatus::default()),
            sink_kind: "influx",
            archive: None,
            caster: Some(Arc::new(CasterStatus::default())),
            pushes: Vec::new(),
            outputs: vec![("radio".into(), Arc::new(OutputStatus::default()))],
            monitors: Vec::new(),
            started: std::time::Instant::now(),
            names: super::super::PartNames {
                sink: "http://db:8086".into(),
                spool: Some("/var/lib/corsd/spool".into()),
                casters: vec!["0.0.0.0:2101".into()],
                serial_outputs: vec!["radio".into()],
                ..Default::default()
            },
            history: Arc::new(crate::app::history::History::new(None)),
            coordinates: Default::default(),
        }
    }

    fn part<'a>(parts: &'a [Part], kind: &str) -> &'a Part {
        parts.iter().find(|p| p.kind == kind).expect(kind)
    }

    #[test]
    fn every_kind_degrades_and_recovers() {
        let h = health();
        h.outputs[0].1.open.store(1, Ordering::Relaxed);
        let all = parts(&h, &[]);
        assert!(all.iter().all(|p| p.ok), "{all:?}");
        assert_eq!(part(&all, "spool").state, "empty");

        let c = h.caster.as_ref().unwrap();
        c.health
            .set(Some("0.0.0.0:2101: cannot accept clients: EMFILE".into()));
        h.outputs[0].1.open.store(0, Ordering::Relaxed);
        h.sink
            .failed(Delivery::Held, "HTTP 401: unauthorized".into());
        h.sink.spool_max_bytes.store(1000, Ordering::Relaxed);
        h.sink.spool_bytes.store(700, Ordering::Relaxed);
        let all = parts(&h, &[]);
        let caster = part(&all, "caster");
        assert!(!caster.ok && caster.state == "failing", "{caster:?}");
        assert!(caster.last_error.as_deref().unwrap().contains("EMFILE"));
        let out = part(&all, "output");
        assert!(!out.ok && out.state == "closed", "{out:?}");
        let db = part(&all, "influx");
        assert!(
            !db.ok && db.state == "refused" && db.name == "http://db:8086",
            "{db:?}"
        );
        let spool = part(&all, "spool");
        assert!(!spool.ok && spool.state == "filling", "{spool:?}");
        assert!(
            spool.last_error.as_deref().unwrap().starts_with("70 %"),
            "{spool:?}"
        );

        c.health.set(None);
        h.sink.delivered();
        h.sink.spool_bytes.store(0, Ordering::Relaxed);
        let all = parts(&h, &[]);
        assert!(part(&all, "caster").ok && part(&all, "influx").ok && part(&all, "spool").ok);
        // The last error stays to be read after the recovery.
        assert_eq!(
            part(&all, "influx").last_error.as_deref(),
            Some("HTTP 401: unauthorized")
        );
    }
}
