//! Promotions as admins make them, and the codes customers apply to their carts (checked
//! against the cart as it is, and checked again by every preview and checkout).

use auth::Permission;
use commerce::money::{CurrencyCode, Money};
use kit::audit::Auditor;
use primitives::time::now_millis;

use super::OrdersService;
use crate::domain::buyer::Buyer;
use crate::domain::promotion::{Benefit, Promotion, Target};
use crate::error::{OrderError, OrderResult};
use crate::store::StoreError;

/// The most codes one cart holds.
pub const MAX_CART_CODES: usize = 5;

/// A promotion as an admin describes it.
#[derive(Clone, Debug)]
pub struct NewPromotion {
    pub name: String,
    /// None for an automatic promotion.
    pub code: Option<String>,
    pub benefit: Benefit,
    pub target: Target,
    pub currency: CurrencyCode,
    pub min_subtotal: Option<Money>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    pub combines: bool,
}

/// A code as customers type it, normalized: trimmed and upper case (codes are
/// case-insensitive), 1 to 40 letters, digits, dashes or underscores.
pub fn normalize_code(raw: &str) -> OrderResult<String> {
    let code = raw.trim().to_ascii_uppercase();
    let valid = !code.is_empty()
        && code.len() <= 40
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(code)
    } else {
        Err(OrderError::InvalidCode)
    }
}

fn invalid(field: &'static str, message: &'static str) -> OrderError {
    OrderError::InvalidPromotion { field, message }
}

impl NewPromotion {
    fn checked(self) -> OrderResult<Promotion> {
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(invalid("name", "must be 1 to 100 characters"));
        }
        let code = self.code.as_deref().map(normalize_code).transpose()?;
        match self.benefit {
            Benefit::PercentOff { ppm } | Benefit::BuyXGetY { ppm, .. }
                if ppm == 0 || ppm > commerce::tax::PPM =>
            {
                return Err(invalid("percent", "must be more than 0 and at most 100"))
            }
            Benefit::AmountOff { minor } if minor <= 0 => {
                return Err(invalid("amount", "must be more than zero"))
            }
            Benefit::BuyXGetY { buy, get, .. } if buy == 0 || get == 0 || buy + get > 100 => {
                return Err(invalid(
                    "buyQuantity",
                    "buy and get are at least 1 each and 100 together",
                ))
            }
            _ => {}
        }
        let ids = match &self.target {
            Target::Order => None,
            Target::Products(ids) | Target::Collections(ids) | Target::Categories(ids) => Some(ids),
        };
        if ids.is_some_and(|ids| ids.is_empty() || ids.len() > 500) {
            return Err(invalid("appliesTo", "name 1 to 500 ids"));
        }
        if let (Some(start), Some(end)) = (self.starts_at, self.ends_at) {
            if end <= start {
                return Err(invalid("endsAt", "must be after startsAt"));
            }
        }
        if self.usage_limit.is_some_and(|n| n <= 0) {
            return Err(invalid("usageLimit", "must be at least 1"));
        }
        if self.per_customer_limit.is_some_and(|n| n <= 0) {
            return Err(invalid("perCustomerLimit", "must be at least 1"));
        }
        if self
            .min_subtotal
            .is_some_and(|m| m.currency != self.currency)
        {
            return Err(invalid(
                "minimumSubtotal",
                "must be in the promotion's currency",
            ));
        }
        let now = now_millis();
        Ok(Promotion {
            id: primitives::id::new_id("promo"),
            name,
            code,
            benefit: self.benefit,
            target: self.target,
            currency: self.currency,
            min_subtotal_minor: self.min_subtotal.map(|m| m.minor_units),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            usage_limit: self.usage_limit,
            per_customer_limit: self.per_customer_limit,
            uses: 0,
            combines: self.combines,
            active: true,
            created_at: now,
        })
    }
}

impl OrdersService {
    /// A new promotion for `staff` (recorded in the audit trail).
    pub async fn create_promotion(
        &self,
        staff: &Auditor,
        new: NewPromotion,
    ) -> OrderResult<Promotion> {
        let promotion = new.checked()?;
        let audit = self.events.event(&staff.record(
            Permission::PromotionsWrite,
            "createPromotion",
            ("Promotion", &promotion.id),
            None,
            Some(serde_json::json!({ "name": promotion.name, "code": promotion.code })),
        ));
        match self.store.insert_promotion(&promotion, &[audit]).await {
            Ok(()) => Ok(promotion),
            Err(StoreError::Duplicate(_)) => Err(OrderError::CodeTaken),
            Err(error) => Err(error.into()),
        }
    }

    /// Turns a promotion on or off (orders placed keep their discounts).
    pub async fn set_promotion_active(
        &self,
        staff: &Auditor,
        id: &str,
        active: bool,
    ) -> OrderResult<Promotion> {
        let audit = self.events.event(&staff.record(
            Permission::PromotionsWrite,
            "setPromotionActive",
            ("Promotion", id),
            Some(serde_json::json!({ "active": !active })),
            Some(serde_json::json!({ "active": active })),
        ));
        if !self
            .store
            .set_promotion_active(id, active, &[audit])
            .await?
        {
            return Err(OrderError::PromotionNotFound);
        }
        self.store
            .promotion(id)
            .await?
            .ok_or(OrderError::PromotionNotFound)
    }

    /// Applies a code to the buyer's cart when it applies to the cart as it is now; the
    /// cart's codes.
    pub async fn apply_code(
        &self,
        buyer: &Buyer,
        cart_id: &str,
        raw: &str,
    ) -> OrderResult<Vec<String>> {
        let code = normalize_code(raw)?;
        let cart = self
            .services
            .cart(&buyer.cart_holder(), cart_id)
            .await?
            .ok_or(OrderError::CartNotFound)?;
        let mut codes = self.store.cart_codes(cart_id).await?;
        if codes.contains(&code) {
            return Ok(codes);
        }
        if codes.len() >= MAX_CART_CODES {
            return Err(OrderError::InvalidInput {
                field: "code",
                message: "a cart holds at most 5 codes",
            });
        }
        let promotions = self
            .store
            .promotions_for(std::slice::from_ref(&code))
            .await?;
        let Some(promotion) = promotions.iter().find(|p| p.code.as_ref() == Some(&code)) else {
            return Err(OrderError::UnknownCode);
        };
        if cart.is_empty() {
            return Err(OrderError::EmptyCart);
        }
        let lines = self.priced_lines(&cart).await?;
        // Shipping is not known yet: the code is checked against the goods.
        let shipping = Money {
            minor_units: 0,
            currency: lines[0].variant.price.currency,
        };
        let promotion_id = promotion.id.clone();
        let (_, refused) = self
            .apply_promotions(promotions, buyer.customer_id().as_deref(), &lines, shipping)
            .await?;
        if let Some((_, reason)) = refused.into_iter().find(|(c, _)| *c == code) {
            return Err(OrderError::PromotionRefused { name: code, reason });
        }
        tracing::debug!(promotion = %promotion_id, cart = cart_id, "code applied");
        self.store.add_cart_code(cart_id, &code).await?;
        codes.push(code);
        Ok(codes)
    }

    /// Takes a code off the buyer's cart; the cart's codes.
    pub async fn remove_code(
        &self,
        buyer: &Buyer,
        cart_id: &str,
        raw: &str,
    ) -> OrderResult<Vec<String>> {
        let code = normalize_code(raw)?;
        self.services
            .cart(&buyer.cart_holder(), cart_id)
            .await?
            .ok_or(OrderError::CartNotFound)?;
        self.store.remove_cart_code(cart_id, &code).await?;
        Ok(self.store.cart_codes(cart_id).await?)
    }
}
