//! `wxpay-sandbox`: the WeChat Pay APIv3 stand-in as a command-line server, for
//! clients in any language.

use std::process::ExitCode;

fn main() -> ExitCode {
    wxpay_sandbox::cli::run("wxpay-sandbox", std::env::args_os().skip(1))
}
