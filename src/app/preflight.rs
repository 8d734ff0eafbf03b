//! Before the daemon starts a task, every part that could fail to start is tried: each listening
//! port is bound (the listeners are kept and handed to their parts, so nothing can take the port
//! between the check and the start), each directory the daemon writes is created and written
//! once, each serial device and recorded file is looked at. Every failure is collected, so one
//! start names all of them; any failure ends `corsd run` at once with exit 1, before a source
//! reads a byte. Links to other machines (TCP, NTRIP, pushes, the database) are not failures here:
//! they come and go, and their parts retry with backoff and say so in `/healthz`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::Settings;
use crate::feeds::output::OutputKind;
use crate::sources::SourceKind;

/// A part that cannot start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartFailure {
    /// What the part is, as `/healthz` names it (`caster`, `source rx`, `archive`, ...).
    pub part: String,
    /// The address or path it could not use.
    pub at: String,
    pub problem: String,
}

impl fmt::Display for StartFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.part, self.at, self.problem)
    }
}

/// Every part that cannot start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct StartError(pub Vec<StartFailure>);

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "cannot start: {one}"),
            all => {
                write!(f, "cannot start: {} parts failed", all.len())?;
                for p in all {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// The listeners the check bound, in configuration order, for the parts to use.
#[derive(Debug, Default)]
pub struct Listeners {
    pub health: Option<TcpListener>,
    pub casters: Vec<TcpListener>,
    /// One per `[[output]]`: `Some` for a TCP server output.
    pub outputs: Vec<Option<TcpListener>>,
}

/// Check every part. `patience` is how long a port that is in use is waited for: zero at the
/// first start; a few seconds after a reload, while the previous run's sockets close.
pub async fn check(settings: &Settings, patience: Duration) -> Result<Listeners, StartError> {
    let mut failures = Vec::new();
    let mut bound = Listeners::default();
    let mut fail = |part: String, at: String, problem: String| {
        failures.push(StartFailure { part, at, problem })
    };
    if let Some(addr) = settings.health_listen {
        match listen(addr, patience).await {
            Ok(l) => bound.health = Some(l),
            Err(e) => fail("health endpoint".into(), addr.to_string(), e),
        }
    }
    for c in &settings.casters {
        match listen(c.listen, patience).await {
            Ok(l) => bound.casters.push(l),
            Err(e) => fail("NTRIP caster".into(), c.listen.to_string(), e),
        }
    }
    for o in &settings.outputs {
        let part = format!("output {}", o.name);
        match &o.kind {
            OutputKind::TcpServer { listen: addr } => match listen(*addr, patience).await {
                Ok(l) => bound.outputs.push(Some(l)),
                Err(e) => {
                    bound.outputs.push(None);
                    fail(part, addr.to_string(), e)
                }
            },
            OutputKind::Serial { path, .. } => {
                bound.outputs.push(None);
                if let Err(e) = serial_device(path) {
                    fail(part, path.display().to_string(), e)
                }
            }
        }
    }
    for s in &settings.sources {
        let part = format!("source {}", s.name);
        let (at, r) = match &s.kind {
            SourceKind::Serial { path, .. } => (path.display().to_string(), serial_device(path)),
            SourceKind::TcpServer { listen: addr } => {
                // The source binds it itself (and keeps it across connections): only tried here.
                (addr.to_string(), listen(*addr, patience).await.map(drop))
            }
            SourceKind::Udp { listen: addr } => (addr.to_string(), udp(*addr)),
            SourceKind::File { path, .. } => (
                path.display().to_string(),
                std::fs::File::open(path)
                    .map(drop)
                    .map_err(|e| format!("cannot open the recording: {e}")),
            ),
            SourceKind::Tcp { .. }
            | SourceKind::Ntrip(_)
            | SourceKind::Stdin
            | SourceKind::Simulate { .. } => continue,
        };
        if let Err(e) = r {
            fail(part, at, e);
        }
    }
    if let Some(a) = &settings.archive
        && let Err(e) = writable(&a.dir)
    {
        fail("archive".into(), a.dir.display().to_string(), e);
    }
    match &settings.influx {
        Some(i) => {
            if let Err(e) = writable(&i.spool_dir) {
                fail("spool".into(), i.spool_dir.display().to_string(), e);
            }
        }
        None => {
            if let Err(e) = writable(&settings.series_dir) {
                fail(
                    "time-series files".into(),
                    settings.series_dir.display().to_string(),
                    e,
                );
            }
        }
    }
    if failures.is_empty() {
        Ok(bound)
    } else {
        Err(StartError(failures))
    }
}

/// Bind `addr`, waiting up to `patience` while it is in use.
async fn listen(addr: SocketAddr, patience: Duration) -> Result<TcpListener, String> {
    let t0 = std::time::Instant::now();
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && t0.elapsed() < patience => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                return Err(format!(
                    "the port is taken (by another program, or another part of this configuration): {e}"
                ));
            }
            Err(e) => return Err(format!("cannot listen: {e}")),
        }
    }
}

fn udp(addr: SocketAddr) -> Result<(), String> {
    std::net::UdpSocket::bind(addr)
        .map(drop)
        .map_err(|e| format!("cannot listen for datagrams: {e}"))
}

/// A serial port must be there as a character device when the daemon starts; once running, a
/// port that goes away (a USB adapter pulled) is reopened with backoff instead.
fn serial_device(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(path) {
        Ok(m) if m.file_type().is_char_device() => Ok(()),
        Ok(_) => Err("not a serial device (not a character device)".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(
            "no such device (is the receiver or radio plugged in? /dev/serial/by-id/ lists the ports)"
                .into(),
        ),
        Err(e) => Err(format!("cannot read the device entry: {e}")),
    }
}

/// Create `dir` if needed and write a file in it, so that a directory that exists but cannot be
/// written (read-only mount, full disk, a file where a directory should be) is found now, not at
/// the first hour boundary.
pub fn writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the directory: {e}"))?;
    let probe: PathBuf = dir.join(format!(".corsd-write-check-{}", std::process::id()));
    let r = std::fs::File::create_new(&probe)
        .and_then(|mut f| {
            use std::io::Write;
            f.write_all(b"corsd\n")?;
            f.sync_all()
        })
        .map_err(|e| format!("cannot write in the directory: {e}"));
    let _ = std::fs::remove_file(&probe);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_where_a_directory_should_be() {
        let d = std::env::temp_dir().join(format!("corsd-preflight-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        writable(&d).unwrap();
        let file = d.join("plain");
        std::fs::write(&file, "x").unwrap();
        let e = writable(&file.join("archive")).unwrap_err();
        assert!(e.starts_with("cannot create the directory"), "{e}");
        assert!(
            serial_device(&file)
                .unwrap_err()
                .contains("not a serial device")
        );
        assert!(
            serial_device(&d.join("ttyUSB9"))
                .unwrap_err()
                .contains("no such device")
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn all_failures_listed() {
        let one = StartFailure {
            part: "archive".into(),
            at: "/x".into(),
            problem: "cannot create the directory".into(),
        };
        let two = StartFailure {
            part: "NTRIP caster".into(),
            at: "127.0.0.1:2101".into(),
            problem: "in use".into(),
        };
        assert_eq!(
            StartError(vec![one.clone()]).to_string(),
            "cannot start: archive at /x: cannot create the directory"
        );
        let both = StartError(vec![one, two]).to_string();
        assert!(both.contains("2 parts failed\n  archive at /x"), "{both}");
        assert!(
            both.ends_with("\n  NTRIP caster at 127.0.0.1:2101: in use"),
            "{both}"
        );
    }
}
