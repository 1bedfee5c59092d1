use traced_runtime::traced;

#[traced(42)]
fn f() {}

fn main() {}
