use traced_runtime::testing::capture;
use traced_runtime::traced;

#[derive(Debug)]
struct Boom;
impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("boom")
    }
}
impl std::error::Error for Boom {}

#[traced(attrs(order.id = id, "http.route" = "/x", user = %"bob", cfg = ?id))]
fn leaf(id: u64) -> Result<u64, Boom> {
    if id == 0 {
        Err(Boom)
    } else {
        Ok(id)
    }
}

#[traced]
fn root(id: u64) -> Result<u64, Boom> {
    leaf(id)?;
    Ok(1)
}

#[test]
fn smoke() {
    let (_, spans) = capture(|| root(0));
    println!("{}", spans.tree());
}
