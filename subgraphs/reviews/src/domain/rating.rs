//! Ratings and a product's rating summary. The summary changes by one review at a time (a new
//! review, an edit, a removal), so it is kept in one row and never recomputed from all reviews.

/// A rating from 1 to 5 stars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rating(u8);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a rating is 1 to 5 stars")]
pub struct InvalidRating;

impl Rating {
    pub fn parse(stars: i64) -> Result<Self, InvalidRating> {
        match stars {
            1..=5 => Ok(Self(stars as u8)),
            _ => Err(InvalidRating),
        }
    }

    pub fn stars(self) -> u8 {
        self.0
    }
}

/// Published reviews' ratings of one product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RatingSummary {
    /// Reviews with 1, 2, 3, 4 and 5 stars.
    pub histogram: [u64; 5],
}

impl RatingSummary {
    pub fn count(&self) -> u64 {
        self.histogram.iter().sum()
    }

    fn total_stars(&self) -> u64 {
        self.histogram
            .iter()
            .zip(1u64..)
            .map(|(count, stars)| count * stars)
            .sum()
    }

    /// The average to one decimal place, rounded half up ("4.3"); `None` without reviews.
    pub fn average(&self) -> Option<String> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let tenths = (self.total_stars() * 10 * 2 + count) / (count * 2);
        Some(format!("{}.{}", tenths / 10, tenths % 10))
    }

    /// A review published (or a rejected one published after all).
    pub fn add(&mut self, rating: Rating) {
        self.histogram[usize::from(rating.0) - 1] += 1;
    }

    /// A review removed, rejected or hidden. Removing what was never added is a bug upstream:
    /// the count stays at zero rather than wrapping.
    pub fn remove(&mut self, rating: Rating) {
        let slot = &mut self.histogram[usize::from(rating.0) - 1];
        *slot = slot.saturating_sub(1);
    }

    /// A published review's rating edited.
    pub fn change(&mut self, from: Rating, to: Rating) {
        self.remove(from);
        self.add(to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(stars: i64) -> Rating {
        Rating::parse(stars).unwrap()
    }

    #[test]
    fn ratings_are_one_to_five_stars() {
        for bad in [0, 6, -1, 100] {
            assert_eq!(Rating::parse(bad), Err(InvalidRating), "{bad}");
        }
        assert_eq!(r(5).stars(), 5);
    }

    #[test]
    fn the_summary_follows_each_review_added_edited_and_removed() {
        let mut summary = RatingSummary::default();
        assert_eq!((summary.count(), summary.average()), (0, None));
        for stars in [5, 4, 4] {
            summary.add(r(stars));
        }
        assert_eq!(summary.histogram, [0, 0, 0, 2, 1]);
        assert_eq!(summary.average().as_deref(), Some("4.3"));
        summary.change(r(5), r(1));
        assert_eq!(summary.histogram, [1, 0, 0, 2, 0]);
        assert_eq!(summary.average().as_deref(), Some("3.0"));
        summary.remove(r(1));
        assert_eq!(summary.average().as_deref(), Some("4.0"));
        // 4.25 rounds half up.
        let mut half = RatingSummary::default();
        for stars in [5, 4, 4, 4] {
            half.add(r(stars));
        }
        assert_eq!(half.average().as_deref(), Some("4.3"));
        // Never below zero.
        let mut empty = RatingSummary::default();
        empty.remove(r(3));
        assert_eq!(empty.count(), 0);
    }
}
