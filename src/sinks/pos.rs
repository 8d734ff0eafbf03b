//! Solutions in RTKLIB's `.pos` format (`src/solution.c`: GPST, ECEF position, quality, satellite
//! count and the standard deviations), so that existing RTKPLOT users can open them.

use chrono::{Datelike, Timelike};

use crate::gnss::Gnss;
use crate::gnss::spp::Solution;
use crate::gnss::time::Gpst;

/// RTKLIB's quality flag of a single point solution.
const Q_SINGLE: u8 = 5;

/// The header: what was solved from what, then the column names.
pub fn header(inputs: &[String], mask_deg: f64, ionosphere: &str, systems: &[Gnss]) -> String {
    let sys: Vec<String> = systems.iter().map(|g| format!("{g:?}")).collect();
    format!(
        "% program   : corsd {}\n\
         % inp file  : {}\n\
         % pos mode  : Single\n\
         % elev mask : {mask_deg:.1} deg\n\
         % ionos opt : {ionosphere}\n\
         % tropo opt : Saastamoinen\n\
         % ephemeris : Broadcast\n\
         % navi sys  : {}\n\
         %\n\
         %  GPST                      x-ecef(m)      y-ecef(m)      z-ecef(m)   Q  ns   sdx(m)   sdy(m)   sdz(m)  sdxy(m)  sdyz(m)  sdzx(m) age(s)  ratio\n",
        env!("CARGO_PKG_VERSION"),
        inputs.join(" "),
        sys.join(" ")
    )
}

/// GPST as RTKLIB writes it: `2018/07/12 23:37:28.000`.
pub fn time(t: Gpst) -> String {
    let u = t.calendar();
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}.{:03}",
        u.year(),
        u.month(),
        u.day(),
        u.hour(),
        u.minute(),
        u.second(),
        u.timestamp_subsec_millis()
    )
}

/// One solution's line (without the line end).
pub fn line(s: &Solution) -> String {
    let sd = |v: f64| v.max(0.0).sqrt();
    let sdc = |v: f64| v.signum() * v.abs().sqrt();
    let c = s.cov_xyz;
    format!(
        "{} {:14.4} {:14.4} {:14.4} {:3} {:3} {:8.4} {:8.4} {:8.4} {:8.4} {:8.4} {:8.4} {:6.2} {:6.1}",
        time(s.time),
        s.position[0],
        s.position[1],
        s.position[2],
        Q_SINGLE,
        s.used.len(),
        sd(c[0]),
        sd(c[1]),
        sd(c[2]),
        sdc(c[3]),
        sdc(c[4]),
        sdc(c[5]),
        0.0,
        0.0
    )
}
