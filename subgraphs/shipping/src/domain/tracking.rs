//! Tracking numbers in each carrier's format. A shipment's number follows from its id (the same
//! shipment, the same number), so creating a shipment again after a crash makes the same one.

/// A carrier's tracking-number format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackingFormat {
    /// UPS: `1Z`, then 16 digits or capital letters.
    Ups,
    /// USPS: 22 digits starting `94`.
    Usps,
    /// DHL Express: 10 digits.
    Dhl,
    /// FedEx: 12 digits.
    Fedex,
    /// Any other carrier: its code in capitals and 12 digits.
    Generic,
}

impl TrackingFormat {
    pub fn of(carrier: &str) -> Self {
        match carrier {
            "ups" => Self::Ups,
            "usps" => Self::Usps,
            "dhl" => Self::Dhl,
            "fedex" => Self::Fedex,
            _ => Self::Generic,
        }
    }
}

/// The tracking number of shipment `shipment_id` with `carrier`.
pub fn tracking_number(carrier: &str, shipment_id: &str) -> String {
    let hash = primitives::id::sha256_hex(format!("{carrier}\n{shipment_id}").as_bytes());
    // Hex digits mapped onto decimal digits: uniform enough for a number nobody computes with.
    let digits: String = hash.bytes().map(|b| char::from(b'0' + (b % 10))).collect();
    match TrackingFormat::of(carrier) {
        TrackingFormat::Ups => format!("1Z{}", hash[..16].to_uppercase()),
        TrackingFormat::Usps => format!("94{}", &digits[..20]),
        TrackingFormat::Dhl => digits[..10].to_string(),
        TrackingFormat::Fedex => digits[..12].to_string(),
        TrackingFormat::Generic => format!("{}{}", carrier.to_uppercase(), &digits[..12]),
    }
}

/// Whether `number` has `carrier`'s format (admins entering a number by hand).
pub fn is_valid(carrier: &str, number: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match TrackingFormat::of(carrier) {
        TrackingFormat::Ups => {
            number.len() == 18
                && number.starts_with("1Z")
                && number[2..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        }
        TrackingFormat::Usps => number.starts_with("94") && digits(number, 22),
        TrackingFormat::Dhl => digits(number, 10),
        TrackingFormat::Fedex => digits(number, 12),
        TrackingFormat::Generic => number
            .strip_prefix(&carrier.to_uppercase())
            .is_some_and(|rest| digits(rest, 12)),
    }
}

/// Where a customer follows the parcel on the carrier's site.
pub fn tracking_url(carrier: &str, number: &str) -> Option<String> {
    match TrackingFormat::of(carrier) {
        TrackingFormat::Ups => Some(format!("https://www.ups.com/track?tracknum={number}")),
        TrackingFormat::Usps => Some(format!(
            "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"
        )),
        TrackingFormat::Dhl => Some(format!(
            "https://www.dhl.com/en/express/tracking.html?AWB={number}"
        )),
        TrackingFormat::Fedex => Some(format!("https://www.fedex.com/fedextrack/?trknbr={number}")),
        TrackingFormat::Generic => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_their_carriers_format_and_follow_from_the_shipment() {
        for carrier in ["ups", "usps", "dhl", "fedex", "acme"] {
            let number = tracking_number(carrier, "shp_1");
            assert!(is_valid(carrier, &number), "{carrier}: {number}");
            assert_eq!(number, tracking_number(carrier, "shp_1"));
            assert_ne!(number, tracking_number(carrier, "shp_2"));
        }
        assert_eq!(tracking_number("ups", "shp_1").len(), 18);
        assert_eq!(tracking_number("usps", "shp_1").len(), 22);
        assert!(tracking_number("acme", "shp_1").starts_with("ACME"));
    }

    #[test]
    fn numbers_of_another_format_are_refused() {
        assert!(!is_valid("ups", "1Z12345"));
        assert!(!is_valid("ups", "2Z1234567890123456"));
        assert!(!is_valid("ups", "1z1234567890abcdef"));
        assert!(!is_valid("usps", "9400000000000000000000x"));
        assert!(!is_valid("usps", "8400000000000000000000"));
        assert!(!is_valid("dhl", "12345678901"));
        assert!(!is_valid("fedex", "12345678901a"));
        assert!(!is_valid("acme", "123456789012"));
        assert!(is_valid("dhl", "1234567890"));
    }
}
