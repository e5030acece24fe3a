//! A circuit breaker per subgraph: after `failure_threshold` failed calls in a row the
//! subgraph gets no calls for `open_ms` (each fetch fails at once, so a subgraph that is down
//! costs clients no timeouts and gets room to recover); then one call probes it, and its
//! success closes the circuit again. Failures are transport failures (unreachable, timed out,
//! 5xx, unreadable), never GraphQL errors in a good answer.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe call is out; the others are refused until it ends.
    Probing,
}

pub struct CircuitBreaker {
    state: Mutex<State>,
    failure_threshold: u32,
    open_for: Duration,
}

/// Leave to make one call; report how it went with [`Permit::record`]. A permit dropped
/// without a record (the caller went away) lets the next call probe.
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    recorded: bool,
}

impl CircuitBreaker {
    pub fn new(failure_threshold: u32, open_for: Duration) -> Self {
        Self {
            state: Mutex::new(State::Closed { failures: 0 }),
            failure_threshold: failure_threshold.max(1),
            open_for,
        }
    }

    /// A permit to call, or `None` while the circuit is open.
    pub fn permit(&self) -> Option<Permit<'_>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match *state {
            State::Closed { .. } => {}
            State::Open { until } if Instant::now() >= until => *state = State::Probing,
            State::Open { .. } | State::Probing => return None,
        }
        Some(Permit {
            breaker: self,
            recorded: false,
        })
    }

    pub fn is_open(&self) -> bool {
        !matches!(
            *self.state.lock().unwrap_or_else(|e| e.into_inner()),
            State::Closed { .. }
        )
    }

    fn record(&self, success: bool) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = match (*state, success) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.failure_threshold => {
                State::Closed {
                    failures: failures + 1,
                }
            }
            (State::Open { until }, false) => State::Open { until },
            (_, false) => {
                tracing::warn!(open_ms = self.open_for.as_millis() as u64, "circuit opened");
                State::Open {
                    until: Instant::now() + self.open_for,
                }
            }
        };
    }
}

impl Permit<'_> {
    pub fn record(mut self, success: bool) {
        self.recorded = true;
        self.breaker.record(success);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.recorded {
            let mut state = self.breaker.state.lock().unwrap_or_else(|e| e.into_inner());
            if *state == State::Probing {
                *state = State::Open {
                    until: Instant::now(),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_failures_in_a_row_probes_once_then_closes() {
        let breaker = CircuitBreaker::new(3, Duration::from_secs(5));
        for _ in 0..2 {
            breaker.permit().unwrap().record(false);
        }
        // A success in between starts the count again.
        breaker.permit().unwrap().record(true);
        for _ in 0..3 {
            breaker.permit().unwrap().record(false);
        }
        assert!(breaker.permit().is_none(), "open after 3 failures in a row");
        tokio::time::advance(Duration::from_secs(5)).await;
        let probe = breaker.permit().expect("one probe after the pause");
        assert!(breaker.permit().is_none(), "only one probe at a time");
        probe.record(false);
        assert!(breaker.permit().is_none(), "a failed probe opens it again");
        tokio::time::advance(Duration::from_secs(5)).await;
        // A probe whose caller went away lets the next call probe.
        drop(breaker.permit().unwrap());
        breaker.permit().unwrap().record(true);
        assert!(!breaker.is_open());
        assert!(breaker.permit().is_some());
    }
}
