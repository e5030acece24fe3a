//! Where messages go: an SMTP server (lettre), or, in the embedded shop, `.eml` files in the
//! data directory (each also logged), so a newcomer sees what the shop sent.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Delivery;
use crate::store::Notification;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the message cannot be built: {0}")]
    Build(String),
    #[error("smtp: {0}")]
    Smtp(String),
    #[error("writing the message: {0}")]
    File(#[from] std::io::Error),
}

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Directory(PathBuf),
}

impl Mailer {
    pub fn new(delivery: &Delivery) -> Result<Self, MailError> {
        Ok(match delivery {
            Delivery::Smtp { url } => Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::Smtp(e.to_string()))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
            Delivery::Directory(path) => Self::Directory(path.clone()),
        })
    }

    /// Sends one message from `from`; its Message-ID follows from the notification, so a
    /// message sent again after a crash is recognisably the same one.
    pub async fn send(&self, from: &str, notification: &Notification) -> Result<(), MailError> {
        let message = build(from, notification)?;
        match self {
            Self::Smtp(transport) => {
                transport
                    .send(message)
                    .await
                    .map_err(|e| MailError::Smtp(e.to_string()))?;
            }
            Self::Directory(path) => {
                tokio::fs::create_dir_all(path).await?;
                let file = path.join(format!("{}.eml", notification.id));
                tokio::fs::write(&file, message.formatted()).await?;
                tracing::info!(to = %notification.email, subject = %notification.subject, file = %file.display(), "email written");
            }
        }
        Ok(())
    }
}

fn build(from: &str, notification: &Notification) -> Result<Message, MailError> {
    let bad = |e: &dyn std::fmt::Display| MailError::Build(e.to_string());
    let from: Mailbox = from.parse().map_err(|e| bad(&e))?;
    let to: Mailbox = notification.email.parse().map_err(|e| bad(&e))?;
    let domain = from.email.domain().to_string();
    Message::builder()
        .from(from)
        .to(to)
        .subject(notification.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", notification.id)))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(notification.text_body.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(notification.html_body.clone()),
                ),
        )
        .map_err(|e| bad(&e))
}
