//! GNSS time scales: GPST, BDT, GST, GLONASST and UTC.
//!
//! One instant type, [`Gpst`], counts seconds of GPS time since 1980-01-06 00:00:00 as whole
//! seconds plus a fraction, so that nanosecond detail survives a 40-year span (an `f64` of
//! seconds since 1980 would only keep ~0.2 µs). The other scales are views of it:
//!
//! * BDT  = GPST − 14 s; BDT week 0 began at GPS week 1356 (2006-01-01 00:00:00 BDT).
//! * GST  = GPST (same second); GST week 0 = GPS week 1024.
//! * UTC  = GPST − leap seconds (18 s since 2017-01-01).
//! * GLONASST = UTC + 3 h.
//!
//! Receivers send only the time of week (or GLONASS day and time of day): the full time is
//! resolved against a reference instant — the ephemerides' weeks, `--week`/`--date`, or the live
//! clock — choosing the candidate nearest to it. Never the wall clock in replay.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

pub const SECONDS_PER_WEEK: i64 = 604_800;
pub const SECONDS_PER_DAY: i64 = 86_400;
/// BDT runs 14 s behind GPST (the leap seconds between 1980 and 2006).
pub const BDT_MINUS_GPST_S: i64 = -14;
/// GPS week in which BDT week 0 starts.
pub const BDT_WEEK0_IN_GPS_WEEKS: i64 = 1356;
/// GPS week in which GST week 0 starts.
pub const GST_WEEK0_IN_GPS_WEEKS: i64 = 1024;
/// GLONASST is UTC(SU) + 3 h.
pub const GLONASST_MINUS_UTC_S: i64 = 3 * 3600;

/// Unix time of the GPS epoch, 1980-01-06 00:00:00 UTC.
const GPS_EPOCH_UNIX: i64 = 315_964_800;

/// (GPS seconds since the GPS epoch at which the offset takes effect, GPST − UTC from then on).
/// From the IERS Bulletin C announcements; the last one was 2017-01-01.
const LEAP_SECONDS: &[(i64, i64)] = &[
    (46_828_801, 1),     // 1981-07-01
    (78_364_802, 2),     // 1982-07-01
    (109_900_803, 3),    // 1983-07-01
    (173_059_204, 4),    // 1985-07-01
    (252_028_805, 5),    // 1988-01-01
    (315_187_206, 6),    // 1990-01-01
    (346_723_207, 7),    // 1991-01-01
    (393_984_008, 8),    // 1992-07-01
    (425_520_009, 9),    // 1993-07-01
    (457_056_010, 10),   // 1994-07-01
    (504_489_611, 11),   // 1996-01-01
    (551_750_412, 12),   // 1997-07-01
    (599_184_013, 13),   // 1999-01-01
    (820_108_814, 14),   // 2006-01-01
    (914_803_215, 15),   // 2009-01-01
    (1_025_136_016, 16), // 2012-07-01
    (1_119_744_017, 17), // 2015-07-01
    (1_167_264_018, 18), // 2017-01-01
];

/// GPST − UTC at a GPS instant, in whole seconds.
pub fn leap_seconds_at(t: Gpst) -> i64 {
    LEAP_SECONDS
        .iter()
        .rev()
        .find(|(at, _)| t.secs >= *at)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

/// An instant in GPS time.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default, serde::Serialize)]
pub struct Gpst {
    /// Whole seconds since 1980-01-06 00:00:00 GPST.
    secs: i64,
    /// Fraction of a second, in [0, 1).
    frac: f64,
}

impl Gpst {
    /// From whole seconds and a fraction (normalised).
    pub fn new(secs: i64, frac: f64) -> Gpst {
        let f = frac.floor();
        let frac = frac - f;
        // `f` is a whole number; a NaN or huge fraction saturates instead of panicking.
        Gpst {
            secs: secs.saturating_add(f as i64),
            frac: if frac.is_finite() { frac } else { 0.0 },
        }
    }

    /// From a GPS week (full, not modulo 1024) and time of week in seconds.
    pub fn from_week_tow(week: i64, tow: f64) -> Gpst {
        Gpst::new(week.saturating_mul(SECONDS_PER_WEEK), tow)
    }

    /// From a BDT week and BDT seconds of week.
    pub fn from_bdt(week: i64, sow: f64) -> Gpst {
        Gpst::from_week_tow(week + BDT_WEEK0_IN_GPS_WEEKS, sow).add(-BDT_MINUS_GPST_S as f64)
    }

    /// From a Galileo system time week and time of week.
    pub fn from_gst(week: i64, tow: f64) -> Gpst {
        Gpst::from_week_tow(week + GST_WEEK0_IN_GPS_WEEKS, tow)
    }

    /// A calendar date and time written in GPS time itself (as RINEX and SP3 write GPST), or
    /// `None` for a date that does not exist or a time of day outside 0..86 401 s.
    pub fn from_calendar(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: f64) -> Option<Gpst> {
        let date = NaiveDate::from_ymd_opt(y, mo, d)?;
        let gps0 = NaiveDate::from_ymd_opt(1980, 1, 6)?;
        let tod = f64::from(h) * 3600.0 + f64::from(mi) * 60.0 + s;
        if !(0.0..86_401.0).contains(&tod) {
            return None;
        }
        let whole = tod.floor();
        Some(Gpst::new(
            (date - gps0).num_days() * SECONDS_PER_DAY + whole as i64,
            tod - whole,
        ))
    }

    /// From a UTC date and time.
    pub fn from_utc(t: DateTime<Utc>) -> Gpst {
        let unix = t.timestamp();
        let frac = t.timestamp_subsec_nanos() as f64 * 1e-9;
        let approx = Gpst::new(unix - GPS_EPOCH_UNIX, frac);
        // The offset is that of the GPS instant, which is ≥ the UTC one: apply it twice to land on
        // the right side of a leap.
        let leap = leap_seconds_at(approx.add(leap_seconds_at(approx) as f64));
        approx.add(leap as f64)
    }

    /// To UTC.
    pub fn to_utc(self) -> DateTime<Utc> {
        let unix = self.secs - leap_seconds_at(self) + GPS_EPOCH_UNIX;
        let nanos = ((self.frac * 1e9).round() as u32).min(999_999_999);
        Utc.timestamp_opt(unix, nanos)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// GPS time written as a calendar date and time without leap seconds, as RINEX and RTKLIB
    /// write GPST (the `DateTime<Utc>` type carries it; it is not UTC).
    pub fn calendar(self) -> DateTime<Utc> {
        let nanos = ((self.frac * 1e9).round() as u32).min(999_999_999);
        Utc.timestamp_opt(self.secs + GPS_EPOCH_UNIX, nanos)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Noon UTC of a calendar date, as GPS time (for `--date`). Noon, not midnight: a time of
    /// day alone (GLONASS without its day of week) resolves to the instant nearest the reference,
    /// which must then fall on the given date rather than the evening before.
    pub fn from_date(date: NaiveDate) -> Gpst {
        Gpst::from_utc(Utc.from_utc_datetime(&date.and_hms_opt(12, 0, 0).unwrap_or_default()))
    }

    pub fn secs(self) -> i64 {
        self.secs
    }
    pub fn frac(self) -> f64 {
        self.frac
    }
    /// Seconds since the GPS epoch as an f64 (for differences and plots, not for storage).
    pub fn as_f64(self) -> f64 {
        self.secs as f64 + self.frac
    }

    /// Whole nanoseconds since the GPS epoch (saturating): how a raw frame carries its data
    /// time, since framing has no time type.
    pub fn gps_ns(self) -> i64 {
        self.secs
            .saturating_mul(1_000_000_000)
            .saturating_add((self.frac * 1e9).round() as i64)
    }

    /// The instant `ns` nanoseconds after the GPS epoch.
    pub fn from_gps_ns(ns: i64) -> Gpst {
        Gpst::new(
            ns.div_euclid(1_000_000_000),
            ns.rem_euclid(1_000_000_000) as f64 / 1e9,
        )
    }

    /// Full GPS week.
    pub fn week(self) -> i64 {
        self.secs.div_euclid(SECONDS_PER_WEEK)
    }
    /// GPS time of week in seconds.
    pub fn tow(self) -> f64 {
        self.secs.rem_euclid(SECONDS_PER_WEEK) as f64 + self.frac
    }

    /// BDT week and seconds of week.
    pub fn bdt(self) -> (i64, f64) {
        let b = self.add(BDT_MINUS_GPST_S as f64);
        (b.week() - BDT_WEEK0_IN_GPS_WEEKS, b.tow())
    }

    /// GST week and time of week.
    pub fn gst(self) -> (i64, f64) {
        (self.week() - GST_WEEK0_IN_GPS_WEEKS, self.tow())
    }

    /// GLONASS day of week (0 = Sunday, GLONASST) and time of day in seconds.
    pub fn glonass_day_tod(self) -> (i64, f64) {
        let g = self.add((GLONASST_MINUS_UTC_S - leap_seconds_at(self)) as f64);
        // GLONASST counts its days from the GPS epoch's Sunday as well (both epochs are Sundays).
        let day = g.secs.div_euclid(SECONDS_PER_DAY).rem_euclid(7);
        (day, g.secs.rem_euclid(SECONDS_PER_DAY) as f64 + g.frac)
    }

    /// This instant plus `dt` seconds.
    pub fn add(self, dt: f64) -> Gpst {
        let whole = dt.trunc();
        Gpst::new(
            self.secs.saturating_add(whole as i64),
            self.frac + (dt - whole),
        )
    }

    /// `self − other` in seconds.
    pub fn diff(self, other: Gpst) -> f64 {
        (self.secs - other.secs) as f64 + (self.frac - other.frac)
    }

    /// The instant with GPS time of week `tow` (s) nearest to this reference.
    pub fn nearest_tow(self, tow: f64) -> Gpst {
        nearest_periodic(
            self,
            Gpst::from_week_tow(self.week(), tow),
            SECONDS_PER_WEEK,
        )
    }

    /// The instant with BDT seconds of week `sow` nearest to this reference. The 14 s during which
    /// the BDT week still lags the GPS week are handled by working in BDT.
    pub fn nearest_bdt_sow(self, sow: f64) -> Gpst {
        let (week, _) = self.bdt();
        nearest_periodic(self, Gpst::from_bdt(week, sow), SECONDS_PER_WEEK)
    }

    /// The instant with GLONASS time of day `tod` (s) nearest to this reference (day resolved
    /// from the reference; the MSM day-of-week field can confirm it).
    pub fn nearest_glonass_tod(self, tod: f64) -> Gpst {
        let (_, ref_tod) = self.glonass_day_tod();
        nearest_periodic(self, self.add(tod - ref_tod), SECONDS_PER_DAY)
    }

    /// [`Gpst::nearest_glonass_tod`] with the MSM's day of week (0 = Sunday; 7 = unknown): with
    /// it the day is right even when the reference is only a date (`--date`), hours away.
    pub fn nearest_glonass_day_tod(self, day: u8, tod: f64) -> Gpst {
        if day >= 7 {
            return self.nearest_glonass_tod(tod);
        }
        let (ref_day, ref_tod) = self.glonass_day_tod();
        let candidate =
            self.add((day as i64 - ref_day) as f64 * SECONDS_PER_DAY as f64 + tod - ref_tod);
        nearest_periodic(self, candidate, SECONDS_PER_WEEK)
    }

    /// Resolve a 10-bit (mod 1024) GPS week against this reference.
    pub fn full_gps_week(self, week_mod: i64, modulus: i64) -> i64 {
        let w = self.week();
        let base = w - w.rem_euclid(modulus) + week_mod.rem_euclid(modulus);
        [base - modulus, base, base + modulus]
            .into_iter()
            .min_by_key(|c| (c - w).abs())
            .unwrap_or(base)
    }
}

/// Of `candidate + k·period`, the one nearest to `reference`.
fn nearest_periodic(reference: Gpst, candidate: Gpst, period: i64) -> Gpst {
    let d = reference.diff(candidate);
    let k = (d / period as f64).round();
    candidate.add(k * period as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    #[test]
    fn nanoseconds_round_trip() {
        for t in [
            Gpst::new(1_400_000_000, 0.0),
            Gpst::new(1_400_000_000, 0.2),
            Gpst::new(1_400_000_000, 0.123_456_789),
            Gpst::new(-5, 0.5),
        ] {
            let back = Gpst::from_gps_ns(t.gps_ns());
            assert_eq!(back.secs(), t.secs());
            assert!((back.frac() - t.frac()).abs() < 1e-9, "{t:?} {back:?}");
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
    }

    #[test]
    fn gps_week_rollover_2018() {
        // 2018-07-15 00:00:00 GPST is the start of GPS week 2010.
        let t = Gpst::from_week_tow(2010, 0.0);
        assert_eq!(t.to_utc(), utc("2018-07-14 23:59:42"));
        assert_eq!(Gpst::from_utc(utc("2018-07-14 23:59:42")), t);
    }

    #[test]
    fn bdt_is_gpst_minus_14s() {
        let t = Gpst::from_week_tow(2010, 10.0);
        let (w, sow) = t.bdt();
        assert_eq!((w, sow), (2010 - 1356 - 1, 604_796.0));
        assert_eq!(Gpst::from_bdt(w, sow), t);
        // The BDT week starts 14 s after the GPS week.
        assert_eq!(Gpst::from_week_tow(2010, 14.0).bdt(), (654, 0.0));
    }

    #[test]
    fn tow_resolution_across_the_week_boundary() {
        let reference = Gpst::from_week_tow(2009, 604_790.0);
        assert_eq!(reference.nearest_tow(5.0), Gpst::from_week_tow(2010, 5.0));
        assert_eq!(
            reference.nearest_tow(604_780.0),
            Gpst::from_week_tow(2009, 604_780.0)
        );
        // BDT: just before the GPS week turns, BDT sow is ~604 776; a BDS epoch at sow 2 is 16 s on.
        let bds = reference.nearest_bdt_sow(2.0);
        assert_eq!(bds, Gpst::from_week_tow(2010, 16.0));
    }

    #[test]
    fn leap_seconds() {
        assert_eq!(leap_seconds_at(Gpst::from_week_tow(2009, 0.0)), 18);
        assert_eq!(leap_seconds_at(Gpst::from_week_tow(1356, 14.0)), 14);
        let t = Gpst::from_utc(utc("2016-12-31 23:59:59"));
        assert_eq!(leap_seconds_at(t), 17);
        assert_eq!(t.add(2.0).to_utc(), utc("2017-01-01 00:00:00"));
    }

    #[test]
    fn glonass_time_of_day() {
        // 2018-07-14 23:59:42 UTC = 2018-07-15 02:59:42 GLONASST, a Sunday.
        let t = Gpst::from_week_tow(2010, 0.0);
        assert_eq!(t.glonass_day_tod(), (0, 2.0 * 3600.0 + 59.0 * 60.0 + 42.0));
        assert_eq!(
            Gpst::from_week_tow(2009, 604_000.0).nearest_glonass_tod(10_782.0),
            t
        );
        // Only the date known (2018-07-14 00:00 UTC): the time of day alone gives Saturday,
        // the day of week gives the Sunday the epoch is in.
        let date = Gpst::from_utc(utc("2018-07-14 00:00:00"));
        assert_eq!(date.nearest_glonass_day_tod(0, 10_782.0), t);
        assert_eq!(date.nearest_glonass_day_tod(7, 10_782.0), t.add(-86_400.0));
    }

    #[test]
    fn ten_bit_week() {
        let r = Gpst::from_week_tow(2009, 0.0);
        assert_eq!(r.full_gps_week(985, 1024), 2009);
        assert_eq!(r.full_gps_week(986, 1024), 2010);
        assert_eq!(Gpst::from_week_tow(2047, 0.0).full_gps_week(0, 1024), 2048);
    }
}
