// A mistake in the declaration is reported once: the struct and a stand-in `Endpoint` impl are
// still emitted, so the code that sends it raises no error of its own.
use wxpay::endpoint;

#[derive(serde::Deserialize)]
pub struct Paused {
    pub stock_id: String,
}

#[endpoint(POST "/v3/marketing/favor/stocks/<stock>/pause" -> Paused)]
pub struct PauseStock {
    pub stock_id: String,
}

pub async fn pause(client: &wxpay::Client) -> Result<String, wxpay::Error> {
    let paused = client
        .send(PauseStock {
            stock_id: "9856000".into(),
        })
        .await?;
    Ok(paused.stock_id)
}

fn main() {}
