use traced_runtime::traced;

struct Orders;

#[traced]
impl Orders {
    #[traced(kind = severe)]
    fn get(&self) {}

    fn put(&self) {}
}

fn main() {}
