//! Promotions: discount codes and automatic promotions, whether one applies to an order, and what
//! it takes off, in integer minor units. A discount never takes a line or the shipping below
//! zero: each promotion works on what the ones before it left.
//!
//! Stacking: promotions that combine all apply together, one after another (oldest first); a
//! promotion that does not combine applies alone. Of those choices the customer gets the one
//! that takes off the most.

use commerce::money::CurrencyCode;
use commerce::tax::PPM;

/// What a promotion gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Benefit {
    /// A share of the eligible lines, in parts per million (10% is 100,000).
    PercentOff { ppm: u32 },
    /// An amount off the eligible lines together (never more than they cost).
    AmountOff { minor: i64 },
    /// The shipping, whole.
    FreeShipping,
    /// Of every `buy + get` eligible units (dearest first), the `get` cheapest at `ppm` off
    /// (1,000,000: free).
    BuyXGetY { buy: u32, get: u32, ppm: u32 },
}

/// Which lines a promotion's benefit is for (free shipping ignores it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Order,
    Products(Vec<String>),
    Collections(Vec<String>),
    /// These categories and every category below them.
    Categories(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promotion {
    pub id: String,
    pub name: String,
    /// Upper case; none for an automatic promotion.
    pub code: Option<String>,
    pub benefit: Benefit,
    pub target: Target,
    /// The currency of its amounts (the amount off, the minimum): it applies to orders in it only.
    pub currency: CurrencyCode,
    pub min_subtotal_minor: Option<i64>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    /// Orders holding a use (paid, or still checking out).
    pub uses: i64,
    pub combines: bool,
    pub active: bool,
    pub created_at: i64,
}

/// A line as promotions see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscountableLine {
    pub product_id: String,
    /// Its product's category and the categories above it.
    pub category_path: Vec<String>,
    pub collection_ids: Vec<String>,
    pub unit_price_minor: i64,
    pub quantity: i64,
}

impl DiscountableLine {
    fn total(&self) -> i64 {
        self.unit_price_minor * self.quantity
    }
}

/// Why a promotion does not apply to an order, as the customer is told.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("is not active")]
    Inactive,
    #[error("has not started yet")]
    NotStarted,
    #[error("has ended")]
    Ended,
    #[error("has been used up")]
    UsedUp,
    #[error("has been used as often as one customer may")]
    CustomerLimit,
    #[error("needs a subtotal of at least {minimum}")]
    BelowMinimum { minimum: String },
    #[error("is for orders in {0}")]
    OtherCurrency(&'static str),
    #[error("does not apply to anything in the cart")]
    NothingEligible,
}

/// What one promotion takes off an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub promotion_id: String,
    pub name: String,
    pub code: Option<String>,
    /// Per line, in order.
    pub lines: Vec<i64>,
    pub shipping: i64,
}

impl Applied {
    pub fn total(&self) -> i64 {
        self.lines.iter().sum::<i64>() + self.shipping
    }
}

/// The order a promotion is weighed against.
#[derive(Clone, Copy, Debug)]
pub struct Order<'a> {
    pub lines: &'a [DiscountableLine],
    pub shipping_minor: i64,
    pub currency: CurrencyCode,
    pub now: i64,
}

impl Order<'_> {
    fn subtotal(&self) -> i64 {
        self.lines.iter().map(DiscountableLine::total).sum()
    }
}

impl Promotion {
    /// Why it cannot apply to `order` for a customer who used it `customer_uses` times; `Ok`
    /// when it can (its benefit may still come to nothing).
    pub fn check(&self, order: &Order<'_>, customer_uses: i64) -> Result<(), Refusal> {
        if !self.active {
            return Err(Refusal::Inactive);
        }
        if self.starts_at.is_some_and(|at| order.now < at) {
            return Err(Refusal::NotStarted);
        }
        if self.ends_at.is_some_and(|at| order.now >= at) {
            return Err(Refusal::Ended);
        }
        if self.usage_limit.is_some_and(|limit| self.uses >= limit) {
            return Err(Refusal::UsedUp);
        }
        if self
            .per_customer_limit
            .is_some_and(|limit| customer_uses >= limit)
        {
            return Err(Refusal::CustomerLimit);
        }
        if self.currency != order.currency {
            return Err(Refusal::OtherCurrency(self.currency.as_str()));
        }
        if let Some(minimum) = self.min_subtotal_minor {
            if order.subtotal() < minimum {
                let minimum = commerce::money::Money {
                    minor_units: minimum,
                    currency: self.currency,
                };
                return Err(Refusal::BelowMinimum {
                    minimum: format!("{} {}", minimum.amount(), self.currency.as_str()),
                });
            }
        }
        if !matches!(self.benefit, Benefit::FreeShipping)
            && !order.lines.iter().any(|line| self.targets(line))
        {
            return Err(Refusal::NothingEligible);
        }
        Ok(())
    }

    fn targets(&self, line: &DiscountableLine) -> bool {
        let any_of = |ids: &[String], of: &[String]| ids.iter().any(|id| of.contains(id));
        match &self.target {
            Target::Order => true,
            Target::Products(ids) => ids.contains(&line.product_id),
            Target::Collections(ids) => any_of(ids, &line.collection_ids),
            Target::Categories(ids) => any_of(ids, &line.category_path),
        }
    }

    /// What it takes off `order`, given what earlier promotions left of each line and of the
    /// shipping.
    fn apply(&self, order: &Order<'_>, left: &[i64], shipping_left: i64) -> Applied {
        let eligible: Vec<usize> = (0..order.lines.len())
            .filter(|&i| self.targets(&order.lines[i]))
            .collect();
        let mut lines = vec![0; order.lines.len()];
        let mut shipping = 0;
        let weights = |members: &[usize]| members.iter().map(|&i| left[i]).collect::<Vec<_>>();
        match &self.benefit {
            Benefit::PercentOff { ppm } => {
                let base: i64 = eligible.iter().map(|&i| left[i]).sum();
                let total = share(base, *ppm);
                for (&i, part) in eligible.iter().zip(spread(total, &weights(&eligible))) {
                    lines[i] = part;
                }
            }
            Benefit::AmountOff { minor } => {
                let base: i64 = eligible.iter().map(|&i| left[i]).sum();
                let total = (*minor).min(base);
                for (&i, part) in eligible.iter().zip(spread(total, &weights(&eligible))) {
                    lines[i] = part;
                }
            }
            Benefit::FreeShipping => shipping = shipping_left,
            Benefit::BuyXGetY { buy, get, ppm } => {
                // Every eligible unit, dearest first; of each full group the last `get` are
                // the group's cheapest.
                let mut units: Vec<(i64, usize)> = eligible
                    .iter()
                    .flat_map(|&i| {
                        let line = &order.lines[i];
                        std::iter::repeat_n((line.unit_price_minor, i), line.quantity as usize)
                    })
                    .collect();
                units.sort_by_key(|&(price, i)| (std::cmp::Reverse(price), i));
                let group = (*buy + *get) as usize;
                for chunk in units.chunks(group).filter(|c| c.len() == group) {
                    for &(price, i) in &chunk[*buy as usize..] {
                        lines[i] += share(price, *ppm);
                    }
                }
                for (i, taken) in lines.iter_mut().enumerate() {
                    *taken = (*taken).min(left[i]);
                }
            }
        }
        Applied {
            promotion_id: self.id.clone(),
            name: self.name.clone(),
            code: self.code.clone(),
            lines,
            shipping,
        }
    }
}

/// `amount × ppm / 1,000,000`, rounded half to even.
fn share(amount: i64, ppm: u32) -> i64 {
    let numerator = amount as i128 * ppm as i128;
    let denominator = PPM as i128;
    let (quotient, remainder) = (numerator / denominator, numerator % denominator);
    let rounded = match (2 * remainder).cmp(&denominator) {
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + quotient % 2,
        std::cmp::Ordering::Less => quotient,
    };
    rounded as i64
}

/// `total` spread over `weights` in proportion, by largest remainder (ties to the earlier), so
/// the parts add up to `total` and none exceeds its weight when `total` does not exceed theirs.
fn spread(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|&w| w as i128).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<(i128, i128)> = weights
        .iter()
        .map(|&w| {
            let n = total as i128 * w as i128;
            (n / sum, n % sum)
        })
        .collect();
    let mut parts: Vec<i64> = exact.iter().map(|(q, _)| *q as i64).collect();
    let mut left = total - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(exact[i].1), i));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// The promotions `order` gets of `applicable` (each already [`Promotion::check`]ed), by the
/// stacking rule: all that combine, one after another, or one that does not combine alone,
/// whichever takes off the most (the combined ones on a tie).
pub fn best(applicable: &[&Promotion], order: &Order<'_>) -> Vec<Applied> {
    let run = |chosen: &[&Promotion]| -> Vec<Applied> {
        let mut left: Vec<i64> = order.lines.iter().map(DiscountableLine::total).collect();
        let mut shipping_left = order.shipping_minor;
        let mut applied = Vec::new();
        for promotion in chosen {
            let taken = promotion.apply(order, &left, shipping_left);
            for (l, t) in left.iter_mut().zip(&taken.lines) {
                *l -= t;
            }
            shipping_left -= taken.shipping;
            if taken.total() > 0 {
                applied.push(taken);
            }
        }
        applied
    };
    let mut sorted: Vec<&Promotion> = applicable.to_vec();
    sorted.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let combining: Vec<&Promotion> = sorted.iter().copied().filter(|p| p.combines).collect();
    let total = |applied: &[Applied]| applied.iter().map(Applied::total).sum::<i64>();
    let mut best = run(&combining);
    for alone in sorted.iter().filter(|p| !p.combines) {
        let candidate = run(&[alone]);
        if total(&candidate) > total(&best) {
            best = candidate;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promotion(id: &str, benefit: Benefit, target: Target) -> Promotion {
        Promotion {
            id: id.into(),
            name: id.into(),
            code: None,
            benefit,
            target,
            currency: CurrencyCode::Usd,
            min_subtotal_minor: None,
            starts_at: None,
            ends_at: None,
            usage_limit: None,
            per_customer_limit: None,
            uses: 0,
            combines: true,
            active: true,
            created_at: 1,
        }
    }

    fn line(product: &str, collection: &str, unit: i64, quantity: i64) -> DiscountableLine {
        DiscountableLine {
            product_id: product.into(),
            category_path: vec!["cat_root".into(), format!("cat_{product}")],
            collection_ids: vec![collection.into()],
            unit_price_minor: unit,
            quantity,
        }
    }

    fn order(lines: &[DiscountableLine], shipping_minor: i64) -> Order<'_> {
        Order {
            lines,
            shipping_minor,
            currency: CurrencyCode::Usd,
            now: 1_000,
        }
    }

    #[test]
    fn ten_percent_off_a_collection_and_free_shipping_over_fifty() {
        let lines = [
            line("lamp", "col_lights", 2_999, 2),
            line("mug", "col_kitchen", 1_000, 1),
        ];
        let order = order(&lines, 795);
        let lights = promotion(
            "p1",
            Benefit::PercentOff { ppm: 100_000 },
            Target::Collections(vec!["col_lights".into()]),
        );
        let mut shipping = promotion("p2", Benefit::FreeShipping, Target::Order);
        shipping.min_subtotal_minor = Some(5_000);
        assert_eq!(lights.check(&order, 0), Ok(()));
        assert_eq!(shipping.check(&order, 0), Ok(()));
        let applied = best(&[&lights, &shipping], &order);
        assert_eq!(applied.len(), 2);
        // 10% of 59.98 is 5.998: 6.00, all of it on the lamps.
        assert_eq!(applied[0].lines, [600, 0]);
        assert_eq!(applied[1].shipping, 795);
        let small = [line("mug", "col_kitchen", 1_000, 1)];
        assert_eq!(
            shipping.check(&self::order(&small, 795), 0),
            Err(Refusal::BelowMinimum {
                minimum: "50.00 USD".into()
            })
        );
        assert_eq!(
            lights.check(&self::order(&small, 795), 0),
            Err(Refusal::NothingEligible)
        );
    }

    #[test]
    fn expired_used_up_and_not_yet_started_promotions_are_refused() {
        let lines = [line("lamp", "c", 1_000, 1)];
        let order = order(&lines, 0);
        let mut p = promotion("p", Benefit::AmountOff { minor: 100 }, Target::Order);
        p.ends_at = Some(1_000);
        assert_eq!(p.check(&order, 0), Err(Refusal::Ended));
        p.ends_at = None;
        p.starts_at = Some(1_001);
        assert_eq!(p.check(&order, 0), Err(Refusal::NotStarted));
        p.starts_at = None;
        p.usage_limit = Some(100);
        p.uses = 100;
        assert_eq!(p.check(&order, 0), Err(Refusal::UsedUp));
        p.uses = 99;
        p.per_customer_limit = Some(1);
        assert_eq!(p.check(&order, 1), Err(Refusal::CustomerLimit));
        assert_eq!(p.check(&order, 0), Ok(()));
        p.currency = CurrencyCode::Eur;
        assert_eq!(p.check(&order, 0), Err(Refusal::OtherCurrency("EUR")));
    }

    #[test]
    fn a_discount_bigger_than_the_order_takes_it_to_zero_and_leaves_the_shipping() {
        let lines = [line("a", "c", 333, 1), line("b", "c", 667, 2)];
        let order = order(&lines, 500);
        let huge = promotion("p", Benefit::AmountOff { minor: 1_000_000 }, Target::Order);
        let applied = best(&[&huge], &order);
        assert_eq!(applied[0].lines, [333, 1_334], "never below zero");
        assert_eq!(applied[0].shipping, 0, "the shipping is not discounted");
        // Two that combine cannot take more than the lines cost either.
        let half = promotion("q", Benefit::PercentOff { ppm: 600_000 }, Target::Order);
        let again = promotion("r", Benefit::PercentOff { ppm: 600_000 }, Target::Order);
        let applied = best(&[&half, &again], &order);
        let taken: Vec<i64> = (0..2)
            .map(|i| applied.iter().map(|a| a.lines[i]).sum())
            .collect();
        assert!(taken[0] <= 333 && taken[1] <= 1_334, "{taken:?}");
    }

    #[test]
    fn an_amount_off_is_spread_over_the_lines_in_proportion_to_the_cent() {
        let lines = [
            line("a", "c", 100, 1),
            line("b", "c", 100, 1),
            line("c", "c", 100, 1),
        ];
        let applied = best(
            &[&promotion(
                "p",
                Benefit::AmountOff { minor: 100 },
                Target::Order,
            )],
            &order(&lines, 0),
        );
        assert_eq!(applied[0].lines, [34, 33, 33]);
    }

    #[test]
    fn buy_two_get_one_free_takes_the_cheapest_of_each_three() {
        let lines = [
            line("a", "c", 1_000, 2),
            line("b", "c", 500, 2),
            line("c", "c", 200, 1),
        ];
        let b2g1 = promotion(
            "p",
            Benefit::BuyXGetY {
                buy: 2,
                get: 1,
                ppm: PPM,
            },
            Target::Order,
        );
        // Dearest first: 10, 10, 5 | 5, 2: one full group, its cheapest (a 5.00) free.
        let applied = best(&[&b2g1], &order(&lines, 0));
        assert_eq!(applied[0].lines, [0, 500, 0]);
    }

    #[test]
    fn a_promotion_that_does_not_combine_applies_alone_when_it_gives_more() {
        let lines = [line("a", "c", 10_000, 1)];
        let order = order(&lines, 0);
        let five = promotion("p", Benefit::PercentOff { ppm: 50_000 }, Target::Order);
        let ten = promotion("q", Benefit::AmountOff { minor: 1_000 }, Target::Order);
        let mut thirty = promotion("r", Benefit::PercentOff { ppm: 300_000 }, Target::Order);
        thirty.combines = false;
        let applied = best(&[&five, &ten, &thirty], &order);
        assert_eq!(applied.len(), 1);
        assert_eq!(applied[0].promotion_id, "r");
        thirty.benefit = Benefit::PercentOff { ppm: 100_000 };
        let applied = best(&[&five, &ten, &thirty], &order);
        let ids: Vec<&str> = applied.iter().map(|a| a.promotion_id.as_str()).collect();
        assert_eq!(
            ids,
            ["p", "q"],
            "5% then 10.00 off take 15.00, more than 10%"
        );
    }
}
