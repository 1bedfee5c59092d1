use traced_runtime::traced;

#[traced(nmae = "typo")]
fn f() {}

fn main() {}
