use traced_runtime::traced;

#[traced("first", name = "second")]
fn f() {}

fn main() {}
