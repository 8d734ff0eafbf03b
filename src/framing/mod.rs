//! Resynchronising demultiplexer for RTCM3, NMEA 0183 and UBX (being written).
