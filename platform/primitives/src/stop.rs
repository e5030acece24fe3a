//! The signal background tasks (relays, consumers, sweeps) end on.

/// Resolves when the app stops; background tasks end when it does.
#[derive(Clone)]
pub struct StopSignal(tokio::sync::watch::Receiver<bool>);

impl StopSignal {
    /// Stops once `true` is sent on the channel's sender.
    pub fn new(receiver: tokio::sync::watch::Receiver<bool>) -> Self {
        Self(receiver)
    }

    pub async fn stopped(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }
}
