//! Detects a nightly compiler, so that `doc(cfg)` (nightly-only) is used on docs.rs, which
//! builds with nightly and `--cfg docsrs`, and `RUSTDOCFLAGS="--cfg docsrs" cargo doc` still
//! works on stable. Sets `traced_integrations` when any integration's feature is on: the code
//! they share (the integration span, its scope, recording an exception from its parts) is
//! compiled for any of them.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rustc-check-cfg=cfg(traced_nightly)");
    println!("cargo:rustc-check-cfg=cfg(traced_integrations)");
    let integrations = [
        "HTTP_SERVER",
        "HTTP_CLIENT",
        "REDIS",
        "DB_POSTGRES",
        "DB_MYSQL",
        "DB_SQLITE",
        "MESSAGING",
    ];
    if integrations
        .iter()
        .any(|feature| env::var_os(format!("CARGO_FEATURE_{feature}")).is_some())
    {
        println!("cargo:rustc-cfg=traced_integrations");
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default();
    if version.contains("nightly") || version.contains("-dev") {
        println!("cargo:rustc-cfg=traced_nightly");
    }
}
