//! Cart rules applied: input parsed into domain values, products checked with the catalog before
//! they enter a cart, changes made atomically by the store, totals from current prices.

use std::sync::Arc;

use commerce::money::Money;

use crate::catalog::{CatalogClient, CatalogError, ProductInfo};
use crate::domain::{self, CartOwner, GuestToken, Quantity, RuleError};
use crate::store::{CartStore, ChangeOutcome, LineChange, StoreError, StoredCart};

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("no product with this id")]
    UnknownProduct,
    #[error("this product is not for sale")]
    ProductUnavailable,
    #[error("this product is priced in {}; the shop sells in {}", .found.as_str(), .shop.as_str())]
    OtherCurrency {
        found: commerce::money::CurrencyCode,
        shop: commerce::money::CurrencyCode,
    },
    #[error("no cart for this token")]
    CartNotFound,
    #[error("the cart has no line for this product")]
    LineNotFound,
    #[error(
        "at most {} units per product (the cart has {current})",
        domain::MAX_QUANTITY
    )]
    QuantityLimit { current: i64 },
    #[error("a cart holds at most {} products", domain::MAX_LINES)]
    LineLimit,
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type CartResult<T> = Result<T, CartError>;

/// A cart line with the catalog's current price.
#[derive(Clone, Debug, PartialEq)]
pub struct PricedLine {
    pub product_id: String,
    pub quantity: i64,
    /// `None` when the product is gone from the catalog.
    pub unit_price: Option<Money>,
    /// False when the product is gone, not for sale, or priced in another currency than the
    /// cart: such a line stays in the cart, flagged, and out of the subtotal.
    pub available: bool,
}

impl PricedLine {
    pub fn total(&self) -> Option<Money> {
        self.unit_price.map(|price| Money {
            minor_units: price.minor_units * self.quantity,
            currency: price.currency,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PricedCart {
    pub lines: Vec<PricedLine>,
    /// Units in the cart, available or not.
    pub item_count: i64,
    /// The available lines' total, in the currency of the first of them; `None` without any.
    pub subtotal: Option<Money>,
}

pub struct CartsService {
    pub store: Arc<dyn CartStore>,
    catalog: CatalogClient,
    /// The shop's one currency.
    currency: commerce::money::CurrencyCode,
}

impl CartsService {
    pub fn new(
        store: Arc<dyn CartStore>,
        catalog: CatalogClient,
        currency: commerce::money::CurrencyCode,
    ) -> Self {
        Self {
            store,
            catalog,
            currency,
        }
    }

    pub async fn create_guest_cart(&self) -> CartResult<(GuestToken, StoredCart)> {
        let token = GuestToken::generate();
        let owner = CartOwner::Guest(token.clone());
        let cart = self.store.create(&owner.key(), owner.ttl()).await?;
        Ok((token, cart))
    }

    pub async fn cart(&self, owner: &CartOwner) -> CartResult<Option<StoredCart>> {
        Ok(self.store.get(&owner.key()).await?)
    }

    /// Adds units of an active product; a user's cart is created by its first line.
    pub async fn add(
        &self,
        owner: &CartOwner,
        product_id: &str,
        quantity: i64,
    ) -> CartResult<StoredCart> {
        let product_id = domain::parse_product_id(product_id)?;
        let quantity = Quantity::parse(quantity)?;
        self.require_for_sale(&product_id).await?;
        let create = matches!(owner, CartOwner::User(_));
        self.change(owner, &product_id, LineChange::Add(quantity.get()), create)
            .await
    }

    pub async fn set_quantity(
        &self,
        owner: &CartOwner,
        product_id: &str,
        quantity: i64,
    ) -> CartResult<StoredCart> {
        let quantity = Quantity::parse(quantity)?;
        self.change(owner, product_id, LineChange::Set(quantity.get()), false)
            .await
    }

    pub async fn remove(&self, owner: &CartOwner, product_id: &str) -> CartResult<StoredCart> {
        self.change(owner, product_id, LineChange::Remove, false)
            .await
    }

    pub async fn clear(&self, owner: &CartOwner) -> CartResult<StoredCart> {
        self.store
            .clear(&owner.key(), owner.ttl())
            .await?
            .ok_or(CartError::CartNotFound)
    }

    /// Moves a guest cart into the user's cart (at sign-in): quantities summed up to the line
    /// maximum, lines beyond the cart's limit left out; the guest cart is gone afterwards.
    pub async fn merge(&self, user_id: &str, guest: &GuestToken) -> CartResult<StoredCart> {
        let user = CartOwner::User(user_id.into());
        let from = CartOwner::Guest(guest.clone()).key();
        self.store
            .merge(&from, &user.key(), user.ttl())
            .await?
            .ok_or(CartError::CartNotFound)
    }

    /// The cart with current prices: one catalog call for all its lines.
    pub async fn priced(&self, cart: &StoredCart) -> CartResult<PricedCart> {
        let ids: Vec<String> = cart.lines.iter().map(|l| l.product_id.clone()).collect();
        let products = self.catalog.products(&ids).await?;
        let currency = cart
            .lines
            .iter()
            .filter_map(|l| products.get(&l.product_id))
            .find(|p| p.active)
            .map(|p| p.price.currency);
        let lines: Vec<PricedLine> = cart
            .lines
            .iter()
            .map(|line| {
                let product: Option<&ProductInfo> = products.get(&line.product_id);
                PricedLine {
                    product_id: line.product_id.clone(),
                    quantity: line.quantity,
                    unit_price: product.map(|p| p.price),
                    available: product
                        .is_some_and(|p| p.active && Some(p.price.currency) == currency),
                }
            })
            .collect();
        let subtotal = currency.map(|currency| Money {
            minor_units: lines
                .iter()
                .filter(|l| l.available)
                .filter_map(PricedLine::total)
                .map(|m| m.minor_units)
                .sum(),
            currency,
        });
        Ok(PricedCart {
            item_count: lines.iter().map(|l| l.quantity).sum(),
            lines,
            subtotal,
        })
    }

    async fn require_for_sale(&self, product_id: &str) -> CartResult<()> {
        match self
            .catalog
            .products(&[product_id.to_string()])
            .await?
            .get(product_id)
        {
            None => Err(CartError::UnknownProduct),
            Some(p) if !p.active => Err(CartError::ProductUnavailable),
            // Every line in the shop's one currency, so a cart never holds two.
            Some(p) if p.price.currency != self.currency => Err(CartError::OtherCurrency {
                found: p.price.currency,
                shop: self.currency,
            }),
            Some(_) => Ok(()),
        }
    }

    async fn change(
        &self,
        owner: &CartOwner,
        product_id: &str,
        change: LineChange,
        create: bool,
    ) -> CartResult<StoredCart> {
        match self
            .store
            .change(&owner.key(), product_id, change, create, owner.ttl())
            .await?
        {
            ChangeOutcome::Changed(cart) => Ok(cart),
            ChangeOutcome::NoCart => Err(CartError::CartNotFound),
            ChangeOutcome::NoLine => Err(CartError::LineNotFound),
            ChangeOutcome::TooMany { current } => Err(CartError::QuantityLimit { current }),
            ChangeOutcome::TooManyLines => Err(CartError::LineLimit),
        }
    }
}
