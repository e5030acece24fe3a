//! Cart rules applied: input parsed into domain values, variants checked with the catalog before
//! they enter a cart, changes made atomically by the store, totals from current prices.

use std::sync::Arc;

use commerce::money::Money;

use crate::catalog::{CatalogClient, CatalogError, VariantInfo};
use crate::domain::{self, CartOwner, GuestToken, Quantity, RuleError};
use crate::store::{CartStore, ChangeOutcome, LineChange, StoreError, StoredCart};

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("no product with this id")]
    UnknownProduct,
    #[error("no variant with this id")]
    UnknownVariant,
    #[error("this product has {0} variants on sale: choose one (variantId)")]
    VariantRequired(usize),
    #[error("this product is not for sale")]
    ProductUnavailable,
    #[error("this product is priced in {}; the shop sells in {}", .found.as_str(), .shop.as_str())]
    OtherCurrency {
        found: commerce::money::CurrencyCode,
        shop: commerce::money::CurrencyCode,
    },
    #[error("no cart for this token")]
    CartNotFound,
    #[error("the cart has no line for this variant")]
    LineNotFound,
    #[error(
        "at most {} units per variant (the cart has {current})",
        domain::MAX_QUANTITY
    )]
    QuantityLimit { current: i64 },
    #[error("a cart holds at most {} lines", domain::MAX_LINES)]
    LineLimit,
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type CartResult<T> = Result<T, CartError>;

/// Which line an input means: a variant, or a product (its only variant on sale when adding;
/// its one line in the cart when changing or removing).
#[derive(Clone, Debug, Default)]
pub struct LineItem {
    pub variant_id: Option<String>,
    pub product_id: Option<String>,
}

/// A cart line with the catalog's current price.
#[derive(Clone, Debug, PartialEq)]
pub struct PricedLine {
    pub variant_id: String,
    pub product_id: String,
    pub quantity: i64,
    /// `None` when the variant is gone from the catalog.
    pub unit_price: Option<Money>,
    /// False when the variant is gone, not for sale, or priced in another currency than the
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

    /// Adds units of a variant on sale; a user's cart is created by its first line.
    pub async fn add(
        &self,
        owner: &CartOwner,
        item: &LineItem,
        quantity: i64,
    ) -> CartResult<StoredCart> {
        let quantity = Quantity::parse(quantity)?;
        let variant_id = self.variant_to_add(item).await?;
        let product_id = self.require_for_sale(&variant_id).await?;
        let create = matches!(owner, CartOwner::User(_));
        let add = LineChange::Add {
            quantity: quantity.get(),
            product_id,
        };
        self.change(owner, &variant_id, add, create).await
    }

    pub async fn set_quantity(
        &self,
        owner: &CartOwner,
        item: &LineItem,
        quantity: i64,
    ) -> CartResult<StoredCart> {
        let quantity = Quantity::parse(quantity)?;
        let variant_id = self.line_variant(owner, item).await?;
        self.change(owner, &variant_id, LineChange::Set(quantity.get()), false)
            .await
    }

    pub async fn remove(&self, owner: &CartOwner, item: &LineItem) -> CartResult<StoredCart> {
        let variant_id = self.line_variant(owner, item).await?;
        self.change(owner, &variant_id, LineChange::Remove, false)
            .await
    }

    /// The variant a new line is for: the one named, or a product's only variant on sale.
    async fn variant_to_add(&self, item: &LineItem) -> CartResult<String> {
        if let Some(variant_id) = &item.variant_id {
            return Ok(domain::parse_variant_id(variant_id)?);
        }
        let product_id = domain::parse_product_id(item.product_id.as_deref().unwrap_or_default())?;
        match self.catalog.variants_of(&product_id).await? {
            None => Err(CartError::UnknownProduct),
            Some(mut variants) if variants.len() == 1 => Ok(variants.remove(0)),
            Some(variants) if variants.is_empty() => Err(CartError::ProductUnavailable),
            Some(variants) => Err(CartError::VariantRequired(variants.len())),
        }
    }

    /// The variant of an existing line: the one named, or the product's one line in the cart.
    async fn line_variant(&self, owner: &CartOwner, item: &LineItem) -> CartResult<String> {
        if let Some(variant_id) = &item.variant_id {
            return Ok(variant_id.clone());
        }
        let product_id = item.product_id.as_deref().unwrap_or_default();
        let cart = self.cart(owner).await?.ok_or(CartError::CartNotFound)?;
        let mut lines = cart.lines.iter().filter(|l| l.product_id == product_id);
        match (lines.next(), lines.next()) {
            (Some(line), None) => Ok(line.variant_id.clone()),
            (None, _) => Err(CartError::LineNotFound),
            (Some(_), Some(_)) => Err(CartError::VariantRequired(2)),
        }
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
        let ids: Vec<String> = cart.lines.iter().map(|l| l.variant_id.clone()).collect();
        let variants = self.catalog.variants(&ids).await?;
        let currency = cart
            .lines
            .iter()
            .filter_map(|l| variants.get(&l.variant_id))
            .find(|p| p.active)
            .map(|p| p.price.currency);
        let lines: Vec<PricedLine> = cart
            .lines
            .iter()
            .map(|line| {
                let variant: Option<&VariantInfo> = variants.get(&line.variant_id);
                PricedLine {
                    variant_id: line.variant_id.clone(),
                    product_id: line.product_id.clone(),
                    quantity: line.quantity,
                    unit_price: variant.map(|v| v.price),
                    available: variant
                        .is_some_and(|v| v.active && Some(v.price.currency) == currency),
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

    /// The product of a variant on sale in the shop's currency.
    async fn require_for_sale(&self, variant_id: &str) -> CartResult<String> {
        match self
            .catalog
            .variants(&[variant_id.to_string()])
            .await?
            .get(variant_id)
        {
            None => Err(CartError::UnknownVariant),
            Some(p) if !p.active => Err(CartError::ProductUnavailable),
            // Every line in the shop's one currency, so a cart never holds two.
            Some(p) if p.price.currency != self.currency => Err(CartError::OtherCurrency {
                found: p.price.currency,
                shop: self.currency,
            }),
            Some(p) => Ok(p.product_id.clone()),
        }
    }

    async fn change(
        &self,
        owner: &CartOwner,
        variant_id: &str,
        change: LineChange,
        create: bool,
    ) -> CartResult<StoredCart> {
        match self
            .store
            .change(&owner.key(), variant_id, change, create, owner.ttl())
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
