//! One span per database statement. sqlx reports a statement when it ends (target
//! `sqlx::query`, with its text, rows and duration), so the span is made afterwards with the
//! statement's real start and end, as a child of the span the statement ran in.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{Span as _, SpanKind, Tracer as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracer;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::dispatch::DispatchSlot;

pub(super) struct QuerySpans {
    tracer: SdkTracer,
    dispatch: DispatchSlot,
}

impl QuerySpans {
    pub(super) fn new(tracer: SdkTracer, dispatch: DispatchSlot) -> Self {
        Self { tracer, dispatch }
    }
}

/// What sqlx says of a statement.
#[derive(Default)]
struct Statement {
    /// The first words of the statement.
    summary: String,
    /// The whole statement; empty when the summary is all of it.
    text: String,
    rows_returned: u64,
    rows_affected: u64,
    elapsed: Duration,
}

impl Statement {
    fn text(&self) -> &str {
        if self.text.trim().is_empty() {
            &self.summary
        } else {
            self.text.trim()
        }
    }

    /// `SELECT`, `INSERT`, ...: the span's name, as OpenTelemetry's database conventions ask.
    fn operation(&self) -> String {
        self.text()
            .split_whitespace()
            .next()
            .unwrap_or("statement")
            .to_ascii_uppercase()
    }
}

impl Visit for Statement {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "summary" => self.summary = value.to_string(),
            "db.statement" => self.text = value.to_string(),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "rows_returned" => self.rows_returned = value,
            "rows_affected" => self.rows_affected = value,
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "elapsed_secs" {
            self.elapsed = Duration::try_from_secs_f64(value).unwrap_or_default();
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn std::fmt::Debug) {}
}

impl<S> Layer<S> for QuerySpans
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        // The span the statement ran in, found through the registry: sqlx's SQLite driver runs
        // statements on a thread of its own, in the caller's span, which this layer's filter
        // may not show (it only takes statements). Statements outside any traced work (the
        // outbox relay's polling) would each start a trace of their own: they are left out.
        let Some(parent) = self.dispatch.current_context() else {
            return;
        };
        let mut statement = Statement::default();
        event.record(&mut statement);
        let end = SystemTime::now();
        let start = end.checked_sub(statement.elapsed).unwrap_or(end);
        let operation = statement.operation();
        let attributes = vec![
            KeyValue::new("db.operation.name", operation.clone()),
            KeyValue::new("db.query.text", statement.text().to_string()),
            KeyValue::new(
                "db.response.returned_rows",
                i64::try_from(statement.rows_returned).unwrap_or(i64::MAX),
            ),
            KeyValue::new(
                "db.response.affected_rows",
                i64::try_from(statement.rows_affected).unwrap_or(i64::MAX),
            ),
        ];
        let mut span = self
            .tracer
            .span_builder(operation)
            .with_kind(SpanKind::Client)
            .with_start_time(start)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &parent);
        span.end_with_timestamp(end);
    }
}
