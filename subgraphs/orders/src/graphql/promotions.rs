//! Promotions: admins make and switch them; customers apply codes to their carts; orders and
//! previews show what each took off (`AppliedDiscount`).

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use auth::Permission;
use commerce::money::{CurrencyCode, Money, MoneyObject};
use commerce::tax::{format_percent, parse_percent, PPM};

use super::{buyer, service, user_error, viewer, OrderUserError};
use crate::domain::promotion::{self, Benefit, Target};
use crate::error::OrderError;
use crate::service::NewPromotion;

/// What a promotion took (or takes) off an order: its lines and shipping together.
#[derive(SimpleObject, Clone, Debug)]
pub struct AppliedDiscount {
    pub name: String,
    /// The code the customer gave; null for an automatic promotion.
    pub code: Option<String>,
    pub amount: MoneyObject,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromotionKind {
    /// `percent` off the lines it applies to.
    PercentOff,
    /// `amount` off the lines it applies to, together (never more than they cost).
    AmountOff,
    /// The shipping, whole.
    FreeShipping,
    /// Of every `buyQuantity + getQuantity` units it applies to (dearest first), the
    /// `getQuantity` cheapest at `percent` off (100: free).
    BuyXGetY,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromotionTarget {
    Order,
    Products,
    Collections,
    /// The categories and every category below them.
    Categories,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Promotion {
    pub id: ID,
    pub name: String,
    /// Upper case; null for an automatic promotion.
    pub code: Option<String>,
    pub kind: PromotionKind,
    /// A percentage ("10"), for PERCENT_OFF and BUY_X_GET_Y.
    pub percent: Option<String>,
    pub amount: Option<MoneyObject>,
    pub buy_quantity: Option<i64>,
    pub get_quantity: Option<i64>,
    pub applies_to: PromotionTarget,
    /// The products, collections or categories it applies to (none for the whole order).
    pub applies_to_ids: Vec<ID>,
    pub currency_code: CurrencyCode,
    pub minimum_subtotal: Option<MoneyObject>,
    /// RFC 3339.
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    /// Orders holding a use: paid, or still checking out.
    pub uses: i64,
    /// Applies together with other promotions that combine; otherwise only alone.
    pub combines: bool,
    pub active: bool,
}

impl From<promotion::Promotion> for Promotion {
    fn from(p: promotion::Promotion) -> Self {
        let money = |minor_units| -> MoneyObject {
            Money {
                minor_units,
                currency: p.currency,
            }
            .into()
        };
        let (kind, percent, amount, buy, get) = match p.benefit {
            Benefit::PercentOff { ppm } => (PromotionKind::PercentOff, Some(ppm), None, None, None),
            Benefit::AmountOff { minor } => (
                PromotionKind::AmountOff,
                None,
                Some(money(minor)),
                None,
                None,
            ),
            Benefit::FreeShipping => (PromotionKind::FreeShipping, None, None, None, None),
            Benefit::BuyXGetY { buy, get, ppm } => (
                PromotionKind::BuyXGetY,
                Some(ppm),
                None,
                Some(buy as i64),
                Some(get as i64),
            ),
        };
        let (applies_to, ids) = match p.target {
            Target::Order => (PromotionTarget::Order, Vec::new()),
            Target::Products(ids) => (PromotionTarget::Products, ids),
            Target::Collections(ids) => (PromotionTarget::Collections, ids),
            Target::Categories(ids) => (PromotionTarget::Categories, ids),
        };
        Self {
            id: ID(p.id),
            name: p.name,
            code: p.code,
            kind,
            percent: percent.map(format_percent),
            amount,
            buy_quantity: buy,
            get_quantity: get,
            applies_to,
            applies_to_ids: ids.into_iter().map(ID).collect(),
            currency_code: p.currency,
            minimum_subtotal: p.min_subtotal_minor.map(money),
            starts_at: p.starts_at.map(primitives::time::format_millis),
            ends_at: p.ends_at.map(primitives::time::format_millis),
            usage_limit: p.usage_limit,
            per_customer_limit: p.per_customer_limit,
            uses: p.uses,
            combines: p.combines,
            active: p.active,
        }
    }
}

#[derive(InputObject)]
pub struct CreatePromotionInput {
    /// What the customer sees ("Summer sale").
    pub name: String,
    /// Customers type it (any case); left out, the promotion applies by itself to every order
    /// it fits.
    pub code: Option<String>,
    pub kind: PromotionKind,
    /// A percentage ("10", "12.5"): PERCENT_OFF's share, BUY_X_GET_Y's discount (100 when left
    /// out: free).
    pub percent: Option<String>,
    /// AMOUNT_OFF's amount ("5.00").
    pub amount: Option<String>,
    pub buy_quantity: Option<i32>,
    pub get_quantity: Option<i32>,
    /// ORDER when left out.
    pub applies_to: Option<PromotionTarget>,
    pub applies_to_ids: Option<Vec<ID>>,
    /// The currency of its amounts: it applies to orders in it.
    pub currency_code: CurrencyCode,
    /// The order's subtotal it needs ("50.00").
    pub minimum_subtotal: Option<String>,
    /// RFC 3339.
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub usage_limit: Option<i32>,
    pub per_customer_limit: Option<i32>,
    /// Applies together with other promotions that combine (true when left out).
    pub combines: Option<bool>,
}

#[derive(InputObject)]
pub struct SetPromotionActiveInput {
    pub id: ID,
    pub active: bool,
}

#[derive(InputObject)]
pub struct PromotionCodeInput {
    /// The signed-in customer's cart, or the guest cart of `cartToken`.
    pub cart_id: ID,
    /// A guest cart's token (`createGuestCart`); left out for the signed-in customer's cart.
    pub cart_token: Option<String>,
    pub code: String,
}

#[derive(SimpleObject)]
pub struct PromotionPayload {
    pub promotion: Option<Promotion>,
    pub user_errors: Vec<OrderUserError>,
}

#[derive(SimpleObject)]
pub struct PromotionCodesPayload {
    /// The codes on the cart now; null when nothing changed because of a userError.
    pub codes: Option<Vec<String>>,
    pub user_errors: Vec<OrderUserError>,
}

fn invalid(field: &'static str, message: &'static str) -> OrderError {
    OrderError::InvalidPromotion { field, message }
}

/// The admin's input as a promotion to check.
fn new_promotion(input: CreatePromotionInput) -> Result<NewPromotion, OrderError> {
    let currency = input.currency_code;
    let money = |field: &'static str, raw: Option<String>| -> Result<Option<Money>, OrderError> {
        raw.map(|raw| {
            Money::parse(&raw, currency).map_err(|_| invalid(field, "must be an amount like 5.00"))
        })
        .transpose()
    };
    let percent = |raw: Option<String>, default: Option<u32>| -> Result<u32, OrderError> {
        match raw {
            Some(raw) => parse_percent(&raw)
                .map_err(|_| invalid("percent", "must be a percentage like 10 or 12.5")),
            None => default.ok_or(invalid("percent", "is needed for this kind")),
        }
    };
    let count = |field: &'static str, raw: Option<i32>| -> Result<u32, OrderError> {
        raw.and_then(|n| u32::try_from(n).ok())
            .ok_or(invalid(field, "is needed for this kind, and positive"))
    };
    let benefit = match input.kind {
        PromotionKind::PercentOff => Benefit::PercentOff {
            ppm: percent(input.percent, None)?,
        },
        PromotionKind::AmountOff => Benefit::AmountOff {
            minor: money("amount", input.amount)?
                .ok_or(invalid("amount", "is needed for this kind"))?
                .minor_units,
        },
        PromotionKind::FreeShipping => Benefit::FreeShipping,
        PromotionKind::BuyXGetY => Benefit::BuyXGetY {
            buy: count("buyQuantity", input.buy_quantity)?,
            get: count("getQuantity", input.get_quantity)?,
            ppm: percent(input.percent, Some(PPM))?,
        },
    };
    let ids: Vec<String> = input
        .applies_to_ids
        .unwrap_or_default()
        .into_iter()
        .map(|id| id.0)
        .collect();
    let target = match input.applies_to.unwrap_or(PromotionTarget::Order) {
        PromotionTarget::Order if ids.is_empty() => Target::Order,
        PromotionTarget::Order => {
            return Err(invalid("appliesToIds", "the whole order takes no ids"))
        }
        PromotionTarget::Products => Target::Products(ids),
        PromotionTarget::Collections => Target::Collections(ids),
        PromotionTarget::Categories => Target::Categories(ids),
    };
    let time = |field: &'static str, raw: Option<String>| -> Result<Option<i64>, OrderError> {
        raw.map(|raw| {
            primitives::time::parse_millis(&raw).ok_or(invalid(field, "must be an RFC 3339 time"))
        })
        .transpose()
    };
    Ok(NewPromotion {
        name: input.name,
        code: input.code,
        benefit,
        target,
        currency,
        min_subtotal: money("minimumSubtotal", input.minimum_subtotal)?,
        starts_at: time("startsAt", input.starts_at)?,
        ends_at: time("endsAt", input.ends_at)?,
        usage_limit: input.usage_limit.map(i64::from),
        per_customer_limit: input.per_customer_limit.map(i64::from),
        combines: input.combines.unwrap_or(true),
    })
}

fn promotion_payload(
    result: Result<promotion::Promotion, OrderError>,
) -> async_graphql::Result<PromotionPayload> {
    kit::error::mutation_payload(result, user_error, |promotion, user_errors| {
        PromotionPayload {
            promotion: promotion.map(Promotion::from),
            user_errors,
        }
    })
}

fn codes_payload(
    result: Result<Vec<String>, OrderError>,
) -> async_graphql::Result<PromotionCodesPayload> {
    kit::error::mutation_payload(result, user_error, |codes, user_errors| {
        PromotionCodesPayload { codes, user_errors }
    })
}

#[derive(Default)]
pub struct PromotionQuery;

#[Object]
impl PromotionQuery {
    /// Every promotion, newest first (the latest 500).
    #[graphql(requires_scopes = "promotions:write")]
    async fn promotions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Promotion>> {
        viewer(ctx).require_permission(Permission::PromotionsWrite)?;
        let rows = service(ctx)
            .store
            .promotions(500)
            .await
            .map_err(kit::ApiError::internal)?;
        Ok(rows.into_iter().map(Promotion::from).collect())
    }
}

#[derive(Default)]
pub struct PromotionMutation;

#[Object]
impl PromotionMutation {
    /// A discount code, or (without a code) an automatic promotion; active at once within its
    /// dates.
    #[graphql(requires_scopes = "promotions:write")]
    async fn create_promotion(
        &self,
        ctx: &Context<'_>,
        input: CreatePromotionInput,
    ) -> async_graphql::Result<PromotionPayload> {
        let staff = kit::audit::Auditor::require(ctx, Permission::PromotionsWrite)?;
        let result = match new_promotion(input) {
            Ok(new) => service(ctx).create_promotion(&staff, new).await,
            Err(error) => Err(error),
        };
        promotion_payload(result)
    }

    /// Switches a promotion on or off; orders already placed keep their discounts.
    #[graphql(requires_scopes = "promotions:write")]
    async fn set_promotion_active(
        &self,
        ctx: &Context<'_>,
        input: SetPromotionActiveInput,
    ) -> async_graphql::Result<PromotionPayload> {
        let staff = kit::audit::Auditor::require(ctx, Permission::PromotionsWrite)?;
        promotion_payload(
            service(ctx)
                .set_promotion_active(&staff, &input.id, input.active)
                .await,
        )
    }

    /// Applies a code (any case) to the customer's (or guest's) cart, when it applies to the cart now;
    /// previews and checkout check it again. An unknown code, or one that has ended, is used
    /// up, or needs a larger subtotal, is a userError saying so.
    async fn apply_promotion_code(
        &self,
        ctx: &Context<'_>,
        input: PromotionCodeInput,
    ) -> async_graphql::Result<PromotionCodesPayload> {
        let applied = match buyer(ctx, input.cart_token, None)? {
            Ok(buyer) => {
                service(ctx)
                    .apply_code(&buyer, &input.cart_id, &input.code)
                    .await
            }
            Err(error) => Err(error),
        };
        codes_payload(applied)
    }

    /// Takes a code off the customer's (or guest's) cart.
    async fn remove_promotion_code(
        &self,
        ctx: &Context<'_>,
        input: PromotionCodeInput,
    ) -> async_graphql::Result<PromotionCodesPayload> {
        let removed = match buyer(ctx, input.cart_token, None)? {
            Ok(buyer) => {
                service(ctx)
                    .remove_code(&buyer, &input.cart_id, &input.code)
                    .await
            }
            Err(error) => Err(error),
        };
        codes_payload(removed)
    }
}
