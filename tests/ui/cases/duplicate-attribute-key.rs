use traced_runtime::traced;

#[traced(attrs(order.id = 1, order.id = 2))]
fn f() {}

fn main() {}
