use traced_runtime::traced;

#[traced(kind = sever)]
fn f() {}

fn main() {}
