use traced_runtime::traced;

#[traced(attrs(order.id))]
fn f(order: u64) -> u64 {
    order
}

fn main() {}
