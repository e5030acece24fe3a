//! What checkout asks of other services (service calls with the orders' service token): the cart,
//! the customer's email and address book, authoritative prices, stock reservations, the charge.
//! Every command carries the order's id, so a retried or resumed call does its work once.

use std::sync::Arc;

use commerce::address::Address;
use commerce::money::Money;
use commerce::tax::TaxClass;
use serde::Deserialize;
use serde_json::{json, Value};
use web::client::{ServiceClient, ServiceError};

use crate::config::ServiceUrls;
use crate::domain::buyer::CartHolder;
use events::orders::ShippingMethod;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Call(#[from] ServiceError),
    #[error("{service} answered with something unreadable: {detail}")]
    Unreadable {
        service: &'static str,
        detail: String,
    },
    /// The callee cannot do it yet (e.g. a payment's result is still outstanding): ask again.
    #[error("{0}")]
    NotYet(&'static str),
}

pub type CallResult<T> = Result<T, CallError>;

/// The payment's state from a payments payload (`payment { status failureCode } userErrors`).
fn payment_state(payload: &Value) -> CallResult<PaymentState> {
    if let Some(error) = payload["userErrors"].as_array().and_then(|e| e.first()) {
        return Ok(PaymentState::Failed {
            message: error["message"].as_str().unwrap_or_default().into(),
        });
    }
    let payment = &payload["payment"];
    Ok(match payment["status"].as_str() {
        Some("CAPTURED" | "PARTIALLY_REFUNDED" | "REFUNDED") => PaymentState::Captured,
        Some("FAILED") => PaymentState::Failed {
            message: format!(
                "the payment failed: {}",
                payment["failureCode"].as_str().unwrap_or("declined")
            ),
        },
        Some("AUTHORIZED") => PaymentState::Pending,
        Some("REQUIRES_ACTION") => PaymentState::AwaitingAction,
        _ => {
            return Err(CallError::Unreadable {
                service: "payments",
                detail: payload.to_string(),
            })
        }
    })
}

/// Carts' arguments naming whose cart it is.
fn holder_variables(holder: &CartHolder) -> Value {
    match holder {
        CartHolder::User(id) => json!({ "userId": id }),
        CartHolder::Guest(token) => json!({ "cartToken": token }),
    }
}

fn read<T: serde::de::DeserializeOwned>(service: &'static str, value: Value) -> CallResult<T> {
    serde_json::from_value(value).map_err(|e| CallError::Unreadable {
        service,
        detail: e.to_string(),
    })
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLine {
    pub variant_id: String,
    pub product_id: String,
    pub quantity: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Customer {
    pub email: String,
    pub addresses: Vec<BookAddress>,
}

/// An address-book entry as accounts shows it.
#[derive(Clone, Debug, Deserialize)]
pub struct BookAddress {
    pub id: String,
    #[serde(flatten)]
    pub address: Address,
}

/// A variant as the catalog has it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogVariant {
    pub id: String,
    pub product_id: String,
    pub sku: String,
    /// The product's name.
    pub name: String,
    /// Its option values ("M / Blue"); empty for a default variant.
    pub title: String,
    /// The variant and its product are both active.
    pub active: bool,
    pub price: Money,
    /// Its product's tax class.
    pub tax_class: TaxClass,
    /// Its product's category and the categories above it, root first.
    pub category_path: Vec<String>,
}

/// How a reservation request ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reserved {
    Held,
    /// Not enough stock: the inventory's words (naming every short line).
    Short {
        message: String,
    },
}

/// How a confirm or release ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    Done,
    /// The reservation is gone or was already settled the other way (e.g. it expired).
    Closed {
        message: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentState {
    Captured,
    Failed {
        message: String,
    },
    /// The provider has not reported the result yet.
    Pending,
    /// The provider waits for the customer to confirm with their bank (3-D Secure).
    AwaitingAction,
}

/// What to do with an order's reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settle {
    /// The held units leave with the order.
    Confirm,
    /// The held units are available again.
    Release,
    /// The sold units go back into stock.
    Return,
}

/// An order's payment as payments has it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPayment {
    pub order_id: String,
    /// `AUTHORIZED`, `REQUIRES_ACTION`, `CAPTURED`, `FAILED`, `PARTIALLY_REFUNDED`, `REFUNDED`.
    pub status: String,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    /// Where the customer confirms the payment with their bank, while it requires that.
    #[serde(default)]
    pub next_action_url: Option<String>,
}

/// A provider charge payments found in disagreement with its payment, or one that agrees and
/// holds money (`problem` none).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeFinding {
    pub charge: String,
    pub order_id: Option<String>,
    pub problem: Option<String>,
    /// Minor units the provider holds for it (captured less refunded).
    pub held_minor: i64,
    pub repaired: Option<String>,
}

/// A carrier service's price for the order's parcel, as shipping quotes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippingRate {
    pub method: ShippingMethod,
    pub price: Money,
}

/// What checkout, cancellation and reconciliation ask of the other services. Every command
/// carries the order's id (or a reference derived from it), so a retried or resumed call does its
/// work once. [`HttpServices`] calls the real services; tests of orders alone use fakes.
#[async_trait::async_trait]
pub trait Services: Send + Sync {
    /// The holder's cart lines if `cart_id` is their cart; `None` for any other cart (or an
    /// expired guest cart).
    async fn cart(&self, holder: &CartHolder, cart_id: &str) -> CallResult<Option<Vec<CartLine>>>;

    /// Takes the bought variants out of the cart (harmless to repeat).
    async fn clear_cart_lines(&self, holder: &CartHolder, variant_ids: &[String])
        -> CallResult<()>;

    /// An active customer's email and address book; `None` for an unknown or disabled account.
    async fn customer(&self, customer_id: &str) -> CallResult<Option<Customer>>;

    /// The variants among `ids` the catalog has, with their current price and status.
    async fn variants(&self, ids: &[String]) -> CallResult<Vec<CatalogVariant>>;

    /// The collections holding each of `product_ids` (asked only when a promotion is for
    /// collections: the catalog works it out from every collection's rule).
    async fn collections_of(
        &self,
        product_ids: &[String],
    ) -> CallResult<Vec<(String, Vec<String>)>>;

    /// What each carrier service charges to ship `lines` to `address`, cheapest first; or, when
    /// no carrier takes the parcel there, shipping's word for why.
    async fn shipping_rates(
        &self,
        address: &Address,
        lines: &[CartLine],
    ) -> CallResult<Result<Vec<ShippingRate>, String>>;

    /// The units of each variant that can be sold now (variants inventory does not know have
    /// none).
    async fn available(&self, variant_ids: &[String]) -> CallResult<Vec<(String, i64)>>;

    /// Holds stock for every line or none, under `reference` (the order's id, or its second
    /// hold's reference).
    async fn reserve(&self, reference: &str, lines: &[(String, i64)]) -> CallResult<Reserved>;

    /// Confirms (`confirmReservation`), releases (`releaseReservation`) or returns to stock
    /// (`returnReservation`) the reservation held under `reference`.
    async fn settle_reservation(&self, reference: &str, how: Settle) -> CallResult<Settled>;

    /// Charges the order (once: payments keys the charge by the order).
    async fn charge(
        &self,
        order_id: &str,
        customer_id: &str,
        total: Money,
        payment_token: &str,
    ) -> CallResult<PaymentState>;

    /// Gives up on the order's payment while it waits for the customer's bank (the checkout was
    /// abandoned): failed, unless the customer confirmed it meanwhile (then captured).
    async fn cancel_payment_action(&self, order_id: &str) -> CallResult<PaymentState>;

    /// The payments of `order_ids` (orders without one are left out).
    async fn order_payments(&self, order_ids: &[String]) -> CallResult<Vec<OrderPayment>>;

    /// Has payments compare the provider's charges created in `[from, until)` with its
    /// payments (and apply the provider's state with `repair`).
    async fn reconcile_charges(
        &self,
        from: i64,
        until: i64,
        repair: bool,
    ) -> CallResult<Vec<ChargeFinding>>;

    /// Refunds what is left of the order's payment (compensation, cancellation). A payment
    /// whose result payments cannot tell yet is an error, so the step is tried again later.
    async fn refund_order(&self, order_id: &str, reason: &str) -> CallResult<()>;
}

/// [`Services`] over HTTP: service calls to the other subgraphs with the orders' token.
pub struct HttpServices {
    client: Arc<ServiceClient>,
    urls: ServiceUrls,
}

impl HttpServices {
    pub fn new(client: Arc<ServiceClient>, urls: ServiceUrls) -> Self {
        Self { client, urls }
    }
}

#[async_trait::async_trait]
impl Services for HttpServices {
    async fn cart(&self, holder: &CartHolder, cart_id: &str) -> CallResult<Option<Vec<CartLine>>> {
        let mut variables = holder_variables(holder);
        variables["cartId"] = json!(cart_id);
        let data = self
            .client
            .query(
                &self.urls.carts,
                "query($userId: ID, $cartToken: String, $cartId: ID!) {
                    checkoutCart(userId: $userId, cartToken: $cartToken, cartId: $cartId) {
                    lines { variantId productId quantity } } }",
                variables,
            )
            .await?;
        let cart = &data["checkoutCart"];
        if cart.is_null() {
            return Ok(None);
        }
        Ok(Some(read("carts", cart["lines"].clone())?))
    }

    async fn clear_cart_lines(
        &self,
        holder: &CartHolder,
        variant_ids: &[String],
    ) -> CallResult<()> {
        let mut input = holder_variables(holder);
        input["variantIds"] = json!(variant_ids);
        self.client
            .query(
                &self.urls.carts,
                "mutation($i: RemoveCheckedOutLinesInput!) { removeCheckedOutLines(input: $i) }",
                json!({ "i": input }),
            )
            .await?;
        Ok(())
    }

    async fn customer(&self, customer_id: &str) -> CallResult<Option<Customer>> {
        let data = self
            .client
            .query(
                &self.urls.accounts,
                "query($id: ID!) { checkoutCustomer(id: $id) { email addresses {
                    id fullName line1 line2 city region postalCode countryCode phone } } }",
                json!({ "id": customer_id }),
            )
            .await?;
        let customer = data["checkoutCustomer"].clone();
        if customer.is_null() {
            return Ok(None);
        }
        Ok(Some(read("accounts", customer)?))
    }

    async fn variants(&self, ids: &[String]) -> CallResult<Vec<CatalogVariant>> {
        let entities = self
            .client
            .entities(
                &self.urls.catalog,
                "ProductVariant",
                ids,
                "id sku status price { amount currencyCode } optionValues { value }
                 product { id name status taxClass category { path { id } } }",
            )
            .await?;
        let mut variants = Vec::new();
        for entity in &entities {
            if entity.is_null() {
                continue;
            }
            let unreadable = || CallError::Unreadable {
                service: "catalog",
                detail: entity.to_string(),
            };
            let text = |value: &Value| value.as_str().map(String::from).ok_or_else(unreadable);
            let active = |status: &Value| match status.as_str() {
                Some("ACTIVE") => Ok(true),
                Some("DRAFT" | "ARCHIVED") => Ok(false),
                _ => Err(unreadable()),
            };
            // A product's category is null only when it is missing (corrupt): no path then.
            let ids = |list: &Value| -> CallResult<Vec<String>> {
                match list {
                    Value::Null => Ok(Vec::new()),
                    Value::Array(items) => items.iter().map(|c| text(&c["id"])).collect(),
                    _ => Err(unreadable()),
                }
            };
            let title = entity["optionValues"]
                .as_array()
                .ok_or_else(unreadable)?
                .iter()
                .map(|v| text(&v["value"]))
                .collect::<CallResult<Vec<String>>>()?
                .join(" / ");
            variants.push(CatalogVariant {
                id: text(&entity["id"])?,
                product_id: text(&entity["product"]["id"])?,
                sku: text(&entity["sku"])?,
                name: text(&entity["product"]["name"])?,
                title,
                active: active(&entity["status"])? && active(&entity["product"]["status"])?,
                price: Money::from_json(&entity["price"]).ok_or_else(unreadable)?,
                category_path: ids(&entity["product"]["category"]["path"])?,
                tax_class: entity["product"]["taxClass"]
                    .as_str()
                    .and_then(|class| TaxClass::parse(&class.to_ascii_lowercase()))
                    .ok_or_else(unreadable)?,
            });
        }
        Ok(variants)
    }

    async fn collections_of(
        &self,
        product_ids: &[String],
    ) -> CallResult<Vec<(String, Vec<String>)>> {
        let entities = self
            .client
            .entities(
                &self.urls.catalog,
                "Product",
                product_ids,
                "id collectionIds",
            )
            .await?;
        entities
            .iter()
            .filter(|entity| !entity.is_null())
            .map(|entity| {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Holding {
                    id: String,
                    collection_ids: Vec<String>,
                }
                let holding: Holding = read("catalog", entity.clone())?;
                Ok((holding.id, holding.collection_ids))
            })
            .collect()
    }

    async fn shipping_rates(
        &self,
        address: &Address,
        lines: &[CartLine],
    ) -> CallResult<Result<Vec<ShippingRate>, String>> {
        let lines: Vec<Value> = lines
            .iter()
            .map(|l| json!({ "productId": l.product_id, "variantId": l.variant_id, "quantity": l.quantity }))
            .collect();
        let data = self
            .client
            .query(
                &self.urls.shipping,
                "query($input: ShippingRatesInput!) { shippingRates(input: $input) { \
                 rates { carrier service price { amount currencyCode } } \
                 userErrors { code message } } }",
                json!({ "input": { "address": address, "lines": lines } }),
            )
            .await?;
        let payload = &data["shippingRates"];
        let unreadable = || CallError::Unreadable {
            service: "shipping",
            detail: payload.to_string(),
        };
        let user_errors = payload["userErrors"].as_array().ok_or_else(unreadable)?;
        if let Some(error) = user_errors.first() {
            // Orders checked the address and the products already: any other refusal is a
            // mismatch.
            return match (error["code"].as_str(), error["message"].as_str()) {
                (Some("UNSHIPPABLE"), Some(why)) => Ok(Err(why.to_string())),
                _ => Err(unreadable()),
            };
        }
        payload["rates"]
            .as_array()
            .ok_or_else(unreadable)?
            .iter()
            .map(|rate| {
                Ok(ShippingRate {
                    method: ShippingMethod {
                        carrier: rate["carrier"].as_str().ok_or_else(unreadable)?.into(),
                        service: rate["service"].as_str().ok_or_else(unreadable)?.into(),
                    },
                    price: Money::from_json(&rate["price"]).ok_or_else(unreadable)?,
                })
            })
            .collect::<CallResult<_>>()
            .map(Ok)
    }

    async fn available(&self, variant_ids: &[String]) -> CallResult<Vec<(String, i64)>> {
        let entities = self
            .client
            .entities(
                &self.urls.inventory,
                "ProductVariant",
                variant_ids,
                "id availability { availableQuantity }",
            )
            .await?;
        Ok(entities
            .iter()
            .filter_map(|e| {
                Some((
                    e["id"].as_str()?.to_string(),
                    e["availability"]["availableQuantity"].as_i64()?,
                ))
            })
            .collect())
    }

    async fn reserve(&self, reference: &str, lines: &[(String, i64)]) -> CallResult<Reserved> {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(variant_id, quantity)| json!({ "variantId": variant_id, "quantity": quantity }))
            .collect();
        let data = self
            .client
            .command(
                &self.urls.inventory,
                "mutation($i: ReserveStockInput!) { reserveStock(input: $i) {
                    reservation { status } userErrors { code message } } }",
                json!({ "i": { "orderReference": reference, "lines": lines } }),
                &format!("reserve:{reference}"),
            )
            .await?;
        let payload = &data["reserveStock"];
        match payload["userErrors"].as_array().and_then(|e| e.first()) {
            None => Ok(Reserved::Held),
            Some(error) if error["code"] == "INSUFFICIENT_STOCK" => Ok(Reserved::Short {
                message: error["message"].as_str().unwrap_or_default().into(),
            }),
            Some(error) => Err(CallError::Unreadable {
                service: "inventory",
                detail: error.to_string(),
            }),
        }
    }

    async fn settle_reservation(&self, reference: &str, how: Settle) -> CallResult<Settled> {
        let field = match how {
            Settle::Confirm => "confirmReservation",
            Settle::Release => "releaseReservation",
            Settle::Return => "returnReservation",
        };
        let data = self
            .client
            .command(
                &self.urls.inventory,
                &format!(
                    "mutation($i: ReservationInput!) {{ {field}(input: $i) {{
                        reservation {{ status }} userErrors {{ code message }} }} }}"
                ),
                json!({ "i": { "orderReference": reference } }),
                &format!("{field}:{reference}"),
            )
            .await?;
        Ok(
            match data[field]["userErrors"].as_array().and_then(|e| e.first()) {
                None => Settled::Done,
                Some(error) => Settled::Closed {
                    message: error["message"].as_str().unwrap_or_default().into(),
                },
            },
        )
    }

    async fn charge(
        &self,
        order_id: &str,
        customer_id: &str,
        total: Money,
        payment_token: &str,
    ) -> CallResult<PaymentState> {
        let data = self
            .client
            .command(
                &self.urls.payments,
                "mutation($i: ChargeOrderInput!) { chargeOrder(input: $i) {
                    payment { status failureCode } userErrors { code message } } }",
                json!({ "i": {
                    "orderId": order_id,
                    "customerId": customer_id,
                    "amount": { "amount": total.amount(), "currencyCode": total.currency.as_str() },
                    "paymentToken": payment_token,
                } }),
                &format!("charge:{order_id}"),
            )
            .await?;
        payment_state(&data["chargeOrder"])
    }

    async fn cancel_payment_action(&self, order_id: &str) -> CallResult<PaymentState> {
        let data = self
            .client
            .command(
                &self.urls.payments,
                "mutation($o: ID!) { cancelPaymentAction(orderId: $o) {
                    payment { status failureCode } userErrors { code message } } }",
                json!({ "o": order_id }),
                &format!("cancel-action:{order_id}"),
            )
            .await?;
        payment_state(&data["cancelPaymentAction"])
    }

    async fn order_payments(&self, order_ids: &[String]) -> CallResult<Vec<OrderPayment>> {
        let data = self
            .client
            .query(
                &self.urls.payments,
                "query($ids: [ID!]!) { orderPayments(orderIds: $ids) {
                    orderId status capturedMinor refundedMinor nextActionUrl } }",
                json!({ "ids": order_ids }),
            )
            .await?;
        read("payments", data["orderPayments"].clone())
    }

    async fn reconcile_charges(
        &self,
        from: i64,
        until: i64,
        repair: bool,
    ) -> CallResult<Vec<ChargeFinding>> {
        let data = self
            .client
            .command(
                &self.urls.payments,
                "mutation($i: ReconcileChargesInput!) { reconcileCharges(input: $i) {
                    charge orderId problem heldMinor repaired } }",
                json!({ "i": { "fromMillis": from, "untilMillis": until, "repair": repair } }),
                &primitives::id::new_id("reconcile"),
            )
            .await?;
        read("payments", data["reconcileCharges"].clone())
    }

    async fn refund_order(&self, order_id: &str, reason: &str) -> CallResult<()> {
        let data = self
            .client
            .command(
                &self.urls.payments,
                "mutation($i: RefundOrderInput!) { refundOrder(input: $i) {
                    userErrors { code message } } }",
                json!({ "i": { "orderId": order_id, "reason": reason } }),
                &format!("refund:{order_id}"),
            )
            .await?;
        match data["refundOrder"]["userErrors"]
            .as_array()
            .and_then(|e| e.first())
        {
            Some(error) if error["code"] == "RESULT_OUTSTANDING" => Err(CallError::NotYet(
                "payments cannot tell the payment's result yet",
            )),
            _ => Ok(()),
        }
    }
}
