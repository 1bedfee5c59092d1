use traced_runtime::traced;

#[traced]
async fn f() -> u32 {
    "not a number"
}

fn main() {}
