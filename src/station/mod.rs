//! One source's data flow, read top to bottom: [`pipeline`] (framer → decode → [`state`] →
//! engine → products).

pub mod pipeline;
pub mod state;
