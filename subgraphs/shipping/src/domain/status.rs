//! A shipment's status, as its carrier reports it. The current status is the one of the latest
//! tracking event by when it happened, so events that arrive out of order settle on the same
//! status as in order.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShipmentStatus {
    LabelCreated,
    InTransit,
    OutForDelivery,
    Delivered,
    /// The carrier cannot deliver as planned (damaged, address problem); it may recover.
    Exception,
    /// Back with the sender.
    Returned,
}

impl ShipmentStatus {
    pub const ALL: [Self; 6] = [
        Self::LabelCreated,
        Self::InTransit,
        Self::OutForDelivery,
        Self::Delivered,
        Self::Exception,
        Self::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LabelCreated => "label_created",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Exception => "exception",
            Self::Returned => "returned",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Nothing follows these for the customer.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Returned)
    }

    /// The next step of a parcel on its way (the simulated carrier's script); none after
    /// delivery, return or an exception.
    pub fn next_on_the_way(self) -> Option<Self> {
        match self {
            Self::LabelCreated => Some(Self::InTransit),
            Self::InTransit => Some(Self::OutForDelivery),
            Self::OutForDelivery => Some(Self::Delivered),
            Self::Delivered | Self::Exception | Self::Returned => None,
        }
    }

    /// The description a carrier gives when it says nothing else.
    pub fn default_description(self) -> &'static str {
        match self {
            Self::LabelCreated => "Shipping label created",
            Self::InTransit => "In transit",
            Self::OutForDelivery => "Out for delivery",
            Self::Delivered => "Delivered",
            Self::Exception => "Delivery exception",
            Self::Returned => "Returned to sender",
        }
    }
}

/// A tracking event as the carrier reported it (or an admin entered it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackingEvent {
    pub status: ShipmentStatus,
    /// When it happened (milliseconds), not when we heard of it.
    pub occurred_at: i64,
}

/// The event that gives a shipment its current status: the latest by when it happened; of two
/// at the same moment, the one further along (a final status wins).
pub fn latest(events: &[TrackingEvent]) -> Option<&TrackingEvent> {
    events
        .iter()
        .max_by_key(|e| (e.occurred_at, e.status.is_final(), e.status))
}

#[cfg(test)]
mod tests {
    use super::ShipmentStatus::*;
    use super::*;

    fn current_status(events: &[TrackingEvent]) -> Option<ShipmentStatus> {
        latest(events).map(|e| e.status)
    }

    fn at(status: ShipmentStatus, occurred_at: i64) -> TrackingEvent {
        TrackingEvent {
            status,
            occurred_at,
        }
    }

    #[test]
    fn the_latest_event_by_when_it_happened_decides() {
        let in_order = [at(LabelCreated, 1), at(InTransit, 2), at(Delivered, 3)];
        let mut shuffled = in_order.clone();
        shuffled.reverse();
        assert_eq!(current_status(&in_order), Some(Delivered));
        assert_eq!(current_status(&shuffled), Some(Delivered));
        // An exception that is later resolved.
        let recovered = [at(InTransit, 2), at(Exception, 3), at(OutForDelivery, 4)];
        assert_eq!(current_status(&recovered), Some(OutForDelivery));
        // Same moment: the final status wins.
        assert_eq!(
            current_status(&[at(Delivered, 5), at(OutForDelivery, 5)]),
            Some(Delivered)
        );
        assert_eq!(current_status(&[]), None);
    }

    #[test]
    fn names_round_trip_and_the_script_ends_at_delivery() {
        for status in ShipmentStatus::ALL {
            assert_eq!(ShipmentStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ShipmentStatus::parse("lost"), None);
        let mut step = LabelCreated;
        let mut steps = vec![step];
        while let Some(next) = step.next_on_the_way() {
            step = next;
            steps.push(step);
        }
        assert_eq!(steps, [LabelCreated, InTransit, OutForDelivery, Delivered]);
    }
}
