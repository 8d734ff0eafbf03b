//! What the survey prints: a summary a surveyor can paste, or one JSON object; and the
//! convergence series.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use nalgebra::Vector3;
use serde_json::json;

use super::SurveyArgs;
use super::inputs::Session;
use crate::gnss::frames::{Helmert, decimal_year, itrf2014_to_etrf2000};
use crate::gnss::geodesy::{ecef_to_geodetic, enu, enu_rotation};
use crate::gnss::ppp::{Ppp, PppEpoch};

/// SP3 frame labels that are realisations of ITRF2014.
const ITRF2014_LABELS: [&str; 4] = ["IGB14", "IGS14", "ITRF14", "ITRF2014"];

/// The transformation --frame asks for, checked against the orbits' frame.
pub fn transformation(args: &SurveyArgs, sp3_frame: &str) -> Result<Option<Helmert>> {
    let Some(name) = &args.frame else {
        return Ok(None);
    };
    if let Some(path) = &args.helmert {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("--helmert {}: {e}", path.display()))?;
        let h = Helmert::parse(
            &format!("{sp3_frame} -> {name} ({})", path.display()),
            &text,
        )
        .map_err(|e| anyhow!("--helmert {}: {e}", path.display()))?;
        return Ok(Some(h));
    }
    if !name.eq_ignore_ascii_case("ETRF2000") {
        bail!(
            "--frame {name}: only ETRF2000 is built in; give --helmert FILE with the parameters from {sp3_frame} to {name}"
        );
    }
    if !ITRF2014_LABELS.contains(&sp3_frame.trim().to_ascii_uppercase().as_str()) {
        bail!(
            "--frame ETRF2000: the orbits are in {sp3_frame}, the built-in EUREF set starts from ITRF2014 (IGS14/IGb14); give --helmert FILE with the parameters from {sp3_frame}"
        );
    }
    Ok(Some(itrf2014_to_etrf2000()))
}

/// Seconds from the first solution until the distance to the final coordinate first comes
/// within `limit` (m).
fn reached_after(solutions: &[PppEpoch], limit: f64) -> Option<f64> {
    let fin = solutions.last()?.position();
    let t0 = solutions[0].time;
    solutions
        .iter()
        .find(|s| (s.position() - fin).norm() <= limit)
        .map(|s| s.time.diff(t0))
}

/// Seconds from the first solution after which the distance to the final coordinate stays
/// within `limit` (m).
fn converged_after(solutions: &[PppEpoch], limit: f64) -> Option<f64> {
    let last = solutions.last()?;
    let fin = last.position();
    let t0 = solutions[0].time;
    let mut when = Some(0.0);
    for s in solutions {
        if (s.position() - fin).norm() > limit {
            when = None;
        } else if when.is_none() {
            when = Some(s.time.diff(t0));
        }
    }
    when
}

use crate::station::survey::{CORRELATION_S, sigma_scale};

pub struct Report {
    json: serde_json::Value,
    text: Vec<String>,
}

impl Report {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        args: &SurveyArgs,
        session: &Session,
        ppp: &Ppp,
        solutions: &[PppEpoch],
        skips: &BTreeMap<String, usize>,
        reference: Option<(Vector3<f64>, &str)>,
        transform: Option<Helmert>,
        warnings: Vec<String>,
        elapsed_s: f64,
    ) -> Report {
        let last = solutions.last().expect("the caller checked");
        let pos = last.position();
        let geo = ecef_to_geodetic(&pos);
        let rot = enu_rotation(&geo);
        let cov_enu = rot * last.cov * rot.transpose();
        let interval = session
            .epochs
            .windows(2)
            .map(|w| w[1].time.diff(w[0].time))
            .fold(f64::INFINITY, f64::min);
        let interval = if interval.is_finite() { interval } else { 0.0 };
        let scale = sigma_scale(interval);
        let sig = |m: &nalgebra::Matrix3<f64>, k: usize| m[(k, k)].max(0.0).sqrt() * scale;
        let (sx, sy, sz) = (sig(&last.cov, 0), sig(&last.cov, 1), sig(&last.cov, 2));
        let (se, sn, su) = (sig(&cov_enu, 0), sig(&cov_enu, 1), sig(&cov_enu, 2));
        let first = solutions[0].time;
        let hours = (last.time.diff(first) + interval) / 3600.0;
        let mid = first.add(last.time.diff(first) / 2.0);
        let epoch = decimal_year(mid);
        let nsat_mean =
            solutions.iter().map(|s| s.nsat as f64).sum::<f64>() / solutions.len() as f64;
        let frame = ppp.products().orbits.frame.trim().to_string();
        let agency = ppp.products().orbits.agency.trim().to_string();
        let c10 = converged_after(solutions, 0.10);
        let c2 = converged_after(solutions, 0.02);
        let r2 = reached_after(solutions, 0.02);
        let ztd_mean = solutions.iter().map(|s| s.ztd).sum::<f64>() / solutions.len() as f64;
        let mut text = Vec::new();
        let name = session.marker.clone().unwrap_or_else(|| "station".into());
        text.push(format!(
            "{name}: PPP {} from {} ({} to {} GPST, {:.2} h, {} of {} epochs solved)",
            if args.kinematic {
                "kinematic (last epoch)"
            } else {
                "static"
            },
            args.obs[0].display(),
            first.calendar().format("%Y-%m-%d %H:%M:%S"),
            last.time.calendar().format("%Y-%m-%d %H:%M:%S"),
            hours,
            solutions.len(),
            session.epochs.len()
        ));
        text.push(format!(
            "frame      {frame} (from the SP3 header of {agency}) at epoch {epoch:.4} (the data's mid-point)"
        ));
        text.push(format!(
            "marker     X {:.4}  Y {:.4}  Z {:.4} m   (sigma {:.4} {:.4} {:.4})",
            pos.x, pos.y, pos.z, sx, sy, sz
        ));
        text.push(format!(
            "           sigmas are the filter's formal ones times {scale:.1}: phase errors stay correlated for about {CORRELATION_S:.0} s, so {interval:.0} s epochs are not independent"
        ));
        text.push(format!(
            "           lat {:.9}  lon {:.9}  h {:.4} m (GRS80)   (sigma E {:.4} N {:.4} U {:.4})",
            geo.lat.to_degrees(),
            geo.lon.to_degrees(),
            geo.h,
            se,
            sn,
            su
        ));
        let ecc = session.eccentricity_enu;
        text.push(format!(
            "antenna    {} with DELTA H/E/N {:.4} {:.4} {:.4} m to the marker",
            session.antenna.as_deref().unwrap_or("?").trim(),
            ecc[2],
            ecc[0],
            ecc[1]
        ));
        text.push(format!(
            "satellites {nsat_mean:.1} per epoch with phase; {} ambiguity restarts; ZTD mean {ztd_mean:.4} m, last {:.4} m",
            ppp.restarts(),
            last.ztd
        ));
        text.push(format!(
            "converged  within 10 cm of the final coordinate after {} and staying; within 2 cm first after {}, staying after {}",
            c10.map_or("never".into(), |s| format!("{:.0} s", s)),
            r2.map_or("never".into(), |s| format!("{:.0} s", s)),
            c2.map_or("never".into(), |s| format!("{:.0} s", s))
        ));
        let mut diff_json = serde_json::Value::Null;
        if let Some((r, what)) = reference {
            let d = enu(&r, &pos);
            text.push(format!(
                "difference from {what}: E {:+.4} N {:+.4} U {:+.4} m (a national datum such as ETRS89 differs from {frame} by plate motion: decimetres)",
                d.x, d.y, d.z
            ));
            diff_json = json!({"from": what, "e": d.x, "n": d.y, "u": d.z});
        }
        let mut transformed = serde_json::Value::Null;
        if let Some(h) = &transform {
            let p2 = h.apply(&pos, epoch);
            let g2 = ecef_to_geodetic(&p2);
            let target = args.frame.clone().unwrap_or_default();
            text.push(format!(
                "{target}: X {:.4}  Y {:.4}  Z {:.4} m  lat {:.9} lon {:.9} h {:.4} m; by {} at epoch {epoch:.4}{}",
                p2.x,
                p2.y,
                p2.z,
                g2.lat.to_degrees(),
                g2.lon.to_degrees(),
                g2.h,
                h.name,
                if ITRF2014_LABELS.contains(&frame.to_ascii_uppercase().as_str()) && h.name.starts_with("ITRF2014") {
                    format!(" ({frame} taken as ITRF2014)")
                } else {
                    String::new()
                }
            ));
            if let Some((r, what)) = reference {
                let d = enu(&r, &p2);
                text.push(format!(
                    "{target} difference from {what}: E {:+.4} N {:+.4} U {:+.4} m",
                    d.x, d.y, d.z
                ));
            }
            transformed = json!({"frame": target, "x": p2.x, "y": p2.y, "z": p2.z,
                "transformation": h.name, "epoch": epoch});
        }
        for (sat, x) in ppp.exclusions() {
            text.push(format!(
                "excluded   {sat} in {} epochs: {}",
                x.epochs,
                x.summary()
            ));
        }
        if !ppp.outdated_antex().is_empty() {
            let list: Vec<&str> = ppp.outdated_antex().iter().map(String::as_str).collect();
            text.push(format!(
                "outdated   satellite antenna entries used (--sat-antex {}): {}",
                args.sat_antex,
                list.join(" ")
            ));
        }
        for (sat, why) in ppp.never_usable() {
            text.push(format!("unused     {sat}: {why}"));
        }
        for (sat, what) in ppp.stand_ins() {
            text.push(format!("stand-in   {sat}: {what}"));
        }
        for (why, n) in skips {
            text.push(format!("unsolved   {n} epochs: {why}"));
        }
        for w in &warnings {
            text.push(format!("warning    {w}"));
        }
        text.push(format!("processed in {elapsed_s:.2} s"));
        let json = json!({
            "x": pos.x, "y": pos.y, "z": pos.z,
            "sx": sx, "sy": sy, "sz": sz, "sigma_scale": scale,
            "se": se, "sn": sn, "su": su,
            "lat": geo.lat.to_degrees(), "lon": geo.lon.to_degrees(), "h": geo.h,
            "frame": frame, "epoch": epoch, "hours": hours,
            "nsat_mean": nsat_mean,
            "epochs": session.epochs.len(), "solved": solutions.len(),
            "start": first.calendar().to_rfc3339(), "end": last.time.calendar().to_rfc3339(),
            "ztd": last.ztd, "ztd_mean": ztd_mean,
            "converged_10cm_s": c10, "converged_2cm_s": c2, "reached_2cm_s": r2,
            "restarts": ppp.restarts(),
            "difference": diff_json,
            "transformed": transformed,
            "excluded": ppp.exclusions(),
            "outdated_antex": ppp.outdated_antex(),
            "antex_stand_ins": ppp.stand_ins(),
            "unused": ppp.never_usable(),
            "unsolved": skips,
            "warnings": warnings,
            "elapsed_s": elapsed_s,
        });
        Report { json, text }
    }

    pub fn print(&self, json: bool) -> Result<()> {
        let mut out = std::io::stdout().lock();
        if json {
            writeln!(out, "{}", self.json)?;
        } else {
            for l in &self.text {
                writeln!(out, "{l}")?;
            }
        }
        Ok(())
    }
}

/// One CSV line per solved epoch.
pub fn write_series(path: &Path, solutions: &[PppEpoch]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        w,
        "time_gpst,x,y,z,de,dn,du,sigma_3d,ztd,zwd,sigma_zwd,nsat,restarts"
    )?;
    let Some(last) = solutions.last() else {
        return Ok(());
    };
    let fin = last.position();
    for s in solutions {
        let d = enu(&fin, &s.position());
        writeln!(
            w,
            "{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{},{}",
            s.time.calendar().format("%Y-%m-%dT%H:%M:%S"),
            s.pos[0],
            s.pos[1],
            s.pos[2],
            d.x,
            d.y,
            d.z,
            s.cov.trace().max(0.0).sqrt(),
            s.ztd,
            s.zwd,
            s.sigma_zwd,
            s.nsat,
            s.restarts
        )?;
    }
    w.flush()
}
