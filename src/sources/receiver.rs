//! Setting the receiver up on connect (`[receiver]`): before the link's bytes go to the
//! station, corsd sends the configuration a base needs and waits for each answer.
//!
//! u-blox F9 ([`ReceiverKind::UbloxF9`]): one UBX-CFG-VALSET per purpose (outputs, measurement
//! rate, signals, base mode; see [`crate::messages::ubx::cfg`]), each answered by ACK-ACK or
//! ACK-NAK within [`ACK_TIMEOUT`]. A refusal names the keys of the message refused and the
//! rest is still sent; silence stops the set-up (a receiver that does not answer one will not
//! answer the next) and says what to check. Either way the link then streams as it is: a
//! receiver already set up by hand is still a station. What the receiver sent meanwhile is
//! delivered first, so no frame is lost.
//!
//! Unicore UM980 (ASCII commands answered by `$command,…,response: OK*xx`) would be another
//! [`ReceiverKind`] with its own plan and answers; without recordings of a real UM980's
//! answers to test against it is not built.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Link;
use crate::framing::{FrameKind, Framer};
use crate::messages::ubx::cfg::{BaseSetup, answer, base_plan};

/// How long the receiver has to answer each message.
pub const ACK_TIMEOUT: Duration = Duration::from_millis(1500);

/// Which receiver, set up how.
#[derive(Clone, Debug, PartialEq)]
pub enum ReceiverKind {
    UbloxF9(BaseSetup),
}

/// `[receiver]`: the receiver behind one source.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceiverSettings {
    pub kind: ReceiverKind,
}

/// What the set-up came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetupReport {
    pub acknowledged: Vec<&'static str>,
    /// Purpose and the keys of each refused message.
    pub refused: Vec<(&'static str, String)>,
    /// The purpose of the message that got no answer, if one did not.
    pub silent: Option<&'static str>,
}

/// Send the set-up over `link` and read the answers; the bytes read meanwhile and the report.
pub async fn set_up(link: &mut Link, r: &ReceiverSettings, source: &str) -> (Vec<u8>, SetupReport) {
    let ReceiverKind::UbloxF9(setup) = &r.kind;
    let mut report = SetupReport::default();
    let mut seen = Vec::new();
    let mut framer = Framer::new();
    let Some(writer) = link.writer.as_mut() else {
        tracing::warn!(
            source,
            "[receiver]: this link cannot send to the receiver; not set up"
        );
        return (seen, report);
    };
    for step in base_plan(setup) {
        let sent = writer.write_all(&step.frame(setup.layers)).await;
        if let Err(e) = sent.and(writer.flush().await) {
            tracing::warn!(source, error = %e, "cannot send the receiver its configuration");
            report.silent = Some(step.purpose);
            return (seen, report);
        }
        let deadline = tokio::time::Instant::now() + ACK_TIMEOUT;
        let mut buf = [0u8; 4096];
        let outcome = 'wait: loop {
            while let Some(f) = framer.next_frame() {
                if f.kind == FrameKind::Ubx
                    && let Some(a) = answer(f.bytes)
                {
                    break 'wait Some(a);
                }
            }
            match tokio::time::timeout_at(deadline, link.reader.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => {
                    seen.extend_from_slice(&buf[..n]);
                    framer.push(&buf[..n]);
                }
                _ => break None,
            }
        };
        match outcome {
            Some(true) => report.acknowledged.push(step.purpose),
            Some(false) => {
                let keys = step.keys();
                tracing::warn!(
                    source,
                    "the receiver refused the {} settings (UBX-ACK-NAK to CFG-VALSET of {keys}); the other settings are still sent",
                    step.purpose
                );
                report.refused.push((step.purpose, keys));
            }
            None => {
                tracing::warn!(
                    source,
                    "no answer from the receiver within {:.1} s to the {} settings (CFG-VALSET of {}): check that it is a u-blox F9 receiver, that [receiver] port names the port this link is on, and the baud rate; the link streams as it is",
                    ACK_TIMEOUT.as_secs_f64(),
                    step.purpose,
                    step.keys()
                );
                report.silent = Some(step.purpose);
                return (seen, report);
            }
        }
    }
    if report.refused.is_empty() {
        tracing::info!(
            source,
            settings = report.acknowledged.join(", "),
            "receiver set up as a base: every setting acknowledged"
        );
    }
    (seen, report)
}
