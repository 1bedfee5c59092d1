use traced_runtime::traced;

struct Config {
    retries: u32,
}

#[traced(attrs(config = config))]
fn f(config: &Config) -> u32 {
    config.retries
}

fn main() {}
