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

/// The header of carrier-phase solutions.
pub fn rtk_header(
    inputs: &[String],
    opts: &crate::gnss::rtk::RtkOptions,
    base: &nalgebra::Vector3<f64>,
) -> String {
    let sys: Vec<String> = opts.systems.iter().map(|g| format!("{g:?}")).collect();
    let mode = match opts.mode {
        crate::gnss::rtk::RtkMode::Static => "Static",
        crate::gnss::rtk::RtkMode::Kinematic => "Kinematic",
    };
    let glonass = if opts.systems.contains(&Gnss::Glonass) {
        "% glonass   : float ambiguities only (inter-channel biases not modelled)\n"
    } else {
        ""
    };
    format!(
        "% program   : corsd {}\n\
         % inp file  : {}\n\
         % pos mode  : {mode}\n\
         % freqs     : L1+L2\n\
         % solution  : Forward\n\
         % elev mask : {:.1} deg\n\
         % ionos opt : Broadcast (cancels over the baseline)\n\
         % tropo opt : Saastamoinen\n\
         % ephemeris : Broadcast\n\
         % amb res   : {} (ratio {:.1})\n\
         % navi sys  : {}\n\
         {glonass}\
         % ref pos   : {:14.4} {:14.4} {:14.4}\n\
         %\n\
         % (Q=1:fix,2:float,ns=# of satellites)\n\
         %  GPST                      x-ecef(m)      y-ecef(m)      z-ecef(m)   Q  ns   sdx(m)   sdy(m)   sdz(m)  sdxy(m)  sdyz(m)  sdzx(m) age(s)  ratio\n",
        env!("CARGO_PKG_VERSION"),
        inputs.join(" "),
        opts.mask.to_degrees(),
        if opts.hold {
            "Fix and Hold"
        } else {
            "Continuous"
        },
        opts.ratio,
        sys.join(" "),
        base.x,
        base.y,
        base.z
    )
}

/// One carrier-phase solution's line.
pub fn rtk_line(s: &crate::gnss::rtk::RtkSolution) -> String {
    row(
        s.time,
        s.position,
        s.quality as u8,
        s.satellites,
        s.cov_xyz,
        s.age_s,
        s.ratio,
    )
}

/// The columns every solution shares: RTKLIB's ECEF layout, standard deviations from the
/// covariance (the off-diagonal ones as signed square roots, as RTKLIB writes them).
fn row(t: Gpst, p: [f64; 3], q: u8, ns: usize, c: [f64; 6], age: f64, ratio: f64) -> String {
    let sd = |v: f64| v.max(0.0).sqrt();
    let sdc = |v: f64| v.signum() * v.abs().sqrt();
    format!(
        "{} {:14.4} {:14.4} {:14.4} {:3} {:3} {:8.4} {:8.4} {:8.4} {:8.4} {:8.4} {:8.4} {:6.2} {:6.1}",
        time(t),
        p[0],
        p[1],
        p[2],
        q,
        ns,
        sd(c[0]),
        sd(c[1]),
        sd(c[2]),
        sdc(c[3]),
        sdc(c[4]),
        sdc(c[5]),
        age,
        ratio
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
    row(
        s.time,
        s.position,
        Q_SINGLE,
        s.used.len(),
        s.cov_xyz,
        0.0,
        0.0,
    )
}
