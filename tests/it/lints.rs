//! The expansion is lint-clean: this file compiles under the strictest lints a user may set,
//! and `cargo clippy --all-targets -- -D warnings` (run by CI) checks the clippy ones.
#![deny(warnings, unused_qualifications, clippy::pedantic)]

use traced_runtime::traced;

// A user module named `core` must not capture the expansion's `::core` paths.
#[allow(dead_code)]
mod core {}

/// A documented function.
#[traced]
#[must_use]
pub fn plain(value: u64) -> u64 {
    value + 1
}

/// Errors.
///
/// # Errors
/// When `value` is zero.
#[traced(
    "lints.fallible",
    attrs(value = value, shown = %value, debugged = ?value, "literal.key" = "x"),
    kind = client,
    ret
)]
pub fn fallible(value: u64) -> Result<u64, std::io::Error> {
    if value == 0 {
        return Err(std::io::Error::other("zero"));
    }
    Ok(value)
}

/// Async.
///
/// # Errors
/// Never.
#[traced(unset_status, expected_err)]
pub async fn asynchronous(value: u64) -> Result<u64, std::fmt::Error> {
    Ok(plain(value))
}

/// Without a return value.
#[traced(parent = traced_runtime::Context::current())]
pub fn unit() {}

/// A type.
pub struct Thing(u64);

#[traced]
impl Thing {
    /// A method.
    #[must_use]
    pub fn get(&self) -> u64 {
        self.0
    }

    /// An async method.
    pub async fn get_async(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// Reads through a pointer.
///
/// # Safety
/// `ptr` must be valid for reads.
#[traced]
#[must_use]
pub unsafe fn read(ptr: *const u64) -> u64 {
    // SAFETY: the caller guarantees `ptr` is valid.
    unsafe { *ptr }
}

#[test]
fn strict_lints_accept_the_expansion() {
    let value = 4;
    let mut thing = Thing(1);
    // SAFETY: `value` outlives the call.
    let read = unsafe { read(&raw const value) };
    assert_eq!(plain(1) + fallible(1).unwrap() + thing.get() + read, 8);
    assert!(fallible(0).is_err());
    unit();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(asynchronous(1)).unwrap(), 2);
    assert_eq!(runtime.block_on(thing.get_async()), 2);
}
