//! One span per HTTP request: the tower/axum server layer and the reqwest client middleware,
//! and the attributes both take from a request, after the HTTP semantic conventions.

mod attributes;
#[cfg(feature = "http-client")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "http-client")))]
pub mod client;
#[cfg(feature = "http-server")]
#[cfg_attr(all(docsrs, traced_nightly), doc(cfg(feature = "http-server")))]
pub mod server;
