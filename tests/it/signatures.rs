//! Every signature shape `#[traced]` accepts keeps compiling and behaving as written.

use std::fmt::Display;
use std::future::Future;

use traced_runtime::testing::capture;
use traced_runtime::traced;

struct Store {
    items: Vec<u32>,
}

#[traced]
impl Store {
    fn first(&self) -> Option<&u32> {
        self.items.first()
    }

    fn first_mut(&mut self) -> &mut u32 {
        &mut self.items[0]
    }

    fn into_items(self) -> Vec<u32> {
        self.items
    }

    fn boxed(self: Box<Self>) -> usize {
        self.items.len()
    }

    fn new() -> Self {
        Store { items: vec![1, 2] }
    }
}

#[traced]
fn generic<T, const N: usize>(values: [T; N]) -> String
where
    T: Display + Clone + Default,
{
    values.iter().map(ToString::to_string).collect()
}

#[traced]
fn lifetimes<'a, 'b: 'a>(left: &'a str, _right: &'b str) -> &'a str {
    left
}

#[traced]
fn impl_arg(values: impl IntoIterator<Item = u32>) -> impl Iterator<Item = u32> {
    values.into_iter().map(|value| value * 2)
}

#[traced]
fn patterns((a, b): (u32, u32), mut acc: Vec<u32>, Wrapper(inner): Wrapper) -> Vec<u32> {
    acc.push(a + b + inner);
    acc
}

struct Wrapper(u32);

/// # Safety
/// `ptr` must be valid.
#[traced]
unsafe fn read(ptr: *const u32) -> u32 {
    unsafe { *ptr }
}

#[traced]
#[must_use]
#[inline]
fn with_attributes_below() -> u32 {
    3
}

#[must_use]
#[traced]
fn with_attributes_above() -> u32 {
    4
}

#[traced]
fn early_return(flag: bool) -> u32 {
    if flag {
        return 1;
    }
    2
}

#[traced]
fn question_mark(input: &str) -> Result<u32, std::num::ParseIntError> {
    let value: u32 = input.parse()?;
    Ok(value + 1)
}

#[traced]
fn dyn_return(flag: bool) -> Box<dyn Display> {
    if flag {
        Box::new(1)
    } else {
        Box::new("two")
    }
}

#[traced]
fn returns_future(value: u32) -> impl Future<Output = u32> + Send {
    async move { value + 1 }
}

#[traced]
fn r#match() -> u32 {
    5
}

#[test]
fn methods_keep_their_receivers_and_are_named_after_the_type() {
    let (_, spans) = capture(|| {
        let mut store = Store::new();
        assert_eq!(store.first(), Some(&1));
        *store.first_mut() = 7;
        assert_eq!(Box::new(Store::new()).boxed(), 2);
        assert_eq!(store.into_items(), vec![7, 2]);
    });
    assert_eq!(
        spans.names(),
        [
            "it::signatures::Store::new",
            "it::signatures::Store::first",
            "it::signatures::Store::first_mut",
            "it::signatures::Store::new",
            "it::signatures::Store::boxed",
            "it::signatures::Store::into_items",
        ]
    );
}

#[test]
fn generics_lifetimes_patterns_and_unsafe_fn_work() {
    let (_, spans) = capture(|| {
        assert_eq!(generic([1, 2, 3]), "123");
        assert_eq!(lifetimes("a", "b"), "a");
        assert_eq!(impl_arg([1, 2]).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(patterns((1, 2), vec![0], Wrapper(3)), [0, 6]);
        let value = 9;
        // SAFETY: `value` lives for the call.
        assert_eq!(unsafe { read(&raw const value) }, 9);
        assert_eq!(with_attributes_below() + with_attributes_above(), 7);
        assert_eq!(early_return(true) + early_return(false), 3);
        assert_eq!(question_mark("41"), Ok(42));
        assert!(question_mark("x").is_err());
        assert_eq!(dyn_return(true).to_string(), "1");
        assert_eq!(r#match(), 5);
    });
    assert_eq!(
        spans.names(),
        [
            "it::signatures::generic",
            "it::signatures::lifetimes",
            "it::signatures::impl_arg",
            "it::signatures::patterns",
            "it::signatures::read",
            "it::signatures::with_attributes_below",
            "it::signatures::with_attributes_above",
            "it::signatures::early_return",
            "it::signatures::early_return",
            "it::signatures::question_mark",
            "it::signatures::question_mark",
            "it::signatures::dyn_return",
            "it::signatures::match",
        ]
    );
}

#[tokio::test]
async fn impl_future_return_is_traced_until_the_future_completes() {
    let (value, spans) =
        traced_runtime::testing::capture_async(async { returns_future(1).await }).await;
    assert_eq!(value, 2);
    assert_eq!(spans.tree(), "it::signatures::returns_future OK\n");
}

#[tokio::main(flavor = "current_thread")]
#[traced]
async fn tokio_main_above(value: u32) -> u32 {
    tokio::task::yield_now().await;
    value + 1
}

#[traced]
#[tokio::main(flavor = "current_thread")]
async fn tokio_main_below(value: u32) -> u32 {
    tokio::task::yield_now().await;
    value + 2
}

#[test]
fn tokio_main_above_or_below_keeps_working() {
    let (values, spans) = capture(|| (tokio_main_above(1), tokio_main_below(1)));
    assert_eq!(values, (2, 3));
    assert_eq!(
        spans.names(),
        [
            "it::signatures::tokio_main_above",
            "it::signatures::tokio_main_below"
        ]
    );
}
