//! `wxpay`, the WeChat Pay APIv3 command line; see the `wxpay_cli` crate docs.

fn main() -> std::process::ExitCode {
    wxpay_cli::main()
}
