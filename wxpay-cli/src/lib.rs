//! `wxpay`, the WeChat Pay command line (APIv3 and APIv2), on the same runtime as the `wxpay` library:
//! every request is signed, every answer verified, sensitive fields encrypted, certificates
//! decrypted and bills checked by the library itself.
//!
//! ```text
//! wxpay --sandbox call PauseStock --field stock_id=9856888 --field stock_creator_mchid=1230000109
//! wxpay call POST /v3/marketing/favor/stocks/9856888/pause --field stock_creator_mchid=1230000109
//! wxpay call partner::CreateNativeOrder --body @order.json --dry-run
//! wxpay list 代金券
//! wxpay certs download --dir ~/.local/share/wxpay/certificates
//! wxpay debug sign-error answer.json --request signed.txt
//! wxpay verify notification --headers headers.txt --body body.json
//! wxpay call v2::pay::QueryOrder -f appid=wx8888 -f mch_id=1230000109 -f out_trade_no=T1
//! wxpay call v2::redpack::SendRedpack -f mch_billno=… -f …
//! wxpay verify v2-notification --body refund.xml
//! wxpay bill trade --date 2026-11-20 -o trade.csv
//! wxpay sandbox --listen 127.0.0.1:8080
//! wxpay completions bash > /etc/bash_completion.d/wxpay
//! ```
//!
//! # Names
//! The whole catalog is compiled in, as data: APIv3's (`wxpay::apis::OPERATIONS`) and APIv2's
//! (`wxpay::apis::v2::OPERATIONS`). `wxpay list` prints one line per operation, APIv3's then
//! APIv2's (`--protocol v3|v2` for one), ordered by module: its qualified name, host, method,
//! path and title. Where several operations share a name (a direct operation and its partner
//! twin), qualify it by its module, in full (`pay::transactions::CreateNativeOrder`) or by as
//! many trailing segments as tell it apart (`partner::CreateNativeOrder`); an ambiguous name
//! is refused with the candidates. APIv2 operations are under `v2::`
//! (`v2::redpack::SendRedpack`); a bare name goes to the APIv2 catalog only when no APIv3
//! operation has it, so every APIv3 name keeps its meaning.
//! `--dry-run` prints the signed request (URL on the operation's host, headers, body with
//! sensitive fields encrypted) and sends nothing.
//!
//! # Configuration
//! In this order: `--sandbox` (an embedded sandbox started in-process, with the demo
//! merchant 1230000109, favor stock 9856888 and multiuse stock 9856889), `--profile NAME`
//! (a table of `profiles.toml`, below), or the `WXPAY_*` variables of
//! `Client::from_env` (`WXPAY_MCHID`, `WXPAY_MERCHANT_SERIAL`, `WXPAY_MERCHANT_KEY`, …).
//!
//! A profile is a table of `$XDG_CONFIG_HOME/wxpay/profiles.toml` (else
//! `~/.config/wxpay/profiles.toml`; `--profiles FILE` or `WXPAY_PROFILES` name another file).
//! Keys are given by path, never inline (an inline key is refused); relative paths are
//! relative to the file, `~/` is the home directory:
//!
//! ```toml
//! [prod]
//! mchid = "1230000109"
//! merchant_serial = "0A3C5E7F9B1D2F4A6C8E0B2D4F6A8C0E2B4D6F81"
//! merchant_key = "~/keys/apiclient_key.pem"
//! platform_public_key = "~/keys/pub_key.pem"        # public-key merchants, with its id
//! platform_public_key_id = "PUB_KEY_ID_0112300001092025110100000000"
//! platform_certificates = ["~/keys/wechatpay.pem"]  # certificate merchants
//! apiv3_key = "…"                                    # 32 characters; keep the file 0600
//! base_url = "http://127.0.0.1:8080"    # optional: every host at once (a sandbox, a proxy)
//! base_urls = { apihk = "https://apihk-proxy.internal.example" }   # optional: one host's
//! ```
//!
//! # APIv2
//! An APIv2 catalog name or a path outside `/v3/` is an APIv2 call (`wxpay call
//! v2::pay::Micropay --field …`, `wxpay call POST /pay/micropay --field …`), sent through the
//! library's `Client::apiv2`: the flat fields are signed into `<xml>` with the APIv2 key
//! (`WXPAY_APIV2_KEY`, a profile's `apiv2_key`, or `--sandbox`). The catalog gives the
//! operation's rules: its sign types (`--sign-type` picks one where it takes either), host,
//! whether it needs the merchant's client certificate (`WXPAY_MERCHANT_CERT` +
//! `WXPAY_MERCHANT_KEY`, or a profile's `merchant_cert` + `merchant_key`; `--ca-cert` trusts a
//! sandbox's TEST CA) and whether its answer is signed (then verified). For a path the catalog
//! does not know, `--sign-type` (MD5 by default), `--cert`, `--unsigned-answer` and `--host`
//! give them; a flag that contradicts the catalog is refused. `wxpay verify v2-notification
//! --body FILE` checks a payment notification's `sign` or decrypts a refund notification's
//! `req_info`, and prints the fields (never the key).
//!
//! # `wxpay debug sign-error`
//! Takes the platform's `SIGN_ERROR` answer (or the error `wxpay --json call` printed) and
//! sets its `detail.sign_information` beside what was signed: the exact message from
//! `--request FILE` (`METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`), else the
//! `signed_request` the library keeps on a `SIGN_ERROR` (all but the body, whose length it
//! gives). `wxpay call` prints the same comparison by itself when the platform answers
//! `SIGN_ERROR`.
//!
//! # Output
//! Readable text on stdout by default; `--json` prints one JSON document instead (errors
//! too: `{"error": {...}}`), for scripts. Diagnostics go to stderr.
//!
//! # Exit codes
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | anything else (an unreadable answer, a file that cannot be written) |
//! | 2 | usage: a bad flag, an unknown operation, an invalid `--field`, unreadable input |
//! | 3 | configuration: a missing `WXPAY_*` variable or profile setting, a malformed key |
//! | 4 | transport: the platform could not be reached or the answer did not come back whole |
//! | 5 | platform: WeChat Pay answered with an error (`SIGN_ERROR`, `PARAM_ERROR`, …) |
//! | 6 | verification: a signature, notification or bill digest that does not check out |

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod apiv2;
mod bill;
mod call;
mod certs;
mod cli;
mod config;
mod exit;
mod fields;
mod notification;
mod output;
mod sign_error;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::exit::Failure;

/// Runs `wxpay` with the process's arguments and returns its exit code (the `wxpay` binary
/// is this one call).
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap prints help and version to stdout with 0, usage errors to stderr with 2.
        Err(error) => error.exit(),
    };
    match cli.command {
        // The sandbox parses its own flags and runs its own runtime.
        Command::Sandbox { args } => wxpay_sandbox::cli::run("wxpay sandbox", args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "wxpay", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        command => {
            let json = cli.global.json;
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    return Failure::other(format!("cannot start the async runtime: {error}"))
                        .report(json);
                }
            };
            match runtime.block_on(run(&cli.global, command)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => failure.report(json),
            }
        }
    }
}

async fn run(global: &cli::Global, command: Command) -> Result<(), Failure> {
    let out = output::Output::new(global.json);
    match command {
        Command::Call(args) => call::call(global, &out, args).await,
        Command::List { filter, protocol } => call::list(&out, filter.as_deref(), protocol),
        Command::Certs(certs) => certs::run(global, &out, certs).await,
        Command::Debug(cli::Debug::SignError(args)) => sign_error::run(&out, args),
        Command::Verify(cli::Verify::Notification(args)) => {
            notification::verify(global, &out, args).await
        }
        Command::Verify(cli::Verify::V2Notification(args)) => {
            apiv2::verify_notification(global, &out, args).await
        }
        Command::Bill(args) => bill::run(global, &out, args).await,
        Command::Sandbox { .. } | Command::Completions { .. } => Ok(()),
    }
}
