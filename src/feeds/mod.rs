//! Corrections for rovers: every consumer of the station's corrections that is not the station
//! itself. A [`feed`] makes one output's byte stream once (its [`message_set`], MSM4 and legacy
//! observations made by [`transcode`], or RTCM 2.3 from the station's published corrections by
//! [`rtcm2`]) and shares it with everyone who takes it: the embedded [`caster`]'s mountpoints,
//! [`push`]es to remote casters, TCP and serial [`output`]s. [`profiles`] checks a message set
//! against what a kind of rover needs.

pub mod caster;
pub mod feed;
pub mod message_set;
pub mod output;
pub mod profiles;
pub mod push;
pub mod rtcm2;
pub mod transcode;
