-- Product events now go through the platform's outbox (outbox_events, created by kit) to the
-- event bus; the search indexer consumes them like any other consumer.
DROP TABLE outbox;
