//! `shippingRates`: what each carrier service charges to carry some lines to an address, for the
//! checkout page (checkout asks the same to price the chosen service).

use async_graphql::{Context, InputObject, Object, SimpleObject};
use commerce::address::AddressInput;
use commerce::money::MoneyObject;

use super::{lines, payload, service, ShippingLineInput, ShippingUserError};
use crate::domain::rates::Quote;

#[derive(InputObject)]
pub struct ShippingRatesInput {
    pub address: AddressInput,
    pub lines: Vec<ShippingLineInput>,
}

/// A carrier service's price for the parcel.
#[derive(SimpleObject, Clone, Debug)]
pub struct ShippingRate {
    /// The carrier's code, e.g. `ups`; checkout takes it with `service`.
    pub carrier: String,
    pub carrier_name: String,
    /// The service level's code, e.g. `ground`.
    pub service: String,
    pub service_name: String,
    pub price: MoneyObject,
    /// Business days in transit, fastest and slowest.
    pub min_transit_days: i32,
    pub max_transit_days: i32,
}

impl From<Quote> for ShippingRate {
    fn from(quote: Quote) -> Self {
        Self {
            carrier: quote.carrier,
            carrier_name: quote.carrier_name,
            service: quote.service,
            service_name: quote.service_name,
            price: quote.price.into(),
            min_transit_days: quote.transit_days.0 as i32,
            max_transit_days: quote.transit_days.1 as i32,
        }
    }
}

#[derive(SimpleObject)]
pub struct ShippingRatesPayload {
    /// Cheapest first; empty when no carrier takes the parcel there (a userError says why).
    pub rates: Vec<ShippingRate>,
    pub user_errors: Vec<ShippingUserError>,
}

#[derive(Default)]
pub struct RatesQuery;

#[Object]
impl RatesQuery {
    /// The services that carry these lines to this address, cheapest first. A wrong address,
    /// an unknown product or a parcel no carrier takes (UNSHIPPABLE, saying why) is a userError.
    async fn shipping_rates(
        &self,
        ctx: &Context<'_>,
        input: ShippingRatesInput,
    ) -> async_graphql::Result<ShippingRatesPayload> {
        let lines = lines(input.lines);
        let result = service(ctx).quote(input.address, &lines).await;
        payload(result, |quotes, user_errors| ShippingRatesPayload {
            rates: quotes
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            user_errors,
        })
    }
}
