//! The launcher's handle on a subgraph whose type it does not know: start it in the shop's
//! process, or run its command line as its own binary would.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use primitives::stop::StopSignal;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::settings::Env;
use crate::subgraph::{Demo, Settings, Subgraph};

/// A subgraph the launcher can start without knowing its type.
pub trait Launch: Send + Sync {
    fn name(&self) -> &'static str;
    fn port(&self) -> u16;
    /// Builds it from `env` on `listener`, loads demo data when asked, and serves it until
    /// `stop` resolves.
    fn start(
        &self,
        env: Env,
        listener: TcpListener,
        demo: Option<Demo>,
        stop: StopSignal,
    ) -> BoxFuture<'static, anyhow::Result<Running>>;

    /// Runs its command line (the program name first), as its own binary would.
    fn cli(&self, args: Vec<std::ffi::OsString>) -> BoxFuture<'static, anyhow::Result<()>>;
}

/// A subgraph the launcher started.
pub struct Running {
    pub name: &'static str,
    pub address: SocketAddr,
    pub task: JoinHandle<std::io::Result<()>>,
    /// The subgraph's state (`Arc<S>`), for tests that reach inside: see [`Running::subgraph`].
    state: Arc<dyn Any + Send + Sync>,
}

impl Running {
    pub fn subgraph<S: Subgraph>(&self) -> Option<Arc<S>> {
        self.state.clone().downcast::<S>().ok()
    }
}

struct Launcher<S>(std::marker::PhantomData<fn() -> S>);

/// The launcher's handle on subgraph `S`.
pub fn launch<S: Subgraph>() -> Box<dyn Launch> {
    Box::new(Launcher::<S>(std::marker::PhantomData))
}

impl<S: Subgraph> Launch for Launcher<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn port(&self) -> u16 {
        S::PORT
    }

    fn start(
        &self,
        env: Env,
        listener: TcpListener,
        demo: Option<Demo>,
        stop: StopSignal,
    ) -> BoxFuture<'static, anyhow::Result<Running>> {
        Box::pin(async move {
            let settings = Settings::<S::Settings>::load::<S>(&env)?;
            let app = App::<S>::build_on(listener, &settings).await?;
            if let Some(demo) = demo {
                app.subgraph.load_demo_data(demo).await?;
            }
            let address = app.local_addr();
            let state: Arc<dyn Any + Send + Sync> = app.subgraph.clone();
            let task = tokio::spawn(app.run_until(stop.stopped()));
            Ok(Running {
                name: S::NAME,
                address,
                task,
                state,
            })
        })
    }

    fn cli(&self, args: Vec<std::ffi::OsString>) -> BoxFuture<'static, anyhow::Result<()>> {
        Box::pin(crate::cli::run_from::<S>(args))
    }
}
