//! The calling thread's CPU time, so that `--timings` reports the engine's
//! own work even when the pipeline's other threads share its core.

use std::time::{Duration, Instant};

/// Measures the CPU time the calling thread spends between [`Stopwatch::start`]
/// and [`Stopwatch::elapsed`] (wall time where the platform has no
/// per-thread clock).
pub(crate) struct Stopwatch {
    cpu: Option<Duration>,
    wall: Instant,
}

impl Stopwatch {
    pub(crate) fn start() -> Stopwatch {
        Stopwatch {
            cpu: thread_cpu(),
            wall: Instant::now(),
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        match (self.cpu, thread_cpu()) {
            (Some(a), Some(b)) => b.saturating_sub(a),
            _ => self.wall.elapsed(),
        }
    }
}

#[cfg(unix)]
fn thread_cpu() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a
    // constant the platform defines.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec).ok()?;
    Some(Duration::new(secs, nanos))
}

#[cfg(not(unix))]
fn thread_cpu() -> Option<Duration> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_advances_the_clock_and_sleeping_does_not() {
        // Busy work: the clock reaches 20 ms (well within 10 s of wall time,
        // however loaded the machine).
        let s = Stopwatch::start();
        let wall = Instant::now();
        let mut x = 0u64;
        while s.elapsed() < Duration::from_millis(20) && wall.elapsed() < Duration::from_secs(10) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        assert!(s.elapsed() >= Duration::from_millis(20));
        // Sleeping: 200 ms of wall time, (almost) no CPU time.
        let s = Stopwatch::start();
        std::thread::sleep(Duration::from_millis(200));
        let idle = s.elapsed();
        if cfg!(unix) {
            assert!(idle < Duration::from_millis(50), "{idle:?}");
        }
    }
}
