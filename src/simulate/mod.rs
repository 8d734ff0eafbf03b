//! `corsd simulate` (being assembled).

pub mod sky;
