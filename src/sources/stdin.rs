//! Standard input (`corsd run` in a pipe, e.g. after `str2str -out stdout`).

use super::Reader;

/// The process's standard input.
pub fn open() -> Reader {
    Box::new(tokio::io::stdin())
}
