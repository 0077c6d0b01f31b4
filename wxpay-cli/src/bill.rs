//! `wxpay bill`: asks for a day's bill, then streams it through the library's
//! `Client::download` (signed request, GZIP decompressed, SHA1 checked) with a progress bar.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio::io::AsyncWrite;
use wxpay::Client;
use wxpay::apis::OPERATIONS;
use wxpay::apis::bill::{BillResponse, TarType};

use crate::cli::{BillArgs, BillKind, Global};
use crate::config;
use crate::exit::Failure;
use crate::output::Output;

pub async fn run(global: &Global, out: &Output, args: BillArgs) -> Result<(), Failure> {
    check_date(&args.date)?;
    let name = match args.kind {
        BillKind::Trade => "GetTradeBill",
        BillKind::Fundflow => "GetFundFlowBill",
    };
    let operation = OPERATIONS
        .iter()
        .find(|op| op.name == name)
        .ok_or_else(|| Failure::other(format!("{name} is not in the catalog")))?;
    let session = config::connect(global, None).await?;
    let client = &session.client;
    let bill: BillResponse = client
        .get(operation.path)
        .query("bill_date", &args.date)
        .query("tar_type", TarType::Gzip.as_str())
        .send()
        .await?;
    let download = bill.download(Some(&TarType::Gzip));

    let done = match &args.output {
        Some(path) => to_file(client, &download, path).await?,
        None => {
            let mut stdout = tokio::io::stdout();
            client.download(&download, &mut stdout).await?
        }
    };
    let document = json!({
        "bill": name,
        "date": args.date,
        "bytes": done.bytes,
        "sha1": done.digest,
        "request_id": done.request_id,
        "file": args.output,
    });
    let summary = format!(
        "{} bytes, SHA1 {} checked, Request-ID {}{}",
        done.bytes,
        done.digest,
        done.request_id.as_deref().unwrap_or("(none)"),
        args.output
            .as_ref()
            .map(|p| format!(", written to {}", p.display()))
            .unwrap_or_default()
    );
    if args.output.is_some() {
        out.print(&document, || summary);
    } else if !out.is_json() {
        // stdout holds the bill itself.
        eprintln!("wxpay: {summary}");
    }
    Ok(())
}

/// Writes beside `path` and renames once the digest checks out, so a bad download leaves no
/// file that looks like a bill.
async fn to_file(
    client: &Client,
    download: &wxpay::Download,
    path: &Path,
) -> Result<wxpay::Downloaded, Failure> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".part");
    let partial = PathBuf::from(partial);
    let file = tokio::fs::File::create(&partial)
        .await
        .map_err(|e| Failure::other(format!("cannot create {}: {e}", partial.display())))?;
    let bar = if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {bytes} {binary_bytes_per_sec} {msg}")
        {
            bar.set_style(style);
        }
        bar.set_message("downloading");
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut writer = Progress {
        inner: file,
        bar: bar.clone(),
    };
    let result = client.download(download, &mut writer).await;
    bar.finish_and_clear();
    match result {
        Ok(done) => {
            tokio::fs::rename(&partial, path)
                .await
                .map_err(|e| Failure::other(format!("cannot rename to {}: {e}", path.display())))?;
            Ok(done)
        }
        Err(error) => {
            let _ = tokio::fs::remove_file(&partial).await;
            Err(error.into())
        }
    }
}

fn check_date(date: &str) -> Result<(), Failure> {
    let bad = || Failure::usage(format!("--date {date:?} is not a day written YYYY-MM-DD"));
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(bad());
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(bad());
    }
    let number = |text: &str| text.parse::<u16>().map_err(|_| bad());
    let month = u8::try_from(number(month)?).map_err(|_| bad())?;
    let month = wxpay::time::Month::try_from(month).map_err(|_| bad())?;
    let day = u8::try_from(number(day)?).map_err(|_| bad())?;
    wxpay::time::Date::from_calendar_date(i32::from(number(year)?), month, day)
        .map(|_| ())
        .map_err(|_| bad())
}

/// A writer that moves the progress bar by what it writes.
struct Progress<W> {
    inner: W,
    bar: ProgressBar,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Progress<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = &poll {
            self.bar.inc(*written as u64);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_days() {
        assert!(check_date("2026-11-20").is_ok());
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "20261120",
            "2026-1-20",
            "yesterday",
        ] {
            assert!(check_date(bad).is_err(), "{bad}");
        }
    }
}
