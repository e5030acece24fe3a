//! Commerce types more than one domain uses: [`money::Money`] and postal addresses
//! ([`address`]).

pub mod address;
pub mod money;
