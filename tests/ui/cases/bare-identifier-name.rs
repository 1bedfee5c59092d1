use traced_runtime::traced;

#[traced(process_order)]
fn f() {}

fn main() {}
