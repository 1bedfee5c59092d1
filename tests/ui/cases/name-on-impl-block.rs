use traced_runtime::traced;

struct Orders;

#[traced("orders")]
impl Orders {
    fn get(&self) {}
}

fn main() {}
