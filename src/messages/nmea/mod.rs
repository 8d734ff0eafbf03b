//! NMEA 0183 sentences (being written).
