use traced_runtime::traced;

#[traced(name = )]
fn f() {}

fn main() {}
