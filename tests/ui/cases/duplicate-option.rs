use traced_runtime::traced;

#[traced(kind = server, kind = client)]
fn f() {}

fn main() {}
