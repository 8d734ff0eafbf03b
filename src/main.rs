//! corsd binary: parse the command line and hand over to the library.

use std::process::ExitCode;

fn main() -> ExitCode {
    corsd::cli::main()
}
