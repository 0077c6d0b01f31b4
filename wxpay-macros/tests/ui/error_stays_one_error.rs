// A mistake in the declaration is reported once: the struct and a stand-in `Endpoint` impl are
// still emitted, so the code that signs it and reads its answer raises no error of its own.
use wxpay::{Endpoint as _, endpoint, protocol::{self, RequestContext}};

#[derive(serde::Deserialize)]
pub struct Paused {
    pub stock_id: String,
}

#[endpoint(POST "/v3/marketing/favor/stocks/<stock>/pause" -> Paused)]
pub struct PauseStock {
    pub stock_id: String,
}

// What `Client::send` does around the network, as the pure functions it calls (the UI tests
// build the facade without its client).
pub fn pause(context: &RequestContext<'_>, answer: &[u8]) -> Result<String, wxpay::Error> {
    let request = PauseStock {
        stock_id: "9856000".into(),
    };
    protocol::prepare(&request, context, 1_800_000_000, "nonce")?;
    let paused = PauseStock::decode_response(answer).unwrap_or(Paused {
        stock_id: String::new(),
    });
    Ok(paused.stock_id)
}

fn main() {}
