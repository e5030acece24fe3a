//! Message templates: a subject, a plain-text body and an HTML body per kind and language, with
//! placeholders (`{{ number }}`) rendered by minijinja. Placeholders a message does not have are
//! errors, not blanks, and HTML bodies escape what they insert. The built-in English ones below
//! serve until an admin stores their own.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{json, Value};

use super::kind::Kind;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A message as it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {message}")]
pub struct TemplateError {
    /// `subject`, `text` or `html`.
    pub part: &'static str,
    pub message: String,
}

/// The longest subject and bodies accepted from admins.
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 20_000;

impl Template {
    /// Renders every part with `context`.
    pub fn render(&self, context: &Value) -> Result<Rendered, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        let render = |part: &'static str, name: &'static str, source: &str| {
            let error = |e: minijinja::Error| TemplateError {
                part,
                message: e.to_string(),
            };
            env.template_from_named_str(name, source)
                .and_then(|t| t.render(context))
                .map_err(error)
        };
        Ok(Rendered {
            subject: render("subject", "subject.txt", &self.subject)?
                .trim()
                .to_string(),
            text: render("text", "body.txt", &self.text)?,
            html: render("html", "body.html", &self.html)?,
        })
    }

    /// Checks an admin's template: within the limits, and rendering with the kind's sample
    /// values (so a mistyped placeholder is refused now, not when a customer's email is due).
    pub fn check(&self, kind: Kind) -> Result<(), TemplateError> {
        let too_long = |part, limit: usize, text: &str| {
            (text.chars().count() > limit).then(|| TemplateError {
                part,
                message: format!("at most {limit} characters"),
            })
        };
        if self.subject.trim().is_empty() {
            return Err(TemplateError {
                part: "subject",
                message: "must not be empty".into(),
            });
        }
        if let Some(error) = too_long("subject", MAX_SUBJECT_CHARS, &self.subject)
            .or_else(|| too_long("text", MAX_BODY_CHARS, &self.text))
            .or_else(|| too_long("html", MAX_BODY_CHARS, &self.html))
        {
            return Err(error);
        }
        self.render(&sample(kind)).map(|_| ())
    }
}

/// The values a kind's message is rendered with (every placeholder it offers), as samples.
pub fn sample(kind: Kind) -> Value {
    let order = json!({ "name": "Ada", "shop_url": "https://shop.example", "number": "SO-261201-7K3QJ9M2",
        "order_url": "https://shop.example/orders/ord_1" });
    let with = |mut base: Value, extra: Value| {
        base.as_object_mut()
            .expect("an object")
            .extend(extra.as_object().expect("an object").clone());
        base
    };
    match kind {
        Kind::Welcome => json!({ "name": "Ada", "shop_url": "https://shop.example" }),
        Kind::PasswordReset => json!({ "name": "Ada", "shop_url": "https://shop.example",
            "reset_url": "https://shop.example/reset-password?token=prt_example",
            "valid_minutes": 60 }),
        Kind::EmailVerification => json!({ "name": "Ada", "shop_url": "https://shop.example",
            "verify_url": "https://shop.example/verify-email?token=evt_example",
            "change": false }),
        Kind::EmailChanged => json!({ "name": "Ada", "shop_url": "https://shop.example",
            "new_email": "ada@example.org" }),
        Kind::OrderPlaced | Kind::OrderPaid => with(
            order,
            json!({ "total": "42.00 USD", "discount": "4.20 USD", "tax_included": false,
                    "taxes": [{ "name": "CA sales tax", "rate": "7.25", "amount": "2.74 USD" }] }),
        ),
        Kind::OrderCancelled | Kind::OrderFailed => {
            with(order, json!({ "reason": "changed my mind" }))
        }
        Kind::Refund => with(
            order,
            json!({ "refunded_total": "10.00 USD", "discount": "4.20 USD",
                    "taxes": [{ "name": "CA sales tax", "rate": "7.25", "amount": "0.68 USD" }] }),
        ),
        Kind::Shipped
        | Kind::InTransit
        | Kind::OutForDelivery
        | Kind::Delivered
        | Kind::DeliveryException
        | Kind::Returned => with(
            order,
            json!({ "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
                "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
                "description": "In transit" }),
        ),
        Kind::ReviewRequest => order,
        Kind::StockLow => json!({ "shop_url": "https://shop.example", "product_id": "prod_1",
            "available": 3, "threshold": 5 }),
        Kind::ReconciliationNeeded => json!({ "shop_url": "https://shop.example", "count": 1,
            "findings": ["SO-261203-7K3QJ9M2 (ord_1): order failed, payment captured: closed, but money was kept"] }),
    }
}

fn t(subject: &str, text: &str, html: &str) -> Template {
    Template {
        subject: subject.into(),
        text: text.into(),
        html: html.into(),
    }
}

const SIGNATURE: &str = "\n\n-- \nThe Shop team\n{{ shop_url }}\n";

/// An order's discounts and tax per rate, under its total.
const RECEIPT_TEXT: &str = "{% if discount %}\nDiscounts: -{{ discount }}{% endif %}\
    {% for tax in taxes %}\n{{ tax.name }} ({{ tax.rate }}%{% if tax_included %}, included\
    {% endif %}): {{ tax.amount }}{% endfor %}";
const RECEIPT_HTML: &str = "{% if discount %}<br>Discounts: -{{ discount }}{% endif %}\
    {% for tax in taxes %}<br>{{ tax.name }} ({{ tax.rate }}%{% if tax_included %}, included\
    {% endif %}): {{ tax.amount }}{% endfor %}";

/// Of a refund, the tax per rate it gives back, and the order's discounts.
const REFUND_TEXT: &str = "{% for tax in taxes %}\nOf it, {{ tax.name }} ({{ tax.rate }}%): \
    {{ tax.amount }}{% endfor %}{% if discount %}\nThe order's discounts: -{{ discount }}{% endif %}";
const REFUND_HTML: &str = "{% for tax in taxes %}<br>Of it, {{ tax.name }} ({{ tax.rate }}%): \
    {{ tax.amount }}{% endfor %}{% if discount %}<br>The order's discounts: -{{ discount }}\
    {% endif %}";

/// The built-in English template of `kind`.
pub fn built_in(kind: Kind) -> Template {
    let text = |body: &str| format!("Hello {{{{ name }}}},\n\n{body}{SIGNATURE}");
    let html = |body: &str| {
        format!("<p>Hello {{{{ name }}}},</p>\n<p>{body}</p>\n<p>The Shop team<br><a href=\"{{{{ shop_url }}}}\">{{{{ shop_url }}}}</a></p>\n")
    };
    let tracking_text = "Tracking: {{ carrier }} {{ tracking_number }}{% if tracking_url %} ({{ tracking_url }}){% endif %}";
    let tracking_html = "Tracking: {{ carrier }} {% if tracking_url %}<a href=\"{{ tracking_url }}\">{{ tracking_number }}</a>{% else %}{{ tracking_number }}{% endif %}";
    let shipping = |subject: &str, line: &str| {
        t(
            subject,
            &text(&format!("{line}\n{tracking_text}")),
            &html(&format!("{line}<br>{tracking_html}")),
        )
    };
    match kind {
        Kind::Welcome => t(
            "Welcome to the Shop, {{ name }}",
            &text("your account is ready. Happy shopping!"),
            &html("your account is ready. Happy shopping!"),
        ),
        Kind::PasswordReset => t(
            "Reset your password",
            &text("someone asked to reset the password of your account. Set a new one within {{ valid_minutes }} minutes:\n{{ reset_url }}\nIf it was not you, ignore this email: your password stays as it is."),
            &html("someone asked to reset the password of your account. <a href=\"{{ reset_url }}\">Set a new one</a> within {{ valid_minutes }} minutes.<br>If it was not you, ignore this email: your password stays as it is."),
        ),
        Kind::EmailVerification => t(
            "Confirm your email address",
            &text("{% if change %}you asked to use this address for your account. It replaces the old one once you confirm it{% else %}please confirm this is your address{% endif %} within a day:\n{{ verify_url }}\nIf it was not you, ignore this email."),
            &html("{% if change %}you asked to use this address for your account. It replaces the old one once you <a href=\"{{ verify_url }}\">confirm it</a>{% else %}please <a href=\"{{ verify_url }}\">confirm this is your address</a>{% endif %} within a day.<br>If it was not you, ignore this email."),
        ),
        Kind::EmailChanged => t(
            "Your email address was changed",
            &text("your account now uses {{ new_email }}: emails go there from now on. If it was not you, reset your password at {{ shop_url }}/forgot-password and write to us."),
            &html("your account now uses {{ new_email }}: emails go there from now on. If it was not you, <a href=\"{{ shop_url }}/forgot-password\">reset your password</a> and write to us."),
        ),
        Kind::OrderPlaced => t(
            "We received your order {{ number }}",
            &text(&format!("thank you for your order {{{{ number }}}} ({{{{ total }}}}). We will confirm it as soon as the payment is through.{RECEIPT_TEXT}\n{{{{ order_url }}}}")),
            &html(&format!("thank you for your order <a href=\"{{{{ order_url }}}}\">{{{{ number }}}}</a> ({{{{ total }}}}). We will confirm it as soon as the payment is through.{RECEIPT_HTML}")),
        ),
        Kind::OrderPaid => t(
            "Order {{ number }} confirmed",
            &text(&format!("your payment of {{{{ total }}}} for order {{{{ number }}}} is through. We are getting it ready to ship.{RECEIPT_TEXT}\n{{{{ order_url }}}}")),
            &html(&format!("your payment of {{{{ total }}}} for order <a href=\"{{{{ order_url }}}}\">{{{{ number }}}}</a> is through. We are getting it ready to ship.{RECEIPT_HTML}")),
        ),
        Kind::OrderCancelled => t(
            "Order {{ number }} cancelled",
            &text("order {{ number }} is cancelled ({{ reason }}). Anything you paid is refunded."),
            &html("order {{ number }} is cancelled ({{ reason }}). Anything you paid is refunded."),
        ),
        Kind::OrderFailed => t(
            "Order {{ number }} could not be completed",
            &text("we could not complete order {{ number }}: {{ reason }}. Nothing was charged."),
            &html("we could not complete order {{ number }}: {{ reason }}. Nothing was charged."),
        ),
        Kind::Refund => t(
            "Refund for order {{ number }}",
            &text(&format!("we refunded {{{{ refunded_total }}}} of order {{{{ number }}}} to your card. It may take a few days to show.{REFUND_TEXT}")),
            &html(&format!("we refunded {{{{ refunded_total }}}} of order {{{{ number }}}} to your card. It may take a few days to show.{REFUND_HTML}")),
        ),
        Kind::Shipped => shipping("Order {{ number }} has shipped", "order {{ number }} is on its way."),
        Kind::InTransit => shipping("Order {{ number }} is in transit", "order {{ number }} is in transit: {{ description }}."),
        Kind::OutForDelivery => shipping("Order {{ number }} arrives today", "order {{ number }} is out for delivery."),
        Kind::Delivered => shipping("Order {{ number }} was delivered", "order {{ number }} was delivered. Enjoy!"),
        Kind::DeliveryException => shipping("A problem delivering order {{ number }}", "the carrier reports a problem delivering order {{ number }}: {{ description }}."),
        Kind::Returned => shipping("Order {{ number }} is on its way back", "the carrier is returning order {{ number }} to us: {{ description }}."),
        Kind::ReviewRequest => t(
            "How do you like your order {{ number }}?",
            &text("tell other customers what you think of what you bought in order {{ number }}: {{ order_url }}\n\n(You can turn these emails off in your account.)"),
            &html("tell other customers what you think of what you bought in order {{ number }}: <a href=\"{{ order_url }}\">review your order</a>.<br><small>You can turn these emails off in your account.</small>"),
        ),
        Kind::StockLow => t(
            "Low stock: {{ product_id }}",
            &format!("{{{{ product_id }}}} is down to {{{{ available }}}} (threshold {{{{ threshold }}}}).{SIGNATURE}"),
            "<p>{{ product_id }} is down to {{ available }} (threshold {{ threshold }}).</p>\n",
        ),
        Kind::ReconciliationNeeded => t(
            "Reconciliation: {{ count }} disagreements need a person",
            &format!("Reconciliation could not set these right by itself:\n{{% for f in findings %}}\n- {{{{ f }}}}{{% endfor %}}{SIGNATURE}"),
            "<p>Reconciliation could not set these right by itself:</p>\n<ul>{% for f in findings %}<li>{{ f }}</li>{% endfor %}</ul>\n",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_template_renders_with_its_kinds_values() {
        for kind in Kind::ALL {
            let rendered = built_in(kind)
                .render(&sample(kind))
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert!(
                !rendered.subject.is_empty() && !rendered.text.is_empty(),
                "{kind:?}"
            );
            assert!(built_in(kind).check(kind).is_ok());
        }
        let shipped = built_in(Kind::Shipped)
            .render(&sample(Kind::Shipped))
            .unwrap();
        assert_eq!(shipped.subject, "Order SO-261201-7K3QJ9M2 has shipped");
        assert!(shipped.text.contains("UPS 1Z999AA10123456784"));
    }

    #[test]
    fn html_escapes_what_it_inserts_and_text_does_not() {
        let template = t("Hi {{ name }}", "Hi {{ name }}", "<p>Hi {{ name }}</p>");
        let rendered = template
            .render(&json!({ "name": "<script>x</script> & co" }))
            .unwrap();
        assert_eq!(rendered.text, "Hi <script>x</script> & co");
        assert_eq!(
            rendered.html,
            "<p>Hi &lt;script&gt;x&lt;&#x2f;script&gt; &amp; co</p>"
        );
    }

    #[test]
    fn unknown_placeholders_and_broken_syntax_are_refused() {
        let typo = t("Order {{ numbr }}", "x", "x");
        let error = typo.check(Kind::OrderPaid).unwrap_err();
        assert_eq!(error.part, "subject");
        let broken = t("Order", "{% if %}", "x");
        assert_eq!(broken.check(Kind::OrderPaid).unwrap_err().part, "text");
        let empty = t("  ", "x", "x");
        assert!(empty.check(Kind::OrderPaid).is_err());
        let huge = t("Order", &"x".repeat(MAX_BODY_CHARS + 1), "x");
        assert!(huge.check(Kind::OrderPaid).is_err());
        // Another kind's placeholder is not this kind's.
        let wrong = t("Welcome {{ tracking_number }}", "x", "x");
        assert!(wrong.check(Kind::Welcome).is_err());
    }
}
