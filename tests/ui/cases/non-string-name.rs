use traced_runtime::traced;

#[traced(name = 42)]
fn f() {}

fn main() {}
