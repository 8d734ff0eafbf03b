//! The Lomb–Scargle periodogram of one arc against sin(elevation)/(λ/2), whose frequency is the
//! reflector height in metres.
//!
//! The grid is gnssrefl's (after Press et al.): oversampled so its step is the wanted
//! precision, up to the top of the RH window. The periodogram is the floating-mean one in PSD
//! normalisation, turned into the amplitude of a sinusoid (volts/volts): 2·√(P/N).

use super::Settings;

/// The periodogram's highest peak inside the RH window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Peak {
    /// Reflector height (m); 0 when the arc gives no periodogram.
    pub rh: f64,
    /// Amplitude at the peak (volts/volts); 0 when none.
    pub amp: f64,
    /// Mean amplitude over the noise band.
    pub noise: f64,
}

/// Scratch space reused from arc to arc.
#[derive(Debug, Default)]
pub struct Grid {
    c: Vec<f64>,
    s: Vec<f64>,
    dc: Vec<f64>,
    ds: Vec<f64>,
    rh: Vec<f64>,
    amp: Vec<f64>,
}

/// Points an arc is thinned to, per metre of the RH window's top and unit of its width in
/// sin(elevation)/(λ/2): its Nyquist height stays four times the window's top.
const THIN_PER_M: f64 = 8.0;

/// A densely sampled arc (1 Hz) as the means of runs of consecutive points: the periodogram's
/// cost grows with the points, its resolution does not, and at four times the Nyquist height
/// of the window's top a mean over a run damps the peak by under 3 %. Sparser arcs (30 s, as
/// gnssrefl reads them) are left as they are. `x` is monotonic within an arc.
fn thin(x: Vec<f64>, y: &[f64], rh_max: f64) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let want = ((hi - lo) * THIN_PER_M * rh_max).ceil();
    if !(want >= 16.0) || (n as f64) < 2.0 * want {
        return (x, y.to_vec());
    }
    let run = (n as f64 / want).floor() as usize;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    (
        x.chunks(run).map(mean).collect(),
        y.chunks(run).map(mean).collect(),
    )
}

/// The peak of an arc: `elev` in degrees, `y` detrended volts/volts.
pub fn peak(elev: &[f64], y: &[f64], half_wavelength: f64, set: &Settings, g: &mut Grid) -> Peak {
    let n = elev.len().min(y.len());
    if n < 2 || half_wavelength.is_nan() || half_wavelength <= 0.0 {
        return Peak::default();
    }
    let x: Vec<f64> = elev[..n]
        .iter()
        .map(|e| e.to_radians().sin() / half_wavelength)
        .collect();
    let (x, y) = thin(x, &y[..n], set.rh.1);
    let n = x.len();
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let w = hi - lo;
    if w.is_nan() || w <= 0.0 {
        return Peak::default();
    }
    let max_h = set.rh.1;
    let ofac = 1.0 / w / set.precision;
    let hifac = max_h / (n as f64 / (2.0 * w));
    let nout = (0.5 * ofac * hifac * n as f64) as usize;
    if nout < 2 {
        return Peak::default();
    }
    let f0 = 1.0 / (w * ofac);
    let f1 = hifac * n as f64 / (2.0 * w);
    let df = (f1 - f0) / (nout - 1) as f64;
    let mean = y.iter().sum::<f64>() / n as f64;
    let yc: Vec<f64> = y.iter().map(|v| v - mean).collect();

    // Each point's phase 2π·f·x advances by a fixed angle from one frequency to the next:
    // rotate instead of calling sin/cos at every grid point.
    let tau = std::f64::consts::TAU;
    g.c.clear();
    g.s.clear();
    g.dc.clear();
    g.ds.clear();
    for &xi in &x {
        let (s, c) = (tau * f0 * xi).sin_cos();
        let (ds, dc) = (tau * df * xi).sin_cos();
        g.c.push(c);
        g.s.push(s);
        g.dc.push(dc);
        g.ds.push(ds);
    }
    g.rh.clear();
    g.amp.clear();
    let nf = n as f64;
    for k in 0..nout {
        let (mut sc, mut ss, mut syc, mut sys, mut sc2, mut ss2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let points =
            g.c.iter_mut()
                .zip(g.s.iter_mut())
                .zip(g.dc.iter().zip(&g.ds));
        for (((c, s), (dc, ds)), y) in points.zip(&yc) {
            let (c0, s0) = (*c, *s);
            sc += c0;
            ss += s0;
            syc += y * c0;
            sys += y * s0;
            sc2 += c0 * c0 - s0 * s0;
            ss2 += 2.0 * s0 * c0;
            *c = c0 * dc - s0 * ds;
            *s = s0 * dc + c0 * ds;
        }
        let (c, s, c2, s2) = (sc / nf, ss / nf, sc2 / nf, ss2 / nf);
        let (yc_, ys_) = (syc / nf, sys / nf);
        // The time shift τ that decouples the sine and cosine terms, with the mean floating.
        let phi2 = (s2 - 2.0 * s * c).atan2(c2 - (c * c - s * s));
        let (sp, cp) = (0.5 * phi2).sin_cos();
        let (sp2, cp2) = phi2.sin_cos();
        let cr = c * cp + s * sp;
        let sr = s * cp - c * sp;
        let ycr = yc_ * cp + ys_ * sp;
        let ysr = ys_ * cp - yc_ * sp;
        let cc = 0.5 * (1.0 + c2 * cp2 + s2 * sp2) - cr * cr;
        let sss = 0.5 * (1.0 - c2 * cp2 - s2 * sp2) - sr * sr;
        let mut p = 0.0;
        if cc > 0.0 {
            p += ycr * ycr / cc;
        }
        if sss > 0.0 {
            p += ysr * ysr / sss;
        }
        let power = 0.5 * nf * p;
        let f = f0 + df * k as f64;
        if f > set.rh.0 {
            g.rh.push(f);
            g.amp.push(2.0 * (power.max(0.0) / nf).sqrt());
        }
    }
    let Some((i, &amp)) = g.amp.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else {
        return Peak::default();
    };
    let (mut sum, mut cnt) = (0.0, 0usize);
    for (h, a) in g.rh.iter().zip(&g.amp) {
        if *h > set.noise_band.0 && *h < set.noise_band.1 {
            sum += a;
            cnt += 1;
        }
    }
    Peak {
        rh: g.rh[i],
        amp,
        noise: if cnt > 0 { sum / cnt as f64 } else { 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_reflector_and_its_amplitude() {
        let lambda2 = 0.190_293_672_798_365 / 2.0;
        let h = 3.217;
        let elev: Vec<f64> = (0..200).map(|i| 5.0 + i as f64 * 0.1).collect();
        let y: Vec<f64> = elev
            .iter()
            .map(|e| {
                20.0 * (4.0 * std::f64::consts::PI * h / (2.0 * lambda2) * e.to_radians().sin()
                    + 0.3)
                    .cos()
            })
            .collect();
        let p = peak(
            &elev,
            &y,
            lambda2,
            &Settings::default(),
            &mut Grid::default(),
        );
        assert!((p.rh - h).abs() < 0.005, "{p:?}");
        assert!((p.amp - 20.0).abs() < 1.0, "{p:?}");
        assert!(p.amp / p.noise > 2.8);
    }

    #[test]
    fn a_dense_arc_is_thinned_without_moving_its_peak() {
        let lambda2 = 0.190_293_672_798_365 / 2.0;
        let h = 6.43;
        // A 1 Hz pass: 5–25° over about 50 minutes.
        let elev: Vec<f64> = (0..3000).map(|i| 5.0 + i as f64 * 20.0 / 3000.0).collect();
        let y: Vec<f64> = elev
            .iter()
            .map(|e| {
                20.0 * (4.0 * std::f64::consts::PI * h / (2.0 * lambda2) * e.to_radians().sin())
                    .cos()
            })
            .collect();
        let x: Vec<f64> = elev
            .iter()
            .map(|e| e.to_radians().sin() / lambda2)
            .collect();
        let (tx, _) = thin(x, &y, 8.0);
        assert!(tx.len() < 300, "{}", tx.len());
        let p = peak(
            &elev,
            &y,
            lambda2,
            &Settings::default(),
            &mut Grid::default(),
        );
        assert!((p.rh - h).abs() < 0.005, "{p:?}");
        assert!(p.amp > 19.0, "{p:?}");
    }
}
