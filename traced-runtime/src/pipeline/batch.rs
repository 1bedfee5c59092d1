//! [`BatchConfig`]: how the collector queues and batches ended spans, the one type for the
//! builder, the environment (`OTEL_BSP_*`) and [`SpanPipeline`](crate::SpanPipeline), checked
//! before a collector starts so that no value can panic or make it spin.

use std::time::Duration;

use crate::error::Error;

/// The specification's defaults (`OTEL_BSP_*`), which [`crate::env`] lists beside the variables.
pub(crate) const DEFAULT_MAX_QUEUE_SIZE: usize = 2_048;
pub(crate) const DEFAULT_SCHEDULED_DELAY: Duration = Duration::from_millis(5_000);
pub(crate) const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 512;
pub(crate) const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_millis(30_000);

/// Batch settings, as the specification's `OTEL_BSP_*` variables name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchConfig {
    /// Spans each thread may have waiting for export (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048).
    pub max_queue_size: usize,
    /// Longest wait between two exports (`OTEL_BSP_SCHEDULE_DELAY`, 5 s).
    pub scheduled_delay: Duration,
    /// Most spans in one export (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, 512).
    pub max_export_batch_size: usize,
    /// Longest one export may take before it is abandoned (`OTEL_BSP_EXPORT_TIMEOUT`, 30 s).
    pub max_export_timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
            scheduled_delay: DEFAULT_SCHEDULED_DELAY,
            max_export_batch_size: DEFAULT_MAX_EXPORT_BATCH_SIZE,
            max_export_timeout: DEFAULT_EXPORT_TIMEOUT,
        }
    }
}

impl BatchConfig {
    /// Sets `max_queue_size` (at least 1).
    #[must_use]
    pub fn with_max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size.max(1);
        self
    }

    /// Sets `scheduled_delay`.
    #[must_use]
    pub fn with_scheduled_delay(mut self, delay: Duration) -> Self {
        self.scheduled_delay = delay;
        self
    }

    /// Sets `max_export_batch_size` (at least 1; at most the queue size).
    #[must_use]
    pub fn with_max_export_batch_size(mut self, size: usize) -> Self {
        self.max_export_batch_size = size.max(1);
        self
    }

    /// Sets `max_export_timeout`.
    #[must_use]
    pub fn with_max_export_timeout(mut self, timeout: Duration) -> Self {
        self.max_export_timeout = timeout;
        self
    }
}

impl BatchConfig {
    /// Checks every value: a queue or a batch of zero spans would panic or never export, a zero
    /// delay or timeout would make the collector spin.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`], naming the field and what it accepts.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid =
            |setting: &'static str, reason: String| Err(Error::InvalidSetting { setting, reason });
        if self.max_queue_size == 0 {
            return invalid("BatchConfig::max_queue_size", "must be at least 1".into());
        }
        if self.max_export_batch_size == 0 {
            return invalid(
                "BatchConfig::max_export_batch_size",
                "must be at least 1".into(),
            );
        }
        if self.scheduled_delay.is_zero() {
            return invalid(
                "BatchConfig::scheduled_delay",
                "must be more than zero".into(),
            );
        }
        if self.max_export_timeout.is_zero() {
            return invalid(
                "BatchConfig::max_export_timeout",
                "must be more than zero".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repro_zero_queue_size_is_an_error_not_a_panic() {
        let config = BatchConfig {
            max_queue_size: 0,
            ..BatchConfig::default()
        };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("BatchConfig::max_queue_size"), "{error}");
    }

    #[test]
    fn repro_zero_delay_is_an_error_not_a_spinning_thread() {
        let config = BatchConfig::default().with_scheduled_delay(Duration::ZERO);
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("scheduled_delay"), "{error}");
    }

    #[test]
    fn every_value_is_checked() {
        assert!(BatchConfig::default().validate().is_ok());
        let batch_zero = BatchConfig {
            max_export_batch_size: 0,
            ..BatchConfig::default()
        };
        assert!(batch_zero.validate().is_err());
        // A batch bigger than the queue is cut to the queue size, as the SDKs do.
        let bigger_batch = BatchConfig::default().with_max_queue_size(10);
        assert!(bigger_batch.validate().is_ok());
        let no_timeout = BatchConfig::default().with_max_export_timeout(Duration::ZERO);
        assert!(no_timeout.validate().is_err());
    }
}
