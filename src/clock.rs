//! Wall time, where the platform has a clock.
//!
//! The trainer reports its seconds and images per second, and the progress lines come
//! every few seconds. On a native target that is `std::time::Instant`. In a browser
//! (`wasm32-unknown-unknown`) there is no operating system to ask: `Instant::now()`
//! compiles there but panics when it runs, so a trainer that used it could not run in a
//! page. There the stopwatch measures nothing, and every time it reports is 0.
//!
//! Time never enters a result: losses, errors and weights are the same with or without a
//! clock. Only `History::seconds` and `History::images_per_second` read it, and both are
//! 0 where there is none.

/// Measures wall time from the moment it starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopwatch {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    start: std::time::Instant,
}

impl Stopwatch {
    /// A stopwatch started now.
    pub(crate) fn start() -> Self {
        Stopwatch {
            #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
            start: std::time::Instant::now(),
        }
    }

    /// Seconds since [`Stopwatch::start`].
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    pub(crate) fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Seconds since [`Stopwatch::start`]: always 0, for a browser has no clock to read.
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    pub(crate) fn seconds(&self) -> f64 {
        0.0
    }
}

/// `count` per second over `seconds` (at least a nanosecond); 0 when no time was measured,
/// as where there is no clock.
pub(crate) fn per_second(count: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        count / seconds.max(1e-9)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_native_stopwatch_moves_forward() {
        let watch = Stopwatch::start();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let s = watch.seconds();
        assert!(s >= 0.005, "5 ms of sleep measured as {s} s");
        assert!(watch.seconds() >= s, "the stopwatch went backwards");
    }

    #[test]
    fn a_rate_over_no_measured_time_is_zero() {
        assert_eq!(per_second(640.0, 0.0), 0.0);
        assert_eq!(per_second(640.0, 2.0), 320.0);
    }
}
