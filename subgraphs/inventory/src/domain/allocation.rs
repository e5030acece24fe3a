//! Which warehouse serves a line. The rule: one warehouse when one can: among the active
//! warehouses whose available stock covers the whole line, the one with the most available (ties:
//! the lower warehouse code), so parcels are not split and stock stays balanced. Otherwise the
//! line is split over the warehouses with the most available first. A line that all active
//! warehouses together cannot cover is not allocated.

/// A warehouse's available stock of one product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    pub warehouse_id: String,
    pub warehouse_code: String,
    pub available: i64,
}

/// Units of a line taken from one warehouse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub warehouse_id: String,
    pub quantity: i64,
}

/// `quantity` units from `levels` (active warehouses only), or `None` when they do not suffice.
pub fn allocate(quantity: i64, levels: &[Level]) -> Option<Vec<Allocation>> {
    let mut ordered: Vec<&Level> = levels.iter().filter(|l| l.available > 0).collect();
    ordered.sort_by(|a, b| {
        b.available
            .cmp(&a.available)
            .then_with(|| a.warehouse_code.cmp(&b.warehouse_code))
    });
    if let Some(single) = ordered.iter().find(|l| l.available >= quantity) {
        return Some(vec![Allocation {
            warehouse_id: single.warehouse_id.clone(),
            quantity,
        }]);
    }
    let mut left = quantity;
    let mut allocations = Vec::new();
    for level in ordered {
        let take = level.available.min(left);
        allocations.push(Allocation {
            warehouse_id: level.warehouse_id.clone(),
            quantity: take,
        });
        left -= take;
        if left == 0 {
            return Some(allocations);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(code: &str, available: i64) -> Level {
        Level {
            warehouse_id: format!("wh_{code}"),
            warehouse_code: code.into(),
            available,
        }
    }

    fn taken(allocations: Option<Vec<Allocation>>) -> Vec<(String, i64)> {
        allocations
            .unwrap()
            .into_iter()
            .map(|a| (a.warehouse_id, a.quantity))
            .collect()
    }

    #[test]
    fn one_warehouse_serves_a_line_when_one_can() {
        let levels = [level("A", 3), level("B", 8), level("C", 8)];
        assert_eq!(taken(allocate(2, &levels)), vec![("wh_B".into(), 2)]);
        assert_eq!(taken(allocate(8, &levels)), vec![("wh_B".into(), 8)]);
    }

    #[test]
    fn otherwise_the_line_is_split_most_available_first() {
        let levels = [level("A", 3), level("B", 5), level("C", 0)];
        assert_eq!(
            taken(allocate(7, &levels)),
            vec![("wh_B".into(), 5), ("wh_A".into(), 2)]
        );
        assert_eq!(allocate(9, &levels), None);
        assert_eq!(allocate(1, &[]), None);
    }
}
