//! The `#[endpoint]` attribute of the wxpay SDK. STUB.
use proc_macro::TokenStream;

/// Declares an APIv3 endpoint.
#[proc_macro_attribute]
pub fn endpoint(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}
