//! `#[traced]` on impl blocks (inherent, trait, `#[async_trait]`) and on trait methods.

use async_trait::async_trait;
use traced_runtime::testing::{capture, capture_async};
use traced_runtime::traced;

struct Inventory;

#[traced(attrs(component = "inventory"))]
impl Inventory {
    fn reserve(&self, sku: u32) -> u32 {
        self.helper(sku)
    }

    #[traced(skip)]
    fn helper(&self, sku: u32) -> u32 {
        sku + 1
    }

    #[traced("inventory.release", attrs(sku = sku))]
    fn release(&self, sku: u32) -> u32 {
        sku
    }

    async fn count(&self) -> usize {
        3
    }
}

trait Repository {
    fn get(&self, id: u64) -> Option<String>;
    async fn load(&self, id: u64) -> Option<String>;
}

struct Memory;

#[traced]
impl Repository for Memory {
    fn get(&self, id: u64) -> Option<String> {
        Some(id.to_string())
    }

    async fn load(&self, id: u64) -> Option<String> {
        tokio::task::yield_now().await;
        self.get(id)
    }
}

#[async_trait]
trait Payments {
    async fn charge(&self, cents: u64) -> Result<u64, std::io::Error>;
}

struct Stripe;

// `#[async_trait]` expands first: `#[traced]` recognises its `Box::pin(async move { .. })`.
#[async_trait]
#[traced]
impl Payments for Stripe {
    async fn charge(&self, cents: u64) -> Result<u64, std::io::Error> {
        tokio::task::yield_now().await;
        if cents == 0 {
            return Err(std::io::Error::other("nothing to charge"));
        }
        Ok(cents)
    }
}

struct Paypal;

// And the other order: `#[traced]` first, then `#[async_trait]` sees a plain async fn.
#[traced]
#[async_trait]
impl Payments for Paypal {
    #[traced(attrs(cents = cents))]
    async fn charge(&self, cents: u64) -> Result<u64, std::io::Error> {
        Ok(cents)
    }
}

struct Square;

// A method attribute under `#[async_trait]` on the impl.
#[async_trait]
impl Payments for Square {
    #[traced("square.charge", kind = client)]
    async fn charge(&self, cents: u64) -> Result<u64, std::io::Error> {
        Ok(cents)
    }
}

fn is_send<T: Send>(_: &T) {}

#[test]
fn inherent_methods_are_named_after_their_type_and_can_opt_out_or_override() {
    let (_, spans) = capture(|| {
        Inventory.reserve(1);
        Inventory.release(2);
    });
    assert_eq!(
        spans.tree(),
        "\
it::impl_blocks::Inventory::reserve OK component=\"inventory\"
inventory.release OK sku=2
"
    );
}

#[tokio::test]
async fn async_methods_native_async_traits_and_async_trait_are_traced() {
    let (_, spans) = capture_async(async {
        assert_eq!(Inventory.count().await, 3);
        assert_eq!(Memory.load(5).await.as_deref(), Some("5"));
        let charge = Stripe.charge(10);
        is_send(&charge);
        assert_eq!(charge.await.unwrap(), 10);
        assert!(Stripe.charge(0).await.is_err());
        assert_eq!(Paypal.charge(4).await.unwrap(), 4);
        assert_eq!(Square.charge(3).await.unwrap(), 3);
    })
    .await;
    assert_eq!(
        spans.tree(),
        "\
it::impl_blocks::Inventory::count OK component=\"inventory\"
it::impl_blocks::Memory::load OK
  it::impl_blocks::Memory::get OK
it::impl_blocks::Stripe::charge OK
it::impl_blocks::Stripe::charge ERROR(\"nothing to charge\") error.type=\"std::io::error::Error\"
  ! exception exception.type=\"std::io::error::Error\" exception.message=\"nothing to charge\"
it::impl_blocks::Paypal::charge OK cents=4
square.charge [client] OK
"
    );
}
