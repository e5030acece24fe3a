//! Reviews. So far the rules the subgraph will stand on: ratings from 1 to 5, a product's rating
//! kept up to date incrementally (count, average, histogram), and what holds a review for
//! moderation. The subgraph (verified buyers from order and shipment events, helpful votes,
//! reports) comes with issue 10.

pub mod domain;
