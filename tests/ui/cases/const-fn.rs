use traced_runtime::traced;

#[traced]
const fn f() -> u32 {
    1
}

fn main() {}
