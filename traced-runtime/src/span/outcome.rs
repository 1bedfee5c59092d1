//! How a function ended: success, or an error to record on its span.
//!
//! The macro cannot see through type aliases (`io::Result<T>`, `anyhow::Result<T>`), so the
//! decision is made by the compiler: the expansion calls `__traced_outcome()` on
//! `&&&&&&Wrap(&returned_value)`, and method resolution picks the first trait below whose impl
//! applies ("autoref specialization"), from the richest view of the error to none at all:
//!
//! | receiver | trait | returned value |
//! |---|---|---|
//! | `&&&&&&Wrap` | [`ViaStdError`] | `Result<T, E>`, `E: std::error::Error` |
//! | `&&&&&Wrap` | [`ViaBoxedError`] | `E` derefs to `dyn Error + Send + Sync` (anyhow, eyre, boxed errors) |
//! | `&&&&Wrap` | [`ViaDynError`] | `E` derefs to `dyn Error` (`Box<dyn Error>`) |
//! | `&&&Wrap` | [`ViaDisplay`] | `E: Display` |
//! | `&&Wrap` | [`ViaDebug`] | `E: Debug` |
//! | `&Wrap` | [`ViaResult`] | any other `Result` |
//! | `Wrap` | [`ViaSuccess`] | anything else: the function cannot fail |

use std::any::type_name;
use std::error::Error;
use std::fmt::{self, Debug, Display};
use std::ops::Deref;

/// How a traced function ended.
#[derive(Debug)]
pub enum Outcome<'a> {
    /// Returned normally (including an `Err` with `expected_err`).
    Success,
    /// Returned an `Err`.
    Error(ErrorView<'a>),
}

/// What can be read of an error, borrowed from the returned value.
pub struct ErrorView<'a> {
    /// `exception.type` and `error.type`: the error's Rust type.
    pub type_name: &'static str,
    /// `exception.message`.
    pub message: Message<'a>,
    /// The error itself, for its `source()` chain.
    pub source: Option<&'a (dyn Error + 'static)>,
    /// A report that carries its own chain and backtrace (anyhow, eyre): their `Debug`.
    pub report: Option<&'a dyn Debug>,
}

impl Debug for ErrorView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorView")
            .field("type_name", &self.type_name)
            .field("message", &self.message.to_string())
            .finish_non_exhaustive()
    }
}

impl<'a> ErrorView<'a> {
    /// The view of a `std::error::Error`.
    pub fn of<E: Error + 'static>(error: &'a E) -> Self {
        ErrorView {
            type_name: type_name::<E>(),
            message: Message::Display(error),
            source: Some(error),
            report: None,
        }
    }

    /// `exception.stacktrace`: the report's own rendering, or the error and its `source()` chain.
    pub fn stacktrace(&self) -> String {
        if let Some(report) = self.report {
            return format!("{report:?}");
        }
        render_chain(
            self.type_name,
            &self.message,
            self.source.and_then(Error::source),
        )
    }
}

/// `exception.stacktrace` of an error: `Type: message`, then a `Caused by: ..` line per
/// `source()`.
pub(crate) fn render_chain(
    type_name: &str,
    message: &dyn Display,
    next: Option<&(dyn Error + 'static)>,
) -> String {
    crate::error::render_chain(
        &format_args!("{type_name}: {message}"),
        next,
        "\nCaused by: ",
    )
}

/// The error message, from whichever formatting the error has.
#[derive(Clone, Copy)]
pub enum Message<'a> {
    /// The error's `Display`.
    Display(&'a dyn Display),
    /// The error's `Debug`, for errors without `Display`.
    Debug(&'a dyn Debug),
    /// A fixed message.
    Static(&'static str),
}

impl Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(&self.to_string(), f)
    }
}

impl Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Display(message) => Display::fmt(message, f),
            Message::Debug(message) => Debug::fmt(message, f),
            Message::Static(message) => f.write_str(message),
        }
    }
}

/// The returned value, by reference; `Copy` so that every level of the dispatch can take it.
#[derive(Debug)]
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> Clone for Wrap<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Wrap<'_, T> {}

/// One level of the dispatch; see the module documentation.
pub trait ViaStdError<'a> {
    /// What the returned value tells.
    fn __traced_outcome(self) -> Outcome<'a>;
}
impl<'a, T, E: Error + 'static> ViaStdError<'a> for &&&&&&Wrap<'a, Result<T, E>> {
    fn __traced_outcome(self) -> Outcome<'a> {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(error) => Outcome::Error(ErrorView::of(error)),
        }
    }
}

/// One level of the dispatch; see the module documentation.
pub trait ViaBoxedError<'a> {
    /// What the returned value tells.
    fn __traced_outcome(self) -> Outcome<'a>;
}
impl<'a, T, E> ViaBoxedError<'a> for &&&&&Wrap<'a, Result<T, E>>
where
    E: Deref<Target = dyn Error + Send + Sync + 'static> + Debug,
{
    fn __traced_outcome(self) -> Outcome<'a> {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(error) => Outcome::Error(ErrorView {
                type_name: type_name::<E>(),
                message: Message::Display(&**error),
                source: Some(&**error),
                report: Some(error),
            }),
        }
    }
}

/// One level of the dispatch; see the module documentation.
pub trait ViaDynError<'a> {
    /// What the returned value tells.
    fn __traced_outcome(self) -> Outcome<'a>;
}
impl<'a, T, E> ViaDynError<'a> for &&&&Wrap<'a, Result<T, E>>
where
    E: Deref<Target = dyn Error + 'static>,
{
    fn __traced_outcome(self) -> Outcome<'a> {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(error) => Outcome::Error(ErrorView {
                type_name: type_name::<E>(),
                message: Message::Display(&**error),
                source: Some(&**error),
                report: None,
            }),
        }
    }
}

/// One level of the dispatch; see the module documentation.
pub trait ViaDisplay<'a> {
    /// What the returned value tells.
    fn __traced_outcome(self) -> Outcome<'a>;
}
impl<'a, T, E: Display> ViaDisplay<'a> for &&&Wrap<'a, Result<T, E>> {
    fn __traced_outcome(self) -> Outcome<'a> {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(error) => Outcome::Error(ErrorView {
                type_name: type_name::<E>(),
                message: Message::Display(error),
                source: None,
                report: None,
            }),
        }
    }
}

/// One level of the dispatch; see the module documentation.
pub trait ViaDebug<'a> {
    /// What the returned value tells.
    fn __traced_outcome(self) -> Outcome<'a>;
}
impl<'a, T, E: Debug> ViaDebug<'a> for &&Wrap<'a, Result<T, E>> {
    fn __traced_outcome(self) -> Outcome<'a> {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(error) => Outcome::Error(ErrorView {
                type_name: type_name::<E>(),
                message: Message::Debug(error),
                source: None,
                report: None,
            }),
        }
    }
}

/// One level of the dispatch; see the module documentation.
pub trait ViaResult<'a> {
    /// What the returned value tells.
    fn __traced_outcome(self) -> Outcome<'a>;
}
impl<'a, T, E> ViaResult<'a> for &Wrap<'a, Result<T, E>> {
    fn __traced_outcome(self) -> Outcome<'a> {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Error(ErrorView {
                type_name: type_name::<E>(),
                message: Message::Static(type_name::<E>()),
                source: None,
                report: None,
            }),
        }
    }
}

/// One level of the dispatch; see the module documentation.
pub trait ViaSuccess<'a> {
    /// What the returned value tells.
    fn __traced_outcome(self) -> Outcome<'a>;
}
impl<'a, T: ?Sized> ViaSuccess<'a> for Wrap<'a, T> {
    fn __traced_outcome(self) -> Outcome<'a> {
        Outcome::Success
    }
}
