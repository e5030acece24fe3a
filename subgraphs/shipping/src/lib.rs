//! Shipping. So far the rate rules the checkout will quote with: carriers' service levels priced
//! by destination zone and weight band, in integer minor units. The subgraph (rates at checkout,
//! shipments, tracking webhooks, a simulated carrier) comes with issue 10.

pub mod domain;
