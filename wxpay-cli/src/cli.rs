//! The command line's shape (clap derive): every subcommand has its own `--help`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Configuration, in this order: --sandbox, --profile NAME (a table of profiles.toml), or the
WXPAY_* variables (WXPAY_MCHID, WXPAY_MERCHANT_SERIAL, WXPAY_MERCHANT_KEY, ...).

Exit codes:
  0  success
  1  anything else (an unreadable answer, a file that cannot be written)
  2  usage: a bad flag, an unknown operation, an invalid --field, unreadable input
  3  configuration: a missing WXPAY_* variable or profile setting, a malformed key
  4  transport: the platform could not be reached, or its answer did not come back whole
  5  platform: WeChat Pay answered with an error (SIGN_ERROR, PARAM_ERROR, ...)
  6  verification: a signature, notification or bill digest that does not check out";

/// WeChat Pay from the terminal: call any APIv3 or APIv2 operation, manage platform
/// certificates, debug a signature, check a notification, fetch a bill.
#[derive(Debug, Parser)]
#[command(name = "wxpay", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Print one JSON document (errors too) instead of readable text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Start the embedded sandbox in-process and talk to it (demo merchant 1230000109,
    /// favor stock 9856888, multiuse stock 9856889).
    #[arg(long, global = true, conflicts_with = "profile")]
    pub sandbox: bool,
    /// Use this table of the profiles file instead of the WXPAY_* variables.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// The profiles file [default: $XDG_CONFIG_HOME/wxpay/profiles.toml, else
    /// ~/.config/wxpay/profiles.toml].
    #[arg(long, global = true, value_name = "FILE", env = "WXPAY_PROFILES")]
    pub profiles: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call an operation by its Rust name (PauseStock, v2::redpack::SendRedpack) or by METHOD
    /// PATH, and print the verified answer (with its Request-ID for APIv3).
    Call(CallArgs),
    /// List the catalog's operations, APIv3 then APIv2, optionally only those whose name,
    /// path or Chinese title contains FILTER (case-insensitive).
    List {
        /// Part of a name, path or title, e.g. `stock`, `/v3/pay`, `代金券`, `redpack`.
        filter: Option<String>,
        /// Only this protocol's catalog (`wxpay list --protocol v3 | wc -l` counts APIv3's).
        #[arg(long, value_name = "PROTOCOL")]
        protocol: Option<ListProtocol>,
    },
    /// Download, verify and decrypt platform certificates, or show those in a directory.
    #[command(subcommand)]
    Certs(Certs),
    /// Diagnose a failed call.
    #[command(subcommand)]
    Debug(Debug),
    /// Verify captured platform messages.
    #[command(subcommand)]
    Verify(Verify),
    /// Download a day's bill: signed request, decompressed, SHA1 checked.
    Bill(BillArgs),
    /// Run the sandbox server, with the same flags as `wxpay-sandbox` (see `wxpay sandbox
    /// --help`).
    #[command(disable_help_flag = true)]
    Sandbox {
        /// The sandbox's flags, passed through.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Which catalog `wxpay list` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListProtocol {
    /// The APIv3 catalog (`wxpay::apis`).
    V3,
    /// The APIv2 catalog (`wxpay::apis::v2`).
    V2,
}

/// `wxpay call`.
#[derive(Debug, Args)]
#[command(after_help = "\
Fields: `k=v` is a string, `k:=json` raw JSON (a number, true, an object), `a.b=v` nests.
Fields named like a path placeholder fill it; the rest become the JSON body (POST, PUT,
PATCH) or the query (GET, DELETE). Fields the catalog marks sensitive are encrypted with
the platform key, and the request names that key in Wechatpay-Serial.

APIv2: an APIv2 catalog name (v2::redpack::SendRedpack; the bare name where no APIv3
operation has it) or a path outside /v3/ (POST /pay/micropay) is an APIv2 call. Its flat
fields are signed into <xml> with the APIv2 key (WXPAY_APIV2_KEY, the profile's apiv2_key,
or --sandbox), nonce_str and sign added; a JSON value (k:=json) goes as its JSON text. The
catalog knows each operation's rules: its sign types, its host, whether it needs the
merchant's client certificate (WXPAY_MERCHANT_CERT with WXPAY_MERCHANT_KEY, the profile's
merchant_cert) and whether the platform signs its answer (then verified). --sign-type picks
the type of an operation that takes either; --cert, --unsigned-answer, --sign-type and --host
state the rules of a path the catalog does not know. A flag that contradicts the catalog is
refused.

Examples:
  wxpay --sandbox call PauseStock --field stock_id=9856888 --field stock_creator_mchid=1230000109
  wxpay call partner::CreateNativeOrder --body @order.json --dry-run
  wxpay call POST /v3/marketing/favor/stocks/9856888/pause --field stock_creator_mchid=1230000109
  wxpay call GET /v3/bill/tradebill --field bill_date=2026-11-20
  wxpay call v2::pay::QueryOrder -f appid=wx8888 -f mch_id=1230000109 -f out_trade_no=T1
  wxpay call v2::redpack::SendRedpack --field mch_billno=… --field …
  wxpay call POST /pay/micropay --sign-type MD5 --field … --dry-run
  wxpay call POST /pay/newthing --cert --unsigned-answer --field …")]
pub struct CallArgs {
    /// The operation: a Rust name such as `PauseStock`, qualified by its module where
    /// several share it (`pay::transactions::CreateNativeOrder`, `partner::CreateNativeOrder`,
    /// `v2::redpack::SendRedpack`), or `METHOD PATH` such as
    /// `POST /v3/marketing/favor/stocks/9856888/pause` (placeholders `{name}` allowed) or
    /// `POST /pay/micropay`.
    #[arg(required = true, num_args = 1..=2, value_name = "OPERATION")]
    pub operation: Vec<String>,
    /// A JSON object to start the fields from (`@FILE` reads it from a file, `-` from stdin).
    #[arg(long, value_name = "JSON")]
    pub body: Option<String>,
    /// A field: `k=v`, `k:=json`, nested `a.b=v` (repeatable).
    #[arg(long = "field", short = 'f', value_name = "K=V")]
    pub fields: Vec<String>,
    /// The host to send to, by key (`api`, `apihk`, …) [default: the operation's host, or
    /// `api` for a path the catalog does not know]. An APIv2 catalog operation goes to its
    /// own.
    #[arg(long, value_name = "KEY")]
    pub host: Option<String>,
    /// Print the signed request (method, full URL, headers with the signature, the body with
    /// sensitive fields encrypted) instead of sending it. Nothing goes out, not even a
    /// certificate download.
    #[arg(long)]
    pub dry_run: bool,
    /// APIv2: sign with MD5 or HMAC-SHA256, for an operation that takes either [default: the
    /// client's choice, HMAC-SHA256] or a path the catalog does not know [default: MD5]; the
    /// answer is checked with the same.
    #[arg(long, value_name = "TYPE")]
    pub sign_type: Option<String>,
    /// APIv2, a path the catalog does not know: put the merchant's API client certificate on
    /// the connection (the catalog's operations that need it get it anyway), from
    /// WXPAY_MERCHANT_CERT and WXPAY_MERCHANT_KEY (or the profile's merchant_cert).
    #[arg(long)]
    pub cert: bool,
    /// APIv2, a path the catalog does not know: the platform answers it unsigned, so read
    /// its answer without a sign (the catalog knows which of its operations are: red packets,
    /// transfers, getpublickey, …). Without it an answer with no valid sign is refused.
    #[arg(long)]
    pub unsigned_answer: bool,
    /// Trust this CA certificate (PEM) for the connection too, beside the system's: a local
    /// sandbox's TEST CA.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// `wxpay certs`.
#[derive(Debug, Subcommand)]
pub enum Certs {
    /// Download the platform certificates (verified with the keys already trusted, decrypted
    /// with the APIv3 key) into `DIR/<mchid>/<SERIAL>.pem`, the DirectoryStore layout.
    Download {
        /// The certificate directory (created if missing).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Show the certificates in DIR (every merchant's, or --mchid's): serial and validity.
    Show {
        /// The certificate directory.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Only this merchant's certificates.
        #[arg(long)]
        mchid: Option<String>,
    },
}

/// `wxpay debug`.
#[derive(Debug, Subcommand)]
pub enum Debug {
    /// Set the platform's view of a SIGN_ERROR request (detail.sign_information) beside
    /// what we signed, line by line, and say which part differs.
    #[command(after_help = "\
ANSWER is the platform's answer ({code, message, detail}) or the error printed by
`wxpay --json call ...` (which also carries what wxpay signed: method, path and query,
timestamp, nonce and the message's length, but never the body).

What we signed comes from --request FILE, the exact message the signature covered:
  METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n
(log it where your code signs), else from the answer printed by `wxpay --json call`.")]
    SignError(SignErrorArgs),
}

/// `wxpay debug sign-error`.
#[derive(Debug, Args)]
pub struct SignErrorArgs {
    /// The SIGN_ERROR answer as JSON; `-` (the default) reads stdin.
    #[arg(default_value = "-", value_name = "ANSWER")]
    pub answer: String,
    /// The message we signed, exactly (see below).
    #[arg(long, value_name = "FILE")]
    pub request: Option<PathBuf>,
}

/// `wxpay verify`.
#[derive(Debug, Subcommand)]
pub enum Verify {
    /// Verify and decrypt a captured notification with the configured merchant's keys and
    /// print the event.
    #[command(after_help = "\
The headers file holds `Name: value` lines as captured (a request line and other headers
are ignored), or a JSON object of header names to values. The body file must be the exact
bytes received: the signature covers them.")]
    Notification(NotificationArgs),
    /// Verify a captured APIv2 notification with the APIv2 key and print its fields: a payment
    /// result (signed <xml>) or a refund result (req_info, decrypted).
    #[command(
        name = "v2-notification",
        after_help = "\
The APIv2 key comes from --sandbox, the profile's apiv2_key or WXPAY_APIV2_KEY; it is never
printed. A refund notification is told apart by its req_info, which only the key's holder
can make decrypt; a payment notification's sign is checked in the type it names in sign_type
(MD5 when it names none), or in --sign-type's."
    )]
    V2Notification(V2NotificationArgs),
}

/// `wxpay verify v2-notification`.
#[derive(Debug, Args)]
pub struct V2NotificationArgs {
    /// The notification's body, exactly as received; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub body: PathBuf,
    /// The sign type a payment notification must be signed with: MD5 or HMAC-SHA256
    /// [default: the one it names in sign_type, MD5 when it names none].
    #[arg(long, value_name = "TYPE")]
    pub sign_type: Option<String>,
}

/// `wxpay verify notification`.
#[derive(Debug, Args)]
pub struct NotificationArgs {
    /// The notification's HTTP headers.
    #[arg(long, value_name = "FILE")]
    pub headers: PathBuf,
    /// The notification's body, exactly as received.
    #[arg(long, value_name = "FILE")]
    pub body: PathBuf,
    /// Show personal data (OpenIDs, names, accounts) instead of `<redacted>`.
    #[arg(long)]
    pub reveal: bool,
}

/// Which bill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BillKind {
    /// The trade bill (申请交易账单).
    Trade,
    /// The fund-flow bill (申请资金账单).
    Fundflow,
}

/// `wxpay bill`.
#[derive(Debug, Args)]
pub struct BillArgs {
    /// Which bill.
    pub kind: BillKind,
    /// The day, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: String,
    /// Where to write the bill (default: stdout). Written beside it first and renamed once
    /// its digest checks out, so a bad download leaves nothing behind.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}
