//! Data fields shared by several message families (RTCM 10403.x DF numbers).
//! Family-specific fields are declared at the top of each family's file.

use crate::messages::bits::Df;

/// DF002 message number, 12 bits.
pub const DF002: Df = Df::u(12, 1.0);
/// DF003 reference station ID, 12 bits.
pub const DF003: Df = Df::u(12, 1.0);
