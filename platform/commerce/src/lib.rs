//! Commerce types more than one domain uses: [`money::Money`], postal addresses ([`address`]),
//! email addresses ([`email`]), variant ids ([`variant`]) and tax rates and amounts ([`tax`]).

pub mod address;
pub mod email;
pub mod money;
pub mod tax;
pub mod variant;
