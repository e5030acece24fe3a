//! Notification rules applied: a fact becomes one message (its dedupe key), written from the
//! recipient's language's template (an admin's, else the built-in English one), skipped when
//! the recipient turned that kind off; preferences; admins' templates and retries.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{watch, Notify};

use crate::config::NotificationsSettings;
use crate::domain::kind::Kind;
use crate::domain::template::{self, Template, TemplateError};
use crate::store::{
    NewNotification, Notification, NotificationStore, Preferences, Status, StoreError,
};

/// Languages are ISO 639-1 codes.
const LANGUAGE_LEN: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("template: {0}")]
    Template(#[from] TemplateError),
    #[error("language must be a two-letter ISO 639-1 code such as en")]
    Language,
    #[error("no notification with this id, or it has not failed")]
    NotFailed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type NotifyResult<T> = Result<T, NotifyError>;

/// A fact to tell someone.
#[derive(Clone, Debug)]
pub struct Message {
    /// One message per key, e.g. `order_paid:ord_1`.
    pub dedupe_key: String,
    pub kind: Kind,
    /// The customer it is for; none for admins' alerts.
    pub user_id: Option<String>,
    pub email: String,
    /// The kind's placeholders (see [`template::sample`]); `name` and `shop_url` are added.
    pub context: Value,
}

pub struct NotificationsService {
    pub store: NotificationStore,
    settings: NotificationsSettings,
    /// Wakes the sender when a message is recorded.
    pub(crate) wake: Arc<Notify>,
    /// Counts the send attempts whose outcome is recorded, so callers (tests) can await them.
    outcomes: watch::Sender<u64>,
}

impl NotificationsService {
    pub fn new(
        store: NotificationStore,
        settings: NotificationsSettings,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            settings,
            wake,
            outcomes: watch::channel(0).0,
        }
    }

    /// Moves after every send attempt whose outcome (sent, retry, failed) is recorded.
    pub fn outcomes(&self) -> watch::Receiver<u64> {
        self.outcomes.subscribe()
    }

    pub(crate) fn outcome_recorded(&self) {
        self.outcomes.send_modify(|n| *n += 1);
    }

    pub fn settings(&self) -> &NotificationsSettings {
        &self.settings
    }

    /// Records the message for `message`'s fact unless it was recorded before; true when new.
    pub async fn notify(&self, mut message: Message) -> NotifyResult<bool> {
        let preferences = match &message.user_id {
            Some(user_id) => self.store.preferences(user_id).await?,
            None => Preferences::default(),
        };
        let name = match &message.user_id {
            Some(user_id) => self.store.name_of(user_id).await?,
            None => None,
        };
        if let Value::Object(context) = &mut message.context {
            context
                .entry("name")
                .or_insert_with(|| Value::String(name.unwrap_or_else(|| "there".into())));
            context.insert(
                "shop_url".into(),
                Value::String(self.settings.shop_url.clone()),
            );
        }
        let template = self.template(message.kind, &preferences.language).await?;
        let rendered = match template.render(&message.context) {
            Ok(rendered) => rendered,
            // An admin's template that does not fit the message: the built-in one, not silence.
            Err(error) => {
                tracing::error!(%error, kind = message.kind.as_str(), "a stored template failed; the built-in one is used");
                template::built_in(message.kind).render(&message.context)?
            }
        };
        let status = if message.kind.category().may_opt_out() && preferences.marketing_opt_out {
            Status::Skipped
        } else {
            Status::Pending
        };
        let recorded = self
            .store
            .enqueue(&NewNotification {
                dedupe_key: message.dedupe_key,
                kind: message.kind,
                user_id: message.user_id,
                email: message.email,
                language: preferences.language,
                message: rendered,
                status,
            })
            .await?;
        if recorded && status == Status::Pending {
            self.wake.notify_one();
        }
        Ok(recorded)
    }

    /// The template for `kind` in `language`: an admin's in that language, else an admin's in
    /// English, else the built-in one.
    pub async fn template(&self, kind: Kind, language: &str) -> NotifyResult<Template> {
        if let Some(template) = self.store.template(kind, language).await? {
            return Ok(template);
        }
        if language != "en" {
            if let Some(template) = self.store.template(kind, "en").await? {
                return Ok(template);
            }
        }
        Ok(template::built_in(kind))
    }

    /// An admin stores a template, checked against the kind's placeholders first.
    pub async fn set_template(
        &self,
        kind: Kind,
        language: &str,
        template: Template,
        admin_id: &str,
    ) -> NotifyResult<Template> {
        let language = check_language(language)?;
        template.check(kind)?;
        self.store
            .set_template(kind, &language, &template, admin_id)
            .await?;
        Ok(template)
    }

    pub async fn set_preferences(
        &self,
        user_id: &str,
        language: Option<&str>,
        marketing: Option<bool>,
    ) -> NotifyResult<Preferences> {
        let mut preferences = self.store.preferences(user_id).await?;
        if let Some(language) = language {
            preferences.language = check_language(language)?;
        }
        if let Some(marketing) = marketing {
            preferences.marketing_opt_out = !marketing;
        }
        self.store.set_preferences(user_id, &preferences).await?;
        Ok(preferences)
    }

    /// Sends a failed message again.
    /// The failed message sent again; returns it as the retry left it.
    pub async fn retry(&self, id: &str) -> NotifyResult<Notification> {
        let retried = self.store.retry(id).await?.ok_or(NotifyError::NotFailed)?;
        self.wake.notify_one();
        Ok(retried)
    }
}

fn check_language(raw: &str) -> NotifyResult<String> {
    let language = raw.trim().to_lowercase();
    if language.len() == LANGUAGE_LEN && language.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(language)
    } else {
        Err(NotifyError::Language)
    }
}
