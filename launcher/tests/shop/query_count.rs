//! Counts the SQL statements each request runs: sqlx logs every statement under the
//! `sqlx::query` target, inside the span of the request (and its dataloader batches) that
//! carries the request id. The same subscriber prints ERROR events into the test's output.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

static STATEMENTS: OnceLock<Mutex<HashMap<String, Vec<String>>>> = OnceLock::new();

struct RequestId(String);

struct StatementCounter;

struct RequestIdVisitor(Option<String>);

/// The statement text sqlx logs (`db.statement`, or its `summary`).
struct StatementVisitor(String);

impl Visit for StatementVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" && self.0.is_empty() {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "db.statement" || (field.name() == "summary" && self.0.is_empty()) {
            self.0 = value.to_string();
        }
    }
}

impl Visit for RequestIdVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "request_id" {
            self.0 = Some(format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "request_id" {
            self.0 = Some(value.to_string());
        }
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for StatementCounter {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut visitor = RequestIdVisitor(None);
        attrs.record(&mut visitor);
        if let (Some(request_id), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().insert(RequestId(request_id));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(RequestId(id)) = span.extensions().get::<RequestId>() {
                let mut statement = StatementVisitor(String::new());
                event.record(&mut statement);
                STATEMENTS
                    .get()
                    .unwrap()
                    .lock()
                    .unwrap()
                    .entry(id.clone())
                    .or_default()
                    .push(statement.0);
                return;
            }
        }
    }
}

/// Installs the test binary's global subscriber once: the statement counter, and every ERROR
/// event (an internal error's cause among them) printed into the output of the test running,
/// which shows when that test fails.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        STATEMENTS.get_or_init(Default::default);
        let errors = tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter(tracing_subscriber::filter::LevelFilter::ERROR);
        let subscriber = tracing_subscriber::registry()
            .with(StatementCounter)
            .with(errors);
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
}

/// The statements run for requests with this id so far.
pub fn statements_for(request_id: &str) -> Vec<String> {
    STATEMENTS
        .get()
        .and_then(|c| c.lock().unwrap().get(request_id).cloned())
        .unwrap_or_default()
}
