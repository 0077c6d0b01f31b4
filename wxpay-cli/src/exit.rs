//! Failures and their exit codes (documented in the crate docs and `wxpay --help`).

use std::process::ExitCode;

use serde_json::{Value, json};
use wxpay::certificates::CertificateError;
use wxpay::{DownloadError, Error, RequestError};

/// What kind of failure ended the command; the exit code is its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Anything else.
    Other = 1,
    /// A bad flag, operation, field or input file.
    Usage = 2,
    /// A missing or wrong setting or key.
    Config = 3,
    /// The platform could not be reached, or the answer did not come back whole.
    Transport = 4,
    /// The platform answered with an error.
    Api = 5,
    /// A signature, notification or digest did not check out.
    Verification = 6,
}

impl Exit {
    fn name(self) -> &'static str {
        match self {
            Exit::Other => "other",
            Exit::Usage => "usage",
            Exit::Config => "configuration",
            Exit::Transport => "transport",
            Exit::Api => "platform",
            Exit::Verification => "verification",
        }
    }
}

/// A command's failure: the exit code, one line for people, and details for `--json`.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    /// More lines for people (a diagnosis), printed after the message.
    pub notes: Vec<String>,
    /// Extra fields of the JSON error.
    pub details: Option<Value>,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
            notes: Vec::new(),
            details: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(Exit::Usage, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Failure::new(Exit::Config, message)
    }

    pub fn other(message: impl Into<String>) -> Self {
        Failure::new(Exit::Other, message)
    }

    /// Prints the failure (JSON on stdout with `--json`, a line on stderr otherwise) and
    /// returns its exit code.
    pub fn report(self, json: bool) -> ExitCode {
        if json {
            let mut error = json!({
                "kind": self.exit.name(),
                "exit_code": self.exit as u8,
                "message": self.message,
            });
            if let (Some(Value::Object(details)), Some(error)) =
                (self.details, error.as_object_mut())
            {
                error.extend(details);
            }
            println!("{}", json!({ "error": error }));
        } else {
            eprintln!("wxpay: {}", self.message);
            for note in &self.notes {
                eprintln!("{note}");
            }
        }
        ExitCode::from(self.exit as u8)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let exit = match &error {
            Error::Config(_) => Exit::Config,
            Error::Request(RequestError::NoEncryptionKey) => Exit::Config,
            Error::Request(_) => Exit::Usage,
            Error::Transport(_) => Exit::Transport,
            Error::Api(_) => Exit::Api,
            Error::Verification { .. } | Error::Notification(_) => Exit::Verification,
            Error::Certificates(CertificateError::NoApiV3Key) => Exit::Config,
            Error::Certificates(CertificateError::Decrypt(_)) => Exit::Config,
            Error::Certificates(_) => Exit::Verification,
            Error::Download(DownloadError::Write(_)) => Exit::Other,
            Error::Download(_) => Exit::Verification,
            _ => Exit::Other,
        };
        let mut failure = Failure::new(exit, chain(&error));
        if let Error::Api(api) = &error {
            failure.details = Some(json!({
                "status": api.status.as_u16(),
                "code": api.code,
                "platform_message": api.message,
                "detail": api.detail,
                "request_id": api.request_id,
                "signature_verified": api.signature_verified,
                "signed_request": api.signed_request.as_ref().map(|signed| json!({
                    "method": signed.method,
                    "url": signed.url,
                    "timestamp": signed.timestamp,
                    "nonce": signed.nonce,
                    "sign_message_length": signed.sign_message_length,
                })),
            }));
        } else if let Some(id) = error.request_id() {
            failure.details = Some(json!({ "request_id": id }));
        }
        failure
    }
}

/// An error's message and each of its causes, once each: `cannot connect: error sending
/// request …: Connection refused`. Errors of this workspace leave their cause out of their
/// own message, so it is printed here.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::other(error.to_string())
    }
}
