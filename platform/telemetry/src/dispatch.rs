//! The subscriber's dispatch, for layers that read the OpenTelemetry context of a span while
//! handling an event (`tracing` lends no dispatch inside a layer's callbacks).

use std::sync::{Arc, OnceLock};

use opentelemetry::trace::{SpanContext, TraceContextExt};
use tracing::dispatcher::WeakDispatch;
use tracing::span::Id;
use tracing::{Dispatch, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::{LookupSpan, Registry, SpanRef};
use tracing_subscriber::Layer;

/// Filled when the subscriber it is a layer of is installed. A layer of its own, at the top:
/// `Option` layers do not pass the dispatch on.
#[derive(Clone, Default)]
pub(super) struct DispatchSlot(Arc<OnceLock<WeakDispatch>>);

impl DispatchSlot {
    /// The OpenTelemetry context of `span`, or of its nearest ancestor that has one.
    pub(super) fn context<S>(&self, span: &SpanRef<'_, S>) -> Option<opentelemetry::Context>
    where
        S: for<'a> LookupSpan<'a>,
    {
        let dispatch = self.0.get()?.upgrade()?;
        nearest_traced(&dispatch, span.scope().map(|span| span.id()))
    }

    /// The OpenTelemetry context of the span this thread is in, or of its nearest ancestor that
    /// has one, whichever layers see these spans.
    pub(super) fn current_context(&self) -> Option<opentelemetry::Context> {
        let dispatch = self.0.get()?.upgrade()?;
        let current = dispatch.current_span();
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(current.id()?)?;
        nearest_traced(&dispatch, span.scope().map(|span| span.id()))
    }

    /// The trace and span id that [`context`](Self::context) finds.
    pub(super) fn span_context<S>(&self, span: &SpanRef<'_, S>) -> Option<SpanContext>
    where
        S: for<'a> LookupSpan<'a>,
    {
        Some(self.context(span)?.span().span_context().clone())
    }

    /// The slot as a layer of the subscriber. It takes no spans or events: an unfiltered layer
    /// would enable every span of every library for all layers.
    pub(super) fn layer<S>(&self) -> impl Layer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.clone().with_filter(filter_fn(|_| false))
    }
}

/// The context of the first of `spans` (a span, then its ancestors) that OpenTelemetry traces.
fn nearest_traced(
    dispatch: &Dispatch,
    mut spans: impl Iterator<Item = Id>,
) -> Option<opentelemetry::Context> {
    spans.find_map(|id| {
        tracing_opentelemetry::get_otel_context(&id, dispatch)
            .filter(|cx| cx.span().span_context().is_valid())
    })
}

impl<S: Subscriber> Layer<S> for DispatchSlot {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.0.set(subscriber.downgrade());
    }
}
