//! Commerce types more than one domain uses: [`money::Money`], postal addresses ([`address`])
//! and variant ids ([`variant`]).

pub mod address;
pub mod money;
pub mod variant;
