//! Attribute values: which Rust types map to which OpenTelemetry value.
//!
//! `attrs(key = expr)` takes `expr` by reference and maps it with [`AttrValue`]: booleans,
//! every integer type, floats, strings and slices or `Vec`s of these. Anything else is a
//! compile error on the expression, which suggests `%` (Display) or `?` (Debug).

use std::borrow::Cow;
use std::fmt::{Debug, Display};

use opentelemetry::{Array, StringValue, Value};

/// A Rust value that maps to an OpenTelemetry attribute value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be recorded as an OpenTelemetry attribute value",
    label = "not a bool, integer, float, string, or a slice or Vec of these",
    note = "record it with `%` to use its `Display` implementation, or `?` to use `Debug`: `attrs(key = %value)`"
)]
pub trait AttrValue {
    /// The OpenTelemetry value of `self`.
    fn to_value(&self) -> Value;
}

impl<T: AttrValue + ?Sized> AttrValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: AttrValue + ?Sized> AttrValue for &mut T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: AttrValue + ?Sized> AttrValue for Box<T> {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl AttrValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}

macro_rules! lossless_int {
    ($($ty:ty)*) => {$(
        impl AttrValue for $ty {
            fn to_value(&self) -> Value {
                Value::I64(i64::from(*self))
            }
        }
    )*};
}
lossless_int!(i8 i16 i32 i64 u8 u16 u32);

// OpenTelemetry integers are i64: a wider value that does not fit is recorded as its decimal
// string rather than being truncated.
macro_rules! wide_int {
    ($($ty:ty)*) => {$(
        impl AttrValue for $ty {
            fn to_value(&self) -> Value {
                i64::try_from(*self).map_or_else(|_| Value::String(self.to_string().into()), Value::I64)
            }
        }
    )*};
}
wide_int!(i128 isize u64 u128 usize);

impl AttrValue for f32 {
    fn to_value(&self) -> Value {
        Value::F64(f64::from(*self))
    }
}

impl AttrValue for f64 {
    fn to_value(&self) -> Value {
        Value::F64(*self)
    }
}

impl AttrValue for str {
    fn to_value(&self) -> Value {
        Value::String(self.to_owned().into())
    }
}

impl AttrValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone().into())
    }
}

impl AttrValue for Cow<'_, str> {
    fn to_value(&self) -> Value {
        Value::String(self.as_ref().to_owned().into())
    }
}

impl AttrValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ArrayElement> AttrValue for [T] {
    fn to_value(&self) -> Value {
        Value::Array(T::array(self.iter().map(ArrayElement::element).collect()))
    }
}

impl<T: ArrayElement, const N: usize> AttrValue for [T; N] {
    fn to_value(&self) -> Value {
        self.as_slice().to_value()
    }
}

impl<T: ArrayElement> AttrValue for Vec<T> {
    fn to_value(&self) -> Value {
        self.as_slice().to_value()
    }
}

/// An element of an OpenTelemetry array: arrays are homogeneous, of bool, i64, f64 or string.
pub trait ArrayElement {
    /// The element type of the OpenTelemetry array.
    type Element;
    /// This element, converted.
    fn element(&self) -> Self::Element;
    /// The array of converted elements.
    fn array(elements: Vec<Self::Element>) -> Array;
}

impl<T: ArrayElement + ?Sized> ArrayElement for &T {
    type Element = T::Element;
    fn element(&self) -> Self::Element {
        (**self).element()
    }
    fn array(elements: Vec<Self::Element>) -> Array {
        T::array(elements)
    }
}

impl ArrayElement for bool {
    type Element = bool;
    fn element(&self) -> bool {
        *self
    }
    fn array(elements: Vec<bool>) -> Array {
        Array::Bool(elements)
    }
}

macro_rules! int_element {
    ($($ty:ty)*) => {$(
        impl ArrayElement for $ty {
            type Element = i64;
            // Saturates: an array keeps one element type, so an out-of-range value cannot
            // become a string as a scalar does.
            fn element(&self) -> i64 {
                i64::try_from(*self).unwrap_or(if *self > 0 as $ty { i64::MAX } else { i64::MIN })
            }
            fn array(elements: Vec<i64>) -> Array {
                Array::I64(elements)
            }
        }
    )*};
}
int_element!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize);

macro_rules! float_element {
    ($($ty:ty)*) => {$(
        impl ArrayElement for $ty {
            type Element = f64;
            fn element(&self) -> f64 {
                f64::from(*self)
            }
            fn array(elements: Vec<f64>) -> Array {
                Array::F64(elements)
            }
        }
    )*};
}
float_element!(f32 f64);

macro_rules! string_element {
    ($($ty:ty)*) => {$(
        impl ArrayElement for $ty {
            type Element = StringValue;
            fn element(&self) -> StringValue {
                StringValue::from(<str as ToOwned>::to_owned(self))
            }
            fn array(elements: Vec<StringValue>) -> Array {
                Array::String(elements)
            }
        }
    )*};
}
string_element!(str String Cow<'_, str>);

/// `attrs(key = expr)`: the value of `expr` by its type.
#[inline]
pub fn value<T: AttrValue + ?Sized>(value: &T) -> Value {
    value.to_value()
}

/// `attrs(key = %expr)`: the `Display` of `expr`.
#[inline]
pub fn display<T: Display + ?Sized>(value: &T) -> Value {
    Value::String(value.to_string().into())
}

/// `attrs(key = ?expr)`: the `Debug` of `expr`.
#[inline]
pub fn debug<T: Debug + ?Sized>(value: &T) -> Value {
    Value::String(format!("{value:?}").into())
}
