//! Handing a finished scheduled report to whoever sends e-mail. Real SMTP belongs to the
//! notification slice (a later issue); until then [`LogMailer`] only logs the hand-off, and
//! every hand-off is recorded in `retail_report_deliveries` with its status, whatever the
//! mailer. A slice that sends mail registers its own implementation as a state extension:
//! `builder.extension(Mailer(Arc::new(MySmtp)))`.

use std::sync::Arc;

use async_trait::async_trait;
use comptoir_kernel::AppState;
use comptoir_kernel::ids::OrgId;

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub content_type: &'static str,
    pub content: Vec<u8>,
}

/// Sends a report to its recipients. An `Err` is recorded on the delivery (status
/// `failed`) and the job tries again later; `Ok` marks it `sent`.
#[async_trait]
pub trait ReportMailer: Send + Sync {
    /// A short name recorded with each delivery (`log`, `smtp`...).
    fn name(&self) -> &'static str;

    async fn send(
        &self,
        org: OrgId,
        recipients: &[String],
        subject: &str,
        attachments: &[Attachment],
    ) -> Result<(), String>;
}

/// The default mailer: logs the hand-off (the delivery row is the record).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

#[async_trait]
impl ReportMailer for LogMailer {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn send(
        &self,
        org: OrgId,
        recipients: &[String],
        subject: &str,
        attachments: &[Attachment],
    ) -> Result<(), String> {
        let files: Vec<String> = attachments
            .iter()
            .map(|a| format!("{} ({} bytes)", a.filename, a.content.len()))
            .collect();
        tracing::info!(
            org = %org,
            recipients = %recipients.join(", "),
            subject,
            attachments = %files.join(", "),
            "report e-mail handed off (no mail transport configured: logged only)"
        );
        Ok(())
    }
}

/// The state extension holding the mailer in use.
#[derive(Clone)]
pub struct Mailer(pub Arc<dyn ReportMailer>);

/// The registered mailer, or [`LogMailer`].
pub fn mailer(state: &AppState) -> Arc<dyn ReportMailer> {
    state
        .ext::<Mailer>()
        .map(|m| m.0)
        .unwrap_or_else(|| Arc::new(LogMailer))
}
