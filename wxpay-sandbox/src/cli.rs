//! The `wxpay-sandbox` command line: its flags and its server loop, shared by the
//! `wxpay-sandbox` binary and `wxpay sandbox`, so both take the same flags.

use std::ffi::OsString;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::{HttpsIdentity, KeyMode, Sandbox, SandboxBuilder, SandboxError, Secret};

const USAGE: &str = "\
Usage: wxpay-sandbox [OPTIONS]

A local stand-in for the WeChat Pay APIv3 platform. It serves every operation of the
catalog: payments (also a service provider's for its sub-merchant 1900000109), refunds,
bills, e-invoice files, uploads, favor and multiuse coupons, complaints and certificates
with state of their own, every other one from the spec (required fields
and encrypted fields checked, the spec's example answered, signed);
`GET /sandbox/operations` lists them and how. With no key options it generates
a full key set, writes the keys to a fresh temporary directory and prints
`export WXPAY_…=…` lines, so that

    eval \"$(wxpay-sandbox | grep ^export)\"

configures a client (run it in the background and read its output from a file or
pipe to keep it serving). Serves until Ctrl-C.

Options:
  --listen ADDR              address to listen on [default: 127.0.0.1:0]
  --mchid MCHID              merchant id [default: 1230000109]
  --merchant-serial SERIAL   merchant certificate serial
  --merchant-cert PATH       merchant certificate (PEM), to verify requests with
  --merchant-public-key PATH merchant public key (PEM), instead of a certificate;
                             needs --merchant-serial
  --platform-key PATH        platform private key (PEM) signing the responses
  --platform-cert PATH       platform certificate (PEM) for that key
  --public-key-id ID         PUB_KEY_ID_… naming that key's public half
                             (with --platform-cert too: both modes at once)
  --key-mode MODE            certificate | public-key | both [default: inferred;
                             both when nothing is given]
  --apiv3-key KEY            APIv3 key, 32 bytes
  --apiv2-key KEY            APIv2 key, 32 ASCII letters and digits [default:
                             generated; printed as WXPAY_APIV2_KEY]
  --https-ca PATH            serve HTTPS too, on another free port of the same
                             address, asking clients for a certificate issued by
                             this CA (PEM): APIv2's client-certificate operations
                             succeed only there; needs --https-cert and --https-key
  --https-cert PATH          the HTTPS server certificate chain (PEM), leaf first
  --https-key PATH           that certificate's private key (PEM)
  --stock ID                 a running favor stock with this id (repeatable)
  --multiuse-stock ID        an active multiuse stock with this id (repeatable)
  --rotate-every SECS        rotate the platform certificate every SECS seconds
                             (fractions allowed); needs certificate key mode, which
                             it implies when --key-mode is not given
  --rotation-overlap SECS    how long responses stay signed with the previous
                             certificate after a rotation; it stays listed twice as
                             long [default: a quarter of --rotate-every]
  --notify-url URL           where to deliver notifications (http://host:port/path);
                             also settable with PUT /sandbox/notify-url
  -h, --help                 print this help

Output: `listening on http://IP:PORT`, then (with --https-ca) `https: https://IP:PORT`,
then `stock: ID` and `multiuse-stock: ID`
lines, then the `export` lines, then `dashboard: http://IP:PORT/sandbox/` (orders,
notifications and the last requests with their verdicts, in a browser); with
--rotate-every, a `rotated: SERIAL` line per rotation.

Control endpoints (loopback test tools, outside the platform API: no signature asked,
answer not signed): `POST /sandbox/platform/rotate` with `{\"overlap_ms\": N}`
rotates the platform certificate and answers `{\"serial\": \"…\"}`;
`GET /sandbox/operations` lists the operations served.";

/// The options as given on the command line.
#[derive(Debug, Default)]
struct Options {
    listen: Option<SocketAddr>,
    mchid: Option<String>,
    merchant_serial: Option<String>,
    merchant_cert: Option<PathBuf>,
    merchant_public_key: Option<PathBuf>,
    platform_key: Option<PathBuf>,
    platform_cert: Option<PathBuf>,
    public_key_id: Option<String>,
    key_mode: Option<KeyMode>,
    apiv3_key: Option<String>,
    apiv2_key: Option<String>,
    https_ca: Option<PathBuf>,
    https_cert: Option<PathBuf>,
    https_key: Option<PathBuf>,
    stocks: Vec<String>,
    multiuse_stocks: Vec<String>,
    rotate_every: Option<Duration>,
    rotation_overlap: Option<Duration>,
    notify_url: Option<String>,
}

/// A period given in (possibly fractional) seconds; it must be positive.
fn parse_seconds(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{flag} {value:?} is not a positive number of seconds"))
}

enum Command {
    Help,
    Serve(Box<Options>),
}

fn set_once<T>(slot: &mut Option<T>, flag: &str, value: T) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("{flag} given twice"));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|a| format!("argument {a:?} is not UTF-8"))?;
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        if !flag.starts_with("--") {
            return Err(format!("unexpected argument {arg:?}"));
        }
        let known = [
            "--listen",
            "--mchid",
            "--merchant-serial",
            "--merchant-cert",
            "--merchant-public-key",
            "--platform-key",
            "--platform-cert",
            "--public-key-id",
            "--key-mode",
            "--apiv3-key",
            "--apiv2-key",
            "--https-ca",
            "--https-cert",
            "--https-key",
            "--stock",
            "--multiuse-stock",
            "--rotate-every",
            "--rotation-overlap",
            "--notify-url",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown option {flag}"));
        }
        let value = match inline {
            Some(value) => value,
            None => args
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?
                .into_string()
                .map_err(|v| format!("value {v:?} of {flag} is not UTF-8"))?,
        };
        if value.is_empty() {
            return Err(format!("{flag} needs a non-empty value"));
        }
        match flag.as_str() {
            "--listen" => {
                let addr = value.parse().map_err(|_| {
                    format!("--listen {value:?} is not an address like 127.0.0.1:8080")
                })?;
                set_once(&mut options.listen, &flag, addr)?;
            }
            "--mchid" => set_once(&mut options.mchid, &flag, value)?,
            "--merchant-serial" => set_once(&mut options.merchant_serial, &flag, value)?,
            "--merchant-cert" => set_once(&mut options.merchant_cert, &flag, value.into())?,
            "--merchant-public-key" => {
                set_once(&mut options.merchant_public_key, &flag, value.into())?;
            }
            "--platform-key" => set_once(&mut options.platform_key, &flag, value.into())?,
            "--platform-cert" => set_once(&mut options.platform_cert, &flag, value.into())?,
            "--public-key-id" => set_once(&mut options.public_key_id, &flag, value)?,
            "--key-mode" => {
                let mode = match value.as_str() {
                    "certificate" => KeyMode::Certificate,
                    "public-key" => KeyMode::PublicKey,
                    "both" => KeyMode::Both,
                    _ => {
                        return Err(format!(
                            "--key-mode {value:?} is not certificate, public-key or both"
                        ));
                    }
                };
                set_once(&mut options.key_mode, &flag, mode)?;
            }
            "--apiv3-key" => set_once(&mut options.apiv3_key, &flag, value)?,
            "--apiv2-key" => set_once(&mut options.apiv2_key, &flag, value)?,
            "--https-ca" => set_once(&mut options.https_ca, &flag, value.into())?,
            "--https-cert" => set_once(&mut options.https_cert, &flag, value.into())?,
            "--https-key" => set_once(&mut options.https_key, &flag, value.into())?,
            "--stock" => options.stocks.push(value),
            "--rotate-every" => {
                let period = parse_seconds(&flag, &value)?;
                set_once(&mut options.rotate_every, &flag, period)?;
            }
            "--rotation-overlap" => {
                let overlap = parse_seconds(&flag, &value)?;
                set_once(&mut options.rotation_overlap, &flag, overlap)?;
            }
            "--notify-url" => set_once(&mut options.notify_url, &flag, value)?,
            _ => options.multiuse_stocks.push(value),
        }
    }
    if options.merchant_cert.is_some() && options.merchant_public_key.is_some() {
        return Err("give --merchant-cert or --merchant-public-key, not both".into());
    }
    if options.merchant_public_key.is_some() && options.merchant_serial.is_none() {
        return Err("--merchant-public-key needs --merchant-serial".into());
    }
    if options.rotation_overlap.is_some() && options.rotate_every.is_none() {
        return Err("--rotation-overlap needs --rotate-every".into());
    }
    if options.rotate_every.is_some()
        && matches!(options.key_mode, Some(KeyMode::PublicKey | KeyMode::Both))
    {
        return Err("--rotate-every needs --key-mode certificate".into());
    }
    let https = [&options.https_ca, &options.https_cert, &options.https_key];
    if https.iter().any(|path| path.is_some()) && !https.iter().all(|path| path.is_some()) {
        return Err("--https-ca, --https-cert and --https-key go together".into());
    }
    if options.platform_cert.is_some() && options.platform_key.is_none() {
        return Err("--platform-cert needs --platform-key (the sandbox signs with it)".into());
    }
    Ok(Command::Serve(Box::new(options)))
}

fn read(path: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))
}

/// Rotate the platform certificate every `period`, with this overlap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rotation {
    period: Duration,
    overlap: Duration,
}

impl Options {
    /// The periodic rotation asked for, if any.
    fn rotation(&self) -> Option<Rotation> {
        self.rotate_every.map(|period| Rotation {
            period,
            overlap: self.rotation_overlap.unwrap_or(period / 4),
        })
    }

    fn into_builder(self) -> Result<SandboxBuilder, String> {
        let mut builder = Sandbox::builder();
        if let Some(addr) = self.listen {
            builder = builder.listen(addr);
        }
        if let Some(mchid) = self.mchid {
            builder = builder.mchid(mchid);
        }
        if let Some(serial) = self.merchant_serial {
            builder = builder.merchant_serial(serial);
        }
        if let Some(path) = &self.merchant_cert {
            builder = builder.merchant_certificate_pem(read(path, "--merchant-cert")?);
        }
        if let Some(path) = &self.merchant_public_key {
            builder = builder.merchant_public_key_pem(read(path, "--merchant-public-key")?);
        }
        if let Some(path) = &self.platform_key {
            builder = builder.platform_key_pem(read(path, "--platform-key")?);
        }
        if let Some(path) = &self.platform_cert {
            builder = builder.platform_certificate_pem(read(path, "--platform-cert")?);
        }
        if let Some(id) = self.public_key_id {
            builder = builder.public_key_id(id);
        }
        match (self.key_mode, self.rotate_every) {
            (Some(mode), _) => builder = builder.key_mode(mode),
            // Rotation is of certificates: it implies the certificate mode.
            (None, Some(_)) => builder = builder.key_mode(KeyMode::Certificate),
            (None, None) => {}
        }
        if let Some(key) = self.apiv3_key {
            builder = builder.apiv3_key(key);
        }
        if let Some(key) = self.apiv2_key {
            builder = builder.apiv2_key(key);
        }
        if let (Some(ca), Some(cert), Some(key)) =
            (&self.https_ca, &self.https_cert, &self.https_key)
        {
            builder = builder.https(HttpsIdentity {
                ca_certificate_pem: read(ca, "--https-ca")?,
                server_certificate_pem: read(cert, "--https-cert")?,
                server_key_pem: Secret::new(read(key, "--https-key")?),
            });
        }
        for id in self.stocks {
            builder = builder.favor_stock(id);
        }
        for id in self.multiuse_stocks {
            builder = builder.multiuse_stock(id);
        }
        if let Some(url) = self.notify_url {
            builder = builder.notify_url(url);
        }
        Ok(builder)
    }
}

/// `'value'`, safe to paste into a POSIX shell.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// A new private directory under the system temporary directory.
fn fresh_temp_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    let mut attempt = 0u32;
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = base.join(format!(
            "wxpay-sandbox-{}-{nanos:09}-{attempt}",
            std::process::id()
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The lines printed once the sandbox listens.
fn banner(sandbox: &Sandbox, env: &[(String, String)]) -> String {
    let mut out = format!("listening on {}\n", sandbox.base_url());
    if let Some(url) = sandbox.https_url() {
        out.push_str(&format!("https: {url}\n"));
    }
    for id in sandbox.favor_stock_ids() {
        out.push_str(&format!("stock: {id}\n"));
    }
    for id in sandbox.multiuse_stock_ids() {
        out.push_str(&format!("multiuse-stock: {id}\n"));
    }
    for (name, value) in env {
        out.push_str(&format!("export {name}={}\n", shell_quote(value)));
    }
    // Last, where a person reading the terminal looks first.
    out.push_str(&format!("dashboard: {}/sandbox/\n", sandbox.base_url()));
    out
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Rotates every `rotation.period`, printing `rotated: SERIAL`, until stopped.
async fn rotate_periodically(program: &str, sandbox: &Sandbox, rotation: Rotation) {
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::now() + rotation.period,
        rotation.period,
    );
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // Key generation is slow; block_in_place keeps the other workers serving.
        match tokio::task::block_in_place(|| sandbox.rotate_platform_certificate(rotation.overlap))
        {
            Ok(serial) => {
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "rotated: {serial}").and_then(|()| stdout.flush());
            }
            Err(error) => eprintln!("{program}: rotation failed: {error}"),
        }
    }
}

async fn serve(program: &str, builder: SandboxBuilder, rotation: Option<Rotation>) -> ExitCode {
    let sandbox = match builder.start().await {
        Ok(sandbox) => sandbox,
        Err(error @ (SandboxError::Config(_) | SandboxError::Key(_))) => {
            eprintln!("{program}: {error}");
            return ExitCode::from(2);
        }
        Err(error) => {
            // The message, then its cause (the I/O error of the listener).
            match std::error::Error::source(&error) {
                Some(cause) => eprintln!("{program}: {error}: {cause}"),
                None => eprintln!("{program}: {error}"),
            }
            return ExitCode::FAILURE;
        }
    };
    let dir = match fresh_temp_dir() {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("{program}: cannot create a directory for the keys: {error}");
            return ExitCode::FAILURE;
        }
    };
    let env = match sandbox.to_env(&dir) {
        Ok(env) => env,
        Err(error) => {
            eprintln!(
                "{program}: cannot write the keys to {}: {error}",
                dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_all(banner(&sandbox, &env).as_bytes())
        .and_then(|()| stdout.flush())
    {
        // Keep serving: whoever started us may simply not read stdout.
        eprintln!("{program}: cannot write to stdout: {error}");
    }
    drop(stdout);
    match rotation {
        Some(rotation) => {
            tokio::select! {
                () = wait_for_stop() => {}
                () = rotate_periodically(program, &sandbox, rotation) => {}
            }
        }
        None => wait_for_stop().await,
    }
    sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    ExitCode::SUCCESS
}

/// Runs the sandbox server as the `wxpay-sandbox` binary does, with `args` (without the
/// program name) parsed as its flags; `program` names the command in messages and `--help`
/// (`wxpay-sandbox`, or `wxpay sandbox` from the `wxpay` command line). Serves until Ctrl-C
/// or SIGTERM and returns the exit code: 0 when stopped, 2 for a usage or configuration
/// error, 1 for anything else.
///
/// It starts its own tokio runtime, so call it outside of one.
pub fn run(program: &str, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let options = match parse_args(args) {
        Ok(Command::Help) => {
            println!("{}", USAGE.replace("wxpay-sandbox", program));
            return ExitCode::SUCCESS;
        }
        Ok(Command::Serve(options)) => options,
        Err(message) => {
            eprintln!("{program}: {message}\nTry `{program} --help`.");
            return ExitCode::from(2);
        }
    };
    let rotation = options.rotation();
    let builder = match options.into_builder() {
        Ok(builder) => builder,
        Err(message) => {
            eprintln!("{program}: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{program}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(program, builder, rotation))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(OsString::from))
    }

    #[test]
    fn parses_flags_in_both_forms() {
        let Ok(Command::Serve(options)) = parse(&[
            "--listen=127.0.0.1:8080",
            "--mchid",
            "1900000001",
            "--stock",
            "1",
            "--stock=2",
            "--multiuse-stock",
            "3",
            "--key-mode",
            "public-key",
            "--notify-url",
            "http://127.0.0.1:9000/notify",
        ]) else {
            panic!("should parse");
        };
        assert_eq!(
            options.listen,
            Some("127.0.0.1:8080".parse().expect("addr"))
        );
        assert_eq!(options.mchid.as_deref(), Some("1900000001"));
        assert_eq!(options.stocks, ["1", "2"]);
        assert_eq!(options.multiuse_stocks, ["3"]);
        assert_eq!(options.key_mode, Some(KeyMode::PublicKey));
        assert_eq!(
            options.notify_url.as_deref(),
            Some("http://127.0.0.1:9000/notify")
        );
        assert!(matches!(parse(&["--help"]), Ok(Command::Help)));
    }

    #[test]
    fn rejects_bad_flags() {
        for bad in [
            &["--nope"][..],
            &["--listen"],
            &["--listen", "nowhere"],
            &["--mchid", "1", "--mchid", "2"],
            &["stray"],
            &["--key-mode", "rsa"],
            &["--merchant-public-key", "k.pem"],
            &["--platform-cert", "c.pem"],
            &[
                "--merchant-cert",
                "a",
                "--merchant-public-key",
                "b",
                "--merchant-serial",
                "1",
            ],
            &["--stock="],
            &["--https-ca", "ca.pem"],
            &["--https-cert", "c.pem", "--https-key", "k.pem"],
            &["--apiv2-key", "a", "--apiv2-key", "b"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_rotation() {
        let Ok(Command::Serve(options)) = parse(&["--rotate-every", "2"]) else {
            panic!("should parse");
        };
        assert_eq!(
            options.rotation(),
            Some(Rotation {
                period: Duration::from_secs(2),
                overlap: Duration::from_millis(500),
            })
        );
        let Ok(Command::Serve(options)) =
            parse(&["--rotate-every=0.5", "--rotation-overlap", "0.1"])
        else {
            panic!("should parse");
        };
        assert_eq!(
            options.rotation(),
            Some(Rotation {
                period: Duration::from_millis(500),
                overlap: Duration::from_millis(100),
            })
        );
        for bad in [
            &["--rotate-every", "0"][..],
            &["--rotate-every", "-1"],
            &["--rotate-every", "soon"],
            &["--rotation-overlap", "1"],
            &["--rotate-every", "1", "--key-mode", "both"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("abc"), "'abc'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
