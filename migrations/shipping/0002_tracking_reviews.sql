-- Signed carrier events that do not fit their shipment (another carrier than the tracking
-- number's, a time in the future): kept for a person, applied to nothing.
CREATE TABLE tracking_reviews (
    id TEXT PRIMARY KEY,
    tracking_number TEXT NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX tracking_reviews_by_received ON tracking_reviews (received_at);
