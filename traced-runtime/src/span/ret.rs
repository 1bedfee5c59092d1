//! `#[traced(ret)]`: which part of the returned value to record, chosen like the outcome
//! (see `outcome`): the `Ok` value of a `Result` whose `T: Debug`, else the value's `Debug`.

use std::fmt::Debug;

/// The returned value, by reference.
#[derive(Debug)]
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> Clone for Wrap<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Wrap<'_, T> {}

/// One level of the dispatch; see the module documentation.
pub trait ViaResult<'a> {
    /// What the returned value tells.
    fn __traced_return(self) -> Option<&'a dyn Debug>;
}
impl<'a, T: Debug, E> ViaResult<'a> for &Wrap<'a, Result<T, E>> {
    fn __traced_return(self) -> Option<&'a dyn Debug> {
        self.0.as_ref().ok().map(|value| value as &dyn Debug)
    }
}

/// One level of the dispatch; see the module documentation.
pub trait ViaDebug<'a> {
    /// What the returned value tells.
    fn __traced_return(self) -> Option<&'a dyn Debug>;
}
impl<'a, T: Debug> ViaDebug<'a> for Wrap<'a, T> {
    fn __traced_return(self) -> Option<&'a dyn Debug> {
        Some(self.0)
    }
}
