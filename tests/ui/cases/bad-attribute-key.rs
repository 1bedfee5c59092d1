use traced_runtime::traced;

#[traced(attrs(1 = 2))]
fn f() {}

fn main() {}
