use traced_runtime::traced;

#[traced(skip)]
fn f() {}

fn main() {}
