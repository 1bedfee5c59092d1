use traced_runtime::traced;

#[traced("")]
fn f() {}

fn main() {}
